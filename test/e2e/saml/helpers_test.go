package e2esaml

// Helpers shared by the suites that run the real gatehouse binary against
// the SimpleSAMLphp IdP (gatehouse_test.go, lifecycle_test.go): the server
// and its CLI, the REST API, and a cookie-keeping browser on Gatehouse's
// pages that goes through the IdP with idpclient.

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/test/e2e/gatehouseproc"
	"gatehouse/test/e2e/saml/idpclient"
)

// needSimpleSAMLphp skips a test of what unless the suite is switched on,
// and fails it when the IdP's tools are missing.
func needSimpleSAMLphp(t *testing.T, what string) {
	t.Helper()
	if os.Getenv(enableVar) != "1" {
		t.Skip("*** SKIPPED: " + what + ". It needs Debian's simplesamlphp, php-cli, " +
			"php-xml, php-mbstring and xmlsec1: run test/e2e/saml/run (installs them, then runs this with " +
			enableVar + "=1), or set " + enableVar + "=1 after `test/e2e/saml/idp.sh install`.")
	}
	for _, tool := range []string{"php", "xmlsec1", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s=1 but %s is missing: run test/e2e/saml/idp.sh install", enableVar, tool)
		}
	}
}

// stepper runs the steps of a story as subtests, logging each one's time.
// Each step builds on the ones before it: the first failure ends the test.
func stepper(t *testing.T) func(name string, f func(t *testing.T)) {
	return func(name string, f func(t *testing.T)) {
		t.Helper()
		start := time.Now()
		ok := t.Run(name, f)
		t.Logf("step %-58s %s", name, time.Since(start).Round(time.Millisecond))
		if !ok {
			t.FailNow()
		}
	}
}

// ---- Gatehouse, the binary ---------------------------------------------------

// gatehouseServer is `gatehouse serve` (gatehouseproc) with this suite's
// SAML-specific calls.
type gatehouseServer struct{ *gatehouseproc.Server }

// startGatehouse builds cmd/gatehouse, mints an API token with its CLI and
// runs `gatehouse serve` on a free loopback port until the test ends.
func startGatehouse(t *testing.T) *gatehouseServer {
	t.Helper()
	return &gatehouseServer{gatehouseproc.Start(t)}
}

// example is the seeded enterprise account.
type example = gatehouseproc.Example

// seed creates, over the API, a partition, the enterprise account name,
// alice (a user, no password: she signs in through the IdP only) and ada
// (an admin with a password).
func (g *gatehouseServer) seed(t *testing.T, name string) example {
	t.Helper()
	return g.Seed(t, name, gatehouseproc.Person{Email: aliceEmail, Name: aliceName},
		gatehouseproc.Person{Email: adaEmail, Name: "Ada Admin", Password: adaPassword})
}

