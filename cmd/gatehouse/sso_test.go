package main

import (
	"bufio"
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// startDemoBanner runs `gatehouse demo` until the test ends and returns the
// banner it printed.
func startDemoBanner(t *testing.T, dataDir string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--data", dataDir}, env(nil), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with %v", err)
		}
	})
	var banner strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		banner.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Data lives in") {
			go io.Copy(io.Discard, pr)
			return banner.String()
		}
	}
	t.Fatalf("demo printed no banner: %v\n%s", <-done, banner.String())
	return ""
}

// webPage is where a browser ended up and what it shows, entities decoded.
type webPage struct {
	url  *url.URL
	body string
}

// visit follows redirects with a cookie jar, like a browser.
func visit(t *testing.T, c *http.Client, method, target string, form url.Values) webPage {
	t.Helper()
	var res *http.Response
	var err error
	if method == http.MethodGet {
		res, err = c.Get(target)
	} else {
		req, _ := http.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", originOf(target))
		res, err = c.Do(req)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return webPage{url: res.Request.URL, body: string(raw)}
}

// originOf is the Origin of a form submitted from the target's own site.
// The sample IdP's post to the ACS is cross-site in a real browser;
// internal/web's tests post it so.
func originOf(target string) string {
	u, _ := url.Parse(target)
	return u.Scheme + "://" + u.Host
}

var (
	continueRe = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)
	formRe     = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"[^>]*>(.*?)</form>`)
	fieldRe    = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// forms lists a page's POST forms: action and hidden fields.
func forms(body string) []struct {
	action string
	fields url.Values
} {
	var out []struct {
		action string
		fields url.Values
	}
	for _, m := range formRe.FindAllStringSubmatch(body, -1) {
		v := url.Values{}
		for _, f := range fieldRe.FindAllStringSubmatch(m[2], -1) {
			v.Add(f[1], html.UnescapeString(f[2]))
		}
		out = append(out, struct {
			action string
			fields url.Values
		}{html.UnescapeString(m[1]), v})
	}
	return out
}

// signInAtDemoIdP types email into Gatehouse, follows it to the sample IdP,
// clicks pick there, and returns where the browser lands.
func signInAtDemoIdP(t *testing.T, c *http.Client, base, email, pick string) webPage {
	t.Helper()
	p := visit(t, c, http.MethodPost, base+"/login", url.Values{"email": {email}})
	m := continueRe.FindStringSubmatch(p.body)
	if p.url.Path != "/login" || m == nil {
		t.Fatalf("%s: after the email at %s:\n%.1500s", email, p.url, p.body)
	}
	p = visit(t, c, http.MethodGet, html.UnescapeString(m[1]), nil)
	if !strings.Contains(p.body, "DEMO ONLY") || !strings.Contains(p.body, `class="suggested"`) {
		t.Fatalf("the sample IdP's page:\n%.2000s", p.body)
	}
	for _, f := range forms(p.body) {
		if f.fields.Get("pick") != pick {
			continue
		}
		p = visit(t, c, http.MethodPost, p.url.Scheme+"://"+p.url.Host+f.action, f.fields)
		posted := forms(p.body)
		if len(posted) != 1 || posted[0].fields.Get("SAMLResponse") == "" || !strings.Contains(p.body, `src="/static/autosubmit.js"`) {
			t.Fatalf("the IdP's answer page:\n%.2000s", p.body)
		}
		// The browser runs autosubmit.js: the form goes to Gatehouse's ACS.
		return visit(t, c, http.MethodPost, posted[0].action, posted[0].fields)
	}
	t.Fatalf("the sample IdP does not offer %s:\n%.2000s", pick, p.body)
	return webPage{}
}

func newJarClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// TestDemoSSO is the newcomer's SSO story through the real binary: Bob is
// sent to the sample IdP and comes back signed in; a person the IdP knows
// but Gatehouse does not gets the no-seat page; Ada, an admin, may choose,
// and can test the configuration.
func TestDemoSSO(t *testing.T) {
	banner := startDemoBanner(t, t.TempDir())
	base := regexp.MustCompile(`Open (http://\S+)/login`).FindStringSubmatch(banner)[1]
	for _, want := range []string{"DEMO ONLY", "bob@acme.example", "newhire@acme.example", "/test"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner does not mention %q:\n%s", want, banner)
		}
	}

	bob := newJarClient()
	p := signInAtDemoIdP(t, bob, base, "bob@acme.example", "bob@acme.example")
	if p.url.String() != base+"/" || !strings.Contains(p.body, "Signed in as bob@acme.example to Acme.") {
		t.Fatalf("Bob ended at %s:\n%.1500s", p.url, p.body)
	}

	p = signInAtDemoIdP(t, newJarClient(), base, "carol@acme.example", "newhire@acme.example")
	if !strings.Contains(p.body, "There is no seat for newhire@acme.example at Acme. Ask your administrator.") {
		t.Fatalf("the new hire ended at %s:\n%.1500s", p.url, p.body)
	}

	ada := newJarClient()
	p = visit(t, ada, http.MethodPost, base+"/login", url.Values{"email": {"ada@acme.example"}})
	if p.url.Path != "/login/way" {
		t.Fatalf("Ada after the email: %s", p.url)
	}
	visit(t, ada, http.MethodGet, base+"/login/password", nil)
	if p = visit(t, ada, http.MethodPost, base+"/login/password", url.Values{"password": {"gatehouse-demo"}}); p.url.Path != "/" {
		t.Fatalf("Ada's password sign-in: %s", p.url)
	}
	testURL := regexp.MustCompile(`as ada: (\S+/test)`).FindStringSubmatch(banner)
	if testURL == nil {
		t.Fatalf("no test link in the banner:\n%s", banner)
	}
	p = visit(t, ada, http.MethodGet, testURL[1], nil)
	m := continueRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("test start:\n%.1500s", p.body)
	}
	p = visit(t, ada, http.MethodGet, html.UnescapeString(m[1]), nil)
	for _, f := range forms(p.body) {
		if f.fields.Get("pick") == "dave@acme.example" {
			p = visit(t, ada, http.MethodPost, p.url.Scheme+"://"+p.url.Host+f.action, f.fields)
			posted := forms(p.body)
			p = visit(t, ada, http.MethodPost, posted[0].action, posted[0].fields)
		}
	}
	if !strings.HasPrefix(p.url.Path, "/sso/test-result/") || !strings.Contains(p.body, "passed") || !strings.Contains(p.body, "Matches Dave Diaz (dave@acme.example)") {
		t.Fatalf("test result at %s:\n%.2500s", p.url, p.body)
	}
}
