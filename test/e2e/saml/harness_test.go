package e2esaml

// End-to-end check of the SimpleSAMLphp IdP harness (idp.sh) and of the
// browserless client (idpclient), against a fake SP: a small httptest server
// that sends AuthnRequests and captures what is posted to its ACS. This test
// proves the harness; gatehouse_test.go puts the real Gatehouse in the fake
// SP's place.

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/test/e2e/saml/idpclient"
)

const enableVar = "GATEHOUSE_E2E_SIMPLESAMLPHP"

const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	rsaSHA256   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	fmtEmail    = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	fmtPersist  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
)

func TestSimpleSAMLphpIdP(t *testing.T) {
	if os.Getenv(enableVar) != "1" {
		t.Skip("*** SKIPPED: the SimpleSAMLphp end-to-end suite. It needs Debian's simplesamlphp, php-cli, " +
			"php-xml, php-mbstring and xmlsec1: run test/e2e/saml/run (installs them, then runs this with " +
			enableVar + "=1), or set " + enableVar + "=1 after `test/e2e/saml/idp.sh install`.")
	}
	for _, tool := range []string{"php", "xmlsec1", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s=1 but %s is missing: run test/e2e/saml/idp.sh install", enableVar, tool)
		}
	}

	h := startIdP(t)
	sp := newFakeSP(t, h.idp)
	h.sh(t, "sp", h.dir, sp.entityID("main"), sp.acsURL("main"))

	t.Run("metadata", func(t *testing.T) {
		md := get(t, h.idp.MetadataURL())
		for _, want := range []string{
			`entityID="` + h.idp.MetadataURL() + `"`,
			`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="` + h.idp.SSOURL() + `"`,
			`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + h.idp.SSOURL() + `"`,
			h.certBase64(t, 1),
		} {
			if !strings.Contains(md, want) {
				t.Errorf("metadata lacks %s\n%s", want, md)
			}
		}
	})

	t.Run("IdP-initiated, both signed, key 1", func(t *testing.T) {
		post := login(t, h.idp, nil, h.idp.IdPInitiatedURL(sp.entityID("main")), "alice", "alicepass")
		if post.ACSURL != sp.acsURL("main") {
			t.Errorf("form action %q, want the ACS %q", post.ACSURL, sp.acsURL("main"))
		}
		r, raw := decode(t, post)
		checkAlice(t, r, h.idp, sp, "main")
		if r.Signature == nil || r.Assertion.Signature == nil {
			t.Fatalf("want Response and Assertion signed, got response signed=%v assertion signed=%v", r.Signature != nil, r.Assertion.Signature != nil)
		}
		checkSigShape(t, r.Signature, r.ID)
		checkSigShape(t, r.Assertion.Signature, r.Assertion.ID)

		file := writeTemp(t, "response.xml", raw)
		h.verify(t, 1, file, "")
		h.verify(t, 1, file, "/*[local-name()='Response']/*[local-name()='Signature']")
		h.verify(t, 1, file, "//*[local-name()='Assertion']/*[local-name()='Signature']")
		h.verifyFails(t, 2, file)
		// The check is not vacuous: a changed NameID breaks the signature.
		tampered := bytes.Replace(raw, []byte(">alice@example.com</saml:NameID>"), []byte(">bob@example.com</saml:NameID>"), 1)
		if bytes.Equal(tampered, raw) {
			t.Fatal("no <saml:NameID>alice@example.com</saml:NameID> to tamper with")
		}
		if out, err := h.xmlsec(1, writeTemp(t, "tampered.xml", tampered), "//*[local-name()='Assertion']/*[local-name()='Signature']"); err == nil {
			t.Errorf("xmlsec1 verified a response whose NameID was changed:\n%s", out)
		}

		// A browser would now post the form to the ACS.
		resp, err := post.Submit(context.Background(), http.DefaultClient)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := sp.lastPost("main"); resp.StatusCode != http.StatusOK || got.SAMLResponse != post.SAMLResponse {
			t.Errorf("ACS answered %d and captured %d bytes, want 200 and the same SAMLResponse", resp.StatusCode, len(got.SAMLResponse))
		}
	})

	t.Run("IdP-initiated RelayState", func(t *testing.T) {
		post := login(t, h.idp, nil, h.idp.IdPInitiatedURLWithRelayState(sp.entityID("main"), "/after?x=1&y=2"), "bob", "bobpass")
		if post.RelayState != "/after?x=1&y=2" {
			t.Errorf("RelayState %q", post.RelayState)
		}
		r, _ := decode(t, post)
		if got := r.Assertion.Subject.NameID.Value; got != "bob@example.com" {
			t.Errorf("NameID %q, want bob@example.com", got)
		}
	})

	t.Run("SP-initiated, HTTP-Redirect, then single sign-on", func(t *testing.T) {
		client := newClient()
		post := login(t, h.idp, client, sp.loginURL("main", "relay-123"), "alice", "alicepass")
		r, _ := decode(t, post)
		checkAlice(t, r, h.idp, sp, "main")
		reqID := sp.lastRequestID("main")
		if r.InResponseTo != reqID || r.Assertion.Subject.Confirmation.Data.InResponseTo != reqID {
			t.Errorf("InResponseTo %q / %q, want the AuthnRequest ID %q", r.InResponseTo, r.Assertion.Subject.Confirmation.Data.InResponseTo, reqID)
		}
		if post.RelayState != "relay-123" {
			t.Errorf("RelayState %q, want relay-123", post.RelayState)
		}
		// Same browser: the IdP session answers without asking for a password.
		again, err := h.idp.Login(context.Background(), client, sp.loginURL("main", "second"), "", "")
		if err != nil {
			t.Fatalf("second sign-in in the same browser: %v", err)
		}
		r2, _ := decode(t, again)
		if r2.InResponseTo != sp.lastRequestID("main") || r2.Assertion.Subject.NameID.Value != "alice@example.com" {
			t.Errorf("second sign-in: InResponseTo %q NameID %q", r2.InResponseTo, r2.Assertion.Subject.NameID.Value)
		}
	})

	t.Run("SP-initiated, HTTP-POST", func(t *testing.T) {
		post, err := h.idp.LoginPOSTBinding(context.Background(), nil, sp.loginPOSTURL("main", "posted-relay"), "alice", "alicepass")
		if err != nil {
			t.Fatal(err)
		}
		r, _ := decode(t, post)
		checkAlice(t, r, h.idp, sp, "main")
		if r.InResponseTo != sp.lastRequestID("main") || post.RelayState != "posted-relay" {
			t.Errorf("InResponseTo %q (want %q), RelayState %q", r.InResponseTo, sp.lastRequestID("main"), post.RelayState)
		}

		req, id := sp.authnRequest("main")
		post, err = h.idp.PostAuthnRequest(context.Background(), nil, base64.StdEncoding.EncodeToString(req), "raw", "bob", "bobpass")
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := decode(t, post); r.InResponseTo != id || r.Assertion.Subject.NameID.Value != "bob@example.com" || post.RelayState != "raw" {
			t.Errorf("PostAuthnRequest: InResponseTo %q (want %q), NameID %q, RelayState %q", r.InResponseTo, id, r.Assertion.Subject.NameID.Value, post.RelayState)
		}
	})

	t.Run("wrong password and unknown user", func(t *testing.T) {
		for _, c := range [][2]string{{"alice", "wrong"}, {"mallory", "alicepass"}} {
			_, err := h.idp.Login(context.Background(), nil, h.idp.IdPInitiatedURL(sp.entityID("main")), c[0], c[1])
			if !errors.Is(err, idpclient.ErrWrongCredentials) {
				t.Fatalf("%s/%s: want ErrWrongCredentials, got %v", c[0], c[1], err)
			}
			if !strings.Contains(err.Error(), "Incorrect username or password") || !strings.Contains(err.Error(), "posting the username and password") {
				t.Errorf("error does not say where and why: %v", err)
			}
			t.Logf("as expected: %v", err)
		}
	})

	t.Run("unknown SP", func(t *testing.T) {
		_, err := h.idp.Login(context.Background(), nil, h.idp.IdPInitiatedURL("urn:not-registered"), "alice", "alicepass")
		if err == nil || !strings.Contains(err.Error(), "Metadata not found") {
			t.Fatalf("want an error naming SimpleSAMLphp's 'Metadata not found', got %v", err)
		}
		t.Logf("as expected: %v", err)
	})

	t.Run("assertion-only signing", func(t *testing.T) {
		h.sh(t, "sp", h.dir, sp.entityID("main"), sp.acsURL("main"), "sign=assertion")
		post := login(t, h.idp, nil, h.idp.IdPInitiatedURL(sp.entityID("main")), "alice", "alicepass")
		r, raw := decode(t, post)
		checkAlice(t, r, h.idp, sp, "main")
		if r.Signature != nil {
			t.Error("the Response has a Signature of its own; want only the Assertion signed")
		}
		if r.Assertion.Signature == nil {
			t.Fatal("the Assertion is not signed")
		}
		checkSigShape(t, r.Assertion.Signature, r.Assertion.ID)
		file := writeTemp(t, "assertion-signed.xml", raw)
		h.verify(t, 1, file, "")
		h.verifyFails(t, 2, file)
	})

	t.Run("response-only signing", func(t *testing.T) {
		h.sh(t, "sp", h.dir, sp.entityID("main"), sp.acsURL("main"), "sign=response")
		post := login(t, h.idp, nil, h.idp.IdPInitiatedURL(sp.entityID("main")), "alice", "alicepass")
		r, raw := decode(t, post)
		if r.Signature == nil || r.Assertion.Signature != nil {
			t.Fatalf("want only the Response signed, got response signed=%v assertion signed=%v", r.Signature != nil, r.Assertion.Signature != nil)
		}
		h.verify(t, 1, writeTemp(t, "response-signed.xml", raw), "")
		h.sh(t, "sp", h.dir, sp.entityID("main"), sp.acsURL("main")) // back to both
	})

	t.Run("persistent NameID, a second SP", func(t *testing.T) {
		h.sh(t, "sp", h.dir, sp.entityID("persistent"), sp.acsURL("persistent"), "nameid=persistent")
		nameID := func(user, pass string) string {
			post := login(t, h.idp, nil, h.idp.IdPInitiatedURL(sp.entityID("persistent")), user, pass)
			if post.ACSURL != sp.acsURL("persistent") {
				t.Errorf("form action %q, want %q", post.ACSURL, sp.acsURL("persistent"))
			}
			r, _ := decode(t, post)
			if r.Assertion.Subject.NameID.Format != fmtPersist {
				t.Errorf("NameID format %q, want persistent", r.Assertion.Subject.NameID.Format)
			}
			if a := r.Assertion.Audience; a != sp.entityID("persistent") {
				t.Errorf("audience %q", a)
			}
			return r.Assertion.Subject.NameID.Value
		}
		a1, a2, b := nameID("alice", "alicepass"), nameID("alice", "alicepass"), nameID("bob", "bobpass")
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(a1) || a1 != a2 || a1 == b {
			t.Errorf("persistent NameIDs alice %q, again %q, bob %q: want one stable opaque value per user", a1, a2, b)
		}
	})

	t.Run("signed AuthnRequests", func(t *testing.T) {
		certFile := sp.enableSigning(t, "signed")
		h.sh(t, "sp", h.dir, sp.entityID("signed"), sp.acsURL("signed"), "authnrequest-cert="+certFile)
		post := login(t, h.idp, nil, sp.loginURL("signed", "s"), "alice", "alicepass")
		if r, _ := decode(t, post); r.InResponseTo != sp.lastRequestID("signed") {
			t.Errorf("InResponseTo %q, want %q", r.InResponseTo, sp.lastRequestID("signed"))
		}
		_, err := h.idp.Login(context.Background(), nil, sp.loginURL("signed", "s")+"&unsigned=1", "alice", "alicepass")
		if err == nil || !strings.Contains(err.Error(), "no signature found") {
			t.Fatalf("an unsigned AuthnRequest to an SP that must sign: want SimpleSAMLphp's refusal, got %v", err)
		}
		t.Logf("as expected: %v", err)
	})

	t.Run("rollover to key 2, restart", func(t *testing.T) {
		before := h.certBase64(t, 1)
		h.sh(t, "cert", h.dir, "2")
		h.sh(t, "restart", h.dir)
		if h.certBase64(t, 1) != before {
			t.Fatal("restart replaced key pair 1")
		}
		md := get(t, h.idp.MetadataURL())
		if !strings.Contains(md, h.certBase64(t, 2)) || strings.Contains(md, before) {
			t.Error("after rollover the metadata should publish certificate 2 only")
		}
		post := login(t, h.idp, nil, h.idp.IdPInitiatedURL(sp.entityID("main")), "alice", "alicepass")
		r, raw := decode(t, post)
		checkAlice(t, r, h.idp, sp, "main")
		file := writeTemp(t, "rollover.xml", raw)
		h.verify(t, 2, file, "")
		h.verify(t, 2, file, "//*[local-name()='Assertion']/*[local-name()='Signature']")
		h.verifyFails(t, 1, file)
	})
}

