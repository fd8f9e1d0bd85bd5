package e2esaml

// The differential check of Gatehouse's own XML-DSig verification
// (internal/saml: exclusive c14n, digest, RSA) against libxmlsec1, on
// responses a third-party IdP really sends: SimpleSAMLphp signing the
// Assertion only, the Response only, and both, with RSA-SHA256, -SHA384 and
// -SHA512. internal/saml/xmlsec_differential_test.go does the same on
// documents made by the project's own test IdP; this one shows the
// verifier agrees with xmlsec1 on someone else's serialization (namespace
// prefixes, whitespace, KeyInfo, Signature placement), through the real
// binary's ACS rather than a function call.
//
// Every response is captured from SimpleSAMLphp's auto-submit page before a
// browser would post it, written (untouched or tampered) to a temporary
// directory for xmlsec1, then posted to Gatehouse's ACS. The rules:
//
//   - untampered: xmlsec1 verifies it and Gatehouse signs alice in;
//   - a tampered copy xmlsec1 refuses: Gatehouse refuses it too, for its
//     signature;
//   - a tampered copy xmlsec1 still verifies (a comment inserted into the
//     NameID: comments are outside exclusive c14n, so the signature holds):
//     Gatehouse either refuses it or reads the NameID whole, never the text
//     before or after the comment.
//
// The captured responses are signed by a key made for this run and live
// only in the test's temporary directories.

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// sigMode is a signing layout, as `idp.sh sp ... sign=` sets SimpleSAMLphp's
// saml20.sign.response and saml20.sign.assertion for the SP.
type sigMode struct {
	sign                string
	response, assertion bool // which elements carry a signature then
}

var sigModes = []sigMode{
	{"assertion", false, true},
	{"response", true, false},
	{"both", true, true},
}

// sigAlg is SimpleSAMLphp's signature.algorithm (`idp.sh sp ... sigalg=`)
// and the SignatureMethod and DigestMethod it produces: its SAML2 library
// digests with the signature's hash.
type sigAlg struct {
	name, method, digest string
}

