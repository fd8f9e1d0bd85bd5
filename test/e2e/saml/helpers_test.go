package e2esaml

// Helpers shared by the suites that run the real gatehouse binary against
// the SimpleSAMLphp IdP (gatehouse_test.go, lifecycle_test.go): the server
// and its CLI, the REST API, and a cookie-keeping browser on Gatehouse's
// pages that goes through the IdP with idpclient.

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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

type gatehouseServer struct {
	base  string // http://127.0.0.1:PORT, Gatehouse's public URL
	token string // a super-scoped API token
	api   *http.Client
	// bin, db and env run the gatehouse CLI on serve's database (cli).
	bin, db string
	env     []string
	// accountName is the seeded account's, as its home page names it.
	accountName string
	// bannerURL is the public URL serve's "listening on" line names.
	bannerURL string
}

var bannerRe = regexp.MustCompile(`(?m)^gatehouse listening on (\S+) \(public URL (\S+)\)$`)

// startGatehouse builds cmd/gatehouse, mints an API token with its CLI and
// runs `gatehouse serve` on a free loopback port until the test ends.
func startGatehouse(t *testing.T) *gatehouseServer {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "gatehouse")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command builds cmd/gatehouse for this test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := exec.CommandContext(ctx, goTool, "build", "-buildvcs=false", "-o", bin, "gatehouse/cmd/gatehouse").CombinedOutput(); err != nil {
		t.Fatalf("go build gatehouse/cmd/gatehouse: %v\n%s", err, out)
	}
	t.Logf("built cmd/gatehouse in %s", time.Since(start).Round(time.Millisecond))

	db := "sqlite:" + filepath.Join(dir, "gatehouse.db")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			env = append(env, kv)
		}
	}
	env = append(env, "GATEHOUSE_SECRET_KEY="+rand.Text()+rand.Text())

	tok := exec.CommandContext(ctx, bin, "admin", "token", "create", "--database", db, "--name", "e2e", "--scope", "super")
	tok.Env = env
	var tokOut, tokErr bytes.Buffer
	tok.Stdout, tok.Stderr = &tokOut, &tokErr
	if err := tok.Run(); err != nil {
		t.Fatalf("gatehouse admin token create: %v\n%s", err, tokErr.String())
	}
	g := &gatehouseServer{token: strings.TrimSpace(tokOut.String()), api: &http.Client{Timeout: 30 * time.Second}, bin: bin, db: db, env: env}

	serve := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--database", db, "--allow-private-metadata-urls")
	serve.Env = env
	serve.SysProcAttr = serverProcAttr()
	banner := &bannerWriter{found: make(chan []string, 1)}
	logs := &lockedBuffer{}
	serve.Stdout, serve.Stderr = banner, logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	t.Cleanup(func() {
		serve.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("gatehouse serve stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			serve.Process.Kill()
			<-exited
			t.Errorf("gatehouse serve did not stop within 20 s of SIGTERM")
		}
		// A page can hide a failure on Gatehouse's side (a 500 behind a
		// redirect, a failed audit write): none may happen.
		for _, line := range strings.Split(string(logs.Bytes()), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) {
				t.Errorf("gatehouse serve logged an error: %s", line)
			}
		}
		if t.Failed() {
			t.Logf("---- gatehouse serve log (last 6 KiB)\n%s", tail(logs.Bytes(), 6<<10))
		}
	})
	select {
	case m := <-banner.found:
		// With --addr HOST:0 the public URL follows the port taken
		// (serve.go); the address is read from the banner, not its
		// "public URL", which TestServeBannerPublicURL checks.
		g.base, g.bannerURL = "http://"+m[1], m[2]
	case err := <-exited:
		t.Fatalf("gatehouse serve exited before listening: %v\n%s", err, logs.Bytes())
	case <-time.After(30 * time.Second):
		t.Fatalf("gatehouse serve printed no 'listening on' line within 30 s\n%s", logs.Bytes())
	}
	return g
}