// ---- the IdP -------------------------------------------------------------

type harness struct {
	script string // absolute path of idp.sh
	dir    string
	idp    idpclient.IdP
}

func startIdP(t *testing.T) *harness {
	t.Helper()
	script, err := filepath.Abs("idp.sh")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{script: script, dir: filepath.Join(t.TempDir(), "idp")}
	port := freePort(t)
	// Registered after t.TempDir, so it runs before the directory is removed,
	// and runs whether the test passed, failed or stopped.
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"log/simplesamlphp.log", "log/server.log"} {
				if b, err := os.ReadFile(filepath.Join(h.dir, f)); err == nil {
					t.Logf("---- %s (last 4 KiB)\n%s", f, tail(b, 4096))
				}
			}
		}
		out, err := exec.Command(h.script, "stop", h.dir).CombinedOutput()
		if err != nil {
			t.Errorf("idp.sh stop: %v\n%s", err, out)
		}
	})
	// IDP_WATCH_PID: the server goes away with this test binary even when a
	// timeout or a signal kills it before the cleanup runs.
	t.Setenv("IDP_WATCH_PID", fmt.Sprint(os.Getpid()))
	h.sh(t, "start", h.dir, fmt.Sprint(port))
	h.idp = idpclient.IdP{BaseURL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	return h
}

