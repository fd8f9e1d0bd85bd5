package idpclient

// These tests need no PHP: a fake IdP serves pages that SimpleSAMLphp 1.19.7
// really produced (testdata/), so the page reading is checked in every
// `go test ./...`. The real IdP is exercised by ../harness_test.go.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

const (
	fixtureAuthState = "_6818315521a5e449f920dbde305ea8dd739424e1ca:http://127.0.0.1:18481/saml2/idp/SSOService.php?spentityid=http%3A%2F%2F127.0.0.1%3A9999%2Fsso%2Fsaml%2Fx%2Fmetadata&cookieTime=1795409072"
	fixtureACS       = "http://127.0.0.1:9999/sso/saml/x/acs"
	sessionCookie    = "SSPPHPSESS1"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fakeIdP imitates SimpleSAMLphp's sign-in pages, including its need for a
// session cookie.
func fakeIdP(t *testing.T) *httptest.Server {
	pages := map[string]string{}
	for _, n := range []string{"login.html", "acs-post.html", "login-wrong-password.html", "error-metadata-not-found.html", "error-unsigned-request.html"} {
		pages[n] = fixture(t, n)
	}
	serve := func(w http.ResponseWriter, name string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, pages[name])
	}
	toLogin := func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "s1", Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/module.php/core/loginuserpass.php?AuthState=x", http.StatusFound)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /saml2/idp/SSOService.php", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Get("spentityid") == "unknown":
			serve(w, "error-metadata-not-found.html")
		case r.URL.Query().Get("SAMLRequest") == "unsigned":
			serve(w, "error-unsigned-request.html")
		case r.URL.Query().Get("spentityid") != "" || r.URL.Query().Get("SAMLRequest") != "":
			toLogin(w, r)
		default:
			http.Error(w, "no request", http.StatusBadRequest)
		}
	})
	mux.HandleFunc("POST /saml2/idp/SSOService.php", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("SAMLRequest") != "posted-request" || r.PostFormValue("RelayState") != "rs & more" {
			http.Error(w, "bad POST binding form", http.StatusBadRequest)
			return
		}
		toLogin(w, r)
	})
	mux.HandleFunc("/module.php/core/loginuserpass.php", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err != nil || c.Value != "s1" {
			http.Error(w, "no session cookie", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodGet {
			serve(w, "login.html")
			return
		}
		if got := r.PostFormValue("AuthState"); got != fixtureAuthState {
			http.Error(w, "AuthState "+got, http.StatusBadRequest)
			return
		}
		if r.PostFormValue("username") == "alice" && r.PostFormValue("password") == "alicepass" {
			serve(w, "acs-post.html")
			return
		}
		serve(w, "login-wrong-password.html")
	})
	mux.HandleFunc("GET /sp/post-form", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><body onload="document.forms[0].submit()"><form method="POST" action='%s/saml2/idp/SSOService.php'>
<input type=hidden name=SAMLRequest value="posted-request"><input type="hidden" name="RelayState" value="rs &amp; more">
<input type="submit" name="go" value="Go"></form></body></html>`, "http://"+r.Host)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestURLs(t *testing.T) {
	p := IdP{BaseURL: "http://127.0.0.1:8443/"}
	for got, want := range map[string]string{
		p.MetadataURL():                      "http://127.0.0.1:8443/saml2/idp/metadata.php",
		p.EntityID():                         "http://127.0.0.1:8443/saml2/idp/metadata.php",
		p.SSOURL():                           "http://127.0.0.1:8443/saml2/idp/SSOService.php",
		p.IdPInitiatedURL("http://sp/x?a=1"): "http://127.0.0.1:8443/saml2/idp/SSOService.php?spentityid=http%3A%2F%2Fsp%2Fx%3Fa%3D1",
		p.IdPInitiatedURLWithRelayState("urn:sp", "/a?b=c&d"): "http://127.0.0.1:8443/saml2/idp/SSOService.php?RelayState=%2Fa%3Fb%3Dc%26d&spentityid=urn%3Asp",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestLogin(t *testing.T) {
	srv := fakeIdP(t)
	idp := IdP{BaseURL: srv.URL}
	// A client without a cookie jar gets one: the IdP needs its session cookie.
	for _, client := range []*http.Client{nil, {}} {
		post, err := idp.Login(context.Background(), client, idp.IdPInitiatedURL("sp"), "alice", "alicepass")
		if err != nil {
			t.Fatal(err)
		}
		if post.ACSURL != fixtureACS || post.RelayState != "" {
			t.Errorf("ACS %q RelayState %q", post.ACSURL, post.RelayState)
		}
		x, err := post.XML()
		if err != nil || !strings.HasPrefix(string(x), "<samlp:Response ") {
			t.Errorf("SAMLResponse does not decode to a samlp:Response: %v %.60q", err, x)
		}
	}
}

func TestLoginPOSTBinding(t *testing.T) {
	srv := fakeIdP(t)
	idp := IdP{BaseURL: srv.URL}
	post, err := idp.LoginPOSTBinding(context.Background(), nil, srv.URL+"/sp/post-form", "alice", "alicepass")
	if err != nil {
		t.Fatal(err)
	}
	if post.ACSURL != fixtureACS {
		t.Errorf("ACS %q", post.ACSURL)
	}
	if _, err := idp.PostAuthnRequest(context.Background(), nil, "posted-request", "rs & more", "alice", "alicepass"); err != nil {
		t.Fatal(err)
	}
	_, err = idp.LoginPOSTBinding(context.Background(), nil, srv.URL+"/nothing-here", "alice", "alicepass")
	if err == nil || !strings.Contains(err.Error(), "SAMLRequest") || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("a page without the AuthnRequest form: %v", err)
	}
}

func TestWrongPassword(t *testing.T) {
	srv := fakeIdP(t)
	idp := IdP{BaseURL: srv.URL}
	_, err := idp.Login(context.Background(), nil, idp.IdPInitiatedURL("sp"), "alice", "nope")
	if !errors.Is(err, ErrWrongCredentials) {
		t.Fatalf("want ErrWrongCredentials, got %v", err)
	}
	var se *StopError
	if !errors.As(err, &se) || se.Step != "posting the username and password" || !strings.HasSuffix(se.URL, LoginPath+"?") {
		t.Errorf("StopError %+v", se)
	}
	if !strings.Contains(err.Error(), "Incorrect username or password") {
		t.Errorf("the error does not carry SimpleSAMLphp's message: %v", err)
	}
}

func TestErrorPages(t *testing.T) {
	srv := fakeIdP(t)
	idp := IdP{BaseURL: srv.URL}
	for start, want := range map[string][]string{
		idp.IdPInitiatedURL("unknown"):              {"arriving at the IdP's login page", `page "Metadata not found"`, "Unable to locate metadata for 'nope'"},
		idp.SSOURL() + "?SAMLRequest=unsigned":      {"Unhandled exception", "caused by SimpleSAML\\Error\\Exception: Validation of received messages enabled, but no signature found on message."},
		srv.URL + "/saml2/idp/SSOService.php":       {"HTTP 400", "no request"},
		"http://127.0.0.1:1/saml2/idp/metadata.php": {"following redirects from", "connect"},
	} {
		_, err := idp.Login(context.Background(), nil, start, "alice", "alicepass")
		if err == nil {
			t.Errorf("%s: no error", start)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the error lacks %q: %v", start, w, err)
			}
		}
	}
}

func TestForms(t *testing.T) {
	fs := ssp.Forms(`<form action="/x" method="get"><input name="a" value='1 &amp; 2'><input type="checkbox" name="c" value="on">
<input type="checkbox" name="d" value="yes" checked><input type="submit" name="s" value="Go"><input type="hidden" id="noname" value="z"></form>`)
	if len(fs) != 1 || fs[0].Method != http.MethodGet || fs[0].Action != "/x" || fs[0].Fields.Encode() != "a=1+%26+2&d=yes" {
		t.Fatalf("forms: %+v", fs[0])
	}
}