// bannerWriter is serve's stdout: it reports the "listening on" line.
type bannerWriter struct {
	mu    sync.Mutex
	buf   []byte
	found chan []string
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.found != nil {
		w.buf = append(w.buf, p...)
		if m := bannerRe.FindStringSubmatch(string(w.buf)); m != nil {
			w.found <- m
			w.found = nil
		}
	}
	return len(p), nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// call sends one API request and decodes the answer into out, failing the
// test unless the status is want.
func (g *gatehouseServer) call(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.api.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s, want %d\n%s", method, path, resp.Status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
}

// cli runs the gatehouse command line on serve's database, as support
// staff on the server would, and returns its standard output.
func (g *gatehouseServer) cli(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.bin, append(args, "--database", g.db)...)
	cmd.Env = g.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gatehouse %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// example is the seeded enterprise account.
type example struct {
	accountID, aliceID, adaID string
}

// seed creates, over the API, a partition, the enterprise account name,
// alice (a user, no password: she signs in through the IdP only) and ada
// (an admin with a password).
func (g *gatehouseServer) seed(t *testing.T, name string) example {
	t.Helper()
	var obj struct {
		ID string `json:"id"`
	}
	g.call(t, "POST", "/api/v1/partitions", map[string]any{"name": "E2E"}, http.StatusCreated, &obj)
	g.call(t, "POST", "/api/v1/accounts", map[string]any{"partition_id": obj.ID, "name": name, "plan": "enterprise"}, http.StatusCreated, &obj)
	ex := example{accountID: obj.ID}
	g.accountName = name
	users := "/api/v1/accounts/" + ex.accountID + "/users"
	g.call(t, "POST", users, map[string]any{"email": aliceEmail, "display_name": aliceName, "role": "user"}, http.StatusCreated, &obj)
	ex.aliceID = obj.ID
	g.call(t, "POST", users, map[string]any{"email": adaEmail, "display_name": "Ada Admin", "role": "admin"}, http.StatusCreated, &obj)
	ex.adaID = obj.ID
	g.call(t, "POST", users+"/"+ex.adaID+"/password", map[string]any{"password": adaPassword}, http.StatusNoContent, nil)
	return ex
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
}

// spConfig is a configuration and Gatehouse's SP values for it, as read
// from the SP metadata Gatehouse publishes.
type spConfig struct {
	id, name         string
	entityID, acsURL string
}

func (g *gatehouseServer) configPath(ex example, id string) string {
	return "/api/v1/accounts/" + ex.accountID + "/sso-configs/" + id
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
	g.call(t, "POST", "/api/v1/accounts/"+ex.accountID+"/sso-configs", body, http.StatusCreated, &v)
	if v.Status != "draft" || v.Enabled {
		t.Errorf("a new configuration without IdP settings: status %q, enabled %v; want a draft", v.Status, v.Enabled)
	}
	c := &spConfig{id: v.ID, name: v.Name}
	c.entityID, c.acsURL = g.spMetadata(t, v.ID)
	if want := g.base + "/sso/saml/" + v.ID; c.entityID != want+"/metadata" || c.acsURL != want+"/acs" {
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
	resp, err := g.api.Get(g.base + "/sso/saml/" + id + "/metadata")
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
	g.call(t, "POST", g.configPath(ex, c.id)+"/metadata", map[string]any{"url": metadataURL}, http.StatusOK, &v)
	return v
}

func (g *gatehouseServer) config(t *testing.T, ex example, id string) configView {
	t.Helper()
	var v configView
	g.call(t, "GET", g.configPath(ex, id), nil, http.StatusOK, &v)
	return v
}

func (g *gatehouseServer) patch(t *testing.T, ex example, id string, body map[string]any) configView {
	t.Helper()
	var v configView
	g.call(t, "PATCH", g.configPath(ex, id), body, http.StatusOK, &v)
	return v
}

func (g *gatehouseServer) enable(t *testing.T, ex example, id string) configView {
	t.Helper()
	var v configView
	g.call(t, "POST", g.configPath(ex, id)+"/enable", nil, http.StatusOK, &v)
	return v
}

type auditEvent struct {
	ID        string            `json:"id"`
	Action    string            `json:"action"`
	Outcome   string            `json:"outcome"`
	Reason    string            `json:"reason"`
	ActorType string            `json:"actor_type"`
	ActorID   string            `json:"actor_id"`
	TargetID  string            `json:"target_id"`
	Details   map[string]string `json:"details"`
}

func (g *gatehouseServer) signIns(t *testing.T, ex example, outcome string) []auditEvent {
	t.Helper()
	q := url.Values{"action": {"signin.saml"}, "limit": {"100"}}
	if outcome != "" {
		q.Set("outcome", outcome)
	}
	var l struct {
		Items []auditEvent `json:"items"`
	}
	g.call(t, "GET", "/api/v1/accounts/"+ex.accountID+"/audit-events?"+q.Encode(), nil, http.StatusOK, &l)
	return l.Items
}

// lastSignIn is the newest signin.saml audit event with that outcome.
func (g *gatehouseServer) lastSignIn(t *testing.T, ex example, outcome string) auditEvent {
	t.Helper()
	evs := g.signIns(t, ex, outcome)
	if len(evs) == 0 {
		t.Fatalf("no signin.saml %s in the audit log", outcome)
	}
	newest := evs[0]
	for _, ev := range evs[1:] {
		if ev.ID > newest.ID {
			newest = ev
		}
	}
	return newest
}

var referenceRe = regexp.MustCompile(`Reference: <code class="reference">([^<]+)</code>`)

// refused checks Gatehouse's generic refusal page and returns the failed
// signin.saml audit event its reference names.
func (g *gatehouseServer) refused(t *testing.T, ex example, p webPage) auditEvent {
	t.Helper()
	if p.status < 400 || p.status > 499 || !strings.Contains(p.text(), "Your company's sign-in could not be completed.") {
		t.Fatalf("want the refusal page, got %d %q at %s:\n%.2000s", p.status, p.title(), p.url, p.body)
	}
	m := referenceRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the refusal page has no reference:\n%.2000s", p.body)
	}
	for _, ev := range g.signIns(t, ex, "failure") {
		if ev.ID == m[1] {
			if ev.Reason == "" {
				t.Errorf("audit event %s has no reason", ev.ID)
			}
			return ev
		}
	}
	t.Fatalf("reference %s names no failed signin.saml audit event", m[1])
	return auditEvent{}
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

// browser is one person's browser: a cookie jar shared between Gatehouse
// and the IdP, redirects followed and remembered.
type browser struct {
	t    *testing.T
	g    *gatehouseServer
	c    *http.Client
	hops []string // the URLs redirected to by the last request
}

type webPage struct {
	url    *url.URL
	status int
	body   string
}

func (g *gatehouseServer) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, g: g}
	b.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return fmt.Errorf("more than 10 redirects")
		}
		b.hops = append(b.hops, req.URL.String())
		return nil
	}}
	return b
}

