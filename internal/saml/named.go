package saml

import (
	"strings"

	"github.com/beevik/etree"

	"gatehouse"
)

// maxNamedSubject bounds the NameID a refusal names.
const maxNamedSubject = 256

// nameRefused records on verr, a refusal of a response whose signatures
// verified, who its assertion names: the NameID and, when the assertion
// has a usable one, the email address, read as a passing response's are.
// They are the IdP's word even though a later check (audience, time,
// InResponseTo, ...) refused the answer, so the audit log and the sign-in
// history can say whose sign-in failed; they never sign anyone in. A
// NameID the assertion does not hold exactly once names nobody.
func nameRefused(idp IdP, assertion *etree.Element, verr *gatehouse.Rejection) {
	subjects := children(assertion, nsAssertion, "Subject")
	if len(subjects) != 1 {
		return
	}
	ids := children(subjects[0], nsAssertion, "NameID")
	if len(ids) != 1 {
		return
	}
	a := &Assertion{NameID: strings.TrimSpace(textOf(ids[0])), NameIDFormat: ids[0].SelectAttrValue("Format", "")}
	if a.NameID == "" || len(a.NameID) > maxNamedSubject {
		return
	}
	verr.Subject = strings.ToValidUTF8(a.NameID, "?")
	if addr, rej := email(idp, assertionAttributes(assertion), a); rej == nil {
		verr.Email = addr
	}
}
