package opclient

// These tests need no Node.js: a fake OP serves pages that test/e2e/oidc/op
// (server.mjs and oidc-provider 9.13.3) really produced (testdata/), so the
// page reading is checked in every `go test ./...`. The real OP is exercised
// by ../harness_test.go.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

const (
	loginUID    = "sK7SINp47b_ITOSfK9b2_9VeavthfP8Q5IpwPYpEEcZ" // as in testdata/login*.html
	consentUID  = "pisL50zLMQSnrDyDQVdvduqxhDDWeuDswWFwYA3Snrv" // as in testdata/consent.html
	redirectURI = "http://rp.example/sso/oidc/x/callback"       // as in testdata/form-post.html
	fixtureCode = "f9OofOJQlEPKhzd5u_4YeymdsHVJgxLvLTGSws3bGcX"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fakeOP imitates the OP's sign-in: /plain/auth, the login page, a consent
// page, and the response to the redirect URI, with the cookies it needs.
type fakeOP struct {
	*httptest.Server
	mu      sync.Mutex
	request url.Values   // the authorization request in progress
	posted  []url.Values // the forms posted to the OP
}

func newFakeOP(t *testing.T) *fakeOP {
	pages := map[string]string{}
	for _, n := range []string{"login.html", "login-wrong-password.html", "consent.html", "form-post.html", "error-invalid-client.html"} {
		pages[n] = fixture(t, n)
	}
	op := &fakeOP{}
	serve := func(w http.ResponseWriter, status int, name string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, pages[name])
	}
	hasCookie := func(r *http.Request, name string) bool {
		c, err := r.Cookie(name)
		return err == nil && c.Value != ""
	}
	respond := func(w http.ResponseWriter, r *http.Request, params url.Values) {
		op.mu.Lock()
		req := op.request
		op.mu.Unlock()
		params.Set("state", req.Get("state"))
		params.Set("iss", "http://op.example/plain")
		if req.Get("response_mode") == "form_post" {
			serve(w, http.StatusOK, "form-post.html")
			return
		}
		target := req.Get("redirect_uri")
		if target == "" {
			target = redirectURI // the client's only registered redirect URI
		}
		http.Redirect(w, r, target+"?"+params.Encode(), http.StatusSeeOther)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plain/auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "gatehouse" {
			serve(w, http.StatusBadRequest, "error-invalid-client.html")
			return
		}
		op.mu.Lock()
		op.request = q
		op.mu.Unlock()
		if hasCookie(r, "op_session") {
			respond(w, r, url.Values{"code": {fixtureCode}})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "op_interaction", Value: "1", Path: "/plain/interaction/"})
		http.Redirect(w, r, "/plain/interaction/"+loginUID, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /plain/auth/{uid}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("uid") == loginUID && hasCookie(r, "op_session") {
			http.Redirect(w, r, "/plain/interaction/"+consentUID, http.StatusSeeOther)
			return
		}
		respond(w, r, url.Values{"code": {fixtureCode}})
	})
	mux.HandleFunc("GET /plain/interaction/{uid}", func(w http.ResponseWriter, r *http.Request) {
		if !hasCookie(r, "op_interaction") {
			http.Error(w, "interaction session id cookie not found", http.StatusBadRequest)
			return
		}
		switch r.PathValue("uid") {
		case loginUID:
			serve(w, http.StatusOK, "login.html")
		case consentUID:
			serve(w, http.StatusOK, "consent.html")
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("POST /plain/interaction/{uid}/{action}", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		op.mu.Lock()
		op.posted = append(op.posted, r.PostForm)
		op.mu.Unlock()
		switch r.PathValue("action") {
		case "login":
			if r.PostForm.Get("login") != "alice" || r.PostForm.Get("password") != "alicepass" || r.PostForm.Get("prompt") != "login" {
				serve(w, http.StatusOK, "login-wrong-password.html")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "op_session", Value: "alice", Path: "/"})
			http.Redirect(w, r, "/plain/auth/"+loginUID, http.StatusSeeOther)
		case "confirm":
			if r.PostForm.Get("prompt") != "consent" {
				http.Error(w, "no prompt=consent", http.StatusBadRequest)
				return
			}
			http.Redirect(w, r, "/plain/auth/"+consentUID, http.StatusSeeOther)
		case "abort":
			respond(w, r, url.Values{"error": {"access_denied"}, "error_description": {"End-User aborted interaction"}})
		default:
			http.NotFound(w, r)
		}
	})
	op.Server = httptest.NewServer(mux)
	t.Cleanup(op.Close)
	return op
}

func (op *fakeOP) postedForms() []url.Values {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]url.Values(nil), op.posted...)
}

