package saml

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
	"github.com/russellhaering/gosaml2/types"

	"gatehouse"
)

// Assertion is what a valid Response says about the person, read only from
// XML whose signature verified.
type Assertion struct {
	// ID is the assertion ID: the caller records it (atomically, until
	// ReplayUntil) and refuses a second use.
	ID     string
	Issuer string
	NameID string
	// NameIDFormat is as sent; "" when the IdP sent none.
	NameIDFormat string
	// Email is from IdP.EmailAttribute, or the NameID when that is empty. It
	// is as the IdP sent it; compare case-insensitively.
	Email string
	// Attributes maps each attribute Name to its values.
	Attributes map[string][]string
	// InResponseTo is the request this answers, "" for IdP-initiated sign-in.
	// The caller checks it belongs to this browser and was not used before.
	InResponseTo string
	// NotOnOrAfter is the earliest NotOnOrAfter in the assertion.
	NotOnOrAfter time.Time
	// ReplayUntil is NotOnOrAfter plus the clock skew: until then a copy of
	// this assertion would still pass ValidateResponse.
	ReplayUntil  time.Time
	SessionIndex string
	// AuthnContextClassRef is the AuthnStatement's AuthnContextClassRef, as
	// sent (trimmed); "" when the assertion has none. It says how the IdP
	// authenticated the person.
	AuthnContextClassRef string
	// SignedBy is the configured certificate that verified the signatures,
	// the first in the configuration's order when several share the key; it
	// may have expired (see ValidateResponse).
	SignedBy *x509.Certificate
}

// ValidateResponse checks a SAMLResponse form value (base64, HTTP-POST
// binding) against one SSO configuration and returns the verified assertion.
// expectedRequestIDs are the IDs of the AuthnRequests this browser has
// outstanding for this configuration; empty means none, so only an
// IdP-initiated response can pass. Every error is a *gatehouse.Rejection.
//
// Replay is the caller's: it must record Assertion.ID and consume
// Assertion.InResponseTo atomically in the database.
//
// Decisions:
//   - The Response, the Assertion or both may be signed. A Response signed
//     alone is accepted only because the structural checks allow exactly one
//     Assertion, directly in the Response, and it is read from the verified
//     bytes; identity never comes from outside a verified element.
//   - A signature is valid if and only if it verifies with the key of one of
//     the configured certificates, and all signatures in one response must
//     verify with the same one; several certificates support a rollover.
//     KeyInfo, whatever it holds or lacks, never chooses the key, never adds
//     trust and never causes a refusal (S-keyinfo, S-keyinfo-interop): IdPs
//     send chains, re-issued certificates on the same key, or only a
//     KeyValue. A rejection names it only for information.
//   - A configured certificate past its NotAfter still verifies: SAML trust
//     is in the configured key, not in the certificate's dates (as Okta and
//     Keycloak do), and refusing would lock a customer out the moment an
//     unattended certificate lapses. ExpiringCertificates drives the warning
//     ahead of time.
//   - Every gosaml2 WarningInfo flag is a rejection, OneTimeUse and
//     ProxyRestriction included.
func ValidateResponse(sp SP, idp IdP, samlResponse string, expectedRequestIDs []string, now time.Time) (*Assertion, error) {
	a, verr := validateResponse(sp, idp, samlResponse, expectedRequestIDs, now)
	if verr != nil {
		return nil, verr
	}
	return a, nil
}