func (h *harness) sh(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.script, args...)
	cmd.Env = append(os.Environ(), "IDP_SIGNING_CERT=", "IDP_SPS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("idp.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (h *harness) certFile(n int) string {
	return filepath.Join(h.dir, "cert", fmt.Sprintf("idp%d.crt", n))
}

// certBase64 is certificate n as it appears in metadata and KeyInfo.
func (h *harness) certBase64(t *testing.T, n int) string {
	t.Helper()
	b, err := os.ReadFile(h.certFile(n))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s is not PEM", h.certFile(n))
	}
	return base64.StdEncoding.EncodeToString(blk.Bytes)
}

func (h *harness) xmlsec(cert int, file, nodeXPath string) (string, error) {
	args := []string{"--verify", "--trusted-pem", h.certFile(cert),
		"--id-attr:ID", nsProtocol + ":Response", "--id-attr:ID", nsAssertion + ":Assertion"}
	if nodeXPath != "" {
		args = append(args, "--node-xpath", nodeXPath)
	}
	out, err := exec.Command("xmlsec1", append(args, file)...).CombinedOutput()
	return string(out), err
}

// verify checks the signature (the first one, or the one nodeXPath selects)
// with xmlsec1, trusting only IdP certificate cert.
func (h *harness) verify(t *testing.T, cert int, file, nodeXPath string) {
	t.Helper()
	if out, err := h.xmlsec(cert, file, nodeXPath); err != nil {
		t.Errorf("xmlsec1 with idp%d.crt (node %q): %v\n%s", cert, nodeXPath, err, out)
	}
}

