package saml

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"gatehouse"
)

// The SAML checks on the verified Response. checkProtocol,
// checkConditionsPresent and checkConditionFlags are the checks gosaml2 made
// when Gatehouse used it (provider.Validate and VerifyAssertionConditions,
// every warning flag a rejection), with the same rejection kinds and
// messages; the others are Gatehouse's own, stricter ones.

// lastChild is the last child element of el with the namespace and local
// name: where an element repeats, the checks that take one look at the last
// one, as gosaml2's types did, and checkSubjectShape then refuses the
// repetition.
func lastChild(el *etree.Element, ns, local string) *etree.Element {
	if el == nil {
		return nil
	}
	cs := children(el, ns, local)
	if len(cs) == 0 {
		return nil
	}
	return cs[len(cs)-1]
}

func missingElement(kind error, tag string) *gatehouse.Rejection {
	return reject(kind, gatehouse.FixInIdP, fmt.Sprintf("missing %s element", tag))
}

func missingAttribute(kind error, tag, attr string) *gatehouse.Rejection {
	return reject(kind, gatehouse.FixInIdP, fmt.Sprintf("missing %s attribute on %s element", attr, tag))
}

func notATime(attr, value string) *gatehouse.Rejection {
	return reject(ErrMalformed, gatehouse.FixInIdP, fmt.Sprintf("%s value %s is not an RFC 3339 time", attr, gatehouse.Quote(value)))
}

// checkProtocol: the Response's Destination (when present) and version, the
// Issuer of the Response and of the Assertion, and the bearer subject
// confirmation with its Recipient and NotOnOrAfter, evaluated at the instant
// at (see windowInstant). It sets r.issuer.
func checkProtocol(sp SP, idp IdP, r *verifiedResponse, at, now time.Time, skew time.Duration) *gatehouse.Rejection {
	if dest := r.root.SelectAttrValue("Destination", ""); dest != "" && dest != sp.ACSURL {
		return mismatch(ErrDestination, gatehouse.FixInIdP, "the Response Destination", dest, sp.ACSURL)
	}
	if v := r.root.SelectAttrValue("Version", ""); v != "2.0" {
		return mismatch(ErrMalformed, gatehouse.FixInIdP, "SAML version", v, "2.0")
	}
	for _, el := range []*etree.Element{r.root, r.assertion} {
		if verr := checkIssueInstant(el); verr != nil {
			return verr
		}
	}
	if verr := checkIssuer(idp, r.root); verr != nil {
		return verr
	}
	if verr := checkIssuer(idp, r.assertion); verr != nil {
		return verr
	}
	r.issuer = child(r.assertion, nsAssertion, "Issuer")

	subject := lastChild(r.assertion, nsAssertion, "Subject")
	if subject == nil {
		return missingElement(ErrBearer, "Subject")
	}
	confirmation := lastChild(subject, nsAssertion, "SubjectConfirmation")
	if confirmation == nil {
		return missingElement(ErrBearer, "SubjectConfirmation")
	}
	if method := confirmation.SelectAttrValue("Method", ""); method != methodBearer {
		return mismatch(ErrBearer, gatehouse.FixInIdP, "the SubjectConfirmation Method", method, methodBearer)
	}
	data := lastChild(confirmation, nsAssertion, "SubjectConfirmationData")
	if data == nil {
		return missingElement(ErrBearer, "SubjectConfirmationData")
	}
	if got := data.SelectAttrValue("Recipient", ""); got != sp.ACSURL {
		return mismatch(ErrDestination, gatehouse.FixInIdP, "the SubjectConfirmationData Recipient", got, sp.ACSURL)
	}
	raw := data.SelectAttrValue("NotOnOrAfter", "")
	if raw == "" {
		return missingAttribute(ErrTime, "SubjectConfirmationData", "NotOnOrAfter")
	}
	notOnOrAfter, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return notATime("NotOnOrAfter", raw)
	}
	if at.After(notOnOrAfter) {
		return timeError("SubjectConfirmationData NotOnOrAfter", notOnOrAfter, now, skew, "passed %s ago")
	}
	return nil
}

// checkIssueInstant requires el (the Response or the Assertion) to carry
// the IssueInstant SAML requires, as a time. Its value decides nothing:
// the Conditions and the bearer confirmation bound an assertion's life.
func checkIssueInstant(el *etree.Element) *gatehouse.Rejection {
	raw := el.SelectAttrValue("IssueInstant", "")
	if raw == "" {
		return missingAttribute(ErrMalformed, el.Tag, "IssueInstant")
	}
	if _, err := time.Parse(time.RFC3339, raw); err != nil {
		return notATime("IssueInstant", raw)
	}
	return nil
}

// checkIssuer requires el (the Response or the Assertion) to have exactly
// one Issuer, naming the configured IdP exactly.
func checkIssuer(idp IdP, el *etree.Element) *gatehouse.Rejection {
	issuers := children(el, nsAssertion, "Issuer")
	switch len(issuers) {
	case 0:
		return missingElement(ErrIssuer, "Issuer")
	case 1:
	default:
		return reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("%s has %d Issuer elements, expected one", describe(el), len(issuers)))
	}
	if got := textOf(issuers[0]); got != idp.EntityID {
		// Most often the entity ID was mistyped into Gatehouse.
		return mismatch(ErrIssuer, gatehouse.FixInGatehouse, "the Issuer", got, idp.EntityID)
	}
	return nil
}