func validateResponse(sp SP, idp IdP, samlResponse string, expectedRequestIDs []string, now time.Time) (*Assertion, *gatehouse.Rejection) {
	skew, verr := checkValidationConfig(sp, idp)
	if verr != nil {
		return nil, verr
	}
	raw, verr := decodeResponseBase64(samlResponse)
	if verr != nil {
		return nil, verr
	}
	doc, verr := parseResponseXML(raw)
	if verr != nil {
		return nil, verr
	}
	shape, verr := inspectResponse(doc)
	if verr != nil {
		return nil, verr
	}

	at := libraryInstant(shape.assertion, now, skew)
	provider, resp, signer, verr := verify(sp, idp, shape, at, now, skew)
	if verr != nil {
		return nil, verr
	}
	if len(resp.Assertions) != 1 || len(resp.EncryptedAssertions) != 0 {
		return nil, reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("the verified response holds %d assertions, expected exactly one", len(resp.Assertions)))
	}
	assertion := &resp.Assertions[0]
	warnings, err := provider.VerifyAssertionConditions(assertion)
	if err != nil {
		return nil, fromLibrary(err, now, skew)
	}

	if verr := checkSubjectShape(shape.assertion); verr != nil {
		return nil, verr
	}
	if !complete(assertion) {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "the assertion lacks an Issuer, Subject, NameID, SubjectConfirmationData or Conditions")
	}
	if verr := checkDestination(sp, resp, assertion); verr != nil {
		return nil, verr
	}
	if verr := checkAudience(sp, assertion); verr != nil {
		return nil, verr
	}
	notOnOrAfter, verr := checkTimes(shape.assertion, assertion, now, skew)
	if verr != nil {
		return nil, verr
	}
	if verr := checkWarnings(warnings); verr != nil {
		return nil, verr
	}
	inResponseTo, verr := checkInResponseTo(idp, resp, assertion, expectedRequestIDs)
	if verr != nil {
		return nil, verr
	}

	out := &Assertion{
		ID:           assertion.ID,
		Issuer:       assertion.Issuer.Value,
		NameID:       strings.TrimSpace(assertion.Subject.NameID.Value),
		NameIDFormat: assertion.Subject.NameID.Format,
		Attributes:   attributes(assertion),
		InResponseTo: inResponseTo,
		NotOnOrAfter: notOnOrAfter,
		ReplayUntil:  notOnOrAfter.Add(skew),
		SignedBy:     signer,
	}
	if assertion.AuthnStatement != nil {
		out.SessionIndex = assertion.AuthnStatement.SessionIndex
		if ac := assertion.AuthnStatement.AuthnContext; ac != nil && ac.AuthnContextClassRef != nil {
			out.AuthnContextClassRef = strings.TrimSpace(ac.AuthnContextClassRef.Value)
		}
	}
	if out.NameID == "" {
		return nil, reject(ErrSubject, gatehouse.FixInIdP, "the assertion's NameID is empty")
	}
	if out.Email, verr = email(idp, assertion, out); verr != nil {
		return nil, verr
	}
	return out, nil
}

// libraryInstant chooses the instant gosaml2 evaluates the assertion at.
// gosaml2 compares times without any skew; evaluating it at the instant
// closest to now, within now±skew, at which the assertion's own window is
// open keeps all of its checks switched on while honouring the configured
// skew. The window is read from unverified XML, which is safe: gosaml2
// re-checks it on the verified XML, and so does checkTimes.
func libraryInstant(assertion *etree.Element, now time.Time, skew time.Duration) time.Time {
	lo, hi := now.Add(-skew), now.Add(skew)
	windows := children(assertion, nsAssertion, "Conditions")
	for _, subject := range children(assertion, nsAssertion, "Subject") {
		for _, sc := range children(subject, nsAssertion, "SubjectConfirmation") {
			windows = append(windows, children(sc, nsAssertion, "SubjectConfirmationData")...)
		}
	}
	for _, el := range windows {
		if t, err := time.Parse(time.RFC3339, el.SelectAttrValue("NotBefore", "")); err == nil && t.After(lo) {
			lo = t
		}
		if t, err := time.Parse(time.RFC3339, el.SelectAttrValue("NotOnOrAfter", "")); err == nil && t.Add(-time.Nanosecond).Before(hi) {
			hi = t.Add(-time.Nanosecond)
		}
	}
	switch {
	case lo.After(hi):
		return now // no instant fits: gosaml2 or checkTimes rejects, after verification
	case now.Before(lo):
		return lo
	case now.After(hi):
		return hi
	}
	return now
}