func (b *browser) do(req *http.Request) webPage {
	b.t.Helper()
	b.hops = nil
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return webPage{url: resp.Request.URL, status: resp.StatusCode, body: string(body)}
}

func (b *browser) get(target string) webPage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// postFrom submits a form to target from a page of origin.
func (b *browser) postFrom(origin, target string, form url.Values) webPage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return b.do(req)
}

// post submits a form of Gatehouse's own pages.
func (b *browser) post(target string, form url.Values) webPage {
	b.t.Helper()
	return b.postFrom(b.g.base, target, form)
}

// acs does what the IdP's auto-submit page makes a browser do: post the
// SAMLResponse (and RelayState) to Gatehouse's ACS, cross-origin, then
// follow Gatehouse's redirects.
func (b *browser) acs(post idpclient.Post, idp idpclient.IdP) webPage {
	b.t.Helper()
	form := url.Values{"SAMLResponse": {post.SAMLResponse}}
	if post.RelayState != "" {
		form.Set("RelayState", post.RelayState)
	}
	return b.postFrom(strings.TrimRight(idp.BaseURL, "/"), post.ACSURL, form)
}

func (b *browser) session() string {
	u, _ := url.Parse(b.g.base + "/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "gatehouse_session" {
			return c.Value
		}
	}
	return ""
}

// noSession checks the browser is not signed in to Gatehouse.
func (b *browser) noSession() {
	b.t.Helper()
	if s := b.session(); s != "" {
		b.t.Errorf("the browser holds a Gatehouse session cookie")
	}
	if p := b.get(b.g.base + "/"); p.url.Path != "/login" {
		b.t.Errorf("the home page answered at %s (%q), want the sign-in page", p.url, p.title())
	}
}

