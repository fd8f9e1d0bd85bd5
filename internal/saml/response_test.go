package saml_test

import (
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"gatehouse"
	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

func TestAcceptEmailNameID(t *testing.T) {
	f := newFixture(t)
	a := f.mustAccept(t, f.doc(t, nil, f.response(), signBoth))
	if a.NameID != "alice@a.com" || a.Email != "alice@a.com" || a.NameIDFormat != saml.NameIDFormatEmail {
		t.Errorf("identity = %q / %q (%s)", a.NameID, a.Email, a.NameIDFormat)
	}
	if a.Issuer != entityA || a.InResponseTo != requestID || a.ID == "" || a.SessionIndex == "" {
		t.Errorf("assertion = %+v", a)
	}
	if want := testNow.Add(5 * time.Minute); !a.NotOnOrAfter.Equal(want) || !a.ReplayUntil.Equal(want.Add(saml.DefaultClockSkew)) {
		t.Errorf("NotOnOrAfter %v, ReplayUntil %v", a.NotOnOrAfter, a.ReplayUntil)
	}
	if !a.SignedBy.Equal(f.idp.Cert) {
		t.Errorf("SignedBy is not the configured certificate")
	}
}

func TestAcceptPersistentNameIDWithEmailAttribute(t *testing.T) {
	for _, attr := range []string{"mail", "Email address"} { // by Name, by FriendlyName
		t.Run(attr, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.EmailAttribute = attr
			r := f.response()
			r.NameIDFormat = saml.NameIDFormatPersistent
			r.NameID = "8f3a2c1e-opaque"
			r.Attributes = map[string][]string{"mail": {"Alice@A.com"}, "groups": {"sales", "admins"}}
			doc := f.idp.Build(r)
			for _, el := range assertionOf(doc).FindElements(".//saml:Attribute[@Name='mail']") {
				el.CreateAttr("FriendlyName", "Email address")
			}
			if err := f.idp.Sign(doc, signBoth); err != nil {
				t.Fatal(err)
			}
			a := f.mustAccept(t, doc)
			if a.Email != "Alice@A.com" || a.NameID != "8f3a2c1e-opaque" || a.NameIDFormat != saml.NameIDFormatPersistent {
				t.Errorf("identity = %q / %q (%s)", a.Email, a.NameID, a.NameIDFormat)
			}
			if got := a.Attributes["groups"]; !slices.Equal(got, []string{"sales", "admins"}) {
				t.Errorf("groups = %v", got)
			}
		})
	}
}

func TestRejectUnusableEmail(t *testing.T) {
	cases := []struct {
		name      string
		attribute string
		modify    func(*samltest.Response)
	}{
		{"persistent NameID, no email attribute configured", "", func(r *samltest.Response) {
			r.NameIDFormat, r.NameID = saml.NameIDFormatPersistent, "8f3a2c1e"
		}},
		{"configured attribute not released", "mail", func(r *samltest.Response) {}},
		{"attribute with two addresses", "mail", func(r *samltest.Response) {
			r.Attributes = map[string][]string{"mail": {"alice@a.com", "mallory@a.com"}}
		}},
		{"display name form", "mail", func(r *samltest.Response) {
			r.Attributes = map[string][]string{"mail": {"Alice <alice@a.com>"}}
		}},
		{"empty NameID", "", func(r *samltest.Response) { r.NameID = "  " }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.EmailAttribute = tc.attribute
			r := f.response()
			tc.modify(&r)
			f.mustReject(t, f.doc(t, nil, r, signBoth), saml.ErrSubject)
		})
	}
	// gosaml2 keeps one NameID and would read only the last.
	t.Run("two NameIDs", func(t *testing.T) {
		f := newFixture(t)
		r := f.response()
		r.NameID = victim
		doc := f.idp.Build(r)
		s := doc.FindElement("//saml:Subject")
		first := s.SelectElement("saml:NameID").Copy()
		first.SetText(attacker)
		s.InsertChildAt(0, first)
		if err := f.idp.Sign(doc, signBoth); err != nil {
			t.Fatal(err)
		}
		f.mustReject(t, doc, saml.ErrSubject)
	})
}

