package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// sessionCookie is the cookie that says a browser is signed in.
const sessionCookie = "gatehouse_session"

// newTransport is the connection pool every client shares: keep-alive
// connections to each process, as many idle as there are clients, so the
// load measures sign-ins and not TCP handshakes.
func newTransport(clients int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        4 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     90 * time.Second,
	}
}

// api calls Gatehouse's REST API with the cluster's super token.
func (cl *cluster) api(ctx context.Context, method, path string, body, out any, want int) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	return cl.apiBody(ctx, method, path, "application/json", b, out, want)
}

// apiBody is api with a body already encoded as contentType (none when
// body is nil).
func (cl *cluster) apiBody(ctx context.Context, method, path, contentType string, body []byte, out any, want int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, cl.procs[0].addr+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+cl.token)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s, want %d\n%s", method, path, resp.Status, want, excerpt(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w\n%s", method, path, err, excerpt(b))
		}
	}
	return nil
}

// browser is one person's browser: a cookie jar of its own, and no
// redirect followed behind its back, so every step's answer is checked.
type browser struct {
	client *http.Client
}

func newBrowser(tr http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{client: &http.Client{
		Transport: tr,
		Jar:       jar,
		Timeout:   60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// answer is one response, read whole.
type answer struct {
	status   int
	location string
	body     []byte
}

// stepError is a step that did not answer as a sign-in should: the report
// prints it with the status and the start of the body.
type stepError struct {
	step   string
	status int
	detail string
}

func (e *stepError) Error() string {
	return fmt.Sprintf("%s: status %d: %s", e.step, e.status, e.detail)
}

func (b *browser) do(req *http.Request) (answer, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: body}, nil
}

func (b *browser) get(ctx context.Context, target string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return answer{}, err
	}
	return b.do(req)
}

// post submits a form body from a page of origin, as a browser does (the
// Origin header is what Gatehouse's cross-origin protection reads).
func (b *browser) post(ctx context.Context, target, origin, form string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return b.do(req)
}

// redirectTo checks a 303 to a path starting with prefix and returns the
// absolute URL on base.
func (a answer) redirectTo(step, base, prefix string) (string, error) {
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, prefix) {
		return "", &stepError{step, a.status, fmt.Sprintf("want a redirect to %s…, got Location %q; %s", prefix, a.location, excerpt(a.body))}
	}
	return base + a.location, nil
}

// signedIn checks the browser holds a session cookie for base.
func (b *browser) signedIn(step, base string, a answer) error {
	u, _ := url.Parse(base + "/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == sessionCookie && c.Value != "" {
			return nil
		}
	}
	return &stepError{step, a.status, "no session cookie set; " + excerpt(a.body)}
}

var (
	continueLinkRe = regexp.MustCompile(`href="([^"]+)" data-sso-continue`)
	titleRe        = regexp.MustCompile(`(?s)<title>(.*?)</title>`)
	switchFormRe   = regexp.MustCompile(`name="choice" value="continue"`)
	tagRe          = regexp.MustCompile(`<[^>]*>`)
)

// continueLink is the link on the page that sends the browser to the IdP
// (the Redirect binding's, and every OIDC authorization request).
func continueLink(step string, a answer) (*url.URL, error) {
	m := continueLinkRe.FindSubmatch(a.body)
	if a.status != http.StatusOK || m == nil {
		return nil, &stepError{step, a.status, "want the page that leads to the IdP; " + excerpt(a.body)}
	}
	return url.Parse(html.UnescapeString(string(m[1])))
}

// finish takes the browser through the finish step: a browser signed in
// as someone else is asked first (the switch question), and continues.
func (b *browser) finish(ctx context.Context, base, finishURL string) error {
	a, err := b.get(ctx, finishURL)
	if err != nil {
		return err
	}
	if a.status == http.StatusOK && switchFormRe.Match(a.body) {
		if a, err = b.post(ctx, finishURL, base, "choice=continue"); err != nil {
			return err
		}
	}
	if a.status != http.StatusSeeOther && a.status != http.StatusOK {
		return &stepError{"finish", a.status, excerpt(a.body)}
	}
	return b.signedIn("finish", base, a)
}

// excerpt is the start of a body for a failure report: the title of an
// HTML page and the first bytes of its text.
func excerpt(b []byte) string {
	s := string(b)
	title := ""
	if m := titleRe.FindStringSubmatch(s); m != nil {
		title = "title " + strings.TrimSpace(html.UnescapeString(m[1])) + "; "
	}
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	s = strings.Join(strings.Fields(tagRe.ReplaceAllString(s, " ")), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return title + "body: " + html.UnescapeString(s)
}