// checkConditionsPresent requires the Conditions with readable NotBefore
// and NotOnOrAfter; it sets r.conditions.
func checkConditionsPresent(r *verifiedResponse) *gatehouse.Rejection {
	c := lastChild(r.assertion, nsAssertion, "Conditions")
	if c == nil {
		return missingElement(ErrMalformed, "Conditions")
	}
	for _, attr := range []string{"NotBefore", "NotOnOrAfter"} {
		raw := c.SelectAttrValue(attr, "")
		if raw == "" {
			return missingAttribute(ErrTime, "Conditions", attr)
		}
		if _, err := time.Parse(time.RFC3339, raw); err != nil {
			return notATime(attr, raw)
		}
	}
	r.conditions = c
	return nil
}

// checkSubjectShape requires at most one Conditions, exactly one NameID and
// exactly one bearer SubjectConfirmation with its data, and sets the
// subject elements of r. The checks before looked at the last of repeated
// elements; this refuses the repetition, so no check and no value can be
// about one copy while another is read.
func checkSubjectShape(r *verifiedResponse) *gatehouse.Rejection {
	assertion := r.assertion
	if n := len(children(assertion, nsAssertion, "Conditions")); n > 1 {
		return reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("the assertion has %d Conditions elements, expected one", n))
	}
	subjects := children(assertion, nsAssertion, "Subject")
	if len(subjects) != 1 {
		return reject(ErrBearer, gatehouse.FixInIdP, fmt.Sprintf("the assertion has %d Subject elements, expected one", len(subjects)))
	}
	nameIDs := children(subjects[0], nsAssertion, "NameID")
	if len(nameIDs) != 1 {
		return reject(ErrSubject, gatehouse.FixInIdP, fmt.Sprintf("the Subject has %d NameID elements, expected one (encrypted NameIDs are not accepted)", len(nameIDs)))
	}
	confirmations := children(subjects[0], nsAssertion, "SubjectConfirmation")
	if len(confirmations) != 1 {
		return reject(ErrBearer, gatehouse.FixInIdP, fmt.Sprintf("the Subject has %d SubjectConfirmation elements; Gatehouse accepts exactly one, with the bearer method", len(confirmations)))
	}
	if method := confirmations[0].SelectAttrValue("Method", ""); method != methodBearer {
		return mismatch(ErrBearer, gatehouse.FixInIdP, "the SubjectConfirmation Method", method, methodBearer)
	}
	data := children(confirmations[0], nsAssertion, "SubjectConfirmationData")
	if len(data) != 1 {
		return reject(ErrBearer, gatehouse.FixInIdP, fmt.Sprintf("the bearer SubjectConfirmation has %d SubjectConfirmationData elements, expected one", len(data)))
	}
	r.subject, r.nameID, r.confirmation, r.data = subjects[0], nameIDs[0], confirmations[0], data[0]
	return nil
}

// checkDestination requires Destination on a signed Response (SAML bindings
// 3.5.5.2) and Recipient always to be this configuration's ACS URL.
func checkDestination(sp SP, r *verifiedResponse) *gatehouse.Rejection {
	if dest := r.root.SelectAttrValue("Destination", ""); dest != sp.ACSURL && (dest != "" || r.responseSigned) {
		return mismatch(ErrDestination, gatehouse.FixInIdP, "the Response Destination", dest, sp.ACSURL)
	}
	if got := r.data.SelectAttrValue("Recipient", ""); got != sp.ACSURL {
		return mismatch(ErrDestination, gatehouse.FixInIdP, "the SubjectConfirmationData Recipient", got, sp.ACSURL)
	}
	return nil
}

// audiences lists the Audience values of one AudienceRestriction, as sent.
func audiences(restriction *etree.Element) []string {
	var out []string
	for _, a := range children(restriction, nsAssertion, "Audience") {
		out = append(out, textOf(a))
	}
	return out
}

// checkAudience requires at least one AudienceRestriction, and every one of
// them to name this configuration's SP entity ID.
func checkAudience(sp SP, conditions *etree.Element) *gatehouse.Rejection {
	restrictions := children(conditions, nsAssertion, "AudienceRestriction")
	if len(restrictions) == 0 {
		verr := reject(ErrAudience, gatehouse.FixInIdP, fmt.Sprintf("the assertion has no AudienceRestriction; expected one naming %s", gatehouse.Quote(sp.EntityID)))
		verr.Expected = sp.EntityID
		return verr
	}
	for _, r := range restrictions {
		got := audiences(r)
		for i := range got {
			got[i] = strings.TrimSpace(got[i])
		}
		if !slices.Contains(got, sp.EntityID) {
			return mismatch(ErrAudience, gatehouse.FixInIdP, "the audience", strings.Join(got, ", "), sp.EntityID)
		}
	}
	return nil
}

