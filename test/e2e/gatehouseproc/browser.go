package gatehouseproc

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Browser is one person's browser: a cookie jar shared between Gatehouse
// and the IdP, redirects followed and remembered.
type Browser struct {
	T      *testing.T
	Server *Server
	Client *http.Client
	Hops   []string // the URLs redirected to by the last request
}

// Page is a page the browser landed on.
type Page struct {
	URL    *url.URL
	Status int
	Body   string
}

// Browser is a new browser with an empty cookie jar.
func (g *Server) Browser(t *testing.T) *Browser {
	jar, _ := cookiejar.New(nil)
	b := &Browser{T: t, Server: g}
	b.Client = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return fmt.Errorf("more than 10 redirects")
		}
		b.Hops = append(b.Hops, req.URL.String())
		return nil
	}}
	return b
}

// Do sends req, following redirects, and returns the last page.
func (b *Browser) Do(req *http.Request) Page {
	b.T.Helper()
	b.Hops = nil
	resp, err := b.Client.Do(req)
	if err != nil {
		b.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.T.Fatal(err)
	}
	return Page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body)}
}

func (b *Browser) Get(target string) Page {
	b.T.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		b.T.Fatal(err)
	}
	return b.Do(req)
}

// PostFrom submits a form to target from a page of origin.
func (b *Browser) PostFrom(origin, target string, form url.Values) Page {
	b.T.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		b.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return b.Do(req)
}

// Post submits a form of Gatehouse's own pages.
func (b *Browser) Post(target string, form url.Values) Page {
	b.T.Helper()
	return b.PostFrom(b.Server.Base, target, form)
}

// Session is the browser's Gatehouse session cookie, "" if none.
func (b *Browser) Session() string {
	u, _ := url.Parse(b.Server.Base + "/")
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == "gatehouse_session" {
			return c.Value
		}
	}
	return ""
}

// NoSession checks the browser is not signed in to Gatehouse.
func (b *Browser) NoSession() {
	b.T.Helper()
	if s := b.Session(); s != "" {
		b.T.Errorf("the browser holds a Gatehouse session cookie")
	}
	if p := b.Get(b.Server.Base + "/"); p.URL.Path != "/login" {
		b.T.Errorf("the home page answered at %s (%q), want the sign-in page", p.URL, p.Title())
	}
}

// SignedInAs checks the page is Gatehouse's home page for email, and the
// browser holds a session.
func (p Page) SignedInAs(t *testing.T, b *Browser, email string) {
	t.Helper()
	if p.URL.String() != b.Server.Base+"/" || p.Status != http.StatusOK || !strings.Contains(p.Text(), "Signed in as "+email+" to "+b.Server.AccountName+".") {
		t.Fatalf("want the home page signed in as %s, got %d %q at %s (redirects %v):\n%.2000s", email, p.Status, p.Title(), p.URL, b.Hops, p.Body)
	}
	if b.Session() == "" {
		t.Fatalf("signed in as %s without a session cookie", email)
	}
}

var titleTagRe = regexp.MustCompile(`(?s)<title>(.*?) · Gatehouse</title>`)

// Title is the page's title without " · Gatehouse".
func (p Page) Title() string {
	if m := titleTagRe.FindStringSubmatch(p.Body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

// Text is the page with entities decoded.
func (p Page) Text() string { return html.UnescapeString(p.Body) }
