// Package idptrail is the browser of the browserless IdP clients
// (saml/idpclient, oidc/opclient): a cookie jar, redirects followed by hand
// with the requests kept as a trail, forms submitted as a browser would, and
// StopError for where a sign-in stopped and what the page there said.
package idptrail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"gatehouse/test/e2e/htmlform"
)

// StopError says where a sign-in stopped and what the page there said.
type StopError struct {
	Step   string   // what the client was doing
	URL    string   // the page it stopped at
	Status int      // that page's HTTP status
	Title  string   // that page's <title>
	Detail string   // the IdP's error message, or the start of the page's text
	Trail  []string // the requests of this step, redirects included
	Err    error    // the client's ErrWrongCredentials, or a transport error

	client string // the prefix of Error: "idpclient", "opclient"
}

func (e *StopError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: stopped while %s", e.client, e.Step)
	if e.URL != "" {
		fmt.Fprintf(&b, ", at %s", htmlform.Clip(e.URL, 160))
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Title != "" {
			fmt.Fprintf(&b, ", page %q", e.Title)
		}
		b.WriteString(")")
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if len(e.Trail) > 1 {
		trail := make([]string, len(e.Trail))
		for i, r := range e.Trail {
			trail[i] = htmlform.Clip(r, 160)
		}
		fmt.Fprintf(&b, " [requests: %s]", strings.Join(trail, " -> "))
	}
	return b.String()
}

func (e *StopError) Unwrap() error { return e.Err }

// Session is one browser: a cookie jar and a client that does not follow
// redirects itself.
type Session struct {
	// HTML is how the IdP's pages are read.
	HTML htmlform.Dialect
	// Problem is what a page says went wrong, for StopError.Detail.
	Problem func(body string) string
	// Learn, when set, sees the URL of every request before it is sent.
	Learn func(*url.URL)
	// Leave, when set, sees every redirect's Location; when it returns true
	// the redirect is not followed and Do returns no page and no error.
	Leave func(loc *url.URL) bool

	client string
	c      *http.Client
}

// New is a session for client (nil: a new one with a 30 s timeout; without a
// cookie jar: used with a new one). name prefixes the StopErrors.
func New(name string, client *http.Client, d htmlform.Dialect, problem func(body string) string) *Session {
	c := &http.Client{Timeout: 30 * time.Second}
	if client != nil {
		cp := *client
		c = &cp
	}
	if c.Jar == nil {
		jar, _ := cookiejar.New(nil) // never fails with nil options
		c.Jar = jar
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Session{HTML: d, Problem: problem, client: name, c: c}
}

// Page is where a request ended after its redirects.
type Page struct {
	URL    *url.URL
	Status int
	Body   string
	Trail  []string // the requests, redirects included

	s *Session
}

// Forms are the page's forms.
func (pg *Page) Forms() []*htmlform.Form { return pg.s.HTML.Forms(pg.Body) }

// FormWith is the first form with a field of that name.
func (pg *Page) FormWith(field string) *htmlform.Form { return pg.s.HTML.FormWith(pg.Body, field) }

// FormID is the form with that id attribute.
func (pg *Page) FormID(id string) *htmlform.Form { return pg.s.HTML.FormID(pg.Body, id) }

// ActionURL is the form's action resolved against the page.
func (pg *Page) ActionURL(f *htmlform.Form) (*url.URL, error) { return pg.URL.Parse(f.Action) }

// Title is the text of the page's <title>.
func (pg *Page) Title() string { return pg.s.HTML.Title(pg.Body) }

// Stop is the error for a sign-in that stopped at pg while doing step, having
// wanted want (may be empty) and met err (may be nil).
func (pg *Page) Stop(step, want string, err error) *StopError {
	detail := pg.s.Problem(pg.Body)
	if want != "" {
		detail = want + "; " + detail
	}
	return &StopError{Step: step, URL: pg.URL.String(), Status: pg.Status, Title: pg.Title(), Detail: detail, Trail: pg.Trail, Err: err, client: pg.s.client}
}

const maxBody = 8 << 20

// Do sends one request (form: POST body) and follows redirects until a page,
// or until Leave stops it (nil page, nil error).
func (s *Session) Do(ctx context.Context, step, method, target string, form url.Values) (*Page, error) {
	var trail []string
	stop := func(status int, err error) error {
		return &StopError{Step: step, URL: target, Status: status, Trail: trail, Err: err, client: s.client}
	}
	for hop := 0; ; hop++ {
		if hop == 20 {
			return nil, stop(0, errors.New("more than 20 redirects"))
		}
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		if err != nil {
			return nil, stop(0, err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if s.Learn != nil {
			s.Learn(req.URL)
		}
		trail = append(trail, method+" "+target)
		resp, err := s.c.Do(req)
		if err != nil {
			return nil, stop(0, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return nil, stop(resp.StatusCode, err)
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc, err := resp.Location()
			if err != nil {
				return nil, stop(resp.StatusCode, fmt.Errorf("redirect without a usable Location: %w", err))
			}
			if s.Leave != nil && s.Leave(loc) {
				return nil, nil
			}
			target = loc.String()
			if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
				method, form = http.MethodGet, nil
			}
			continue
		}
		return &Page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(b), Trail: trail, s: s}, nil
	}
}

// Submit posts (or gets) a form of pg as a browser would.
func (s *Session) Submit(ctx context.Context, step string, pg *Page, f *htmlform.Form) (*Page, error) {
	action, err := pg.ActionURL(f)
	if err != nil {
		return nil, pg.Stop(step, fmt.Sprintf("form action %q is not a URL", f.Action), err)
	}
	if f.Method == http.MethodGet {
		action.RawQuery = f.Fields.Encode()
		return s.Do(ctx, step, http.MethodGet, action.String(), nil)
	}
	return s.Do(ctx, step, http.MethodPost, action.String(), f.Fields)
}