func (h *harness) verifyFails(t *testing.T, cert int, file string) {
	t.Helper()
	if out, err := h.xmlsec(cert, file, ""); err == nil {
		t.Errorf("xmlsec1 verified the response with the other certificate idp%d.crt:\n%s", cert, out)
	}
}

// ---- the fake SP -----------------------------------------------------------

// fakeSP imitates Gatehouse's per-configuration SP endpoints:
// /sso/saml/{cfg}/metadata (entity ID), /sso/saml/{cfg}/acs (captures posts),
// /sso/saml/{cfg}/login (AuthnRequest by HTTP-Redirect, signed when the
// configuration has a key) and /sso/saml/{cfg}/login-post (by HTTP-POST).
type fakeSP struct {
	srv *httptest.Server
	idp idpclient.IdP

	mu      sync.Mutex
	reqIDs  map[string]string
	posts   map[string]idpclient.Post
	signers map[string]*rsa.PrivateKey
}

func newFakeSP(t *testing.T, idp idpclient.IdP) *fakeSP {
	sp := &fakeSP{idp: idp, reqIDs: map[string]string{}, posts: map[string]idpclient.Post{}, signers: map[string]*rsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sso/saml/{cfg}/login", func(w http.ResponseWriter, r *http.Request) {
		cfg := r.PathValue("cfg")
		req, _ := sp.authnRequest(cfg)
		var z bytes.Buffer
		fw, _ := flate.NewWriter(&z, flate.BestCompression)
		fw.Write(req)
		fw.Close()
		// The query is built by hand: a signature covers these exact bytes.
		q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(z.Bytes()))
		if rs := r.URL.Query().Get("relay"); rs != "" {
			q += "&RelayState=" + url.QueryEscape(rs)
		}
		sp.mu.Lock()
		key := sp.signers[cfg]
		sp.mu.Unlock()
		if key != nil && r.URL.Query().Get("unsigned") == "" {
			q += "&SigAlg=" + url.QueryEscape(rsaSHA256)
			sum := sha256.Sum256([]byte(q))
			sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
		}
		http.Redirect(w, r, sp.idp.SSOURL()+"?"+q, http.StatusFound)
	})
	mux.HandleFunc("GET /sso/saml/{cfg}/login-post", func(w http.ResponseWriter, r *http.Request) {
		req, _ := sp.authnRequest(r.PathValue("cfg"))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><body onload="document.forms[0].submit()">
<form method="post" action="%s">
<input type="hidden" name="SAMLRequest" value="%s"/>
<input type="hidden" name="RelayState" value="%s"/>
<noscript><button type="submit">Continue</button></noscript>
</form></body></html>`, html.EscapeString(sp.idp.SSOURL()), base64.StdEncoding.EncodeToString(req),
			html.EscapeString(r.URL.Query().Get("relay")))
	})
	mux.HandleFunc("POST /sso/saml/{cfg}/acs", func(w http.ResponseWriter, r *http.Request) {
		p := idpclient.Post{ACSURL: sp.acsURL(r.PathValue("cfg")), SAMLResponse: r.PostFormValue("SAMLResponse"), RelayState: r.PostFormValue("RelayState")}
		sp.mu.Lock()
		sp.posts[r.PathValue("cfg")] = p
		sp.mu.Unlock()
		fmt.Fprintln(w, "captured")
	})
	sp.srv = httptest.NewServer(mux)
	t.Cleanup(sp.srv.Close)
	return sp
}

func (sp *fakeSP) entityID(cfg string) string { return sp.srv.URL + "/sso/saml/" + cfg + "/metadata" }
func (sp *fakeSP) acsURL(cfg string) string   { return sp.srv.URL + "/sso/saml/" + cfg + "/acs" }
func (sp *fakeSP) loginURL(cfg, relay string) string {
	return sp.srv.URL + "/sso/saml/" + cfg + "/login?relay=" + url.QueryEscape(relay)
}
func (sp *fakeSP) loginPOSTURL(cfg, relay string) string {
	return sp.srv.URL + "/sso/saml/" + cfg + "/login-post?relay=" + url.QueryEscape(relay)
}

func (sp *fakeSP) lastRequestID(cfg string) string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.reqIDs[cfg]
}

func (sp *fakeSP) lastPost(cfg string) idpclient.Post {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.posts[cfg]
}

// authnRequest is a fresh AuthnRequest from configuration cfg, remembered as
// the one the next response must answer.
func (sp *fakeSP) authnRequest(cfg string) ([]byte, string) {
	id := "_" + strings.ToLower(rand.Text())
	var b bytes.Buffer
	fmt.Fprintf(&b, `<samlp:AuthnRequest xmlns:samlp="%s" xmlns:saml="%s" ID="%s" Version="2.0" IssueInstant="%s" Destination="%s" AssertionConsumerServiceURL="%s" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">`,
		nsProtocol, nsAssertion, id, time.Now().UTC().Format("2006-01-02T15:04:05Z"), xmlEsc(sp.idp.SSOURL()), xmlEsc(sp.acsURL(cfg)))
	fmt.Fprintf(&b, `<saml:Issuer>%s</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>`, xmlEsc(sp.entityID(cfg)))
	sp.mu.Lock()
	sp.reqIDs[cfg] = id
	sp.mu.Unlock()
	return b.Bytes(), id
}