// TestAcceptSignatureLocations covers which elements may carry the signature.
// A Response signed alone is accepted: the structural checks allow exactly
// one Assertion, directly inside the signed Response, and the identity is
// read from the verified bytes, so it is covered by that signature.
func TestAcceptSignatureLocations(t *testing.T) {
	for name, s := range map[string]samltest.Signing{
		"response and assertion": signBoth,
		"assertion only":         {Assertion: true},
		"response only":          {Response: true},
		"without KeyInfo":        {Response: true, Assertion: true, OmitKeyInfo: true},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if a := f.mustAccept(t, f.doc(t, nil, f.response(), s)); a.Email != "alice@a.com" {
				t.Errorf("email = %q", a.Email)
			}
		})
	}
}

// TestResponseOnlySignedReadsInsideSignature alters the assertion of a
// Response signed alone: both a changed NameID and an extra assertion must
// fail, so the identity can only come from inside the signed Response.
func TestResponseOnlySignedReadsInsideSignature(t *testing.T) {
	f := newFixture(t)
	t.Run("NameID changed", func(t *testing.T) {
		doc := f.doc(t, nil, f.response(), samltest.Signing{Response: true})
		nameIDOf(doc).SetText("mallory@a.com")
		f.mustReject(t, doc, saml.ErrSignature)
	})
	t.Run("second assertion added", func(t *testing.T) {
		doc := f.doc(t, nil, f.response(), samltest.Signing{Response: true})
		evil := assertionOf(doc).Copy()
		evil.SelectAttr("ID").Value = "_evil"
		evil.FindElement("./saml:Subject/saml:NameID").SetText("mallory@a.com")
		doc.Root().AddChild(evil)
		f.mustReject(t, doc, saml.ErrStructure)
	})
}

func TestIssuer(t *testing.T) { // P-issuer
	cases := []struct {
		name  string
		build func(f *fixture, doc *etree.Document)
	}{
		{"both issuers wrong", func(f *fixture, doc *etree.Document) {
			for _, el := range doc.FindElements("//saml:Issuer") {
				el.SetText("https://idp.evil.example/")
			}
		}},
		{"assertion issuer wrong", func(f *fixture, doc *etree.Document) {
			assertionOf(doc).SelectElement("saml:Issuer").SetText("https://idp.evil.example/")
		}},
		{"response issuer wrong", func(f *fixture, doc *etree.Document) {
			doc.Root().SelectElement("saml:Issuer").SetText("https://idp.evil.example/")
		}},
		{"assertion issuer missing", func(f *fixture, doc *etree.Document) {
			a := assertionOf(doc)
			a.RemoveChild(a.SelectElement("saml:Issuer"))
		}},
		{"response issuer missing", func(f *fixture, doc *etree.Document) {
			doc.Root().RemoveChild(doc.Root().SelectElement("saml:Issuer"))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.idp.Build(f.response())
			tc.build(f, doc)
			if err := f.idp.Sign(doc, signBoth); err != nil {
				t.Fatal(err)
			}
			f.mustReject(t, doc, saml.ErrIssuer)
		})
	}
}

func TestAudience(t *testing.T) { // P-audience
	cases := []struct {
		name  string
		build func(f *fixture, doc *etree.Document)
	}{
		{"another SP", func(f *fixture, doc *etree.Document) {
			doc.FindElement("//saml:Audience").SetText("https://gatehouse.example/saml/cfg-b/metadata")
		}},
		{"no AudienceRestriction", func(f *fixture, doc *etree.Document) {
			c := doc.FindElement("//saml:Conditions")
			c.RemoveChild(c.SelectElement("saml:AudienceRestriction"))
		}},
		{"a second restriction excludes us", func(f *fixture, doc *etree.Document) {
			c := doc.FindElement("//saml:Conditions")
			c.AddChild(etree.NewElement("saml:AudienceRestriction"))
			c.ChildElements()[1].CreateElement("saml:Audience").SetText("https://other.example/")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.idp.Build(f.response())
			tc.build(f, doc)
			if err := f.idp.Sign(doc, signBoth); err != nil {
				t.Fatal(err)
			}
			verr := f.mustReject(t, doc, saml.ErrAudience)
			if verr.Expected != f.sp.EntityID || verr.FixIn != gatehouse.FixInIdP {
				t.Errorf("error for admins: %+v", verr)
			}
		})
	}
}

