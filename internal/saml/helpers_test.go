package saml_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"gatehouse"
	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

var testNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

const (
	entityA   = "https://idp.a.example/metadata"
	entityB   = "https://idp.b.example/metadata"
	requestID = "_request-1"
)

// Key generation is the slow part of these tests: make each IdP once.
var testIdPs = sync.OnceValues(func() (map[string]*samltest.IdP, error) {
	out := map[string]*samltest.IdP{}
	for name, entity := range map[string]string{
		"a":        entityA, // the victim tenant's IdP
		"a2":       entityA, // the same IdP's next certificate (rollover)
		"b":        entityB, // another tenant's IdP, signing whatever B likes
		"attacker": entityA, // someone claiming to be A's IdP with their own key
	} {
		idp, err := samltest.New(entity, strings.TrimSuffix(entity, "metadata")+"sso", testNow)
		if err != nil {
			return nil, err
		}
		out[name] = idp
	}
	return out, nil
})

func testIdP(t testing.TB, name string) *samltest.IdP {
	t.Helper()
	idps, err := testIdPs()
	if err != nil {
		t.Fatal(err)
	}
	return idps[name]
}

// fixture is one SSO configuration of tenant A and a request it started.
type fixture struct {
	idp      *samltest.IdP
	sp       saml.SP
	cfg      saml.IdP
	expected []string
	now      time.Time
}

func newFixture(t testing.TB) *fixture {
	idp := testIdP(t, "a")
	return &fixture{
		idp: idp,
		sp: saml.SP{
			EntityID: "https://gatehouse.example/saml/cfg-a/metadata",
			ACSURL:   "https://gatehouse.example/saml/cfg-a/acs",
		},
		cfg: saml.IdP{
			EntityID:     idp.EntityID,
			SSOURL:       idp.SSOURL,
			Certificates: []*x509.Certificate{idp.Cert},
			NameIDFormat: saml.NameIDFormatEmail,
		},
		expected: []string{requestID},
		now:      testNow,
	}
}

// response is a valid answer to requestID for alice@a.com.
func (f *fixture) response() samltest.Response {
	return samltest.Response{
		Now:          f.now,
		Destination:  f.sp.ACSURL,
		Audience:     f.sp.EntityID,
		InResponseTo: requestID,
		NameID:       "alice@a.com",
	}
}

var signBoth = samltest.Signing{Response: true, Assertion: true}

// doc builds and signs r with idp (f.idp when nil).
func (f *fixture) doc(t testing.TB, idp *samltest.IdP, r samltest.Response, s samltest.Signing) *etree.Document {
	t.Helper()
	if idp == nil {
		idp = f.idp
	}
	doc := idp.Build(r)
	if err := idp.Sign(doc, s); err != nil {
		t.Fatal(err)
	}
	return doc
}

func (f *fixture) run(t testing.TB, doc *etree.Document) (*saml.Assertion, error) {
	t.Helper()
	return f.runB64(encode(t, doc))
}

func (f *fixture) runB64(b64 string) (*saml.Assertion, error) {
	return saml.ValidateResponse(f.sp, f.cfg, b64, f.expected, f.now)
}

func (f *fixture) mustAccept(t testing.TB, doc *etree.Document) *saml.Assertion {
	t.Helper()
	a, err := f.run(t, doc)
	return accept(t, a, err)
}

func (f *fixture) mustReject(t testing.TB, doc *etree.Document, want error) *gatehouse.Rejection {
	t.Helper()
	a, err := f.run(t, doc)
	return rejectAs(t, a, err, want)
}

func encode(t testing.TB, doc *etree.Document) string {
	t.Helper()
	b64, err := samltest.Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b64
}

// accept fails the test unless the message validates.
func accept(t testing.TB, a *saml.Assertion, err error) *saml.Assertion {
	t.Helper()
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	return a
}