// configView is what the tests read of the API's SSO configuration.
type configView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Enabled bool   `json:"enabled"`
	SAML    struct {
		IdPEntityID       string   `json:"idp_entity_id"`
		SSOURL            string   `json:"sso_url"`
		SSOBinding        string   `json:"sso_binding"`
		Certificates      []string `json:"certificates"`
		NameIDFormat      string   `json:"name_id_format"`
		EmailAttribute    string   `json:"email_attribute"`
		AllowIdPInitiated bool     `json:"allow_idp_initiated"`
	} `json:"saml"`
	SP struct {
		EntityID    string `json:"sp_entity_id"`
		ACSURL      string `json:"acs_url"`
		MetadataURL string `json:"metadata_url"`
	} `json:"sp"`
	Problems []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"problems"`
	LastTest *struct {
		Outcome string `json:"outcome"`
		By      string `json:"by"`
		Subject string `json:"subject"`
		UserID  string `json:"user_id"`
		Reason  string `json:"reason"`
	} `json:"last_test"`
	TestCurrent      bool   `json:"test_current"`
	TestURL          string `json:"test_url"`
	DisabledConfigID string `json:"disabled_config_id"`
	// Pending is an edit of an enabled configuration waiting for a Test
	// and Apply.
	Pending *struct {
		SAML struct {
			SSOBinding        string   `json:"sso_binding"`
			Certificates      []string `json:"certificates"`
			AllowIdPInitiated bool     `json:"allow_idp_initiated"`
		} `json:"saml"`
		LastTest *struct {
			Outcome string `json:"outcome"`
			Reason  string `json:"reason"`
		} `json:"last_test"`
		TestCurrent bool `json:"test_current"`
	} `json:"pending"`
}

// spConfig is a configuration and Gatehouse's SP values for it, as read
// from the SP metadata Gatehouse publishes.
type spConfig struct {
	id, name         string
	entityID, acsURL string
}

// createSAMLConfig creates a SAML configuration (body adds to the
// defaults) and reads its SP values from its published metadata.
func (g *gatehouseServer) createSAMLConfig(t *testing.T, ex example, body map[string]any) *spConfig {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["protocol"] = "saml"
	var v configView
	g.Call(t, "POST", "/api/v1/accounts/"+ex.AccountID+"/sso-configs", body, http.StatusCreated, &v)
	if v.Status != "draft" || v.Enabled {
		t.Errorf("a new configuration without IdP settings: status %q, enabled %v; want a draft", v.Status, v.Enabled)
	}
	c := &spConfig{id: v.ID, name: v.Name}
	c.entityID, c.acsURL = g.spMetadata(t, v.ID)
	if want := g.Base + "/sso/saml/" + v.ID; c.entityID != want+"/metadata" || c.acsURL != want+"/acs" {
		t.Errorf("SP metadata: entity ID %q, ACS %q; want %s/metadata and %s/acs", c.entityID, c.acsURL, want, want)
	}
	if c.entityID != v.SP.EntityID || c.acsURL != v.SP.ACSURL || v.SP.MetadataURL != c.entityID {
		t.Errorf("the API's SP values %+v differ from the published metadata (%s, %s)", v.SP, c.entityID, c.acsURL)
	}
	return c
}

// spMetadata fetches a configuration's SP metadata, as an IdP admin would,
// and returns its entity ID and HTTP-POST ACS URL.
func (g *gatehouseServer) spMetadata(t *testing.T, id string) (entityID, acs string) {
	t.Helper()
	resp, err := g.API.Get(g.Base + "/sso/saml/" + id + "/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("SP metadata: %s, %s\n%s", resp.Status, resp.Header.Get("Content-Type"), raw)
	}
	var md struct {
		XMLName  xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
		EntityID string   `xml:"entityID,attr"`
		SP       []struct {
			ACS []struct {
				Binding  string `xml:"Binding,attr"`
				Location string `xml:"Location,attr"`
			} `xml:"urn:oasis:names:tc:SAML:2.0:metadata AssertionConsumerService"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:metadata SPSSODescriptor"`
	}
	if err := xml.Unmarshal(raw, &md); err != nil {
		t.Fatalf("SP metadata: %v\n%s", err, raw)
	}
	if len(md.SP) != 1 {
		t.Fatalf("SP metadata has %d SPSSODescriptors\n%s", len(md.SP), raw)
	}
	for _, a := range md.SP[0].ACS {
		if a.Binding == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {
			return md.EntityID, a.Location
		}
	}
	t.Fatalf("SP metadata has no HTTP-POST AssertionConsumerService\n%s", raw)
	return "", ""
}

func (g *gatehouseServer) importMetadata(t *testing.T, ex example, c *spConfig, metadataURL string) configView {
	t.Helper()
	var v configView
	g.Call(t, "POST", ex.ConfigPath(c.id)+"/metadata", map[string]any{"url": metadataURL}, http.StatusOK, &v)
	return v
}

func (g *gatehouseServer) config(t *testing.T, ex example, id string) configView {
	t.Helper()
	var v configView
	g.Call(t, "GET", ex.ConfigPath(id), nil, http.StatusOK, &v)
	return v
}

func (g *gatehouseServer) patch(t *testing.T, ex example, id string, body map[string]any) configView {
	t.Helper()
	var v configView
	g.Call(t, "PATCH", ex.ConfigPath(id), body, http.StatusOK, &v)
	return v
}

// stage is patch on an enabled configuration: the edit must wait as a
// pending version, untested, while the live settings stay.
func (g *gatehouseServer) stage(t *testing.T, ex example, id string, body map[string]any) configView {
	t.Helper()
	v := g.patch(t, ex, id, body)
	if v.Pending == nil || v.Pending.TestCurrent || !v.Enabled {
		t.Fatalf("an edit of enabled configuration %s: pending %+v, enabled %v; want it staged, untested", id, v.Pending, v.Enabled)
	}
	return v
}