func TestDestination(t *testing.T) { // P-destination
	cases := []struct {
		name    string
		signing samltest.Signing
		build   func(doc *etree.Document)
		want    error // nil: accepted
	}{
		{"Destination of another configuration", signBoth, func(doc *etree.Document) {
			doc.Root().SelectAttr("Destination").Value = "https://gatehouse.example/saml/cfg-b/acs"
		}, saml.ErrDestination},
		{"Recipient of another configuration", signBoth, func(doc *etree.Document) {
			doc.FindElement("//saml:SubjectConfirmationData").SelectAttr("Recipient").Value = "https://gatehouse.example/saml/cfg-b/acs"
		}, saml.ErrDestination},
		{"Recipient missing", signBoth, func(doc *etree.Document) {
			doc.FindElement("//saml:SubjectConfirmationData").RemoveAttr("Recipient")
		}, saml.ErrDestination},
		{"Destination missing on a signed Response", signBoth, func(doc *etree.Document) {
			doc.Root().RemoveAttr("Destination")
		}, saml.ErrDestination},
		{"Destination missing on an unsigned Response", samltest.Signing{Assertion: true}, func(doc *etree.Document) {
			doc.Root().RemoveAttr("Destination")
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.idp.Build(f.response())
			tc.build(doc)
			if err := f.idp.Sign(doc, tc.signing); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				f.mustAccept(t, doc)
				return
			}
			f.mustReject(t, doc, tc.want)
		})
	}
}

func TestUnsolicited(t *testing.T) { // P-unsolicited
	for _, tc := range []struct {
		name     string
		allow    bool
		expected []string
		want     error
	}{
		{"IdP-initiated refused", false, nil, saml.ErrUnsolicited},
		{"IdP-initiated refused while a request is pending", false, []string{requestID}, saml.ErrUnsolicited},
		{"IdP-initiated allowed", true, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.AllowIdPInitiated = tc.allow
			f.expected = tc.expected
			r := f.response()
			r.InResponseTo = ""
			doc := f.doc(t, nil, r, signBoth)
			if tc.want != nil {
				f.mustReject(t, doc, tc.want)
				return
			}
			if a := f.mustAccept(t, doc); a.InResponseTo != "" {
				t.Errorf("InResponseTo = %q for an IdP-initiated response", a.InResponseTo)
			}
		})
	}
}

func TestInResponseTo(t *testing.T) { // P-inresponseto
	cases := []struct {
		name     string
		expected []string
		signing  samltest.Signing
		build    func(doc *etree.Document)
		want     error
	}{
		{"unknown request", []string{"_another-request"}, signBoth, nil, saml.ErrInResponseTo},
		{"no request pending", nil, signBoth, nil, saml.ErrInResponseTo},
		{"one of several pending", []string{"_older", requestID}, signBoth, nil, nil},
		{"Response and assertion disagree", []string{requestID, "_other"}, signBoth, func(doc *etree.Document) {
			doc.Root().SelectAttr("InResponseTo").Value = "_other"
		}, saml.ErrInResponseTo},
		{"only on the unsigned Response", []string{requestID}, samltest.Signing{Assertion: true}, func(doc *etree.Document) {
			doc.FindElement("//saml:SubjectConfirmationData").RemoveAttr("InResponseTo")
		}, saml.ErrInResponseTo},
		{"only on the signed Response", []string{requestID}, samltest.Signing{Response: true}, func(doc *etree.Document) {
			doc.FindElement("//saml:SubjectConfirmationData").RemoveAttr("InResponseTo")
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.expected = tc.expected
			doc := f.idp.Build(f.response())
			if tc.build != nil {
				tc.build(doc)
			}
			if err := f.idp.Sign(doc, tc.signing); err != nil {
				t.Fatal(err)
			}
			if tc.want != nil {
				f.mustReject(t, doc, tc.want)
				return
			}
			if a := f.mustAccept(t, doc); a.InResponseTo != requestID {
				t.Errorf("InResponseTo = %q", a.InResponseTo)
			}
		})
	}
}

