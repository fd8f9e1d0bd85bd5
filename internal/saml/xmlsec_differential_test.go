package saml_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/beevik/etree"

	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

// differentialCase is one document of the differential corpus.
type differentialCase struct {
	name       string
	raw        []byte
	configured []*x509.Certificate
	// responseSig and assertionSig say where the document carries the
	// signatures Gatehouse looks at (directly on the Response and on its
	// Assertion), for xmlsec1's --node-xpath.
	responseSig, assertionSig bool
	// refusedOnPurpose, when set, says why Gatehouse refuses the document's
	// shape or algorithms before verifying any signature, whatever xmlsec1
	// (which verifies a signature wherever it sits, with any transform it
	// implements) says: the expected disagreement, stated per case.
	refusedOnPurpose string
}

func docCase(t testing.TB, name string, doc *etree.Document, configured []*x509.Certificate, refusedOnPurpose string) differentialCase {
	a := assertionOf(doc)
	return differentialCase{
		name: name, raw: mustXML(t, doc), configured: configured,
		responseSig: sigOf(doc.Root()) != nil, assertionSig: a != nil && sigOf(a) != nil,
		refusedOnPurpose: refusedOnPurpose,
	}
}

// rawEdit is a byte-level change to a signed document: serializations etree
// would never write, which canonicalization must see through (or not).
type rawEdit struct {
	name     string
	old, new string
	// same says the edit keeps the canonical form, so both verifiers must
	// still accept.
	same bool
}

var rawEdits = []rawEdit{
	{"NameID as CDATA", ">alice@a.com<", "><![CDATA[alice@a.com]]><", true},
	{"NameID with a character reference", ">alice@a.com<", ">&#97;lice@a.com<", true},
	{"NameID split by a comment", ">alice@a.com<", ">alice@a.com<!-- x -->.evil.com<", false},
	{"comment inside the NameID", ">alice@a.com<", ">alice@<!-- x -->a.com<", true},
	{"an unused namespace declared on the Response", "<samlp:Response ", `<samlp:Response xmlns:unused="urn:unused" `, true},
	{"single quotes around the Response ID", ` ID="`, ` ID='`, false}, // the closing quote stays double: not XML
	{"NameID changed", ">alice@a.com<", ">ceo@a.com<", false},
	{"whitespace added before the NameID", "<saml:NameID", "\n<saml:NameID", false},
	{"Recipient changed", `Recipient="https://gatehouse.example/saml/cfg-a/acs"`, `Recipient="https://gatehouse.example/saml/cfg-b/acs"`, false},
}

