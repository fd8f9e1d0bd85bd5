package saml

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"gatehouse"
)

// XML namespaces.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsExcC14N   = "http://www.w3.org/2001/10/xml-exc-c14n#"
)

const (
	statusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
	methodBearer  = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// The signature allow-list. Everything else, including SHA-1, HMAC, XSLT,
// XPath and inclusive or with-comments canonicalization, is refused before
// the signature library sees it, so no other transform ever runs.
const (
	algExcC14N    = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algEnveloped  = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algRSASHA256  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	algRSASHA384  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	algRSASHA512  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	algSHA256     = "http://www.w3.org/2001/04/xmlenc#sha256"
	algSHA384     = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	algSHA512     = "http://www.w3.org/2001/04/xmlenc#sha512"
	allowedDigest = algSHA256 + " " + algSHA384 + " " + algSHA512
)

var (
	allowedSignatureMethods = map[string]bool{algRSASHA256: true, algRSASHA384: true, algRSASHA512: true}
	allowedDigestMethods    = map[string]bool{algSHA256: true, algSHA384: true, algSHA512: true}
	allowedTransforms       = map[string]bool{algEnveloped: true, algExcC14N: true}
)

// responseShape is the parsed document after it passed the structural
// allow-list: one Response with exactly one Assertion as a direct child, and
// signatures only directly on those two. Until verifySignatures succeeds its
// values are used only to reject; afterwards the same elements are the
// verified ones (the signatures were checked on this very tree).
type responseShape struct {
	root, assertion           *etree.Element
	responseSig, assertionSig *etree.Element
}

func is(el *etree.Element, ns, local string) bool {
	return el.Tag == local && el.NamespaceURI() == ns
}

func children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

func child(el *etree.Element, ns, local string) *etree.Element {
	if cs := children(el, ns, local); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// textOf is all of el's own character data, as encoding/xml's ",chardata"
// reads it: text split by comments, processing instructions or CDATA is read
// whole (S-comment), the text of child elements is not.
func textOf(el *etree.Element) string {
	if el == nil {
		return ""
	}
	var parts []string
	for _, tok := range el.Child {
		if cd, ok := tok.(*etree.CharData); ok {
			parts = append(parts, cd.Data)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts, "")
}

func describe(el *etree.Element) string {
	if id := el.SelectAttrValue("ID", ""); id != "" {
		return fmt.Sprintf("<%s ID=%q>", el.Tag, id)
	}
	return "<" + el.Tag + ">"
}

// inspectResponse checks the parsed, still unverified Response: its root, its
// status, and the structural allow-list that defeats signature wrapping. The
// status comes before the structure because IdPs send failures as unsigned
// responses without an assertion, and the admin needs to see the status.
func inspectResponse(root *etree.Element) (*responseShape, *gatehouse.Rejection) {
	if !is(root, nsProtocol, "Response") {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, fmt.Sprintf("root element is <%s> in namespace %q, expected a SAML 2.0 protocol <Response>", root.Tag, root.NamespaceURI()))
	}
	if verr := checkStatus(root); verr != nil {
		return nil, verr
	}

	var (
		assertions, encrypted, signatures []*etree.Element
		ids                               = map[string]bool{}
		walk                              func(el *etree.Element) *gatehouse.Rejection
	)
	walk = func(el *etree.Element) *gatehouse.Rejection {
		for _, a := range el.Attr {
			if a.Space != "" || a.Key != "ID" {
				continue
			}
			if ids[a.Value] {
				return reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("ID %s appears on more than one element", gatehouse.Quote(a.Value)))
			}
			ids[a.Value] = true
		}
		switch {
		case is(el, nsAssertion, "Assertion"):
			assertions = append(assertions, el)
		case is(el, nsAssertion, "EncryptedAssertion"):
			encrypted = append(encrypted, el)
		case is(el, nsDSig, "Signature"):
			signatures = append(signatures, el)
		}
		for _, c := range el.ChildElements() {
			if verr := walk(c); verr != nil {
				return verr
			}
		}
		return nil
	}
	if verr := walk(root); verr != nil {
		return nil, verr
	}

	switch {
	case len(encrypted) > 0:
		return nil, reject(ErrStructure, gatehouse.FixInIdP, "the response carries an EncryptedAssertion; Gatehouse accepts only plain signed assertions: turn assertion encryption off in the IdP")
	case len(assertions) == 0:
		return nil, reject(ErrStructure, gatehouse.FixInIdP, "the response has status Success but no Assertion")
	case len(assertions) > 1:
		return nil, reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("the response holds %d Assertion elements; Gatehouse accepts exactly one", len(assertions)))
	}
	shape := &responseShape{root: root, assertion: assertions[0]}
	if shape.assertion.Parent() != root {
		return nil, reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("the Assertion is inside %s, not directly in the Response", describe(shape.assertion.Parent())))
	}
	if shape.root.SelectAttrValue("ID", "") == "" || shape.assertion.SelectAttrValue("ID", "") == "" {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "the Response or its Assertion has no ID")
	}

	for _, sig := range signatures {
		parent := sig.Parent()
		var slot **etree.Element
		switch parent {
		case root:
			slot = &shape.responseSig
		case shape.assertion:
			slot = &shape.assertionSig
		default:
			return nil, reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("a Signature sits inside %s; Gatehouse accepts signatures only directly on the Response or the Assertion", describe(parent)))
		}
		if *slot != nil {
			return nil, reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("%s carries two Signature elements", describe(parent)))
		}
		*slot = sig
		if verr := checkSignaturePolicy(sig, parent); verr != nil {
			return nil, verr
		}
	}
	if shape.responseSig == nil && shape.assertionSig == nil {
		return nil, reject(ErrSignature, gatehouse.FixInIdP, "neither the Response nor the Assertion is signed")
	}
	return shape, nil
}