var sigAlgs = []sigAlg{
	{"sha256", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256"},
	{"sha384", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", "http://www.w3.org/2001/04/xmldsig-more#sha384"},
	{"sha512", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "http://www.w3.org/2001/04/xmlenc#sha512"},
}

// eve is an IdP user whose email begins with alice's: the comment-truncation
// attack (CVE-2017-11427 and friends) signs in as eve, then inserts a
// comment after "alice@example.com" so that a parser reading the first text
// node sees alice. Gatehouse has no seat for eve's address.
const eveEmail = "alice@example.com.evil.com"

// tamper is one change to a captured response, made on its bytes.
type tamper struct {
	name       string
	user, pass string // who signs in at the IdP
	old, new   string // "" for the untampered response
	// intact pins xmlsec1's verdict: the edit leaves the canonical form of
	// every signed element unchanged (or there is no edit). Pinned so that a
	// tamper that misses the signed bytes, or an xmlsec1 that accepts
	// anything, fails the test instead of agreeing with Gatehouse.
	intact bool
	// nameID is the NameID as signed: the only person Gatehouse may sign in,
	// and the only subject it may record.
	nameID string
}

var tampers = []tamper{
	{name: "untampered", user: "alice", pass: "alicepass", intact: true, nameID: aliceEmail},
	{name: "NameID changed to the admin's", user: "alice", pass: "alicepass",
		old: ">alice@example.com</saml:NameID>", new: ">ada@example.com</saml:NameID>", nameID: aliceEmail},
	{name: "one byte of a signed attribute value", user: "alice", pass: "alicepass",
		old: ">Alice</saml:AttributeValue>", new: ">Alicf</saml:AttributeValue>", nameID: aliceEmail},
	{name: "comment inside the NameID", user: "alice", pass: "alicepass",
		old: ">alice@example.com</saml:NameID>", new: ">alice@<!-- x -->example.com</saml:NameID>", intact: true, nameID: aliceEmail},
	{name: "comment truncating the NameID to alice's", user: "eve", pass: "evepass",
		old: ">" + eveEmail + "</saml:NameID>", new: ">alice@example.com<!---->.evil.com</saml:NameID>", intact: true, nameID: eveEmail},
}

func TestSignaturesDifferentialWithSimpleSAMLphp(t *testing.T) {
	needSimpleSAMLphp(t, "the xmlsec1 differential check on SimpleSAMLphp's responses")
	xmlsec1, err := exec.LookPath("xmlsec1")
	if err != nil {
		// needSimpleSAMLphp fails first; kept so this check can never pass without xmlsec1.
		t.Fatalf("xmlsec1 is missing: run test/e2e/saml/idp.sh install")
	}
	began := time.Now()
	t.Setenv("IDP_USERS", "alice alicepass "+aliceEmail+" Alice Example\neve evepass "+eveEmail+" Eve Example")
	h := startIdP(t)
	g := startGatehouse(t)
	ex := g.seed(t, accountName)
	captured := t.TempDir()
	t.Logf("IdP at %s, Gatehouse at %s, ready after %s; responses kept in %s until the test ends",
		h.idp.BaseURL, g.Base, time.Since(began).Round(time.Millisecond), captured)
	step := stepper(t)

	var c *spConfig
	step("configure, test and enable Gatehouse for the IdP", func(t *testing.T) {
		c = g.createSAMLConfig(t, ex, nil)
		if v := g.importMetadata(t, ex, c, h.idp.MetadataURL()); v.Status != "complete" || len(v.Problems) != 0 {
			t.Fatalf("after the import: status %q, problems %+v", v.Status, v.Problems)
		}
		h.sh(t, "sp", h.dir, c.entityID, c.acsURL)
		ada := g.browser(t)
		ada.signInWithPassword(adaEmail, adaPassword, false)
		post, _ := ada.throughIdP(ada.get(g.Base+"/sso/saml/"+c.id+"/test"), h.idp, c, "alice", "alicepass")
		if p := ada.acs(post, h.idp); p.Title() != "Test of "+c.name+" passed" {
			t.Fatalf("test: %d %q at %s:\n%.3000s", p.Status, p.Title(), p.URL, p.Body)
		}
		if v := g.enable(t, ex, c.id); !v.Enabled {
			t.Fatalf("not enabled: status %q", v.Status)
		}
	})

	key := writePublicKey(t, h.certFile(1))
	for _, mode := range sigModes {
		for _, alg := range sigAlgs {
			step(mode.sign+" signed/"+alg.name, func(t *testing.T) {
				h.sh(t, "sp", h.dir, c.entityID, c.acsURL, "sign="+mode.sign, "sigalg="+alg.name)
				for _, tc := range tampers {
					t.Run(tc.name, func(t *testing.T) {
						b, raw := captureResponse(t, g, h, c, tc.user, tc.pass)
						checkSignedAs(t, raw, mode, alg)
						doc := raw
						if tc.old != "" {
							if doc = bytes.Replace(raw, []byte(tc.old), []byte(tc.new), 1); bytes.Equal(doc, raw) {
								t.Fatalf("%q is not in SimpleSAMLphp's response:\n%s", tc.old, raw)
							}
						}
						file := filepath.Join(captured, strings.Join([]string{mode.sign, alg.name, slug(tc.name)}, "-")+".xml")
						if err := os.WriteFile(file, doc, 0o600); err != nil {
							t.Fatal(err)
						}

						xmlsecOK := xmlsec1Verifies(t, xmlsec1, key, file, mode)
						gh := postToACS(t, g, ex, b, h, c, doc)
						t.Logf("xmlsec1 verifies: %v; Gatehouse: %s", xmlsecOK, gh)

						if xmlsecOK != tc.intact {
							t.Fatalf("xmlsec1 verifies = %v, want %v: the case no longer tests what it says", xmlsecOK, tc.intact)
						}
						switch {
						case !xmlsecOK:
							if gh.accepted || gh.reason != "signature" {
								t.Errorf("xmlsec1 refuses the signature; Gatehouse must refuse it for its signature, got %s", gh)
							}
						case tc.old == "":
							if !gh.accepted || gh.email != tc.nameID {
								t.Errorf("an untampered response xmlsec1 verifies: want %s signed in, got %s", tc.nameID, gh)
							}
						default:
							// Signature intact, text split by a comment: refusing is allowed,
							// reading a part of the NameID is not.
							if gh.accepted && gh.email != tc.nameID {
								t.Errorf("Gatehouse signed in %q; the signed NameID is %q", gh.email, tc.nameID)
							}
						}
						if gh.subject != "" && gh.subject != tc.nameID {
							t.Errorf("Gatehouse read the NameID as %q; the signed NameID is %q", gh.subject, tc.nameID)
						}
					})
				}
			})
		}
	}
	t.Logf("whole run: %s", time.Since(began).Round(time.Millisecond))
}

// captureResponse starts an SP-initiated sign-in on Gatehouse's pages in a
// fresh browser, signs user in at the IdP and returns the decoded
// SAMLResponse of the IdP's auto-submit form, which is not posted: the
// caller posts it (or a tampered copy) to the ACS in the same browser, which
// holds the flow the response answers.
func captureResponse(t *testing.T, g *gatehouseServer, h *harness, c *spConfig, user, pass string) (*browser, []byte) {
	t.Helper()
	b := g.browser(t)
	p := b.post(g.Base+"/login", url.Values{"email": {aliceEmail}, "return_to": {"/"}})
	post, _ := b.throughIdP(p, h.idp, c, user, pass)
	raw, err := post.XML()
	if err != nil {
		t.Fatal(err)
	}
	return b, raw
}

// signedDoc is what checkSignedAs reads of a response's signatures.
type signedDoc struct {
	ID        string     `xml:"ID,attr"`
	Signature *signedBy  `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
	Assertion []signedEl `xml:"urn:oasis:names:tc:SAML:2.0:assertion Assertion"`
}

type signedEl struct {
	ID        string    `xml:"ID,attr"`
	Signature *signedBy `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
}

type signedBy struct {
	Method struct {
		Algorithm string `xml:"Algorithm,attr"`
	} `xml:"SignedInfo>SignatureMethod"`
	C14N struct {
		Algorithm string `xml:"Algorithm,attr"`
	} `xml:"SignedInfo>CanonicalizationMethod"`
	References []struct {
		URI    string `xml:"URI,attr"`
		Digest struct {
			Algorithm string `xml:"Algorithm,attr"`
		} `xml:"DigestMethod"`
	} `xml:"SignedInfo>Reference"`
}

// checkSignedAs checks SimpleSAMLphp did sign as the SP's metadata says, so
// each step tests the layout and algorithms it is named after.
func checkSignedAs(t *testing.T, raw []byte, mode sigMode, alg sigAlg) {
	t.Helper()
	var d signedDoc
	if err := xml.Unmarshal(raw, &d); err != nil {
		t.Fatalf("SAMLResponse: %v\n%s", err, raw)
	}
	if len(d.Assertion) != 1 {
		t.Fatalf("%d assertions, want one", len(d.Assertion))
	}
	a := d.Assertion[0]
	if (d.Signature != nil) != mode.response || (a.Signature != nil) != mode.assertion {
		t.Fatalf("Response signed %v, Assertion signed %v; want %v, %v", d.Signature != nil, a.Signature != nil, mode.response, mode.assertion)
	}
	for _, s := range []struct {
		sig *signedBy
		id  string
	}{{d.Signature, d.ID}, {a.Signature, a.ID}} {
		if s.sig == nil {
			continue
		}
		if s.sig.Method.Algorithm != alg.method || s.sig.C14N.Algorithm != "http://www.w3.org/2001/10/xml-exc-c14n#" ||
			len(s.sig.References) != 1 || s.sig.References[0].URI != "#"+s.id || s.sig.References[0].Digest.Algorithm != alg.digest {
			t.Fatalf("signature of #%s: %+v; want %s, exclusive c14n, one Reference to it digested with %s", s.id, *s.sig, alg.method, alg.digest)
		}
	}
}

// xmlsec1 runs as internal/saml/xmlsec_differential_test.go documents it
// (xmlsec1VerdictRaw in internal/saml runs it), the same rule Gatehouse applies: only the
// configured key (no certificate or key from the message: "key-name" is the
// only KeyInfo content it may read, and a name can only pick among loaded
// keys), IDs on Response and Assertion, and each signature Gatehouse looks
// at selected by its position, directly on the Response and on its
// Assertion; every one of them must verify.
var xmlsec1Args = []string{"--verify", "--enabled-key-data", "key-name",
	"--id-attr:ID", nsProtocol + ":Response", "--id-attr:ID", nsAssertion + ":Assertion"}

const (
	xpathResponseSig  = "/*[local-name()='Response' and namespace-uri()='" + nsProtocol + "']/*[local-name()='Signature' and namespace-uri()='" + nsDSig + "']"
	xpathAssertionSig = "/*[local-name()='Response' and namespace-uri()='" + nsProtocol + "']/*[local-name()='Assertion' and namespace-uri()='" + nsAssertion + "']/*[local-name()='Signature' and namespace-uri()='" + nsDSig + "']"
)

// xmlsec1Verifies is xmlsec1's verdict on file, whose signatures sit where
// mode puts them, with the public key in key.
func xmlsec1Verifies(t *testing.T, bin, key, file string, mode sigMode) bool {
	t.Helper()
	var sigs []string
	if mode.response {
		sigs = append(sigs, xpathResponseSig)
	}
	if mode.assertion {
		sigs = append(sigs, xpathAssertionSig)
	}
	for _, xpath := range sigs {
		args := append(slices.Clone(xmlsec1Args), "--pubkey-pem", key, "--node-xpath", xpath, file)
		out, err := exec.Command(bin, args...).CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("xmlsec1: %v", err)
		}
		if err != nil {
			t.Logf("xmlsec1 refuses %s:\n%s", xpath, out)
			return false
		}
	}
	return true
}

// writePublicKey writes the public key of the PEM certificate in certFile,
// for xmlsec1's --pubkey-pem, to a directory of its own: xmlsec1 splits key
// paths at commas, so not under t.TempDir (named after the test).
func writePublicKey(t *testing.T, certFile string) string {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s is not PEM", certFile)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "xmlsec1-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	key := filepath.Join(dir, "idp.pub.pem")
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return key
}

// verdict is what Gatehouse did with a posted response.
type verdict struct {
	accepted bool
	email    string // who was signed in
	reason   string // the refusal's audit reason
	subject  string // the NameID as Gatehouse read it, where it says ("" if it did not get that far)
}

func (v verdict) String() string {
	if v.accepted {
		return "accepted, signed in " + v.email + " (subject " + v.subject + ")"
	}
	return "refused (reason " + v.reason + ", subject " + v.subject + ")"
}

var signedInRe = regexp.MustCompile(`Signed in as (\S+) to `)

// postToACS posts doc, as the IdP's auto-submit page makes browser b do,
// to Gatehouse's ACS and reports what Gatehouse did.
func postToACS(t *testing.T, g *gatehouseServer, ex example, b *browser, h *harness, c *spConfig, doc []byte) verdict {
	t.Helper()
	p := b.postFrom(strings.TrimRight(h.idp.BaseURL, "/"), c.acsURL, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(doc)}})
	if b.Session() != "" {
		m := signedInRe.FindStringSubmatch(p.Text())
		if m == nil || p.URL.String() != g.Base+"/" {
			t.Fatalf("a session, but not the home page: %d %q at %s:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
		}
		ev := g.lastSignIn(t, ex, "success")
		if ev.Details["email"] != m[1] {
			t.Errorf("signed in as %s, the newest signin.saml success is %+v", m[1], ev)
		}
		return verdict{accepted: true, email: m[1], subject: ev.Details["subject"]}
	}
	ref := p.Reference()
	if ref == "" {
		t.Fatalf("no session and no refusal with a reference: %d %q at %s:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
	}
	ev := g.FailedAuditEvent(t, ex, "signin.saml", ref)
	return verdict{reason: ev.Details["reason"], subject: ev.Details["subject"]}
}

func slug(s string) string {
	return strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(s), "-"), "-")
}