func (op *fakeOP) authURL(extra url.Values) string {
	q := url.Values{
		"client_id":     {"gatehouse"},
		"response_type": {"code"},
		"redirect_uri":  {redirectURI},
		"scope":         {"openid email"},
		"state":         {"st8"},
		"nonce":         {"n0nce"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return op.URL + "/plain/auth?" + q.Encode()
}

func newJarClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func TestLoginThenSingleSignOn(t *testing.T) {
	op := newFakeOP(t)
	client := newJarClient()
	cb, err := Login(context.Background(), client, op.authURL(nil), "alice", "alicepass")
	if err != nil {
		t.Fatal(err)
	}
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != redirectURI {
		t.Errorf("callback %s, want the redirect URI %s", cb, redirectURI)
	}
	if q := cb.Query(); q.Get("code") != fixtureCode || q.Get("state") != "st8" {
		t.Errorf("callback query %v", q)
	}
	if p := op.postedForms(); len(p) != 2 || p[0].Get("login") != "alice" || p[1].Get("prompt") != "consent" {
		t.Errorf("posted forms %v, want the login form, then the consent form", p)
	}

	// The same browser has an OP session: no page, no password.
	cb, err = Login(context.Background(), client, op.authURL(url.Values{"state": {"second"}}), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if p := op.postedForms(); cb.Query().Get("state") != "second" || len(p) != 2 {
		t.Errorf("second sign-in: %s after %d posts", cb, len(p))
	}
}

func TestWrongPassword(t *testing.T) {
	op := newFakeOP(t)
	_, err := Login(context.Background(), nil, op.authURL(nil), "alice", "wrong")
	if !errors.Is(err, ErrWrongCredentials) {
		t.Fatalf("want ErrWrongCredentials, got %v", err)
	}
	var se *StopError
	if !errors.As(err, &se) || se.Status != http.StatusOK || !strings.Contains(se.Detail, "Invalid login or password.") ||
		!strings.Contains(se.Step, "posting the login and password of alice") {
		t.Errorf("error does not say where and why: %v", err)
	}
	t.Log(err)
}

func TestNoCredentials(t *testing.T) {
	op := newFakeOP(t)
	_, err := Login(context.Background(), nil, op.authURL(nil), "", "")
	if err == nil || !strings.Contains(err.Error(), "none were given") {
		t.Fatalf("want an error about the missing login, got %v", err)
	}
}

func TestOPErrorPage(t *testing.T) {
	op := newFakeOP(t)
	_, err := Login(context.Background(), nil, op.authURL(url.Values{"client_id": {"unknown"}}), "alice", "alicepass")
	var se *StopError
	if !errors.As(err, &se) || se.Status != http.StatusBadRequest || !strings.Contains(se.Detail, "the OP says: invalid_client: client is invalid") {
		t.Fatalf("want the OP's invalid_client page, got %v", err)
	}
	t.Log(err)
}

func TestFormPost(t *testing.T) {
	op := newFakeOP(t)
	auth := op.authURL(url.Values{"response_mode": {"form_post"}})
	cb, err := Authorize(context.Background(), nil, auth, "alice", "alicepass")
	if err != nil {
		t.Fatal(err)
	}
	if cb.Mode != ModeFormPost || cb.URL.String() != redirectURI || cb.Params.Get("code") != fixtureCode ||
		cb.Params.Get("state") != "st8" || cb.Params.Get("iss") == "" || cb.Err() != nil {
		t.Errorf("form_post callback %+v", cb)
	}
	if _, err := Login(context.Background(), nil, auth, "alice", "alicepass"); err == nil || !strings.Contains(err.Error(), "use Authorize") {
		t.Errorf("Login with form_post: want an error that points to Authorize, got %v", err)
	}
}

func TestCancel(t *testing.T) {
	op := newFakeOP(t)
	cb, err := Cancel(context.Background(), nil, op.authURL(nil))
	if err != nil {
		t.Fatal(err)
	}
	var ae *AuthError
	if !errors.As(cb.Err(), &ae) || ae.Code != "access_denied" || cb.Mode != ModeQuery {
		t.Fatalf("want error=access_denied in the query, got %v (%s)", cb.Err(), cb.URL)
	}
}

// A relying party's sign-in URL that redirects to the OP; the redirect URI is
// learnt from the authorization request on the way. Deliver takes the
// response back to the relying party.
func TestStartAtRelyingPartyAndDeliver(t *testing.T) {
	op := newFakeOP(t)
	var (
		mu  sync.Mutex
		got []string
		rp  *httptest.Server
	)
	seen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
	rp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/start":
			http.SetCookie(w, &http.Cookie{Name: "rp_state", Value: "st8", Path: "/"})
			http.Redirect(w, r, op.authURL(url.Values{"redirect_uri": {rp.URL + "/cb"}, "response_mode": {r.URL.Query().Get("mode")}}), http.StatusFound)
		case "/cb":
			r.ParseForm()
			c, _ := r.Cookie("rp_state")
			mu.Lock()
			defer mu.Unlock()
			got = append(got, fmt.Sprintf("%s code=%s state=%s cookie=%v", r.Method, r.Form.Get("code"), r.Form.Get("state"), c != nil))
		}
	}))
	defer rp.Close()

	client := newJarClient()
	cb, err := Authorize(context.Background(), client, rp.URL+"/start", "alice", "alicepass")
	if err != nil {
		t.Fatal(err)
	}
	if cb.Mode != ModeQuery || cb.URL.Host != strings.TrimPrefix(rp.URL, "http://") || cb.URL.Path != "/cb" {
		t.Fatalf("callback %s (mode %s), want the RP's /cb", cb.URL, cb.Mode)
	}
	resp, err := cb.Deliver(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := seen(); len(got) != 1 || got[0] != "GET code="+fixtureCode+" state=st8 cookie=true" {
		t.Errorf("the RP saw %q", got)
	}

	form := &Callback{URL: cb.URL, Mode: ModeFormPost, Params: url.Values{"code": {"c2"}, "state": {"st8"}}}
	resp, err = form.Deliver(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := seen(); len(got) != 2 || got[1] != "POST code=c2 state=st8 cookie=true" {
		t.Errorf("the RP saw %q", got)
	}
}

// Without redirect_uri in the request (a client with one registered redirect
// URI), the first redirect that leaves the OP with a code is the response.
func TestNoRedirectURIInRequest(t *testing.T) {
	op := newFakeOP(t)
	u, _ := url.Parse(op.authURL(nil))
	q := u.Query()
	q.Del("redirect_uri")
	u.RawQuery = q.Encode()
	cb, err := Login(context.Background(), nil, u.String(), "alice", "alicepass")
	if err != nil {
		t.Fatal(err)
	}
	if cb.Host != "rp.example" || cb.Query().Get("code") != fixtureCode {
		t.Errorf("callback %s", cb)
	}
}
