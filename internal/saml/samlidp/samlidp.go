// Package samlidp is the identity-provider side of SAML 2.0, which Gatehouse
// itself never plays: it builds Responses shaped like SimpleSAMLphp's, signs
// them with goxmldsig (RSA-SHA256, exclusive c14n, enveloped) and publishes
// the IdP's metadata. The demo IdP signs with it, and the tests (through
// samltest) start from its genuinely signed messages, so what the demo shows
// is what the tests prove.
//
// Build returns the unsigned document, so a caller can shape unusual but
// validly signed content before Sign; Encode gives the SAMLResponse form
// value.
package samlidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Namespaces and values the built messages use.
const (
	NSProtocol   = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSAssertion  = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSMetadata   = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSDSig       = "http://www.w3.org/2000/09/xmldsig#"
	StatusOK     = "urn:oasis:names:tc:SAML:2.0:status:Success"
	MethodBearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	FormatEmail  = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

	timeFormat = "2006-01-02T15:04:05Z"
)

// IdP signs with Key and publishes Cert.
type IdP struct {
	EntityID string
	SSOURL   string
	Key      *rsa.PrivateKey
	Cert     *x509.Certificate
}

// SelfSigned makes a certificate for key, for keys of unusual size and
// certificates with chosen dates (expired ones, for instance).
func SelfSigned(key *rsa.PrivateKey, commonName string, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, fmt.Errorf("samlidp: serial: %w", err)
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("samlidp: certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// Response describes the message to build. Zero fields take the defaults
// documented on each; Now is required.
type Response struct {
	Now time.Time
	// ResponseID and AssertionID default to random IDs.
	ResponseID, AssertionID string
	// Issuer of both the Response and the Assertion; defaults to EntityID.
	Issuer string
	// Destination of the Response; also the Recipient unless that is set.
	Destination, Recipient string
	Audience               string
	// InResponseTo goes on the Response and the SubjectConfirmationData.
	InResponseTo string
	NameID       string
	// NameIDFormat defaults to emailAddress.
	NameIDFormat string
	Attributes   map[string][]string
	// NotBefore and NotOnOrAfter of the Conditions default to 30 s before
	// and 5 min after Now; SubjectNotOnOrAfter (SubjectConfirmationData)
	// defaults to NotOnOrAfter.
	NotBefore, NotOnOrAfter, SubjectNotOnOrAfter time.Time
	// StatusCode defaults to Success; SubStatusCode and StatusMessage are
	// added when set.
	StatusCode, SubStatusCode, StatusMessage string
}

// Build returns the unsigned Response document.
func (idp *IdP) Build(r Response) *etree.Document {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	defTime := func(v, d time.Time) string {
		if v.IsZero() {
			v = d
		}
		return v.UTC().Format(timeFormat)
	}
	issuer := def(r.Issuer, idp.EntityID)
	notOnOrAfter := defTime(r.NotOnOrAfter, r.Now.Add(5*time.Minute))
	issueInstant := r.Now.UTC().Format(timeFormat)

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	resp := doc.CreateElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", NSProtocol)
	resp.CreateAttr("xmlns:saml", NSAssertion)
	resp.CreateAttr("ID", def(r.ResponseID, NewID()))
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", issueInstant)
	if r.Destination != "" {
		resp.CreateAttr("Destination", r.Destination)
	}
	if r.InResponseTo != "" {
		resp.CreateAttr("InResponseTo", r.InResponseTo)
	}
	resp.CreateElement("saml:Issuer").SetText(issuer)
	status := resp.CreateElement("samlp:Status")
	code := status.CreateElement("samlp:StatusCode")
	code.CreateAttr("Value", def(r.StatusCode, StatusOK))
	if r.SubStatusCode != "" {
		code.CreateElement("samlp:StatusCode").CreateAttr("Value", r.SubStatusCode)
	}
	if r.StatusMessage != "" {
		status.CreateElement("samlp:StatusMessage").SetText(r.StatusMessage)
	}

	// The Assertion declares its own namespaces, as most IdPs do, so it can
	// be signed on its own.
	a := resp.CreateElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", NSAssertion)
	a.CreateAttr("xmlns:xs", "http://www.w3.org/2001/XMLSchema")
	a.CreateAttr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
	a.CreateAttr("ID", def(r.AssertionID, NewID()))
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", issueInstant)
	a.CreateElement("saml:Issuer").SetText(issuer)

	subject := a.CreateElement("saml:Subject")
	nameID := subject.CreateElement("saml:NameID")
	nameID.CreateAttr("Format", def(r.NameIDFormat, FormatEmail))
	nameID.SetText(r.NameID)
	sc := subject.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", MethodBearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	subjectNotOnOrAfter := notOnOrAfter
	if !r.SubjectNotOnOrAfter.IsZero() {
		subjectNotOnOrAfter = r.SubjectNotOnOrAfter.UTC().Format(timeFormat)
	}
	scd.CreateAttr("NotOnOrAfter", subjectNotOnOrAfter)
	scd.CreateAttr("Recipient", def(r.Recipient, r.Destination))
	if r.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", r.InResponseTo)
	}

	conditions := a.CreateElement("saml:Conditions")
	conditions.CreateAttr("NotBefore", defTime(r.NotBefore, r.Now.Add(-30*time.Second)))
	conditions.CreateAttr("NotOnOrAfter", notOnOrAfter)
	conditions.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(r.Audience)

	authn := a.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", issueInstant)
	authn.CreateAttr("SessionNotOnOrAfter", r.Now.Add(8*time.Hour).UTC().Format(timeFormat))
	authn.CreateAttr("SessionIndex", NewID())
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:Password")

	if len(r.Attributes) > 0 {
		statement := a.CreateElement("saml:AttributeStatement")
		names := make([]string, 0, len(r.Attributes))
		for name := range r.Attributes {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			attr := statement.CreateElement("saml:Attribute")
			attr.CreateAttr("Name", name)
			attr.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:basic")
			for _, v := range r.Attributes[name] {
				value := attr.CreateElement("saml:AttributeValue")
				value.CreateAttr("xsi:type", "xs:string")
				value.SetText(v)
			}
		}
	}
	return doc
}

// Signing says what Sign signs and how. The zero value signs nothing.
type Signing struct {
	Response, Assertion bool
	// Hash defaults to SHA-256; crypto.SHA1 makes an rsa-sha1 signature with
	// a sha1 digest.
	Hash crypto.Hash
	// OmitKeyInfo leaves the certificate out of the signatures.
	OmitKeyInfo bool
	// KeyInfo, when set, reshapes each signature's KeyInfo right after that
	// signature is made, so a Response signature covers the Assertion's as
	// reshaped: as IdPs that send a chain, a re-issued certificate or only a
	// KeyValue build them. It is not called when OmitKeyInfo is set.
	KeyInfo func(keyInfo *etree.Element)
}

// Sign adds enveloped signatures to the Assertion and then the Response, each
// right after the element's Issuer, where the SAML schema puts it.
func (idp *IdP) Sign(doc *etree.Document, s Signing) error {
	resp := doc.Root()
	if s.Assertion {
		a := resp.SelectElement("saml:Assertion")
		if a == nil {
			return errors.New("samlidp: no saml:Assertion to sign")
		}
		if err := idp.signElement(a, s); err != nil {
			return err
		}
	}
	if s.Response {
		return idp.signElement(resp, s)
	}
	return nil
}

func (idp *IdP) signElement(el *etree.Element, s Signing) error {
	ctx, err := dsig.NewSigningContext(idp.Key, [][]byte{idp.Cert.Raw})
	if err != nil {
		return fmt.Errorf("samlidp: signing context: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if s.Hash != 0 {
		ctx.Hash = s.Hash
	}
	// Canonicalization rewrites the element in place; sign a detached copy
	// so the document keeps the IdP's own serialization.
	sig, err := ctx.ConstructSignature(el.Copy(), true)
	if err != nil {
		return fmt.Errorf("samlidp: sign <%s>: %w", el.Tag, err)
	}
	switch {
	case s.OmitKeyInfo:
		sig.RemoveChild(sig.SelectElement("ds:KeyInfo"))
	case s.KeyInfo != nil:
		s.KeyInfo(sig.SelectElement("ds:KeyInfo"))
	}
	at := 0
	if issuer := el.SelectElement("saml:Issuer"); issuer != nil {
		at = issuer.Index() + 1
	}
	el.InsertChildAt(at, sig)
	return nil
}

// Encode returns the SAMLResponse form value for doc.
func Encode(doc *etree.Document) (string, error) {
	raw, err := doc.WriteToBytes()
	if err != nil {
		return "", fmt.Errorf("samlidp: serialize: %w", err)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// SignedResponse builds, signs and encodes in one step.
func (idp *IdP) SignedResponse(r Response, s Signing) (string, error) {
	doc := idp.Build(r)
	if err := idp.Sign(doc, s); err != nil {
		return "", err
	}
	return Encode(doc)
}

// Metadata returns the IdP's SAML metadata: its entity ID, SSO URL for both
// bindings, signing certificate and the emailAddress NameID format.
func (idp *IdP) Metadata() ([]byte, error) {
	doc := etree.NewDocument()
	entity := doc.CreateElement("md:EntityDescriptor")
	entity.CreateAttr("xmlns:md", NSMetadata)
	entity.CreateAttr("xmlns:ds", NSDSig)
	entity.CreateAttr("entityID", idp.EntityID)
	descriptor := entity.CreateElement("md:IDPSSODescriptor")
	descriptor.CreateAttr("protocolSupportEnumeration", NSProtocol)
	kd := descriptor.CreateElement("md:KeyDescriptor")
	kd.CreateAttr("use", "signing")
	kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(idp.Cert.Raw))
	descriptor.CreateElement("md:NameIDFormat").SetText(FormatEmail)
	for _, binding := range []string{"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"} {
		sso := descriptor.CreateElement("md:SingleSignOnService")
		sso.CreateAttr("Binding", binding)
		sso.CreateAttr("Location", idp.SSOURL)
	}
	doc.Indent(2)
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("samlidp: metadata: %w", err)
	}
	return out, nil
}

// NewID returns a random SAML ID (an NCName).
func NewID() string {
	return "_" + rand.Text()
}