// verify checks the signatures against the configured certificates (see
// verifySignatures), then runs gosaml2's SAML checks on the Response read
// from the verified bytes, with one gosaml2 service provider built from this
// configuration's values; nothing is shared between configurations.
func verify(sp SP, idp IdP, shape *responseShape, at, now time.Time, skew time.Duration) (*saml2.SAMLServiceProvider, *types.Response, *x509.Certificate, *gatehouse.Rejection) {
	resp, signer, verr := verifySignatures(shape, idp.Certificates, at)
	if verr != nil {
		return nil, nil, nil, verr
	}
	provider := newServiceProvider(sp, idp, at)
	if err := provider.Validate(resp); err != nil {
		return nil, nil, nil, fromLibrary(err, now, skew)
	}
	return provider, resp, signer, nil
}

// fromLibrary turns gosaml2's SAML check errors into rejections. now and skew
// explain an expiry the way checkTimes does.
func fromLibrary(err error, now time.Time, skew time.Duration) *gatehouse.Rejection {
	var (
		invalid saml2.ErrInvalidValue
		missing saml2.ErrMissingElement
		parsing saml2.ErrParsing
	)
	switch {
	case errors.As(err, &invalid):
		kind, fix := ErrMalformed, gatehouse.FixInIdP
		switch invalid.Key {
		case saml2.DestinationAttr, saml2.RecipientAttr:
			kind = ErrDestination
		case saml2.IssuerTag:
			// Most often the entity ID was mistyped into Gatehouse.
			kind, fix = ErrIssuer, gatehouse.FixInGatehouse
		case saml2.StatusCodeTag:
			kind = ErrStatus
		case saml2.SubjectConfirmationTag:
			kind = ErrBearer
		case saml2.NotOnOrAfterAttr:
			if t, perr := time.Parse(time.RFC3339, invalid.Actual); perr == nil {
				return timeError("SubjectConfirmationData NotOnOrAfter", t, now, skew, "passed %s ago").Wrap(err)
			}
			kind = ErrTime
		}
		label := map[string]string{
			saml2.DestinationAttr:        "the Response Destination",
			saml2.RecipientAttr:          "the SubjectConfirmationData Recipient",
			saml2.IssuerTag:              "the Issuer",
			saml2.SubjectConfirmationTag: "the SubjectConfirmation Method",
		}[invalid.Key]
		if label == "" {
			label = invalid.Key
		}
		return mismatch(kind, fix, label, invalid.Actual, invalid.Expected).Wrap(err)
	case errors.As(err, &missing):
		kind := ErrMalformed
		switch {
		case missing.Attribute == saml2.NotBeforeAttr || missing.Attribute == saml2.NotOnOrAfterAttr:
			kind = ErrTime
		case missing.Tag == saml2.IssuerTag:
			kind = ErrIssuer
		case missing.Tag == saml2.SubjectConfirmationTag || missing.Tag == saml2.SubjectConfirmationDataTag || missing.Tag == saml2.SubjectTag:
			kind = ErrBearer
		case missing.Tag == saml2.NameIdTag:
			kind = ErrSubject
		}
		return reject(kind, gatehouse.FixInIdP, missing.Error()).Wrap(err)
	case errors.As(err, &parsing):
		return reject(ErrMalformed, gatehouse.FixInIdP, fmt.Sprintf("%s value %s is not an RFC 3339 time", parsing.Tag, gatehouse.Quote(parsing.Value))).Wrap(err)
	}
	return reject(ErrMalformed, gatehouse.FixInIdP, err.Error()).Wrap(err)
}

