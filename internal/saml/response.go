package saml

import (
	"crypto/x509"
	"strings"
	"time"

	"github.com/beevik/etree"

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
//   - OneTimeUse and ProxyRestriction conditions are rejections (the flags
//     gosaml2, which Gatehouse used before, only warned about).
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
	root, verr := parseResponseXML(raw)
	if verr != nil {
		return nil, verr
	}
	shape, verr := inspectResponse(root)
	if verr != nil {
		return nil, verr
	}
	signer, verr := verifySignatures(shape, idp.Certificates)
	if verr != nil {
		return nil, verr
	}

	// From here on every value is read from elements whose signature just
	// verified (the Assertion, or the Response around it), except the
	// envelope of a Response that is not signed itself, which only ever
	// causes a rejection or is matched against signed values.
	r := &verifiedResponse{root: shape.root, assertion: shape.assertion, responseSigned: shape.responseSig != nil}
	a, verr := checkVerified(sp, idp, r, expectedRequestIDs, now, skew, signer)
	if verr != nil {
		nameRefused(idp, r.assertion, verr)
		return nil, verr
	}
	return a, nil
}

// checkVerified makes the checks of a response whose signatures verified
// and builds its Assertion.
func checkVerified(sp SP, idp IdP, r *verifiedResponse, expectedRequestIDs []string, now time.Time, skew time.Duration, signer *x509.Certificate) (*Assertion, *gatehouse.Rejection) {
	if verr := checkProtocol(sp, idp, r, windowInstant(r.assertion, now, skew), now, skew); verr != nil {
		return nil, verr
	}
	if verr := checkConditionsPresent(r); verr != nil {
		return nil, verr
	}
	if verr := checkSubjectShape(r); verr != nil {
		return nil, verr
	}
	if verr := checkDestination(sp, r); verr != nil {
		return nil, verr
	}
	if verr := checkAudience(sp, r.conditions); verr != nil {
		return nil, verr
	}
	notOnOrAfter, verr := checkTimes(r, now, skew)
	if verr != nil {
		return nil, verr
	}
	if verr := checkConditionFlags(sp, r, windowInstant(r.assertion, now, skew)); verr != nil {
		return nil, verr
	}
	inResponseTo, verr := checkInResponseTo(idp, r, expectedRequestIDs)
	if verr != nil {
		return nil, verr
	}
	return identity(idp, r, inResponseTo, notOnOrAfter, skew, signer)
}

// verifiedResponse is the verified Response: elements of the one parsed
// tree, found by the checks as they require them.
type verifiedResponse struct {
	root, assertion *etree.Element
	responseSigned  bool
	// Set by checkProtocol, checkConditionsPresent and checkSubjectShape.
	issuer, subject, confirmation, data, conditions, nameID *etree.Element
}

// identity builds the Assertion from the verified elements.
func identity(idp IdP, r *verifiedResponse, inResponseTo string, notOnOrAfter time.Time, skew time.Duration, signer *x509.Certificate) (*Assertion, *gatehouse.Rejection) {
	out := &Assertion{
		ID:           r.assertion.SelectAttrValue("ID", ""),
		Issuer:       textOf(r.issuer),
		NameID:       strings.TrimSpace(textOf(r.nameID)),
		NameIDFormat: r.nameID.SelectAttrValue("Format", ""),
		Attributes:   map[string][]string{},
		InResponseTo: inResponseTo,
		NotOnOrAfter: notOnOrAfter,
		ReplayUntil:  notOnOrAfter.Add(skew),
		SignedBy:     signer,
	}
	attrs := assertionAttributes(r.assertion)
	for _, a := range attrs {
		for _, v := range a.values {
			out.Attributes[a.name] = append(out.Attributes[a.name], strings.TrimSpace(v.value))
		}
	}
	// Of several AuthnStatements the first describes the sign-in.
	if authn := child(r.assertion, nsAssertion, "AuthnStatement"); authn != nil {
		out.SessionIndex = authn.SelectAttrValue("SessionIndex", "")
		if ac := child(authn, nsAssertion, "AuthnContext"); ac != nil {
			if ref := child(ac, nsAssertion, "AuthnContextClassRef"); ref != nil {
				out.AuthnContextClassRef = strings.TrimSpace(textOf(ref))
			}
		}
	}
	if out.NameID == "" {
		return nil, reject(ErrSubject, gatehouse.FixInIdP, "the assertion's NameID is empty")
	}
	var verr *gatehouse.Rejection
	if out.Email, verr = email(idp, attrs, out); verr != nil {
		return nil, verr
	}
	return out, nil
}

// windowInstant is the instant, closest to now within now±skew, at which
// the assertion's own validity window is open; when none is, now. The
// skew-free checks SAML libraries make (checkProtocol, checkConditionFlags)
// are evaluated at it, which keeps them all switched on while honouring the
// configured skew; checkTimes applies the skew itself.
func windowInstant(assertion *etree.Element, now time.Time, skew time.Duration) time.Time {
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
		return now // no instant fits: the time checks reject
	case now.Before(lo):
		return lo
	case now.After(hi):
		return hi
	}
	return now
}