// rejectAs fails the test unless err is a *gatehouse.Rejection matching want,
// with a reason and a message for the admin.
func rejectAs(t testing.TB, a *saml.Assertion, err error, want error) *gatehouse.Rejection {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted (NameID %q), want %v", a.NameID, want)
	}
	if a != nil {
		t.Errorf("an assertion came back with the error %v", err)
	}
	var verr *gatehouse.Rejection
	if !errors.As(err, &verr) {
		t.Fatalf("error %v (%T) is not a *gatehouse.Rejection", err, err)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error is %v (reason %s), want %v", err, verr.Reason, want)
	}
	t.Logf("%s: %s (fix in %s)", verr.Reason, verr.Message, verr.FixIn)
	if verr.Reason == "" || verr.Message == "" || verr.FixIn == "" {
		t.Errorf("incomplete error for admins: %+v", verr)
	}
	return verr
}

// Elements of a built Response, by the prefixes samltest uses.
func assertionOf(doc *etree.Document) *etree.Element {
	return doc.Root().SelectElement("saml:Assertion")
}

func sigOf(el *etree.Element) *etree.Element { return el.SelectElement("ds:Signature") }

func nameIDOf(doc *etree.Document) *etree.Element {
	return assertionOf(doc).FindElement("./saml:Subject/saml:NameID")
}

// resign recomputes a Signature's SignatureValue over its (altered)
// SignedInfo with key, so the test exercises Gatehouse's policy rather than
// the cryptography: the IdP's key really signed the altered SignedInfo.
func resign(t testing.TB, sig *etree.Element, key *rsa.PrivateKey, hash crypto.Hash) {
	t.Helper()
	info := sig.SelectElement("ds:SignedInfo")
	canonical := canonicalize(t, info)
	h := hash.New()
	h.Write(canonical)
	value, err := rsa.SignPKCS1v15(rand.Reader, key, hash, h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	sig.SelectElement("ds:SignatureValue").SetText(base64.StdEncoding.EncodeToString(value))
}

// redigest recomputes the DigestValue of the Signature enveloped in signed
// with hash, naming digestAlg, as an IdP using that digest would have.
func redigest(t testing.TB, signed *etree.Element, hash crypto.Hash, digestAlg string) {
	t.Helper()
	sig := sigOf(signed)
	copyEl := signed.Copy()
	copyEl.RemoveChildAt(sig.Index())
	// The copy lost its parent: give it the namespaces in scope, as a verifier does.
	ctx, err := etreeutils.NSBuildParentContext(signed)
	if err != nil {
		t.Fatal(err)
	}
	detached, err := etreeutils.NSDetatch(ctx, copyEl)
	if err != nil {
		t.Fatal(err)
	}
	canonical, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(detached)
	if err != nil {
		t.Fatal(err)
	}
	h := hash.New()
	h.Write(canonical)
	ref := sig.FindElement("./ds:SignedInfo/ds:Reference")
	ref.SelectElement("ds:DigestMethod").SelectAttr("Algorithm").Value = digestAlg
	ref.SelectElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(h.Sum(nil)))
}

func canonicalize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		t.Fatal(err)
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		t.Fatal(err)
	}
	out, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(detached)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTamperHelpers checks that resign and redigest reproduce what the IdP
// signed, so tests built on them alter only what they mean to.
func TestTamperHelpers(t *testing.T) {
	f := newFixture(t)
	doc := f.doc(t, nil, f.response(), signBoth)
	a := assertionOf(doc)
	before := sigOf(a).FindElement("./ds:SignedInfo/ds:Reference/ds:DigestValue").Text()
	redigest(t, a, crypto.SHA256, "http://www.w3.org/2001/04/xmlenc#sha256")
	if after := sigOf(a).FindElement("./ds:SignedInfo/ds:Reference/ds:DigestValue").Text(); after != before {
		t.Fatalf("redigest changed an untouched digest: %s -> %s", before, after)
	}
	resign(t, sigOf(a), f.idp.Key, crypto.SHA256)
	// The Response signature covers the Assertion's SignatureValue: resign it too.
	redigest(t, doc.Root(), crypto.SHA256, "http://www.w3.org/2001/04/xmlenc#sha256")
	resign(t, sigOf(doc.Root()), f.idp.Key, crypto.SHA256)
	f.mustAccept(t, doc)
}