// complete reports whether every element the checks below read is present.
// gosaml2 has already refused assertions without them; this keeps a change
// there from turning into a nil dereference here.
func complete(a *types.Assertion) bool {
	return a.Issuer != nil && a.Conditions != nil && a.Subject != nil && a.Subject.NameID != nil &&
		a.Subject.SubjectConfirmation != nil && a.Subject.SubjectConfirmation.SubjectConfirmationData != nil
}

// checkSubjectShape requires at most one Conditions, exactly one NameID and
// exactly one bearer SubjectConfirmation with its data. It reads the
// unverified tree, but only after verification succeeded, and only to
// reject: gosaml2's types keep one of each element and would silently merge
// repeated ones.
func checkSubjectShape(assertion *etree.Element) *gatehouse.Rejection {
	if n := len(children(assertion, nsAssertion, "Conditions")); n > 1 {
		return reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("the assertion has %d Conditions elements, expected one", n))
	}
	subjects := children(assertion, nsAssertion, "Subject")
	if len(subjects) != 1 {
		return reject(ErrBearer, gatehouse.FixInIdP, fmt.Sprintf("the assertion has %d Subject elements, expected one", len(subjects)))
	}
	if n := len(children(subjects[0], nsAssertion, "NameID")); n != 1 {
		return reject(ErrSubject, gatehouse.FixInIdP, fmt.Sprintf("the Subject has %d NameID elements, expected one (encrypted NameIDs are not accepted)", n))
	}
	confirmations := children(subjects[0], nsAssertion, "SubjectConfirmation")
	if len(confirmations) != 1 {
		return reject(ErrBearer, gatehouse.FixInIdP, fmt.Sprintf("the Subject has %d SubjectConfirmation elements; Gatehouse accepts exactly one, with the bearer method", len(confirmations)))
	}
	if method := confirmations[0].SelectAttrValue("Method", ""); method != methodBearer {
		return mismatch(ErrBearer, gatehouse.FixInIdP, "the SubjectConfirmation Method", method, methodBearer)
	}
	if n := len(children(confirmations[0], nsAssertion, "SubjectConfirmationData")); n != 1 {
		return reject(ErrBearer, gatehouse.FixInIdP, fmt.Sprintf("the bearer SubjectConfirmation has %d SubjectConfirmationData elements, expected one", n))
	}
	return nil
}

// checkDestination requires Destination on a signed Response (SAML bindings
// 3.5.5.2) and Recipient always to be this configuration's ACS URL.
func checkDestination(sp SP, resp *types.Response, assertion *types.Assertion) *gatehouse.Rejection {
	if resp.Destination != sp.ACSURL && (resp.Destination != "" || resp.SignatureValidated) {
		return mismatch(ErrDestination, gatehouse.FixInIdP, "the Response Destination", resp.Destination, sp.ACSURL)
	}
	if got := assertion.Subject.SubjectConfirmation.SubjectConfirmationData.Recipient; got != sp.ACSURL {
		return mismatch(ErrDestination, gatehouse.FixInIdP, "the SubjectConfirmationData Recipient", got, sp.ACSURL)
	}
	return nil
}

// checkAudience requires at least one AudienceRestriction, and every one of
// them to name this configuration's SP entity ID; gosaml2 flags only the
// second.
func checkAudience(sp SP, assertion *types.Assertion) *gatehouse.Rejection {
	restrictions := assertion.Conditions.AudienceRestrictions
	if len(restrictions) == 0 {
		verr := reject(ErrAudience, gatehouse.FixInIdP, fmt.Sprintf("the assertion has no AudienceRestriction; expected one naming %s", gatehouse.Quote(sp.EntityID)))
		verr.Expected = sp.EntityID
		return verr
	}
	for _, r := range restrictions {
		var got []string
		for _, a := range r.Audiences {
			got = append(got, strings.TrimSpace(a.Value))
		}
		if !slices.Contains(got, sp.EntityID) {
			return mismatch(ErrAudience, gatehouse.FixInIdP, "the audience", strings.Join(got, ", "), sp.EntityID)
		}
	}
	return nil
}