func TestTime(t *testing.T) { // P-time
	skew := saml.DefaultClockSkew
	type times struct {
		notBefore, notOnOrAfter, subjectNotOnOrAfter, subjectNotBefore time.Time
	}
	long := 10 * time.Minute
	cases := []struct {
		name     string
		skew     time.Duration
		times    times
		accepted bool
	}{
		{"Conditions NotBefore beyond skew", 0, times{notBefore: testNow.Add(skew + time.Second)}, false},
		{"Conditions NotBefore within skew", 0, times{notBefore: testNow.Add(skew - time.Second)}, true},
		{"Conditions NotOnOrAfter beyond skew", 0, times{notBefore: testNow.Add(-long), notOnOrAfter: testNow.Add(-skew)}, false},
		{"Conditions NotOnOrAfter within skew", 0, times{notBefore: testNow.Add(-long), notOnOrAfter: testNow.Add(-skew + time.Second)}, true},
		{"SubjectConfirmationData NotOnOrAfter beyond skew", 0, times{notBefore: testNow.Add(-long), subjectNotOnOrAfter: testNow.Add(-skew)}, false},
		{"SubjectConfirmationData NotOnOrAfter within skew", 0, times{notBefore: testNow.Add(-long), subjectNotOnOrAfter: testNow.Add(-skew + time.Second)}, true},
		{"SubjectConfirmationData NotBefore beyond skew", 0, times{subjectNotBefore: testNow.Add(skew + time.Second)}, false},
		{"SubjectConfirmationData NotBefore within skew", 0, times{subjectNotBefore: testNow.Add(skew - time.Second)}, true},
		{"configured skew 300s, within", 300 * time.Second, times{notBefore: testNow.Add(-long), notOnOrAfter: testNow.Add(-299 * time.Second)}, true},
		{"configured skew 300s, beyond", 300 * time.Second, times{notBefore: testNow.Add(-long), notOnOrAfter: testNow.Add(-300 * time.Second)}, false},
		{"configured skew 1s, beyond", time.Second, times{notBefore: testNow.Add(2 * time.Second)}, false},
		{"long expired", 0, times{notBefore: testNow.Add(-2 * time.Hour), notOnOrAfter: testNow.Add(-time.Hour)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.ClockSkew = tc.skew
			r := f.response()
			r.NotBefore, r.NotOnOrAfter, r.SubjectNotOnOrAfter = tc.times.notBefore, tc.times.notOnOrAfter, tc.times.subjectNotOnOrAfter
			doc := f.idp.Build(r)
			if !tc.times.subjectNotBefore.IsZero() {
				doc.FindElement("//saml:SubjectConfirmationData").CreateAttr("NotBefore", tc.times.subjectNotBefore.Format(time.RFC3339))
			}
			if err := f.idp.Sign(doc, signBoth); err != nil {
				t.Fatal(err)
			}
			if tc.accepted {
				f.mustAccept(t, doc)
				return
			}
			verr := f.mustReject(t, doc, saml.ErrTime)
			if !strings.Contains(verr.Message, "clock skew") {
				t.Errorf("message does not explain the skew: %s", verr.Message)
			}
		})
	}
}

func TestClockSkewConfiguration(t *testing.T) {
	for _, skew := range []time.Duration{-time.Second, saml.MaxClockSkew + time.Second} {
		f := newFixture(t)
		f.cfg.ClockSkew = skew
		verr := f.mustReject(t, f.doc(t, nil, f.response(), signBoth), saml.ErrConfiguration)
		if verr.FixIn != gatehouse.FixInGatehouse {
			t.Errorf("skew %s: FixIn = %s", skew, verr.FixIn)
		}
	}
}