// testPending runs a Test of configuration c's pending version as ada,
// signing in at the IdP as alice, and returns the result page.
func (g *gatehouseServer) testPending(t *testing.T, h *harness, c *spConfig) webPage {
	t.Helper()
	ada := g.browser(t)
	ada.signInWithPassword(adaEmail, adaPassword, true)
	p := ada.get(g.Base + "/sso/saml/" + c.id + "/test")
	post, _ := ada.throughIdP(p, h.idp, c, "alice", "alicepass")
	return ada.acs(post, h.idp)
}

// applyPending makes configuration id's tested pending version live.
func (g *gatehouseServer) applyPending(t *testing.T, ex example, id string) configView {
	t.Helper()
	var v configView
	g.Call(t, "POST", ex.ConfigPath(id)+"/pending/apply", nil, http.StatusOK, &v)
	if v.Pending != nil || !v.TestCurrent {
		t.Fatalf("after apply: pending %+v, test_current %v", v.Pending, v.TestCurrent)
	}
	return v
}

func (g *gatehouseServer) enable(t *testing.T, ex example, id string) configView {
	t.Helper()
	var v configView
	g.Call(t, "POST", ex.ConfigPath(id)+"/enable", nil, http.StatusOK, &v)
	return v
}

type auditEvent = gatehouseproc.AuditEvent

// lastSignIn is the newest signin.saml audit event with that outcome.
func (g *gatehouseServer) lastSignIn(t *testing.T, ex example, outcome string) auditEvent {
	t.Helper()
	return g.LastAuditEvent(t, ex, "signin.saml", outcome)
}

