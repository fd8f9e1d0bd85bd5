package demoapp_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/demo"
	"gatehouse/internal/demoapp"
	"gatehouse/internal/password"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store/storetest"
)

// TestSampleAppsSignInOnceAndOutOfBoth is the demo's story for the apps:
// sign in at the sample portal, see the claims; open the sample UC app, no
// second sign-in; sign out in one, signed out of both.
func TestSampleAppsSignInOnceAndOutOfBoth(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	box, err := secretbox.New("test secret key, at least thirty-two characters long")
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.NewHasher(1)
	gh := httptest.NewUnstartedServer(nil)
	issuer := "http://" + gh.Listener.Addr().String()
	base, _ := url.Parse(issuer)
	gh.Config.Handler = app.New(app.Config{Store: s, Secrets: box, Passwords: hasher, BaseURL: base}).Handler
	gh.Start()
	defer gh.Close()

	p := gatehouse.Partition{Name: "Reseller"}
	must(t, s.CreatePartition(ctx, &p))
	a := gatehouse.Account{PartitionID: p.ID, Name: "Globex", Plan: gatehouse.PlanStandard}
	must(t, s.CreateAccount(ctx, &a))
	hash, err := hasher.Hash(ctx, "correct horse battery staple")
	must(t, err)
	gina := gatehouse.User{AccountID: a.ID, Email: "gina@globex.example", DisplayName: "Gina", Role: gatehouse.RoleAdmin, Status: gatehouse.UserActive, PasswordHash: hash}
	must(t, s.CreateUser(ctx, &gina))

	portalSrv, ucSrv := httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)
	portalURL, ucURL := "http://"+portalSrv.Listener.Addr().String(), "http://"+ucSrv.Listener.Addr().String()
	portal, uc, err := demo.SeedApps(ctx, s, portalURL, ucURL)
	must(t, err)
	portalSrv.Config.Handler = demoapp.New(demoapp.Config{Name: "Sample portal", BaseURL: portalURL, Issuer: issuer,
		ClientID: portal.Client.ID, ClientSecret: portal.Secret, Other: ucURL}).Handler()
	ucSrv.Config.Handler = demoapp.New(demoapp.Config{Name: "Sample UC app", BaseURL: ucURL, Issuer: issuer, ClientID: uc.Client.ID, Other: portalURL}).Handler()
	portalSrv.Start()
	ucSrv.Start()
	defer portalSrv.Close()
	defer ucSrv.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(u string) (string, string) {
		resp, err := browser.Get(u)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Request.URL.String(), string(b)
	}
	post := func(u string, form url.Values) (string, string) {
		resp, err := browser.PostForm(u, form)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Request.URL.String(), string(b)
	}

	at, _ := get(portalURL + "/login")
	if !strings.HasPrefix(at, issuer+"/login") {
		t.Fatalf("the sample portal's sign-in went to %s, want Gatehouse's sign-in", at)
	}
	returnTo, _ := url.Parse(at)
	post(issuer+"/login", url.Values{"email": {gina.Email}, "return_to": {returnTo.Query().Get("return_to")}})
	at, body := post(issuer+"/login/password", url.Values{"password": {"correct horse battery staple"}})
	// The page leading on to the app: its script follows the link.
	if m := regexp.MustCompile(`href="([^"]+)" data-sso-continue`).FindStringSubmatch(body); m != nil {
		at, body = get(issuer + html.UnescapeString(m[1]))
	}
	if !strings.HasPrefix(at, portalURL) || !strings.Contains(body, "Signed in") || !strings.Contains(body, gina.Email) {
		t.Fatalf("after sign-in: at %s, page %s", at, body)
	}
	at, body = get(ucURL + "/login")
	if !strings.HasPrefix(at, ucURL) || !strings.Contains(body, gina.Email) {
		t.Fatalf("the second app asked again: at %s, page %s", at, body)
	}
	at, _ = get(portalURL + "/logout")
	if !strings.HasPrefix(at, portalURL) {
		t.Fatalf("signing out of the portal ended at %s, want back at the portal", at)
	}
	if _, body = get(ucURL + "/"); strings.Contains(body, gina.Email) || !strings.Contains(body, "signed out") {
		t.Errorf("the UC app still shows the person after signing out of the portal: %s", body)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