func TestBearer(t *testing.T) { // P-bearer
	cases := []struct {
		name  string
		build func(doc *etree.Document)
	}{
		{"holder-of-key method", func(doc *etree.Document) {
			doc.FindElement("//saml:SubjectConfirmation").SelectAttr("Method").Value = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
		}},
		{"SubjectConfirmationData missing", func(doc *etree.Document) {
			sc := doc.FindElement("//saml:SubjectConfirmation")
			sc.RemoveChild(sc.SelectElement("saml:SubjectConfirmationData"))
		}},
		{"SubjectConfirmation missing", func(doc *etree.Document) {
			s := doc.FindElement("//saml:Subject")
			s.RemoveChild(s.SelectElement("saml:SubjectConfirmation"))
		}},
		{"a second, sender-vouches confirmation", func(doc *etree.Document) {
			s := doc.FindElement("//saml:Subject")
			second := s.SelectElement("saml:SubjectConfirmation").Copy()
			second.SelectAttr("Method").Value = "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches"
			s.AddChild(second)
		}},
		// gosaml2 keeps one SubjectConfirmation and would see only the last.
		{"sender-vouches first, bearer last", func(doc *etree.Document) {
			s := doc.FindElement("//saml:Subject")
			first := s.SelectElement("saml:SubjectConfirmation").Copy()
			first.SelectAttr("Method").Value = "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches"
			s.InsertChildAt(s.SelectElement("saml:SubjectConfirmation").Index(), first)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.idp.Build(f.response())
			tc.build(doc)
			if err := f.idp.Sign(doc, signBoth); err != nil {
				t.Fatal(err)
			}
			f.mustReject(t, doc, saml.ErrBearer)
		})
	}
}

// TestTwoConditions: gosaml2 would merge them and apply the last NotBefore.
func TestTwoConditions(t *testing.T) {
	f := newFixture(t)
	doc := f.idp.Build(f.response())
	a := assertionOf(doc)
	future := a.SelectElement("saml:Conditions").Copy()
	future.SelectAttr("NotBefore").Value = testNow.Add(time.Hour).Format(time.RFC3339)
	a.InsertChildAt(a.SelectElement("saml:Conditions").Index(), future)
	if err := f.idp.Sign(doc, signBoth); err != nil {
		t.Fatal(err)
	}
	f.mustReject(t, doc, saml.ErrStructure)
}

// TestIssueInstant: a signed Response or Assertion without the
// IssueInstant SAML requires, or with one that is no time, is refused as
// malformed.
func TestIssueInstant(t *testing.T) {
	for name, edit := range map[string]func(doc *etree.Document){
		"Response without":  func(doc *etree.Document) { doc.Root().RemoveAttr("IssueInstant") },
		"Assertion without": func(doc *etree.Document) { assertionOf(doc).RemoveAttr("IssueInstant") },
		"Response not a time": func(doc *etree.Document) {
			doc.Root().CreateAttr("IssueInstant", "yesterday")
		},
		"Assertion not a time": func(doc *etree.Document) {
			assertionOf(doc).CreateAttr("IssueInstant", "2026-13-45T99:00:00Z")
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.idp.Build(f.response())
			edit(doc)
			if err := f.idp.Sign(doc, signBoth); err != nil {
				t.Fatal(err)
			}
			f.mustReject(t, doc, saml.ErrMalformed)
		})
	}
}

func TestConditionsGosaml2Flags(t *testing.T) {
	for _, el := range []string{"saml:OneTimeUse", "saml:ProxyRestriction"} {
		t.Run(el, func(t *testing.T) {
			f := newFixture(t)
			doc := f.idp.Build(f.response())
			doc.FindElement("//saml:Conditions").CreateElement(el)
			if err := f.idp.Sign(doc, signBoth); err != nil {
				t.Fatal(err)
			}
			f.mustReject(t, doc, saml.ErrCondition)
		})
	}
}

