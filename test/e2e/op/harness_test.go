package e2eop

// The harness of the OpenID Provider suite: the real gatehouse binary on a
// database of the test's own, the apps (rp/rp.mjs: npm openid-client in one
// Node process, driven over JSON lines), and a browser that plays the
// person on Gatehouse's pages and stops where Gatehouse sends it to an app.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/test/e2e/gatehouseproc"
)

// lockedBuffer collects a child process's stderr safely across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// registeredClient is a client the CLI registered: its ID, and its secret
// for a confidential one.
type registeredClient struct{ ID, Secret string }

var cliLineRe = regexp.MustCompile(`(?m)^(client_id|client_secret): (\S+)$`)

// registerClient runs `gatehouse admin client create` with args, as the
// operator does on the server, and reads the ID and secret it prints.
func registerClient(t *testing.T, g *gatehouseproc.Server, args ...string) registeredClient {
	t.Helper()
	out := g.CLI(t, append([]string{"admin", "client", "create"}, args...)...)
	var c registeredClient
	for _, m := range cliLineRe.FindAllStringSubmatch(out, -1) {
		if m[1] == "client_id" {
			c.ID = m[2]
		} else {
			c.Secret = m[2]
		}
	}
	if c.ID == "" {
		t.Fatalf("gatehouse admin client create %v printed no client_id:\n%s", args, out)
	}
	return c
}

// ---- the apps: rp/rp.mjs

// relyingParty is the running rp/rp.mjs.
type relyingParty struct {
	t           *testing.T
	stdin       io.WriteCloser
	backchannel string // http://127.0.0.1:PORT: POST /bcl/{app} receives logout tokens
	stderr      *lockedBuffer

	mu      sync.Mutex
	next    int
	waiting map[int]chan rpAnswer
	dead    error
}

type rpAnswer struct {
	ID          *int            `json:"id"`
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	Error       *rpError        `json:"error"`
	Ready       bool            `json:"ready"`
	Backchannel string          `json:"backchannel"`
}

// rpError is what openid-client threw: Error and ErrorDescription are
// the OAuth error of a refused request, Status its HTTP status, Code
// openid-client's own code for a response it refused.
type rpError struct {
	Name             string `json:"name"`
	Message          string `json:"message"`
	Code             string `json:"code"`
	OAuthError       string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Status           int    `json:"status"`
	Cause            any    `json:"cause"`
}

func (e *rpError) Error() string {
	b, _ := json.Marshal(e)
	return "openid-client: " + string(b)
}

// startRP starts rp/rp.mjs with Node until the test ends.
func startRP(t *testing.T) *relyingParty {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("rp", "rp.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script)
	cmd.Dir = filepath.Dir(script)
	cmd.SysProcAttr = gatehouseproc.ProcAttr()
	r := &relyingParty{t: t, stderr: &lockedBuffer{}, waiting: map[int]chan rpAnswer{}}
	cmd.Stderr = r.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
		for sc.Scan() {
			var a rpAnswer
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				r.fail(fmt.Errorf("rp.mjs wrote %q: %v", sc.Text(), err))
				return
			}
			if a.Ready {
				ready <- a.Backchannel
				continue
			}
			if a.ID == nil {
				r.fail(fmt.Errorf("rp.mjs answered without an id: %s", sc.Text()))
				return
			}
			r.mu.Lock()
			ch := r.waiting[*a.ID]
			delete(r.waiting, *a.ID)
			r.mu.Unlock()
			if ch != nil {
				ch <- a
			}
		}
		r.fail(fmt.Errorf("rp.mjs ended (%v); stderr:\n%s", sc.Err(), r.stderr.String()))
	}()
	t.Cleanup(func() {
		r.stdin.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		cmd.Wait()
		if t.Failed() && r.stderr.String() != "" {
			t.Logf("---- rp.mjs stderr\n%s", r.stderr.String())
		}
	})
	select {
	case r.backchannel = <-ready:
	case <-done:
		t.Fatalf("rp.mjs ended before it was ready; stderr:\n%s", r.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("rp.mjs was not ready within 30 s; stderr:\n%s", r.stderr.String())
	}
	return r
}

// fail ends every waiting call with err.
func (r *relyingParty) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dead = err
	for id, ch := range r.waiting {
		ch <- rpAnswer{Error: &rpError{Name: "harness", Message: err.Error()}}
		delete(r.waiting, id)
	}
}

// try sends one request to rp.mjs and decodes its result into out; the
// error is what openid-client threw (*rpError) or the harness's.
func (r *relyingParty) try(op string, args map[string]any, out any) error {
	req := map[string]any{"op": op}
	for k, v := range args {
		req[k] = v
	}
	ch := make(chan rpAnswer, 1)
	r.mu.Lock()
	if r.dead != nil {
		r.mu.Unlock()
		return r.dead
	}
	r.next++
	id := r.next
	req["id"] = id
	r.waiting[id] = ch
	r.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := r.stdin.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("rp.mjs: %v", err)
	}
	var a rpAnswer
	select {
	case a = <-ch:
	case <-time.After(60 * time.Second):
		return fmt.Errorf("rp.mjs did not answer %s within 60 s", op)
	}
	if !a.OK {
		return a.Error
	}
	if out != nil {
		if err := json.Unmarshal(a.Result, out); err != nil {
			return fmt.Errorf("rp.mjs %s: %v in %s", op, err, a.Result)
		}
	}
	return nil
}