// checkStatus rejects any status but Success, quoting the IdP's codes and
// message so the tester sees why the IdP refused.
func checkStatus(root *etree.Element) *gatehouse.Rejection {
	status := children(root, nsProtocol, "Status")
	if len(status) != 1 {
		return reject(ErrMalformed, gatehouse.FixInIdP, fmt.Sprintf("the Response has %d Status elements, expected one", len(status)))
	}
	code := child(status[0], nsProtocol, "StatusCode")
	if code == nil {
		return reject(ErrMalformed, gatehouse.FixInIdP, "the Response Status has no StatusCode")
	}
	top := code.SelectAttrValue("Value", "")
	if top == statusSuccess {
		return nil
	}
	codes := []string{top}
	for sub := child(code, nsProtocol, "StatusCode"); sub != nil; sub = child(sub, nsProtocol, "StatusCode") {
		codes = append(codes, sub.SelectAttrValue("Value", ""))
	}
	msg := "the IdP answered with status " + strings.Join(codes, " / ")
	said := ""
	if m := child(status[0], nsProtocol, "StatusMessage"); m != nil {
		msg += ": " + gatehouse.Quote(strings.TrimSpace(m.Text()))
		said = gatehouse.IdPMessageText(m.Text())
	}
	verr := reject(ErrStatus, gatehouse.FixInIdP, msg)
	verr.Expected, verr.Received, verr.IdPMessage = statusSuccess, strings.Join(codes, " "), said
	return verr
}

// checkSignaturePolicy holds one enveloped signature to the allow-list: one
// Reference naming the element the signature sits in, the allowed algorithms
// and transforms only, and nothing in the Signature but SignedInfo,
// SignatureValue and KeyInfo (no ds:Object to hide a copy in).
func checkSignaturePolicy(sig, signed *etree.Element) *gatehouse.Rejection {
	where := "the Signature on " + describe(signed)
	counts := map[string]int{}
	for _, c := range sig.ChildElements() {
		if c.NamespaceURI() != nsDSig {
			return reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("%s contains a foreign element <%s>", where, c.Tag))
		}
		counts[c.Tag]++
		switch c.Tag {
		case "SignedInfo", "SignatureValue", "KeyInfo":
		default:
			return reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("%s contains <%s>; only SignedInfo, SignatureValue and KeyInfo are accepted", where, c.Tag))
		}
	}
	if counts["SignedInfo"] != 1 || counts["SignatureValue"] != 1 || counts["KeyInfo"] > 1 {
		return reject(ErrStructure, gatehouse.FixInIdP, where+" must have exactly one SignedInfo and SignatureValue and at most one KeyInfo")
	}
	info := child(sig, nsDSig, "SignedInfo")

	c14n := children(info, nsDSig, "CanonicalizationMethod")
	if len(c14n) != 1 {
		return reject(ErrStructure, gatehouse.FixInIdP, where+" must have exactly one CanonicalizationMethod")
	}
	if alg := c14n[0].SelectAttrValue("Algorithm", ""); alg != algExcC14N {
		return weak(where, "CanonicalizationMethod", alg, algExcC14N)
	}
	method := children(info, nsDSig, "SignatureMethod")
	if len(method) != 1 {
		return reject(ErrStructure, gatehouse.FixInIdP, where+" must have exactly one SignatureMethod")
	}
	if alg := method[0].SelectAttrValue("Algorithm", ""); !allowedSignatureMethods[alg] {
		return weak(where, "SignatureMethod", alg, algRSASHA256)
	}

	refs := children(info, nsDSig, "Reference")
	if len(refs) != 1 {
		return reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("%s has %d References; Gatehouse accepts exactly one, naming the signed element", where, len(refs)))
	}
	ref := refs[0]
	want := "#" + signed.SelectAttrValue("ID", "")
	if got := ref.SelectAttrValue("URI", ""); got != want {
		verr := reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("%s has Reference URI %s, which is not the signed element's own ID %s", where, gatehouse.Quote(got), gatehouse.Quote(want)))
		verr.Expected, verr.Received = want, got
		return verr
	}
	if verr := checkTransforms(where, ref); verr != nil {
		return verr
	}
	digest := children(ref, nsDSig, "DigestMethod")
	if len(digest) != 1 {
		return reject(ErrStructure, gatehouse.FixInIdP, where+" must have exactly one DigestMethod")
	}
	if alg := digest[0].SelectAttrValue("Algorithm", ""); !allowedDigestMethods[alg] {
		return weak(where, "DigestMethod", alg, allowedDigest)
	}
	if len(children(ref, nsDSig, "DigestValue")) != 1 {
		return reject(ErrStructure, gatehouse.FixInIdP, where+" must have exactly one DigestValue")
	}
	if verr := checkInclusiveNamespaces(where, c14n[0]); verr != nil {
		return verr
	}
	return nil
}