// signInWithPassword signs an admin in on Gatehouse's pages: email, the
// choice between SSO and password when SSO is on (choice), password.
func (b *browser) signInWithPassword(email, password string, choice bool) {
	b.t.Helper()
	p := b.get(b.g.base + "/login")
	p.mustShow(b.t, `name="email"`)
	p = b.post(b.g.base+"/login", url.Values{"email": {email}, "return_to": {"/"}})
	if choice {
		if p.url.Path != "/login/way" || p.title() != "How do you want to sign in?" {
			b.t.Fatalf("%s after the email: %q at %s, want the choice of ways", email, p.title(), p.url)
		}
		p.mustShow(b.t, `href="/login/sso">Continue with SSO</a>`, `href="/login/password">Use password</a>`)
		p = b.get(b.g.base + "/login/password")
	}
	if p.url.Path != "/login/password" || p.title() != "Enter your password" {
		b.t.Fatalf("%s: %q at %s, want the password page", email, p.title(), p.url)
	}
	p = b.post(b.g.base+"/login/password", url.Values{"username": {email}, "password": {password}})
	p.signedInAs(b.t, b, email)
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
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var raw []byte
	var post idpclient.Post
	var err error
	if m := continueLinkRe.FindStringSubmatch(p.body); m != nil {
		link := html.UnescapeString(m[1])
		u, perr := url.Parse(link)
		if perr != nil || !strings.HasPrefix(link, idp.SSOURL()+"?") {
			b.t.Fatalf("Continue leads to %q, want the IdP's SSO URL %s", link, idp.SSOURL())
		}
		deflated, derr := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
		if derr != nil {
			b.t.Fatalf("SAMLRequest in the Redirect binding: %v", derr)
		}
		if raw, err = io.ReadAll(flate.NewReader(bytes.NewReader(deflated))); err != nil {
			b.t.Fatalf("SAMLRequest in the Redirect binding: %v", err)
		}
		post, err = idp.Login(ctx, b.c, link, user, pass)
	} else if m := continueFormRe.FindStringSubmatch(p.body); m != nil {
		if action := html.UnescapeString(m[1]); action != idp.SSOURL() {
			b.t.Fatalf("the AuthnRequest form goes to %q, want the IdP's SSO URL %s", action, idp.SSOURL())
		}
		fields := url.Values{}
		for _, f := range hiddenFieldRe.FindAllStringSubmatch(p.body, -1) {
			fields.Set(f[1], html.UnescapeString(f[2]))
		}
		if raw, err = base64.StdEncoding.DecodeString(fields.Get("SAMLRequest")); err != nil {
			b.t.Fatalf("SAMLRequest in the POST binding: %v", err)
		}
		post, err = idp.PostAuthnRequest(ctx, b.c, fields.Get("SAMLRequest"), fields.Get("RelayState"), user, pass)
	} else {
		b.t.Fatalf("%d %q at %s does not send the browser to the IdP:\n%.2000s", p.status, p.title(), p.url, p.body)
	}
	req := authnRequest{binding: "redirect"}
	if p.body != "" && continueLinkRe.FindStringSubmatch(p.body) == nil {
		req.binding = "post"
	}
	if xerr := xml.Unmarshal(raw, &req); xerr != nil {
		b.t.Fatalf("AuthnRequest: %v\n%s", xerr, raw)
	}
	if req.ID == "" || req.Issuer != c.entityID || req.ACS != c.acsURL || req.Dest != idp.SSOURL() {
		b.t.Errorf("AuthnRequest ID %q, Issuer %q, ACS %q, Destination %q; want configuration %s's (%s, %s) to %s",
			req.ID, req.Issuer, req.ACS, req.Dest, c.id, c.entityID, c.acsURL, idp.SSOURL())
	}
	if err != nil {
		b.t.Fatalf("at the IdP: %v", err)
	}
	if post.ACSURL != c.acsURL {
		b.t.Fatalf("the IdP posts to %q, want configuration %s's ACS %s", post.ACSURL, c.id, c.acsURL)
	}
	return post, req
}