// call is try that fails the test on any error.
func (r *relyingParty) call(t *testing.T, op string, args map[string]any, out any) {
	t.Helper()
	if err := r.try(op, args, out); err != nil {
		t.Fatalf("%s %v: %v", op, args["app"], err)
	}
}

// refused is try that must fail with the OAuth error code want.
func (r *relyingParty) refused(t *testing.T, want, op string, args map[string]any) *rpError {
	t.Helper()
	err := r.try(op, args, nil)
	e, ok := err.(*rpError)
	if !ok || e.OAuthError != want {
		t.Errorf("%s %v: got %v, want the OAuth error %s", op, args["app"], err, want)
		return &rpError{}
	}
	return e
}

// tokens is a token endpoint answer as openid-client returned it, with
// the ID token's claims once it validated them.
type tokens struct {
	AccessToken  string         `json:"access_token"`
	TokenType    string         `json:"token_type"`
	ExpiresIn    float64        `json:"expires_in"`
	RefreshToken string         `json:"refresh_token"`
	IDToken      string         `json:"id_token"`
	Scope        string         `json:"scope"`
	Claims       map[string]any `json:"claims"`
}

// authRequest is an authorization request openid-client built.
type authRequest struct {
	URL   string `json:"url"`
	State string `json:"state"`
	Nonce string `json:"nonce"`
}

// ---- the person's browser

// browser is one person's browser on Gatehouse's pages: a cookie jar,
// Gatehouse's redirects followed, and a stop where Gatehouse sends it to
// an app (another origin), whose URL is then the page's Location.
type browser struct {
	t    *testing.T
	g    *gatehouseproc.Server
	c    *http.Client
	hops []string // the URLs the last request was redirected to within Gatehouse
}

type page struct {
	URL      *url.URL
	Status   int
	Location string // where Gatehouse sends the browser out of Gatehouse, if it does
	Body     string
}

func newBrowser(t *testing.T, g *gatehouseproc.Server) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, g: g}
	base, _ := url.Parse(g.Base)
	b.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != base.Scheme || req.URL.Host != base.Host {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return fmt.Errorf("more than 10 redirects")
		}
		b.hops = append(b.hops, req.URL.String())
		return nil
	}}
	return b
}

func (b *browser) do(method, target string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.g.Base) // Gatehouse's own forms
	}
	b.hops = nil
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(raw)}
	if resp.StatusCode/100 == 3 {
		p.Location = resp.Header.Get("Location")
	}
	return p
}

func (b *browser) get(target string) page { b.t.Helper(); return b.do(http.MethodGet, target, nil) }

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	return b.do(http.MethodPost, b.g.Base+path, form)
}

var titleRe = regexp.MustCompile(`(?s)<title>(.*?) · Gatehouse</title>`)

// title is the page's title without " · Gatehouse".
func (p page) title() string {
	if m := titleRe.FindStringSubmatch(p.Body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

// signIn answers Gatehouse's email-first sign-in, which the browser is
// on, with the person's email and password, and returns where that leads.
func (b *browser) signIn(p page, email, password string) page {
	b.t.Helper()
	if p.URL.Path != "/login" || p.Status != http.StatusOK {
		b.t.Fatalf("want the sign-in page, got %d %q at %s", p.Status, p.title(), p.URL)
	}
	p = b.post("/login", url.Values{"email": {email}, "return_to": {p.URL.Query().Get("return_to")}})
	if p.URL.Path != "/login/password" || p.title() != "Enter your password" {
		b.t.Fatalf("%s: %d %q at %s, want the password page", email, p.Status, p.title(), p.URL)
	}
	return b.continueToApp(b.post("/login/password", url.Values{"username": {email}, "password": {password}}))
}

var continueRe = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)

// continueToApp is the browser on the page that follows a sign-in on to an
// app: it follows the page's link, as the page's script does.
func (b *browser) continueToApp(p page) page {
	b.t.Helper()
	if m := continueRe.FindStringSubmatch(p.Body); p.Status == http.StatusOK && m != nil {
		return b.get(b.g.Base + html.UnescapeString(m[1]))
	}
	return p
}

// authorize opens an app's authorization URL, signs in when Gatehouse asks
// (prompted), and returns the URL Gatehouse sent the browser back to the
// app with.
func (b *browser) authorize(authURL, email, password string) (back *url.URL, prompted bool) {
	b.t.Helper()
	p := b.get(authURL)
	if p.Location == "" {
		prompted = true
		p = b.signIn(p, email, password)
	}
	if p.Location == "" {
		b.t.Fatalf("Gatehouse did not send the browser back to the app: %d %q at %s (redirects %v)\n%.1500s", p.Status, p.title(), p.URL, b.hops, p.Body)
	}
	back, err := url.Parse(p.Location)
	if err != nil {
		b.t.Fatal(err)
	}
	return back, prompted
}