// checkTimes applies NotBefore and NotOnOrAfter of the Conditions and of the
// SubjectConfirmationData with the configured skew, and returns the earliest
// NotOnOrAfter. Values come from the verified assertion, except the rarely
// sent SubjectConfirmationData NotBefore, which gosaml2's types drop; it is
// read from the unverified tree and can only cause a rejection.
func checkTimes(tree *etree.Element, assertion *types.Assertion, now time.Time, skew time.Duration) (time.Time, *gatehouse.Rejection) {
	data := assertion.Subject.SubjectConfirmation.SubjectConfirmationData
	scdNotBefore := ""
	for _, subject := range children(tree, nsAssertion, "Subject") {
		for _, sc := range children(subject, nsAssertion, "SubjectConfirmation") {
			for _, d := range children(sc, nsAssertion, "SubjectConfirmationData") {
				scdNotBefore = d.SelectAttrValue("NotBefore", "")
			}
		}
	}
	bounds := []struct {
		where, attr, value string
		required           bool
	}{
		{"Conditions", "NotBefore", assertion.Conditions.NotBefore, true},
		{"Conditions", "NotOnOrAfter", assertion.Conditions.NotOnOrAfter, true},
		{"SubjectConfirmationData", "NotBefore", scdNotBefore, false},
		{"SubjectConfirmationData", "NotOnOrAfter", data.NotOnOrAfter, true},
	}
	var earliest time.Time
	for _, b := range bounds {
		if b.value == "" && !b.required {
			continue
		}
		t, err := time.Parse(time.RFC3339, b.value)
		if err != nil {
			return time.Time{}, reject(ErrTime, gatehouse.FixInIdP, fmt.Sprintf("%s %s %s is not an RFC 3339 time", b.where, b.attr, gatehouse.Quote(b.value)))
		}
		if b.attr == "NotBefore" && t.After(now.Add(skew)) {
			return time.Time{}, timeError(b.where+" NotBefore", t, now, skew, "is %s in the future")
		}
		if b.attr == "NotOnOrAfter" {
			if !t.After(now.Add(-skew)) {
				return time.Time{}, timeError(b.where+" NotOnOrAfter", t, now, skew, "passed %s ago")
			}
			if earliest.IsZero() || t.Before(earliest) {
				earliest = t
			}
		}
	}
	return earliest, nil
}

func timeError(what string, t, now time.Time, skew time.Duration, relation string) *gatehouse.Rejection {
	d := t.Sub(now)
	if d < 0 {
		d = -d
	}
	msg := fmt.Sprintf("%s %s "+relation+" (clock skew allowed: %s); check the IdP's and Gatehouse's clocks", what, t.UTC().Format(time.RFC3339), d.Round(time.Second), skew)
	verr := reject(ErrTime, gatehouse.FixInIdP, msg)
	verr.Received, verr.Expected = t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)
	return verr
}

func checkWarnings(w *saml2.WarningInfo) *gatehouse.Rejection {
	switch {
	case w.InvalidTime:
		return reject(ErrTime, gatehouse.FixInIdP, "the assertion is outside its validity window")
	case w.NotInAudience:
		return reject(ErrAudience, gatehouse.FixInIdP, "the assertion's audience does not name this service provider")
	case w.OneTimeUse:
		return reject(ErrCondition, gatehouse.FixInIdP, "the assertion carries a OneTimeUse condition, which Gatehouse does not accept")
	case w.ProxyRestriction != nil:
		return reject(ErrCondition, gatehouse.FixInIdP, "the assertion carries a ProxyRestriction condition, which Gatehouse does not accept")
	}
	return nil
}

