package console_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

var (
	clientIDRe     = regexp.MustCompile(`id="client-id" value="([^"]+)"`)
	clientSecretRe = regexp.MustCompile(`id="client-secret" value="([^"]+)"`)
)

// registered reads the client ID, and the client secret ("" when there
// is none), from the page that answers a registration or a rotation.
func registered(t *testing.T, p webtest.Page) (id, secret string) {
	t.Helper()
	m := clientIDRe.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("no client ID on %s (%d):\n%s", p.Path, p.Status, p.Body)
	}
	if s := clientSecretRe.FindStringSubmatch(p.Body); s != nil {
		secret = s[1]
	}
	return m[1], secret
}

// storedClient loads client id from the store.
func storedClient(t *testing.T, s *store.Store, id string) gatehouse.Client {
	t.Helper()
	c, err := s.Client(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clientCount counts the registered clients.
func clientCount(t *testing.T, s *store.Store) int {
	t.Helper()
	cs, err := s.ListClients(context.Background(), gatehouse.Page{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

// portalForm registers the voice portal, a web app without keys.
func portalForm() url.Values {
	return url.Values{"name": {"Voice portal"}, "kind": {"web"},
		"redirect_uris":             {"https://portal.example.com/callback\r\n\r\n  https://portal.example.com/second  \r\n"},
		"post_logout_redirect_uris": {"https://portal.example.com/"},
		"backchannel_logout_uri":    {"https://portal.example.com/backchannel-logout"}}
}

// TestSuperAdminRegistersApps: a super admin registers a web app and sees
// its client secret once, only its hash stored; a single-page and a
// desktop app get no secret; a bad redirect URI is marked on its line and
// stores nothing. Every app page shows what its developers need.
func TestSuperAdminRegistersApps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		support := e.SupportAdmin()
		b := e.SignedIn("support@provider.example")

		p := b.Get("/admin/apps")
		if p.Status != http.StatusOK || p.Title() != "Apps" {
			t.Fatalf("apps: %d %q", p.Status, p.Title())
		}
		p.MustShow(t, `href="/admin/apps" aria-current="page">Apps</a>`, "No app is registered yet", `href="/admin/apps/new">Register an app</a>`)

		p = b.Get("/admin/apps/new")
		p.MustShow(t, "<legend>Kind of app</legend>",
			`<input type="radio" name="kind" id="kind-web" value="web" required aria-describedby="kind-web-hint">`,
			`<label for="kind-web">Web app (server-side)</label>`, `<label for="kind-spa">Single-page app</label>`,
			`<label for="kind-native">Desktop or mobile app</label>`, `id="kind-native-hint"`,
			`<label for="f-redirect_uris">Redirect URIs</label>`, `name="post_logout_redirect_uris"`, `name="backchannel_logout_uri"`, `name="jwks"`)

		// A web app without keys: its secret, this once.
		p = b.Post("/admin/apps/new", portalForm())
		if p.Title() != "App registered: Voice portal" {
			t.Fatalf("registering the portal: %d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		id, secret := registered(t, p)
		if secret == "" {
			t.Fatalf("a web app without keys got no secret:\n%s", p.Body)
		}
		p.MustShow(t, "this is the only time Gatehouse shows it", `data-copy="client-secret"`, `data-copy="client-id"`,
			`value="http://gatehouse.test"`, `value="http://gatehouse.test/.well-known/openid-configuration"`, "PKCE S256 required")
		c := storedClient(t, s, id)
		if c.SecretHash != oidcop.HashSecret(secret) {
			t.Errorf("stored hash %q is not the hash of the secret shown", c.SecretHash)
		}
		if c.Kind != gatehouse.ClientWeb || !slices.Equal(c.RedirectURIs, []string{"https://portal.example.com/callback", "https://portal.example.com/second"}) ||
			!slices.Equal(c.PostLogoutRedirectURIs, []string{"https://portal.example.com/"}) || c.BackchannelLogoutURI != "https://portal.example.com/backchannel-logout" {
			t.Errorf("stored %+v", c)
		}
		if ev := e.Audit(string(gatehouse.ActionClientCreate)); ev.ActorID != support.ID || ev.TargetID != id {
			t.Errorf("audit %+v", ev)
		}

		// Never again: not on its page, not in the list.
		p = b.Get("/admin/apps/" + id)
		if p.Status != http.StatusOK || p.Title() != "Voice portal" {
			t.Fatalf("the app's page: %d %q", p.Status, p.Title())
		}
		p.MustOmit(t, secret)
		p.MustShow(t, `id="client-id" value="`+id+`"`, `value="http://gatehouse.test"`, `value="http://gatehouse.test/.well-known/openid-configuration"`,
			"PKCE S256 required", "client_secret_basic", "Make a new client secret", "https://portal.example.com/callback\nhttps://portal.example.com/second</textarea>")
		p = b.Get("/admin/apps")
		p.MustOmit(t, secret)
		p.MustShow(t, `<a href="/admin/apps/`+id+`">Voice portal</a>`, `<td data-label="Kind">Web app (server-side)</td>`,
			"<code>https://portal.example.com/callback</code><br><code>https://portal.example.com/second</code>",
			`<td data-label="Last updated"><time`, `<a href="/admin/apps/`+id+`">Edit<span class="visually-hidden"> Voice portal</span></a>`,
			`href="/admin/apps/`+id+`/delete" hx-get="/admin/apps/`+id+`/delete" hx-target="#dialog"`)

		// Public apps: the client ID, PKCE, no secret.
		for _, app := range []struct{ name, kind, redirect, words string }{
			{"UC app", "spa", "https://uc.example.com/callback", "Single-page app"},
			{"Desktop", "native", "http://127.0.0.1/callback", "Desktop or mobile app"},
		} {
			p = b.Post("/admin/apps/new", url.Values{"name": {app.name}, "kind": {app.kind}, "redirect_uris": {app.redirect}})
			id, secret := registered(t, p)
			if secret != "" {
				t.Errorf("public %s got a secret", app.kind)
			}
			p.MustShow(t, "App registered: "+app.name, "The app is public ("+app.words+"): it has no client secret, and proves each sign-in with PKCE")
			p.MustOmit(t, `id="client-secret"`, "only time Gatehouse shows it")
			if c := storedClient(t, s, id); c.SecretHash != "" || c.Kind != gatehouse.ClientKind(app.kind) {
				t.Errorf("public %s stored %+v", app.kind, c)
			}
			b.Get("/admin/apps").MustShow(t, `<td data-label="Kind">`+app.words+`</td>`)
		}

		// A bad redirect URI: named by its line, beside the field; nothing stored.
		before, audits := clientCount(t, s), e.Audit(string(gatehouse.ActionClientCreate)).ID
		bad := portalForm()
		bad.Set("name", "Bad portal")
		bad.Set("redirect_uris", "https://portal.example.com/callback\n\nhttp://portal.example.com/callback")
		p = b.Post("/admin/apps/new", bad)
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a bad redirect URI: %d", p.Status)
		}
		p.MustShow(t, "Nothing was saved: correct what is marked below.",
			`aria-describedby="f-redirect_uris-hint f-redirect_uris-error" aria-invalid="true">https://portal.example.com/callback`+"\n\n"+`http://portal.example.com/callback</textarea>`,
			`<p class="field-error" id="f-redirect_uris-error">Line 3, “http://portal.example.com/callback”, must use https`,
			`value="Bad portal"`, `id="kind-web" value="web" required aria-describedby="kind-web-hint" checked`)
		p.MustOmit(t, `id="client-secret"`)
		if n := clientCount(t, s); n != before {
			t.Errorf("a refused app stored something: %d clients, want %d", n, before)
		}
		if ev := e.Audit(string(gatehouse.ActionClientCreate)); ev.ID != audits {
			t.Errorf("a refused app was audited: %+v", ev)
		}

		// No kind, no redirect URI: each problem beside its field.
		p = b.Post("/admin/apps/new", url.Values{"name": {"Nothing"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("an empty form: %d", p.Status)
		}
		p.MustShow(t, `<p class="field-error" id="f-kind-error">Choose one of the kinds of app listed.</p>`, `aria-describedby="f-kind-error"`)
		if n := clientCount(t, s); n != before {
			t.Errorf("an empty form stored something: %d clients", n)
		}
	})
}

// TestSuperAdminEditsRotatesAndDeletesAnApp: the settings are saved (and
// refused beside the field), a new secret is shown once and replaces the
// old one's hash, a public app has no secret to rotate, and a delete
// after its confirmation removes the app.
func TestSuperAdminEditsRotatesAndDeletesAnApp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.SupportAdmin()
		b := e.SignedIn("support@provider.example")
		id, old := registered(t, b.Post("/admin/apps/new", portalForm()))
		path := "/admin/apps/" + id

		// Edit.
		p := b.Post(path, url.Values{"name": {"Voice portal (EU)"}, "redirect_uris": {"https://eu.portal.example.com/callback"},
			"post_logout_redirect_uris": {""}, "backchannel_logout_uri": {""}, "jwks": {""}})
		if p.Path != path+"?done=saved" || p.Title() != "Voice portal (EU)" {
			t.Fatalf("saving landed on %s %q:\n%s", p.Path, p.Title(), p.Body)
		}
		p.MustShow(t, "The changes were saved.")
		c := storedClient(t, s, id)
		if c.Name != "Voice portal (EU)" || !slices.Equal(c.RedirectURIs, []string{"https://eu.portal.example.com/callback"}) ||
			len(c.PostLogoutRedirectURIs) != 0 || c.BackchannelLogoutURI != "" || c.SecretHash != oidcop.HashSecret(old) {
			t.Errorf("after the edit: %+v", c)
		}
		if ev := e.Audit(string(gatehouse.ActionClientUpdate)); ev.TargetID != id {
			t.Errorf("edit audit %+v", ev)
		}
		// A bad back-channel URI and no redirect URI: refused, each beside
		// its field.
		p = b.Post(path, url.Values{"name": {"Renamed"}, "redirect_uris": {"\r\n "},
			"backchannel_logout_uri": {"ftp://portal.example.com/logout"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a bad back-channel URI: %d", p.Status)
		}
		p.MustShow(t, `<p class="field-error" id="f-backchannel_logout_uri-error">The back-channel logout URI must use https`,
			`<p class="field-error" id="f-redirect_uris-error">Enter at least one redirect URI.</p>`,
			`value="ftp://portal.example.com/logout"`, `value="Renamed"`)
		if c := storedClient(t, s, id); c.Name != "Voice portal (EU)" {
			t.Errorf("a refused edit saved the name %q", c.Name)
		}

		// Rotate, after a confirmation in the dialog.
		p = b.HTMX(http.MethodGet, path+"/secret", "dialog", nil)
		p.MustShow(t, `<h2 id="dialog-title">New client secret for Voice portal (EU)?</h2>`, "Its current secret stops working at once",
			`<form method="dialog" class="inline">`, `<form method="post" action="`+path+`/secret"><button type="submit" class="danger">`)
		p.MustOmit(t, "<html")
		p = b.Post(path+"/secret", url.Values{})
		rid, fresh := registered(t, p)
		if rid != id || fresh == "" || fresh == old {
			t.Fatalf("rotation showed %q, %q:\n%s", rid, fresh, p.Body)
		}
		p.MustShow(t, "New client secret for Voice portal (EU)", "The previous secret stopped working just now")
		if c := storedClient(t, s, id); c.SecretHash != oidcop.HashSecret(fresh) {
			t.Errorf("after the rotation the hash is %q, not the new secret's", c.SecretHash)
		}
		if ev := e.Audit(string(gatehouse.ActionClientSecretRotate)); ev.TargetID != id {
			t.Errorf("rotation audit %+v", ev)
		}
		b.Get(path).MustOmit(t, fresh, old)

		// A public app has no secret to rotate.
		spa, _ := registered(t, b.Post("/admin/apps/new", url.Values{"name": {"UC app"}, "kind": {"spa"}, "redirect_uris": {"https://uc.example.com/cb"}}))
		b.Get("/admin/apps/"+spa).MustOmit(t, "/secret")
		if p := b.Post("/admin/apps/"+spa+"/secret", url.Values{}); p.Status != http.StatusConflict {
			t.Errorf("rotating a public app's secret: %d, want 409", p.Status)
		}
		if c := storedClient(t, s, spa); c.SecretHash != "" {
			t.Errorf("a public app got a secret")
		}

		// Delete, after a confirmation.
		p = b.Get(path + "/delete")
		if p.Title() != "Delete Voice portal (EU)?" {
			t.Fatalf("delete confirmation: %d %q", p.Status, p.Title())
		}
		p.MustShow(t, `<form method="post" action="`+path+`/delete">`, `<a class="button secondary" href="/admin/apps">Cancel</a>`)
		b.HTMX(http.MethodGet, path+"/delete", "dialog", nil).MustShow(t, `<h2 id="dialog-title">Delete Voice portal (EU)?</h2>`)
		p = b.Post(path+"/delete", url.Values{})
		if p.Path != "/admin/apps?done=deleted" {
			t.Fatalf("delete landed on %s (%d)", p.Path, p.Status)
		}
		p.MustShow(t, "The app was deleted")
		p.MustOmit(t, "Voice portal")
		if _, err := s.Client(context.Background(), id); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("the deleted app: %v", err)
		}
		if p := b.Get(path); p.Status != http.StatusNotFound {
			t.Errorf("the deleted app's page: %d, want 404", p.Status)
		}
	})
}

// TestAppsAreForSuperAdminsOnly: an account admin and a partition admin
// get 403 on every Apps page and change nothing, and have no Apps link.
func TestAppsAreForSuperAdminsOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.Member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.SupportAdmin()
		super := e.SignedIn("support@provider.example")
		super.Get("/admin/accounts").MustShow(t, `<a href="/admin/apps">Apps</a>`)
		id, _ := registered(t, super.Post("/admin/apps/new", portalForm()))
		path := "/admin/apps/" + id

		for _, who := range []struct{ email, home string }{
			{"ada@acme.example", "/admin/accounts/" + acme.ID + "/authentication"},
			{"rita@reseller.example", "/admin/accounts"},
		} {
			b := e.SignedIn(who.email)
			p := b.Get(who.home)
			if p.Status != http.StatusOK {
				t.Fatalf("%s at home: %d", who.email, p.Status)
			}
			p.MustOmit(t, `href="/admin/apps"`, ">Apps</a>")
			for _, get := range []string{"/admin/apps", "/admin/apps/new", path, path + "/secret", path + "/delete"} {
				p := b.Get(get)
				if p.Status != http.StatusForbidden {
					t.Errorf("%s on %s: %d, want 403", who.email, get, p.Status)
				}
				p.MustShow(t, "Only provider administrators (super admins) can see and register the apps")
				p.MustOmit(t, "Voice portal", ">Apps</a>")
			}
			for _, post := range []struct {
				path string
				form url.Values
			}{
				{"/admin/apps/new", portalForm()},
				{path, url.Values{"name": {"Taken over"}, "redirect_uris": {"https://evil.example.com/cb"}}},
				{path + "/secret", url.Values{}},
				{path + "/delete", url.Values{}},
			} {
				if p := b.Post(post.path, post.form); p.Status != http.StatusForbidden {
					t.Errorf("%s posting to %s: %d, want 403", who.email, post.path, p.Status)
				}
			}
		}
		if n := clientCount(t, s); n != 1 {
			t.Errorf("%d clients, want the super admin's one", n)
		}
		if c := storedClient(t, s, id); c.Name != "Voice portal" || !slices.Equal(c.RedirectURIs, []string{"https://portal.example.com/callback", "https://portal.example.com/second"}) {
			t.Errorf("refused admins changed the app: %+v", c)
		}
		if ev := e.Audit("client."); ev.Action != gatehouse.ActionClientCreate {
			t.Errorf("a refused admin's change was audited: %+v", ev)
		}
	})
}