// differentialCorpus: valid responses signed in every layout, with every
// allowed hash, with and without KeyInfo; byte-level edits of them; the
// signature-wrapping and other attack documents of the suite; the fuzz seeds.
func differentialCorpus(t *testing.T) []differentialCase {
	f := newFixture(t)
	own := []*x509.Certificate{f.idp.Cert}
	var cases []differentialCase
	layouts := map[string]samltest.Signing{"response": {Response: true}, "assertion": {Assertion: true}, "both": signBoth}
	for layoutName, layout := range layouts {
		for _, hash := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			for _, omit := range []bool{false, true} {
				s := layout
				s.Hash, s.OmitKeyInfo = hash, omit
				name := fmt.Sprintf("%s signed/%s/KeyInfo omitted %v", layoutName, hash, omit)
				valid := docCase(t, name, f.doc(t, nil, f.response(), s), own, "")
				cases = append(cases, valid)
				for _, e := range rawEdits {
					if !bytes.Contains(valid.raw, []byte(e.old)) {
						t.Fatalf("%s: %q not in the document", e.name, e.old)
					}
					edited := valid
					edited.name = name + "/" + e.name
					edited.raw = bytes.Replace(valid.raw, []byte(e.old), []byte(e.new), 1)
					if e.name == "single quotes around the Response ID" {
						edited.refusedOnPurpose = "not well-formed XML, refused by both parsers"
					}
					cases = append(cases, edited)
				}
			}
		}
	}

	for _, p := range xswPermutations() {
		for _, variant := range []string{"fresh ID", "original ID"} {
			cases = append(cases, docCase(t, p.name+"/"+variant, p.build(t, f, variant), own,
				"signature wrapping: the signed element is not the one Gatehouse reads, or the signature sits where Gatehouse does not look"))
		}
	}

	unsignedForged := f.doc(t, nil, f.attackerResponse(), samltest.Signing{Response: true})
	forge(assertionOf(unsignedForged), assertionID(unsignedForged))
	cases = append(cases, docCase(t, "S-unsigned/forged assertion in a signed envelope", unsignedForged, own, ""))
	cases = append(cases, docCase(t, "S-unsigned/nothing signed", f.doc(t, nil, f.response(), samltest.Signing{}), own,
		"neither the Response nor the Assertion is signed"))

	twoAssertions := f.doc(t, nil, f.attackerResponse(), samltest.Signing{Assertion: true})
	second := withoutSignature(assertionOf(twoAssertions))
	forge(second, "_second")
	twoAssertions.Root().AddChild(second)
	cases = append(cases, docCase(t, "S-multi/unsigned assertion after the signed one", twoAssertions, own,
		"two assertions: only one can be the signed one"))

	sha1 := f.doc(t, nil, f.response(), samltest.Signing{Response: true, Assertion: true, Hash: crypto.SHA1})
	cases = append(cases, docCase(t, "S-weak/rsa-sha1", sha1, own, "rsa-sha1 and sha1 are outside the allow-list"))

	twoRefs := f.doc(t, nil, f.attackerResponse(), samltest.Signing{Response: true})
	info := sigOf(twoRefs.Root()).SelectElement("ds:SignedInfo")
	ref := info.SelectElement("ds:Reference").Copy()
	ref.SelectAttr("URI").Value = "#" + assertionID(twoRefs)
	info.AddChild(ref)
	resign(t, sigOf(twoRefs.Root()), f.idp.Key, crypto.SHA256)
	cases = append(cases, docCase(t, "S-refs/two References", twoRefs, own, "exactly one Reference, naming the signed element, is accepted"))

	fx := newFixture(t)
	fx.cfg.EmailAttribute = "mail"
	r := fx.response()
	r.Attributes = map[string][]string{"mail": {"alice@a.com"}}
	for i, s := range []samltest.Signing{signBoth, {Assertion: true}, {Response: true}, {Assertion: true, OmitKeyInfo: true}} {
		cases = append(cases, docCase(t, fmt.Sprintf("fuzz seed %d", i), fx.doc(t, nil, r, s), own, ""))
	}
	failure := fx.response()
	failure.StatusCode = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	cases = append(cases, docCase(t, "fuzz seed failure status", fx.idp.Build(failure), own, "status not Success, and nothing signed"))
	cases = append(cases, differentialCase{name: "fuzz seed empty Response", raw: []byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`), configured: own,
		refusedOnPurpose: "no status, no assertion, no signature"})
	return cases
}

// TestSignatureVerdictMatchesXmlsec1Corpus is the differential test of
// Gatehouse's own XML-DSig verification (exclusive c14n, digest and RSA on
// the parsed tree) against libxmlsec1: on every document of the corpus,
// Gatehouse's signature verdict equals xmlsec1's, given only the configured
// certificates' public keys and the two signature positions Gatehouse
// accepts; or the case states why Gatehouse refuses its shape on purpose.
//
// xmlsec1 runs as
//
//	xmlsec1 --verify --enabled-key-data key-name --id-attr:ID <protocol>:Response
//	  --id-attr:ID <assertion>:Assertion --pubkey-pem key.pem --node-xpath <signature> doc.xml
//
// once per signature and configured key (see xmlsec1VerdictRaw).
func TestSignatureVerdictMatchesXmlsec1Corpus(t *testing.T) { // S-keyinfo, S-refs, S-comment
	bin := xmlsec1(t)
	for _, tc := range differentialCorpus(t) {
		t.Run(tc.name, func(t *testing.T) {
			verified, refused := saml.SignatureVerdict(tc.raw, tc.configured)
			xmlsec := xmlsec1VerdictRaw(t, bin, tc.raw, tc.responseSig, tc.assertionSig, tc.configured)
			if tc.refusedOnPurpose != "" {
				if refused == nil {
					t.Fatalf("Gatehouse verified the signatures (valid = %v) of a shape it should refuse: %s", verified, tc.refusedOnPurpose)
				}
				t.Logf("expected disagreement allowed: Gatehouse refuses (%v) because %s; xmlsec1 valid = %v", refused, tc.refusedOnPurpose, xmlsec)
				return
			}
			if refused != nil {
				t.Fatalf("Gatehouse refused before verifying: %v (xmlsec1 valid = %v)", refused, xmlsec)
			}
			if verified != xmlsec {
				t.Errorf("Gatehouse valid = %v, xmlsec1 valid = %v", verified, xmlsec)
			}
		})
	}
}

// TestRawEditsVerdicts pins what each byte-level edit must do, so the
// differential test cannot pass with both verifiers wrong the same way.
func TestRawEditsVerdicts(t *testing.T) { // S-comment
	f := newFixture(t)
	valid := mustXML(t, f.doc(t, nil, f.response(), signBoth))
	for _, e := range rawEdits {
		t.Run(e.name, func(t *testing.T) {
			raw := bytes.Replace(valid, []byte(e.old), []byte(e.new), 1)
			verified, refused := saml.SignatureVerdict(raw, []*x509.Certificate{f.idp.Cert})
			if got := verified && refused == nil; got != e.same {
				t.Errorf("verified = %v (refused: %v), want %v", got, refused, e.same)
			}
			if e.same {
				a, err := f.runB64(base64.StdEncoding.EncodeToString(raw))
				if a = accept(t, a, err); a.NameID != "alice@a.com" {
					t.Errorf("NameID = %q", a.NameID)
				}
			}
		})
	}
}