// checkInResponseTo decides solicited versus unsolicited from signed values
// only: the assertion's SubjectConfirmationData, or the Response when its
// signature verified. An InResponseTo only on an unsigned Response could be
// an attacker dressing an IdP-initiated assertion up as an answer.
func checkInResponseTo(idp IdP, resp *types.Response, assertion *types.Assertion, expected []string) (string, *gatehouse.Rejection) {
	signed := assertion.Subject.SubjectConfirmation.SubjectConfirmationData.InResponseTo
	onResponse := resp.InResponseTo
	switch {
	case signed != "" && onResponse != "" && signed != onResponse:
		return "", mismatch(ErrInResponseTo, gatehouse.FixInIdP, "the Response InResponseTo", onResponse, signed)
	case signed == "" && onResponse != "" && !resp.SignatureValidated:
		return "", reject(ErrInResponseTo, gatehouse.FixInIdP, "InResponseTo appears only on the unsigned Response, not in the signed assertion")
	case signed == "":
		signed = onResponse
	}
	if signed == "" {
		if !idp.AllowIdPInitiated {
			return "", reject(ErrUnsolicited, gatehouse.FixInGatehouse, "the response answers no request (IdP-initiated sign-in) and this configuration does not allow IdP-initiated sign-in")
		}
		return "", nil
	}
	if !slices.Contains(expected, signed) {
		verr := reject(ErrInResponseTo, gatehouse.FixInIdP, fmt.Sprintf("the response answers request %s, which this browser has not started for this configuration", gatehouse.Quote(signed)))
		verr.Received = signed
		return "", verr
	}
	return signed, nil
}

func attributes(assertion *types.Assertion) map[string][]string {
	out := map[string][]string{}
	if assertion.AttributeStatement == nil {
		return out
	}
	for _, attr := range assertion.AttributeStatement.Attributes {
		for _, v := range attr.Values {
			value := v.Value
			if v.NameID != nil {
				value = v.NameID.Value
			}
			out[attr.Name] = append(out[attr.Name], strings.TrimSpace(value))
		}
	}
	return out
}

// email finds the person's email address: from the configured attribute
// (matched by Name or FriendlyName), else the NameID. It must be one plain
// address; the full text is used, never a prefix.
func email(idp IdP, assertion *types.Assertion, a *Assertion) (string, *gatehouse.Rejection) {
	source, value := "the NameID", a.NameID
	if idp.EmailAttribute != "" {
		source = "attribute " + gatehouse.Quote(idp.EmailAttribute)
		var values []string
		if assertion.AttributeStatement != nil {
			for _, attr := range assertion.AttributeStatement.Attributes {
				if attr.Name != idp.EmailAttribute && attr.FriendlyName != idp.EmailAttribute {
					continue
				}
				for _, v := range attr.Values {
					if s := strings.TrimSpace(v.Value); s != "" && !slices.Contains(values, s) {
						values = append(values, s)
					}
				}
			}
		}
		switch len(values) {
		case 0:
			return "", reject(ErrSubject, gatehouse.FixInIdP, "the assertion has no value for the email "+source+"; release it to Gatehouse in the IdP or correct the attribute name in Gatehouse")
		case 1:
			value = values[0]
		default:
			return "", reject(ErrSubject, gatehouse.FixInIdP, fmt.Sprintf("the email %s has %d different values; Gatehouse needs exactly one", source, len(values)))
		}
	}
	addr, err := mail.ParseAddress(value)
	if err != nil || addr.Name != "" || addr.Address != value {
		fix := gatehouse.FixInIdP
		if idp.EmailAttribute == "" {
			fix = gatehouse.FixInGatehouse // most often a persistent NameID: name the email attribute
		}
		return "", reject(ErrSubject, fix, fmt.Sprintf("%s %s (format %s) is not an email address; send the email as NameID or name the email attribute in Gatehouse", source, gatehouse.Quote(value), gatehouse.Quote(a.NameIDFormat)))
	}
	return value, nil
}