// TestAppIDTokenAlg: the app form's ID token signing algorithm, a select
// with its hint, is saved on register and on edit, and an unknown value is
// refused beside the field.
func TestAppIDTokenAlg(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.SupportAdmin()
		b := e.SignedIn("support@provider.example")

		p := b.Get("/admin/apps/new")
		p.MustShow(t, `<label for="f-id-token-alg">ID token signing algorithm</label>`,
			`<p class="hint" id="f-id-token-alg-hint">RS256 only for apps whose library cannot verify ES256.</p>`,
			`<select id="f-id-token-alg" name="id_token_signed_response_alg"`,
			`<option value="ES256">ES256 (recommended)</option><option value="RS256">RS256</option>`)

		p = b.Post("/admin/apps/new", url.Values{"name": {"Legacy"}, "kind": {"spa"}, "redirect_uris": {"https://legacy.example.com/cb"},
			"id_token_signed_response_alg": {"RS256"}})
		id, _ := registered(t, p)
		if c := storedClient(t, s, id); c.IDTokenSigningAlg != "RS256" {
			t.Errorf("registered with RS256: stored %q", c.IDTokenSigningAlg)
		}
		p = b.Get("/admin/apps/" + id)
		p.MustShow(t, `<option value="RS256" selected>RS256</option>`)

		form := url.Values{"name": {"Legacy"}, "redirect_uris": {"https://legacy.example.com/cb"}, "id_token_signed_response_alg": {"HS256"}}
		p = b.Post("/admin/apps/"+id, form)
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("HS256: %d", p.Status)
		}
		p.MustShow(t, `<p class="field-error" id="f-id-token-alg-error">`, `aria-invalid="true"`)
		form.Set("id_token_signed_response_alg", "ES256")
		b.Post("/admin/apps/"+id, form)
		if c := storedClient(t, s, id); c.IDTokenSigningAlg != "ES256" {
			t.Errorf("edited to ES256: stored %q", c.IDTokenSigningAlg)
		}
	})
}