// checkTimes applies NotBefore and NotOnOrAfter of the Conditions and of the
// SubjectConfirmationData with the configured skew, and returns the earliest
// NotOnOrAfter.
func checkTimes(r *verifiedResponse, now time.Time, skew time.Duration) (time.Time, *gatehouse.Rejection) {
	bounds := []struct {
		where, attr, value string
		required           bool
	}{
		{"Conditions", "NotBefore", r.conditions.SelectAttrValue("NotBefore", ""), true},
		{"Conditions", "NotOnOrAfter", r.conditions.SelectAttrValue("NotOnOrAfter", ""), true},
		{"SubjectConfirmationData", "NotBefore", r.data.SelectAttrValue("NotBefore", ""), false},
		{"SubjectConfirmationData", "NotOnOrAfter", r.data.SelectAttrValue("NotOnOrAfter", ""), true},
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

// checkConditionFlags refuses what gosaml2 reported as warnings: the
// Conditions window closed at the instant at (an empty window), an
// AudienceRestriction without this SP's entity ID exactly as sent, and the
// OneTimeUse and ProxyRestriction conditions, in whatever namespace (gosaml2
// refused those it could not read).
func checkConditionFlags(sp SP, r *verifiedResponse, at time.Time) *gatehouse.Rejection {
	notBefore, _ := time.Parse(time.RFC3339, r.conditions.SelectAttrValue("NotBefore", ""))
	notOnOrAfter, _ := time.Parse(time.RFC3339, r.conditions.SelectAttrValue("NotOnOrAfter", ""))
	if at.Before(notBefore) || at.After(notOnOrAfter) {
		return reject(ErrTime, gatehouse.FixInIdP, "the assertion is outside its validity window")
	}
	for _, restriction := range children(r.conditions, nsAssertion, "AudienceRestriction") {
		if !slices.Contains(audiences(restriction), sp.EntityID) {
			return reject(ErrAudience, gatehouse.FixInIdP, "the assertion's audience does not name this service provider")
		}
	}
	for _, c := range r.conditions.ChildElements() {
		switch c.Tag {
		case "OneTimeUse":
			return reject(ErrCondition, gatehouse.FixInIdP, "the assertion carries a OneTimeUse condition, which Gatehouse does not accept")
		case "ProxyRestriction":
			return reject(ErrCondition, gatehouse.FixInIdP, "the assertion carries a ProxyRestriction condition, which Gatehouse does not accept")
		}
	}
	return nil
}

// checkInResponseTo decides solicited versus unsolicited from signed values
// only: the assertion's SubjectConfirmationData, or the Response when its
// signature verified. An InResponseTo only on an unsigned Response could be
// an attacker dressing an IdP-initiated assertion up as an answer.
func checkInResponseTo(idp IdP, r *verifiedResponse, expected []string) (string, *gatehouse.Rejection) {
	signed := r.data.SelectAttrValue("InResponseTo", "")
	onResponse := r.root.SelectAttrValue("InResponseTo", "")
	switch {
	case signed != "" && onResponse != "" && signed != onResponse:
		return "", mismatch(ErrInResponseTo, gatehouse.FixInIdP, "the Response InResponseTo", onResponse, signed)
	case signed == "" && onResponse != "" && !r.responseSigned:
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

// samlAttribute is one Attribute of the assertion's AttributeStatements.
type samlAttribute struct {
	name, friendlyName string
	values             []attributeValue
}

// attributeValue is an AttributeValue's own text and, when it holds a
// NameID (as eduPersonTargetedID does), that NameID's text as its value.
type attributeValue struct {
	text, value string
}

func assertionAttributes(assertion *etree.Element) []samlAttribute {
	var out []samlAttribute
	for _, statement := range children(assertion, nsAssertion, "AttributeStatement") {
		for _, a := range children(statement, nsAssertion, "Attribute") {
			attr := samlAttribute{name: a.SelectAttrValue("Name", ""), friendlyName: a.SelectAttrValue("FriendlyName", "")}
			for _, v := range children(a, nsAssertion, "AttributeValue") {
				text := textOf(v)
				value := text
				if id := lastChild(v, nsAssertion, "NameID"); id != nil {
					value = textOf(id)
				}
				attr.values = append(attr.values, attributeValue{text, value})
			}
			out = append(out, attr)
		}
	}
	return out
}

// email finds the person's email address: from the configured attribute
// (matched by Name or FriendlyName), else the NameID. It must be one plain
// address; the full text is used, never a prefix.
func email(idp IdP, attrs []samlAttribute, a *Assertion) (string, *gatehouse.Rejection) {
	source, value := "the NameID", a.NameID
	if idp.EmailAttribute != "" {
		source = "attribute " + gatehouse.Quote(idp.EmailAttribute)
		var values []string
		for _, attr := range attrs {
			if attr.name != idp.EmailAttribute && attr.friendlyName != idp.EmailAttribute {
				continue
			}
			for _, v := range attr.values {
				if s := strings.TrimSpace(v.text); s != "" && !slices.Contains(values, s) {
					values = append(values, s)
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