func TestStatus(t *testing.T) { // P-status
	for name, s := range map[string]samltest.Signing{"unsigned": {}, "signed": {Response: true}} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			r := f.response()
			r.StatusCode = "urn:oasis:names:tc:SAML:2.0:status:Responder"
			r.SubStatusCode = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
			r.StatusMessage = "User is not assigned to this application"
			doc := f.idp.Build(r)
			doc.Root().RemoveChild(assertionOf(doc)) // IdPs send no assertion with a failure
			if err := f.idp.Sign(doc, s); err != nil {
				t.Fatal(err)
			}
			verr := f.mustReject(t, doc, saml.ErrStatus)
			for _, want := range []string{"Responder", "AuthnFailed", "User is not assigned to this application"} {
				if !strings.Contains(verr.Message, want) {
					t.Errorf("status message %q lacks %q", verr.Message, want)
				}
			}
			if verr.Expected != "urn:oasis:names:tc:SAML:2.0:status:Success" || !strings.Contains(verr.Received, "Responder") {
				t.Errorf("expected/received = %q / %q", verr.Expected, verr.Received)
			}
		})
	}
}

// TestExpiredCertificateAccepted records the P-expired-cert decision: a
// signature by a configured certificate past its NotAfter is accepted, since
// SAML trust is in the configured key, and ExpiringCertificates warns first.
func TestExpiredCertificateAccepted(t *testing.T) { // P-expired-cert
	f := newFixture(t)
	expired, err := samltest.SelfSigned(f.idp.Key, "expired", testNow.AddDate(-2, 0, 0), testNow.AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	idp := *f.idp
	idp.Cert = expired
	f.cfg.Certificates = []*x509.Certificate{expired}
	a := f.mustAccept(t, f.doc(t, &idp, f.response(), signBoth))
	if !a.SignedBy.Equal(expired) {
		t.Error("SignedBy is not the expired certificate")
	}
	warn := saml.ExpiringCertificates(f.cfg.Certificates, testNow, 30*24*time.Hour)
	if len(warn) != 1 || !warn[0].Cert.Equal(expired) {
		t.Errorf("ExpiringCertificates = %v", warn)
	}
}

func TestConfiguration(t *testing.T) {
	cases := map[string]func(f *fixture){
		"no SP entity ID":  func(f *fixture) { f.sp.EntityID = "" },
		"no ACS URL":       func(f *fixture) { f.sp.ACSURL = "" },
		"no IdP entity ID": func(f *fixture) { f.cfg.EntityID = "" },
		"no certificate":   func(f *fixture) { f.cfg.Certificates = nil },
		"nil certificate":  func(f *fixture) { f.cfg.Certificates = append(f.cfg.Certificates, nil) },
	}
	for name, modify := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.doc(t, nil, f.response(), signBoth)
			modify(f)
			f.mustReject(t, doc, saml.ErrConfiguration)
		})
	}
}

// TestAuthnContextClassRef: the verified assertion's AuthnContextClassRef
// is read as sent, trimmed; an assertion without one gives "".
func TestAuthnContextClassRef(t *testing.T) {
	f := newFixture(t)
	if a := f.mustAccept(t, f.doc(t, nil, f.response(), signBoth)); a.AuthnContextClassRef != "urn:oasis:names:tc:SAML:2.0:ac:classes:Password" {
		t.Errorf("AuthnContextClassRef = %q", a.AuthnContextClassRef)
	}
	doc := f.idp.Build(f.response())
	assertionOf(doc).FindElement(".//saml:AuthnContextClassRef").SetText("\n  https://refeds.org/profile/mfa\n")
	if err := f.idp.Sign(doc, signBoth); err != nil {
		t.Fatal(err)
	}
	if a := f.mustAccept(t, doc); a.AuthnContextClassRef != "https://refeds.org/profile/mfa" {
		t.Errorf("AuthnContextClassRef = %q", a.AuthnContextClassRef)
	}
	doc = f.idp.Build(f.response())
	authn := assertionOf(doc).FindElement(".//saml:AuthnStatement")
	authn.RemoveChild(authn.SelectElement("saml:AuthnContext"))
	if err := f.idp.Sign(doc, signBoth); err != nil {
		t.Fatal(err)
	}
	if a, err := f.run(t, doc); err == nil && a.AuthnContextClassRef != "" {
		t.Errorf("AuthnContextClassRef without AuthnContext = %q", a.AuthnContextClassRef)
	}
}
