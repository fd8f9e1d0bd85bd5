package webtest

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Browser is a person's browser: cookies kept, redirects followed.
type Browser struct {
	t      testing.TB
	e      *Env
	Client *http.Client
	URL    *url.URL
}

// Browser is a new browser, with no cookies yet.
func (e *Env) Browser() *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.T.Fatal(err)
	}
	u, _ := url.Parse(e.Server.URL)
	return &Browser{t: e.T, e: e, Client: &http.Client{Jar: jar}, URL: u}
}

// BrowserFrom is a browser whose connections come from the loopback address
// ip, so each can stand for another attacker's machine.
func (e *Env) BrowserFrom(ip string) *Browser {
	b := e.Browser()
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b.Client = &http.Client{Jar: jar, Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}}
	return b
}

// SignedIn is a browser signed in as email, which has GoodPassword.
func (e *Env) SignedIn(email string) *Browser {
	e.T.Helper()
	b := e.Browser()
	if p := b.SignIn(email, GoodPassword); p.Status != http.StatusOK {
		e.T.Fatalf("%s signing in: %d %s", email, p.Status, p.Body)
	}
	return b
}

// Page is what the browser ends up showing.
type Page struct {
	Status int
	Path   string
	Body   string
	Header http.Header
}

// LeadsToIdP reports whether p is the page that sends the browser on to
// its company's IdP (sso.js, with a Continue for browsers without
// JavaScript).
func (p Page) LeadsToIdP() bool {
	return p.Status == http.StatusOK && p.Title() == "Taking you to your company&#39;s sign-in…" && strings.Contains(p.Body, "data-sso-continue")
}

// Do sends req and follows redirects, as a browser does.
func (b *Browser) Do(req *http.Request) Page {
	b.t.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return Page{Status: resp.StatusCode, Path: resp.Request.URL.RequestURI(), Body: string(body), Header: resp.Header}
}

// Get opens the page at path.
func (b *Browser) Get(path string) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.Server.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.Do(req)
}

// Post sends form to path, as a page's form does.
func (b *Browser) Post(path string, form url.Values) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.Server.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

// PostRaw posts body as it is, with this Content-Type.
func (b *Browser) PostRaw(path, contentType, body string) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.Server.URL+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return b.Do(req)
}

// PostMultipart posts a multipart form with one file, as a browser sends
// an upload.
func (b *Browser) PostMultipart(path string, fields url.Values, fileField, fileName string, content []byte) Page {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if fileField != "" {
		fw, err := mw.CreateFormFile(fileField, fileName)
		if err != nil {
			b.t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, b.e.Server.URL+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.Do(req)
}

// HTMX sends what htmx sends: a request with HX-Request, and HX-Target
// naming the element the answer goes into ("dialog" for the page's
// dialog); form, when not nil, is the body.
func (b *Browser) HTMX(method, path, target string, form url.Values) Page {
	b.t.Helper()
	req, err := http.NewRequest(method, b.e.Server.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", target)
	return b.Do(req)
}

// Session returns the session cookie the browser holds.
func (b *Browser) Session() string {
	for _, c := range b.Client.Jar.Cookies(b.URL) {
		if c.Name == "gatehouse_session" {
			return c.Value
		}
	}
	return ""
}

// SetSession plants a session cookie in the browser.
func (b *Browser) SetSession(token string) {
	b.Client.Jar.SetCookies(b.URL, []*http.Cookie{{Name: "gatehouse_session", Value: token, Path: "/"}})
}

// SignIn goes through the email and password steps.
func (b *Browser) SignIn(email, pw string) Page {
	b.t.Helper()
	if p := b.Post("/login", url.Values{"email": {email}}); p.Status != http.StatusOK {
		b.t.Fatalf("email step: %d %s", p.Status, p.Body)
	}
	return b.Post("/login/password", url.Values{"password": {pw}})
}

// MustShow fails unless the page shows every one of texts.
func (p Page) MustShow(t testing.TB, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page %s (%d) does not show %q:\n%s", p.Path, p.Status, s, p.Body)
		}
	}
}

// MustOmit fails when the page shows any of texts.
func (p Page) MustOmit(t testing.TB, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(p.Body, s) {
			t.Fatalf("page %s (%d) shows %q:\n%s", p.Path, p.Status, s, p.Body)
		}
	}
}

// Title is the page's heading (h1).
func (p Page) Title() string {
	m := regexp.MustCompile(`<h1>([^<]*)</h1>`).FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return m[1]
}

// Session of a page: the cookie it set, if any.
func (p Page) Session() string {
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "gatehouse_session" {
			return c.Value
		}
	}
	return ""
}

// RowCount is how many rows a page's list shows: every row has a cell
// labelled When (history, audit) or Account (accounts).
func (p Page) RowCount(label string) int {
	return strings.Count(p.Body, `<td data-label="`+label+`"`)
}

// olderLinkRe finds a list's link to its next page.
var olderLinkRe = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// Older is the address of the next page of list p, "" on the last.
func (p Page) Older() string {
	m := olderLinkRe.FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}