// refused checks one of Gatehouse's SSO failure pages and returns the failed
// signin.saml audit event its reference names.
func (g *gatehouseServer) refused(t *testing.T, ex example, p webPage) auditEvent {
	t.Helper()
	if p.Status < 400 || p.Status > 499 || !strings.Contains(p.Text(), "Quote it when you ask for help.") {
		t.Fatalf("want the refusal page, got %d %q at %s:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
	}
	ref := p.Reference()
	if ref == "" {
		t.Fatalf("the refusal page has no reference:\n%.2000s", p.Body)
	}
	return g.FailedAuditEvent(t, ex, "signin.saml", ref)
}

// certPEM is IdP certificate n as the API takes it.
func (h *harness) certPEM(t *testing.T, n int) string {
	t.Helper()
	b, err := os.ReadFile(h.certFile(n))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// certsOf returns the base64 DER of PEM certificates, sorted.
func certsOf(t *testing.T, pems []string) []string {
	t.Helper()
	var out []string
	for _, p := range pems {
		rest := []byte(p)
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			out = append(out, base64.StdEncoding.EncodeToString(blk.Bytes))
		}
	}
	slices.Sort(out)
	return out
}

// ---- a browser on Gatehouse's pages ------------------------------------------

// browser is one person's browser (gatehouseproc.Browser): a cookie jar
// shared between Gatehouse and the IdP, redirects followed and remembered.
type browser struct {
	*gatehouseproc.Browser
	g *gatehouseServer
}

type webPage struct{ gatehouseproc.Page }

func (g *gatehouseServer) browser(t *testing.T) *browser {
	return &browser{g.Browser(t), g}
}

func (b *browser) get(target string) webPage {
	b.T.Helper()
	return webPage{b.Get(target)}
}

// postFrom submits a form to target from a page of origin.
func (b *browser) postFrom(origin, target string, form url.Values) webPage {
	b.T.Helper()
	return webPage{b.PostFrom(origin, target, form)}
}

// post submits a form of Gatehouse's own pages.
func (b *browser) post(target string, form url.Values) webPage {
	b.T.Helper()
	return webPage{b.Post(target, form)}
}

// signedInAs checks the page is Gatehouse's home page for email, and the
// browser holds a session.
func (p webPage) signedInAs(t *testing.T, b *browser, email string) {
	t.Helper()
	p.SignedInAs(t, b.Browser, email)
}

// acs does what the IdP's auto-submit page makes a browser do: post the
// SAMLResponse (and RelayState) to Gatehouse's ACS, cross-origin, then
// follow Gatehouse's redirects.
func (b *browser) acs(post idpclient.Post, idp idpclient.IdP) webPage {
	b.T.Helper()
	form := url.Values{"SAMLResponse": {post.SAMLResponse}}
	if post.RelayState != "" {
		form.Set("RelayState", post.RelayState)
	}
	return b.postFrom(strings.TrimRight(idp.BaseURL, "/"), post.ACSURL, form)
}

// signInWithPassword signs an admin in on Gatehouse's pages: email, the
// choice between SSO and password when SSO is on (choice), password.
func (b *browser) signInWithPassword(email, password string, choice bool) {
	b.T.Helper()
	p := b.get(b.g.Base + "/login")
	p.mustShow(b.T, `name="email"`)
	p = b.post(b.g.Base+"/login", url.Values{"email": {email}, "return_to": {"/"}})
	if choice {
		if p.URL.Path != "/login/way" || p.Title() != "How do you want to sign in?" {
			b.T.Fatalf("%s after the email: %q at %s, want the choice of ways", email, p.Title(), p.URL)
		}
		p.mustShow(b.T, `href="/login/sso">Continue with SSO</a>`, `href="/login/password">Use password</a>`)
		p = b.get(b.g.Base + "/login/password")
	}
	if p.URL.Path != "/login/password" || p.Title() != "Enter your password" {
		b.T.Fatalf("%s: %q at %s, want the password page", email, p.Title(), p.URL)
	}
	p = b.post(b.g.Base+"/login/password", url.Values{"username": {email}, "password": {password}})
	p.signedInAs(b.T, b, email)
}

// authnRequest is what Gatehouse asked the IdP.
type authnRequest struct {
	ID     string `xml:"ID,attr"`
	ACS    string `xml:"AssertionConsumerServiceURL,attr"`
	Dest   string `xml:"Destination,attr"`
	Issuer string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
	Policy struct {
		Format string `xml:"Format,attr"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol NameIDPolicy"`
	binding string // how it went: redirect or post
}

var (
	continueLinkRe = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)
	continueFormRe = regexp.MustCompile(`<form method="post" action="([^"]+)" data-sso-continue>`)
	hiddenFieldRe  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// throughIdP takes the page by which Gatehouse sends the browser to the IdP
// (a Continue link for the Redirect binding, a form for POST; sso.js follows
// it in a real browser), checks the AuthnRequest is configuration c's, and
// signs user in at the IdP. It returns the form the IdP has the browser
// post to the ACS.
func (b *browser) throughIdP(p webPage, idp idpclient.IdP, c *spConfig, user, pass string) (idpclient.Post, authnRequest) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var raw []byte
	var post idpclient.Post
	var err error
	if m := continueLinkRe.FindStringSubmatch(p.Body); m != nil {
		link := html.UnescapeString(m[1])
		u, perr := url.Parse(link)
		if perr != nil || !strings.HasPrefix(link, idp.SSOURL()+"?") {
			b.T.Fatalf("Continue leads to %q, want the IdP's SSO URL %s", link, idp.SSOURL())
		}
		deflated, derr := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
		if derr != nil {
			b.T.Fatalf("SAMLRequest in the Redirect binding: %v", derr)
		}
		if raw, err = io.ReadAll(flate.NewReader(bytes.NewReader(deflated))); err != nil {
			b.T.Fatalf("SAMLRequest in the Redirect binding: %v", err)
		}
		post, err = idp.Login(ctx, b.Client, link, user, pass)
	} else if m := continueFormRe.FindStringSubmatch(p.Body); m != nil {
		if action := html.UnescapeString(m[1]); action != idp.SSOURL() {
			b.T.Fatalf("the AuthnRequest form goes to %q, want the IdP's SSO URL %s", action, idp.SSOURL())
		}
		fields := url.Values{}
		for _, f := range hiddenFieldRe.FindAllStringSubmatch(p.Body, -1) {
			fields.Set(f[1], html.UnescapeString(f[2]))
		}
		if raw, err = base64.StdEncoding.DecodeString(fields.Get("SAMLRequest")); err != nil {
			b.T.Fatalf("SAMLRequest in the POST binding: %v", err)
		}
		post, err = idp.PostAuthnRequest(ctx, b.Client, fields.Get("SAMLRequest"), fields.Get("RelayState"), user, pass)
	} else {
		b.T.Fatalf("%d %q at %s does not send the browser to the IdP:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
	}
	req := authnRequest{binding: "redirect"}
	if p.Body != "" && continueLinkRe.FindStringSubmatch(p.Body) == nil {
		req.binding = "post"
	}
	if xerr := xml.Unmarshal(raw, &req); xerr != nil {
		b.T.Fatalf("AuthnRequest: %v\n%s", xerr, raw)
	}
	if req.ID == "" || req.Issuer != c.entityID || req.ACS != c.acsURL || req.Dest != idp.SSOURL() {
		b.T.Errorf("AuthnRequest ID %q, Issuer %q, ACS %q, Destination %q; want configuration %s's (%s, %s) to %s",
			req.ID, req.Issuer, req.ACS, req.Dest, c.id, c.entityID, c.acsURL, idp.SSOURL())
	}
	if err != nil {
		b.T.Fatalf("at the IdP: %v", err)
	}
	if post.ACSURL != c.acsURL {
		b.T.Fatalf("the IdP posts to %q, want configuration %s's ACS %s", post.ACSURL, c.id, c.acsURL)
	}
	return post, req
}

// idpInitiated signs alice in at the IdP's IdP-initiated URL for c.
func (b *browser) idpInitiated(idp idpclient.IdP, c *spConfig) idpclient.Post {
	b.T.Helper()
	post := login(b.T, idp, b.Client, idp.IdPInitiatedURL(c.entityID), "alice", "alicepass")
	if post.ACSURL != c.acsURL {
		b.T.Fatalf("the IdP posts to %q, want %s", post.ACSURL, c.acsURL)
	}
	if r, _ := decode(b.T, post); r.InResponseTo != "" || r.Assertion.Subject.NameID.Value != aliceEmail {
		b.T.Errorf("IdP-initiated response: InResponseTo %q, NameID %q", r.InResponseTo, r.Assertion.Subject.NameID.Value)
	}
	return post
}

// signInSPInitiated is alice's sign-in from Gatehouse's email page through
// configuration c, NameID alice's email; check may look at the response.
func (b *browser) signInSPInitiated(idp idpclient.IdP, c *spConfig, user, pass string, check func(*samlResponse)) (idpclient.Post, []byte) {
	b.T.Helper()
	return b.signInSPInitiatedAs(idp, c, user, pass, aliceEmail, func(r *samlResponse) {
		if r.Assertion.Subject.NameID.Value != aliceEmail || r.Assertion.Subject.NameID.Format != fmtEmail {
			b.T.Errorf("NameID %q (%s), want %s as emailAddress", r.Assertion.Subject.NameID.Value, r.Assertion.Subject.NameID.Format, aliceEmail)
		}
		if check != nil {
			check(r)
		}
	})
}

// signInSPInitiatedAs: email on Gatehouse's sign-in page, sent to the IdP,
// signed in there, the response posted to the ACS, landing on Gatehouse's
// home page signed in as email through /sso/finish/.
func (b *browser) signInSPInitiatedAs(idp idpclient.IdP, c *spConfig, user, pass, email string, check func(*samlResponse)) (idpclient.Post, []byte) {
	b.T.Helper()
	p := b.post(b.g.Base+"/login", url.Values{"email": {email}, "return_to": {"/"}})
	// The email step answers with the page to the IdP itself.
	if p.URL.Path != "/login" || p.Title() != "Taking you to your company's sign-in…" {
		b.T.Fatalf("%s after the email: %d %q at %s, want the page to the IdP", email, p.Status, p.Title(), p.URL)
	}
	post, req := b.throughIdP(p, idp, c, user, pass)
	r, raw := decode(b.T, post)
	if r.InResponseTo != req.ID || r.Assertion.Subject.Confirmation.Data.InResponseTo != req.ID {
		b.T.Errorf("InResponseTo %q / %q, want the AuthnRequest's %q", r.InResponseTo, r.Assertion.Subject.Confirmation.Data.InResponseTo, req.ID)
	}
	if r.Destination != c.acsURL || r.Assertion.Audience != c.entityID {
		b.T.Errorf("Destination %q, Audience %q; want %s, %s", r.Destination, r.Assertion.Audience, c.acsURL, c.entityID)
	}
	if got := strings.Join(r.Assertion.attr("email"), ","); got != email {
		b.T.Errorf("attribute email = %q", got)
	}
	if check != nil {
		check(r)
	}
	p = b.acs(post, idp)
	if !slices.ContainsFunc(b.Hops, func(h string) bool { return strings.HasPrefix(h, b.g.Base+"/sso/finish/") }) {
		b.T.Errorf("the ACS did not go through /sso/finish/ (redirects %v)", b.Hops)
	}
	p.signedInAs(b.T, b, email)
	return post, raw
}

func (p webPage) mustShow(t *testing.T, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(p.Body, f) {
			t.Errorf("%s does not show %s:\n%.3000s", p.URL, f, p.Body)
		}
	}
}