// enableSigning gives configuration cfg a key to sign its AuthnRequests and
// returns the file holding its certificate, for `idp.sh sp ... authnrequest-cert=`.
func (sp *fakeSP) enableSigning(t *testing.T, cfg string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake SP " + cfg},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sp.mu.Lock()
	sp.signers[cfg] = key
	sp.mu.Unlock()
	return writeTemp(t, "sp-"+cfg+".crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// ---- responses ---------------------------------------------------------------

type samlResponse struct {
	XMLName      xml.Name   `xml:"urn:oasis:names:tc:SAML:2.0:protocol Response"`
	ID           string     `xml:"ID,attr"`
	InResponseTo string     `xml:"InResponseTo,attr"`
	Destination  string     `xml:"Destination,attr"`
	Issuer       string     `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
	Signature    *signature `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
	Status       struct {
		Code struct {
			Value string `xml:"Value,attr"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:protocol StatusCode"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol Status"`
	Assertions []assertion `xml:"urn:oasis:names:tc:SAML:2.0:assertion Assertion"`
	Assertion  assertion   `xml:"-"`
}

type assertion struct {
	ID        string     `xml:"ID,attr"`
	Issuer    string     `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
	Signature *signature `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
	Subject   struct {
		NameID struct {
			Format string `xml:"Format,attr"`
			Value  string `xml:",chardata"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:assertion NameID"`
		Confirmation struct {
			Data struct {
				Recipient    string `xml:"Recipient,attr"`
				InResponseTo string `xml:"InResponseTo,attr"`
				NotOnOrAfter string `xml:"NotOnOrAfter,attr"`
			} `xml:"urn:oasis:names:tc:SAML:2.0:assertion SubjectConfirmationData"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:assertion SubjectConfirmation"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:assertion Subject"`
	Audience   string `xml:"Conditions>AudienceRestriction>Audience"`
	Attributes []struct {
		Name   string   `xml:"Name,attr"`
		Values []string `xml:"AttributeValue"`
	} `xml:"AttributeStatement>Attribute"`
}

type signature struct {
	Method struct {
		Algorithm string `xml:"Algorithm,attr"`
	} `xml:"SignedInfo>SignatureMethod"`
	References []struct {
		URI string `xml:"URI,attr"`
	} `xml:"SignedInfo>Reference"`
}

func (a assertion) attr(name string) []string {
	for _, at := range a.Attributes {
		if at.Name == name {
			return at.Values
		}
	}
	return nil
}

func decode(t *testing.T, post idpclient.Post) (*samlResponse, []byte) {
	t.Helper()
	raw, err := post.XML()
	if err != nil {
		t.Fatal(err)
	}
	var r samlResponse
	if err := xml.Unmarshal(raw, &r); err != nil {
		t.Fatalf("SAMLResponse is not a samlp:Response: %v\n%s", err, raw)
	}
	if len(r.Assertions) != 1 {
		t.Fatalf("want exactly one (unencrypted) Assertion, got %d\n%s", len(r.Assertions), raw)
	}
	r.Assertion = r.Assertions[0]
	return &r, raw
}

// checkAlice checks a response for alice to SP configuration cfg.
func checkAlice(t *testing.T, r *samlResponse, idp idpclient.IdP, sp *fakeSP, cfg string) {
	t.Helper()
	a := r.Assertion
	for what, got := range map[string][2]string{
		"Response Issuer":                   {r.Issuer, idp.MetadataURL()},
		"Assertion Issuer":                  {a.Issuer, idp.MetadataURL()},
		"status":                            {r.Status.Code.Value, "urn:oasis:names:tc:SAML:2.0:status:Success"},
		"Destination":                       {r.Destination, sp.acsURL(cfg)},
		"NameID":                            {a.Subject.NameID.Value, "alice@example.com"},
		"NameID Format":                     {a.Subject.NameID.Format, fmtEmail},
		"Audience":                          {a.Audience, sp.entityID(cfg)},
		"SubjectConfirmationData Recipient": {a.Subject.Confirmation.Data.Recipient, sp.acsURL(cfg)},
		"attribute email":                   {strings.Join(a.attr("email"), ","), "alice@example.com"},
		"attribute mail":                    {strings.Join(a.attr("mail"), ","), "alice@example.com"},
		"attribute uid":                     {strings.Join(a.attr("uid"), ","), "alice"},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %q, want %q", what, got[0], got[1])
		}
	}
	if exp, err := time.Parse(time.RFC3339, a.Subject.Confirmation.Data.NotOnOrAfter); err != nil || time.Until(exp) <= 0 || time.Until(exp) > 6*time.Minute {
		t.Errorf("SubjectConfirmationData NotOnOrAfter %q: want about 5 minutes from now", a.Subject.Confirmation.Data.NotOnOrAfter)
	}
}

// checkSigShape checks that a signature is RSA-SHA256 over exactly the
// element that holds it.
func checkSigShape(t *testing.T, s *signature, parentID string) {
	t.Helper()
	if s.Method.Algorithm != rsaSHA256 {
		t.Errorf("signature algorithm %q, want %q", s.Method.Algorithm, rsaSHA256)
	}
	if len(s.References) != 1 || s.References[0].URI != "#"+parentID {
		t.Errorf("signature references %+v, want exactly #%s", s.References, parentID)
	}
}

// ---- helpers -----------------------------------------------------------------

func login(t *testing.T, idp idpclient.IdP, client *http.Client, start, user, pass string) idpclient.Post {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	post, err := idp.Login(ctx, client, start, user, pass)
	if err != nil {
		t.Fatalf("login as %s: %v", user, err)
	}
	return post
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, b.String())
	}
	return b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func xmlEsc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