// idpInitiated signs alice in at the IdP's IdP-initiated URL for c.
func (b *browser) idpInitiated(idp idpclient.IdP, c *spConfig) idpclient.Post {
	b.t.Helper()
	post := login(b.t, idp, b.c, idp.IdPInitiatedURL(c.entityID), "alice", "alicepass")
	if post.ACSURL != c.acsURL {
		b.t.Fatalf("the IdP posts to %q, want %s", post.ACSURL, c.acsURL)
	}
	if r, _ := decode(b.t, post); r.InResponseTo != "" || r.Assertion.Subject.NameID.Value != aliceEmail {
		b.t.Errorf("IdP-initiated response: InResponseTo %q, NameID %q", r.InResponseTo, r.Assertion.Subject.NameID.Value)
	}
	return post
}

// signInSPInitiated is alice's sign-in from Gatehouse's email page through
// configuration c, NameID alice's email; check may look at the response.
func (b *browser) signInSPInitiated(idp idpclient.IdP, c *spConfig, user, pass string, check func(*samlResponse)) (idpclient.Post, []byte) {
	b.t.Helper()
	return b.signInSPInitiatedAs(idp, c, user, pass, aliceEmail, func(r *samlResponse) {
		if r.Assertion.Subject.NameID.Value != aliceEmail || r.Assertion.Subject.NameID.Format != fmtEmail {
			b.t.Errorf("NameID %q (%s), want %s as emailAddress", r.Assertion.Subject.NameID.Value, r.Assertion.Subject.NameID.Format, aliceEmail)
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
	b.t.Helper()
	p := b.post(b.g.base+"/login", url.Values{"email": {email}, "return_to": {"/"}})
	if p.url.Path != "/login/sso" || p.title() != "Taking you to your company's sign-in…" {
		b.t.Fatalf("%s after the email: %d %q at %s, want the page to the IdP", email, p.status, p.title(), p.url)
	}
	post, req := b.throughIdP(p, idp, c, user, pass)
	r, raw := decode(b.t, post)
	if r.InResponseTo != req.ID || r.Assertion.Subject.Confirmation.Data.InResponseTo != req.ID {
		b.t.Errorf("InResponseTo %q / %q, want the AuthnRequest's %q", r.InResponseTo, r.Assertion.Subject.Confirmation.Data.InResponseTo, req.ID)
	}
	if r.Destination != c.acsURL || r.Assertion.Audience != c.entityID {
		b.t.Errorf("Destination %q, Audience %q; want %s, %s", r.Destination, r.Assertion.Audience, c.acsURL, c.entityID)
	}
	if got := strings.Join(r.Assertion.attr("email"), ","); got != email {
		b.t.Errorf("attribute email = %q", got)
	}
	if check != nil {
		check(r)
	}
	p = b.acs(post, idp)
	if !slices.ContainsFunc(b.hops, func(h string) bool { return strings.HasPrefix(h, b.g.base+"/sso/finish/") }) {
		b.t.Errorf("the ACS did not go through /sso/finish/ (redirects %v)", b.hops)
	}
	p.signedInAs(b.t, b, email)
	return post, raw
}

// signedInAs checks the page is Gatehouse's home page for email, and the
// browser holds a session.
func (p webPage) signedInAs(t *testing.T, b *browser, email string) {
	t.Helper()
	if p.url.String() != b.g.base+"/" || p.status != http.StatusOK || !strings.Contains(p.text(), "Signed in as "+email+" to "+b.g.accountName+".") {
		t.Fatalf("want the home page signed in as %s, got %d %q at %s (redirects %v):\n%.2000s", email, p.status, p.title(), p.url, b.hops, p.body)
	}
	if b.session() == "" {
		t.Fatalf("signed in as %s without a session cookie", email)
	}
}

var titleTagRe = regexp.MustCompile(`(?s)<title>(.*?) · Gatehouse</title>`)

func (p webPage) title() string {
	if m := titleTagRe.FindStringSubmatch(p.body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

// text is the page with entities decoded.
func (p webPage) text() string { return html.UnescapeString(p.body) }

func (p webPage) mustShow(t *testing.T, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(p.body, f) {
			t.Errorf("%s does not show %s:\n%.3000s", p.url, f, p.body)
		}
	}
}