// checkTransforms accepts exactly the enveloped-signature transform followed
// by exclusive c14n, the SAML profile's pair. Another order or a missing one
// would make the digested octets depend on rules (inclusive c14n of a
// node-set, re-parsing octets) that Gatehouse does not implement, so they are
// refused rather than computed differently from the IdP.
func checkTransforms(where string, ref *etree.Element) *gatehouse.Rejection {
	lists := children(ref, nsDSig, "Transforms")
	if len(lists) != 1 {
		return reject(ErrStructure, gatehouse.FixInIdP, where+" must have exactly one Transforms element")
	}
	var algs []string
	for _, t := range lists[0].ChildElements() {
		alg := t.SelectAttrValue("Algorithm", "")
		if !is(t, nsDSig, "Transform") || !allowedTransforms[alg] {
			return weak(where, "Transform", alg, algEnveloped+" "+algExcC14N)
		}
		algs = append(algs, alg)
	}
	if !slices.Equal(algs, []string{algEnveloped, algExcC14N}) {
		verr := reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("%s has the transforms %s; Gatehouse accepts exactly enveloped-signature then exc-c14n", where, gatehouse.Quote(strings.Join(algs, " "))))
		verr.Expected, verr.Received = algEnveloped+" "+algExcC14N, strings.Join(algs, " ")
		return verr
	}
	if len(lists[0].ChildElements()[0].ChildElements()) > 0 {
		return reject(ErrStructure, gatehouse.FixInIdP, where+": the enveloped-signature Transform must be empty")
	}
	return checkInclusiveNamespaces(where, lists[0].ChildElements()[1])
}

// checkInclusiveNamespaces allows an exc-c14n method at most one
// InclusiveNamespaces child and nothing else.
func checkInclusiveNamespaces(where string, method *etree.Element) *gatehouse.Rejection {
	for i, c := range method.ChildElements() {
		if i > 0 || !is(c, nsExcC14N, "InclusiveNamespaces") || len(c.ChildElements()) > 0 {
			return reject(ErrStructure, gatehouse.FixInIdP, fmt.Sprintf("%s: the exc-c14n method contains <%s>; only one InclusiveNamespaces is accepted", where, c.Tag))
		}
	}
	return nil
}

func weak(where, what, got, want string) *gatehouse.Rejection {
	verr := reject(ErrWeakAlgorithm, gatehouse.FixInIdP, fmt.Sprintf("%s uses %s %s, which Gatehouse does not accept", where, what, gatehouse.Quote(got)))
	verr.Expected, verr.Received = want, got
	return verr
}

// keyInfoCerts returns the distinct certificates the signatures' KeyInfo
// carries, unverified. They are never trusted, so they are read only when
// verification failed, to explain it.
func (shape *responseShape) keyInfoCerts() []*x509.Certificate {
	var out []*x509.Certificate
	for _, sig := range []*etree.Element{shape.responseSig, shape.assertionSig} {
		if sig == nil {
			continue
		}
		for _, cert := range keyInfoCerts(sig) {
			if !slices.ContainsFunc(out, cert.Equal) {
				out = append(out, cert)
			}
		}
	}
	return out
}

// keyInfoCerts returns the readable certificates in a signature's KeyInfo,
// in order, at most maxKeyInfoCerts. They are never trusted: they only
// explain a failed verification.
func keyInfoCerts(sig *etree.Element) []*x509.Certificate {
	var out []*x509.Certificate
	for _, keyInfo := range children(sig, nsDSig, "KeyInfo") {
		for _, data := range children(keyInfo, nsDSig, "X509Data") {
			for _, certEl := range children(data, nsDSig, "X509Certificate") {
				if len(out) == maxKeyInfoCerts {
					return out
				}
				der, err := decodeBase64Body(certEl.Text())
				if err != nil {
					continue
				}
				if cert, err := x509.ParseCertificate(der); err == nil {
					out = append(out, cert)
				}
			}
		}
	}
	return out
}
