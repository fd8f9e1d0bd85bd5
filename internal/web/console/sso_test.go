package console_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// adaStarts signs in Acme's admin Ada and creates a configuration of
// preset in the wizard; base is its pages' root.
func adaStarts(t *testing.T, s *store.Store, preset string) (e *webtest.Env, b *webtest.Browser, c gatehouse.SSOConfig, base string) {
	t.Helper()
	e = webtest.NewEnv(t, s, webtest.NewClock())
	acme := e.Account("Acme")
	e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
	b = e.Browser()
	b.SignIn("ada@acme.example", webtest.GoodPassword)
	c = b.CreateConfig(acme.ID, preset)
	return e, b, c, "/admin/accounts/" + acme.ID + "/sso/" + c.ID
}

// samlForm is the connect form filled in with idp's values.
func samlForm(version, entityID, ssoURL, cert string) url.Values {
	return url.Values{"updated_at": {version}, "idp_entity_id": {entityID}, "sso_url": {ssoURL}, "sso_binding": {"redirect"},
		"certificate_0": {cert}, "name_id_format": {saml.NameIDFormatEmail}, "clock_skew_seconds": {"120"}}
}

// TestAdminSetsUpSAMLInTheWizard walks an account admin through the whole
// setup: choose Okta, see the values to copy in Okta's words, import the
// IdP's metadata file, test, see who enabling would govern, enable.
func TestAdminSetsUpSAMLInTheWizard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		idp := webtest.SAMLIdP(t, "okta")
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		root := "/admin/accounts/" + acme.ID

		p := b.Get("/")
		p.MustShow(t, `href="`+root+`/authentication">Authentication (SSO)</a>`)
		p = b.Get("/admin")
		if p.Path != root+"/authentication" || p.Title() != "Authentication" {
			t.Fatalf("/admin led to %s %q", p.Path, p.Title())
		}
		p.MustShow(t, "No SSO configuration yet", `href="`+root+`/sso/new"`, `aria-current="page">Authentication</a>`)

		p = b.Get(root + "/sso/new")
		for _, idp := range ssoconfig.IdPs() {
			p.MustShow(t, html.EscapeString(idp.Name))
		}
		p.MustShow(t, `value="okta_saml"`, `value="entra_id_multitenant_oidc"`, `value="generic_saml"`)

		c := b.CreateConfig(acme.ID, "okta_saml")
		sp := ssoconfig.SP(&url.URL{Scheme: "http", Host: "gatehouse.test"}, &c)
		base := root + "/sso/" + c.ID
		p = b.Get(base + "/setup")
		p.MustShow(t, "Set up Okta: "+c.Name, "In the Okta Admin Console", "Audience URI (SP Entity ID)", `value="`+sp.EntityID+`"`,
			"Single sign-on URL", `value="`+sp.ACSURL+`"`, `data-copy="sp-acs-url"`, `href="/sso/saml/`+c.ID+`/metadata" download`, "Draft", "Not tested yet")

		// The configuration's own address leads to the step it is at.
		if p := b.Get(base); p.Path != base+"/connect" {
			t.Errorf("a new draft's address led to %s", p.Path)
		}
		// A draft is saved from the first step: it is in the table.
		p = b.Get(root + "/authentication")
		p.MustShow(t, "<code>"+c.Name+"</code>", "Okta, SAML 2.0", "Draft", "Complete it first")

		meta, err := idp.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		p = b.PostMultipart(base+"/metadata", url.Values{"updated_at": {e.Version(c.ID)}}, "metadata_file", "okta.xml", meta)
		if p.Path != base+"/connect?done=imported" {
			t.Fatalf("import landed on %s (%d):\n%s", p.Path, p.Status, p.Body)
		}
		infos, err := saml.ParseCertificatesPEM(webtest.CertPEM(idp))
		if err != nil {
			t.Fatal(err)
		}
		p.MustShow(t, "Imported your identity provider", `value="`+idp.EntityID+`"`, `value="`+idp.SSOURL+`"`,
			infos[0].SHA256Fingerprint, "Complete")
		if ev := e.Audit("sso_config.metadata_import"); ev.ActorID != ada.ID || ev.TargetID != c.ID {
			t.Errorf("import audit %+v", ev)
		}

		// Save and continue leads to the test, which is not run yet.
		p = b.Post(base+"/connect", url.Values{"next": {"continue"}, "updated_at": {e.Version(c.ID)}, "idp_entity_id": {idp.EntityID},
			"sso_url": {idp.SSOURL}, "sso_binding": {"redirect"}, "certificate_0": {webtest.CertPEM(idp)}, "name_id_format": {saml.NameIDFormatEmail},
			"clock_skew_seconds": {"120"}})
		if p.Path != base+"/test" {
			t.Fatalf("save and continue landed on %s:\n%s", p.Path, p.Body)
		}
		p.MustShow(t, `href="/sso/saml/`+c.ID+`/test">Run test</a>`, "Not tested yet.")

		// Enabling before a test is refused, and says why.
		p = b.Get(base + "/enable")
		p.MustShow(t, "It cannot be enabled yet.", "run Test", `disabled aria-describedby="enable-blocked"`)

		// The test: a real sign-in at the IdP, through the configuration.
		req := webtest.IdPRequest(t, b.Get("/sso/saml/"+c.ID+"/test"))
		resp, err := idp.SignedResponse(samltestResponse(e, sp, req.ID, "bob@acme.example"), signedBoth)
		if err != nil {
			t.Fatal(err)
		}
		p = b.PostACS(c.ID, resp, req.RelayState)
		if p.Title() != "Test of "+c.Name+" passed" {
			t.Fatalf("test result %q:\n%s", p.Title(), p.Body)
		}
		p.MustShow(t, `href="`+base+`/enable">Next: enable `+c.Name+`</a>`, `aria-label="Administration"`)

		if p := b.Get(base); p.Path != base+"/enable" {
			t.Errorf("a tested configuration's address led to %s", p.Path)
		}
		p = b.Get(base + "/enable")
		p.MustShow(t, "Sign in through Okta only: 1", "bob@acme.example", "Keep their password (and authenticator app): 1",
			"ada@acme.example", "administrator: chooses SSO or password", "Enable "+c.Name)
		p.MustOmit(t, "It cannot be enabled yet.")
		// The table's switch opens the same preview in the page's dialog.
		d := b.HTMX(http.MethodGet, base+"/enable", "dialog", nil)
		if d.Status != http.StatusOK || strings.Contains(d.Body, "<html") || !strings.Contains(d.Body, `id="dialog-title"`) {
			t.Fatalf("dialog variant: %d\n%s", d.Status, d.Body)
		}
		d.MustShow(t, "Sign in through Okta only: 1", `<form method="dialog"`)

		p = b.Post(base+"/enable", nil)
		if p.Path != root+"/authentication?done=enabled&config="+c.ID {
			t.Fatalf("enable landed on %s:\n%s", p.Path, p.Body)
		}
		p.MustShow(t, c.Name+" is enabled: it now governs sign-in for this account.", `role="switch" aria-checked="true"`)
		if ev := e.Audit("sso_config.enable"); ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != ada.ID || ev.ActorType != "user" {
			t.Errorf("enable audit %+v", ev)
		}
		// And bob is sent to the IdP from now on.
		if p := e.Browser().Post("/login", url.Values{"email": {"bob@acme.example"}}); !p.LeadsToIdP() {
			t.Errorf("bob's email step led to %s %q", p.Path, p.Title())
		}

		// An enabled configuration cannot be deleted.
		p = b.Get(base + "/delete")
		p.MustShow(t, "is enabled, so it cannot be deleted")
		if p := b.Post(base+"/delete", nil); p.Status != http.StatusConflict {
			t.Errorf("delete of an enabled configuration: %d", p.Status)
		}
		if _, err := s.SSOConfig(context.Background(), c.ID); err != nil {
			t.Errorf("enabled configuration gone: %v", err)
		}
	})
}

// TestAdminConnectFormLosesNothing: a refused save keeps everything typed
// and saves nothing; a draft with problems is saved with each problem
// beside its field; a save over someone else's edit is refused.
func TestAdminConnectFormLosesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		idp := webtest.SAMLIdP(t, "acme")
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		c := b.CreateConfig(acme.ID, "generic_saml")
		base := "/admin/accounts/" + acme.ID + "/sso/" + c.ID
		before := e.Version(c.ID)

		form := samlForm(before, idp.EntityID, "https://idp.acme.test/typed-sso", webtest.CertPEM(idp))
		form.Set("clock_skew_seconds", "two minutes")
		p := b.Post(base+"/connect", form)
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("clock skew in words: %d", p.Status)
		}
		p.MustShow(t, "Nothing was saved", "must be a whole number of seconds", `value="two minutes"`, `value="https://idp.acme.test/typed-sso"`,
			`aria-invalid="true"`, `id="f-saml.clock_skew_seconds-error"`)
		if e.Version(c.ID) != before {
			t.Fatal("a refused save changed the configuration")
		}

		// A draft saves whatever it holds, and says what is missing where.
		form = samlForm(before, idp.EntityID, "http://idp.acme.example/sso", "not a certificate")
		form.Set("next", "draft")
		p = b.Post(base+"/connect", form)
		if p.Path != base+"/connect?done=draft" {
			t.Fatalf("draft save landed on %s:\n%s", p.Path, p.Body)
		}
		p.MustShow(t, "Saved as a draft", "must use https", "Not a certificate Gatehouse can use", `href="#cert-0"`, `href="#f-saml.sso_url"`,
			`value="http://idp.acme.example/sso"`, "not a certificate</textarea>")
		saved, err := s.SSOConfig(context.Background(), c.ID)
		if err != nil || saved.SAML.SSOURL != "http://idp.acme.example/sso" {
			t.Fatalf("draft not saved: %+v %v", saved.SAML, err)
		}

		// The version read before the draft is now stale.
		p = b.Post(base+"/connect", samlForm(before, idp.EntityID, idp.SSOURL, webtest.CertPEM(idp)))
		p.MustShow(t, "Someone changed this configuration after you opened it", `value="`+idp.SSOURL+`"`)
		if again, _ := s.SSOConfig(context.Background(), c.ID); again.SAML.SSOURL != "http://idp.acme.example/sso" {
			t.Fatal("a stale save was applied")
		}
	})
}

// TestAdminEditOfEnabledMustStayComplete: an edit that would leave the
// enabled configuration incomplete is refused and changes nothing.
func TestAdminEditOfEnabledMustStayComplete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		on := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		base := "/admin/accounts/" + on.Config.AccountID + "/sso/" + on.Config.ID
		p := b.Post(base+"/connect", samlForm(e.Version(on.Config.ID), on.IdP.EntityID, "", webtest.CertPEM(on.IdP)))
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("emptying the SSO URL of an enabled configuration: %d", p.Status)
		}
		p.MustShow(t, "This configuration is enabled, so an edit must leave it complete. Nothing was saved", "is required: the IdP&#39;s single sign-on URL")
		if c, _ := s.SSOConfig(context.Background(), on.Config.ID); !c.Enabled || c.SAML.SSOURL != on.IdP.SSOURL {
			t.Fatalf("configuration after the refused edit: enabled %v, %q", c.Enabled, c.SAML.SSOURL)
		}
	})
}

// TestAdminMetadataImportRefusals: bad metadata is refused with the reason
// beside the field it came from, and changes nothing.
func TestAdminMetadataImportRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, b, c, base := adaStarts(t, s, "generic_saml")
		before := e.Version(c.ID)

		for name, tc := range map[string]struct {
			file []byte
			want string
		}{
			"malformed XML": {[]byte("<EntityDescriptor><unclosed>"), "Nothing was imported"},
			"a DTD":         {[]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>`), "Nothing was imported"},
			"empty":         {[]byte("  "), "The file is empty."},
			"too large":     {bytes.Repeat([]byte("<a/>"), 300_000), "larger than 1 MiB"},
		} {
			p := b.PostMultipart(base+"/metadata", url.Values{"updated_at": {before}}, "metadata_file", "idp.xml", tc.file)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d", name, p.Status)
			}
			p.MustShow(t, tc.want, `id="metadata-file-error"`)
		}
		p := b.Post(base+"/metadata", url.Values{"url": {""}})
		p.MustShow(t, "Enter the URL of your identity provider")
		// An IdP whose metadata URL answers with an error page.
		broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) }))
		defer broken.Close()
		p = b.Post(base+"/metadata", url.Values{"url": {broken.URL + "/metadata"}})
		p.MustShow(t, `id="metadata-url-error"`, `value="`+broken.URL+`/metadata"`)
		if e.Version(c.ID) != before {
			t.Fatal("a refused import changed the configuration")
		}

		// The same by URL, from an IdP that serves it, works.
		meta, _ := webtest.SAMLIdP(t, "acme").Metadata()
		good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(meta) }))
		defer good.Close()
		p = b.Post(base+"/metadata", url.Values{"url": {good.URL + "/metadata"}, "updated_at": {before}})
		if p.Path != base+"/connect?done=imported" {
			t.Fatalf("URL import landed on %s:\n%s", p.Path, p.Body)
		}
	})
}

// TestAdminCertificateShownAtOnce: a pasted certificate is described
// (subject, fingerprint, expiry) before anything is saved.
func TestAdminCertificateShownAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		idp := webtest.SAMLIdP(t, "acme")
		info, _ := saml.ParseCertificatesPEM(webtest.CertPEM(idp))
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)

		p := b.Post("/admin/certificate", url.Values{"field": {"certificate_1"}, "certificate_1": {webtest.CertPEM(idp)}})
		p.MustShow(t, "<dt>Subject</dt><dd>"+html.EscapeString(info[0].Subject)+"</dd>", info[0].SHA256Fingerprint, "Valid until")
		p.MustOmit(t, "<html")
		p = b.Post("/admin/certificate", url.Values{"field": {"certificate_0"}, "certificate_0": {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}})
		p.MustShow(t, "Not a certificate Gatehouse can use")
		p = b.Post("/admin/certificate", url.Values{"field": {"certificate_0"}, "certificate_0": {strings.Repeat("A", 40<<10)}})
		p.MustShow(t, "This is too long to be a certificate.")

		// Only admins may ask.
		bob := e.Browser()
		bob.SignIn("bob@acme.example", webtest.GoodPassword)
		if p := bob.Post("/admin/certificate", url.Values{"field": {"c"}, "c": {webtest.CertPEM(idp)}}); p.Status != http.StatusForbidden {
			t.Errorf("a user asked: %d", p.Status)
		}
	})
}

// TestAdminPagesReach: users are refused, admins of another account find
// nothing, partition admins reach their partition's accounts, and a form
// posted from another site is refused.
func TestAdminPagesReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		acmeConfig := e.SAMLConfig("Acme", "acme", false, nil)
		globex := e.AccountIn("Globex", acme.PartitionID)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		e.Member("Globex", "gina@globex.example", gatehouse.RoleAdmin)
		e.Member("Globex", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		acmeBase := "/admin/accounts/" + acme.ID

		bob := e.Browser()
		bob.SignIn("bob@acme.example", webtest.GoodPassword)
		if p := bob.Get(acmeBase + "/authentication"); p.Status != http.StatusForbidden {
			t.Errorf("a user opened the Authentication page: %d", p.Status)
		}
		bob.Get("/").MustOmit(t, "/admin/")

		gina := e.Browser()
		gina.SignIn("gina@globex.example", webtest.GoodPassword)
		for _, path := range []string{acmeBase + "/authentication", acmeBase + "/sso/" + acmeConfig.Config.ID + "/connect",
			"/admin/accounts/" + globex.ID + "/sso/" + acmeConfig.Config.ID + "/connect"} {
			if p := gina.Get(path); p.Status != http.StatusNotFound {
				t.Errorf("Globex's admin at %s: %d", path, p.Status)
			}
		}
		if p := gina.Post("/admin/accounts/"+globex.ID+"/sso/"+acmeConfig.Config.ID+"/delete", nil); p.Status != http.StatusNotFound {
			t.Errorf("Globex's admin deleted Acme's configuration through Globex's URL: %d", p.Status)
		}
		if _, err := s.SSOConfig(context.Background(), acmeConfig.Config.ID); err != nil {
			t.Fatalf("Acme's configuration: %v", err)
		}

		rita := e.Browser()
		rita.SignIn("rita@reseller.example", webtest.GoodPassword)
		if p := rita.Get(acmeBase + "/authentication"); p.Status != http.StatusOK {
			t.Errorf("the partition admin at Acme: %d", p.Status)
		}
		if p := rita.Get("/admin"); p.Path != "/admin/accounts" {
			t.Errorf("/admin led the partition admin to %s", p.Path)
		}

		ada := e.Browser()
		ada.SignIn("ada@acme.example", webtest.GoodPassword)
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+acmeBase+"/sso", strings.NewReader("preset=okta_saml"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		if p := ada.Do(req); p.Status != http.StatusForbidden {
			t.Errorf("a cross-site form: %d", p.Status)
		}
		if all, _ := s.ListSSOConfigs(context.Background(), acme.ID, ""); len(all) != 1 {
			t.Errorf("%d configurations after the cross-site form, want 1", len(all))
		}
		// Not choosing an IdP is refused with the reason, and nothing made.
		p := ada.Post(acmeBase+"/sso", url.Values{"preset": {"no_such_idp"}})
		p.MustShow(t, "Choose your identity provider, then continue.", `id="preset-error"`)
		if all, _ := s.ListSSOConfigs(context.Background(), acme.ID, ""); len(all) != 1 {
			t.Errorf("%d configurations after a bad choice, want 1", len(all))
		}
	})
}

// TestAdminSwitchAndDelete: enabling a second configuration switches the
// first off in the same step; a disabled one is deleted after asking.
func TestAdminSwitchAndDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		first := e.SAMLConfig("Acme", "acme", true, nil)
		second := e.SAMLConfig("Acme", "okta", false, nil)
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		ctx := context.Background()
		if err := s.RecordSSOTest(ctx, second.Config.ID, gatehouse.SSOTest{At: e.Clock.Now(), By: ada.ID, Outcome: gatehouse.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		root := "/admin/accounts/" + first.Config.AccountID

		b.Get(root+"/sso/"+second.Config.ID+"/enable").MustShow(t, first.Config.Name+" is enabled now:</strong> enabling "+second.Config.Name+" switches it off")
		p := b.Post(root+"/sso/"+second.Config.ID+"/enable", nil)
		p.MustShow(t, second.Config.Name+" is enabled, and "+first.Config.Name+" was switched off in the same step.")
		if c, _ := s.SSOConfig(ctx, first.Config.ID); c.Enabled {
			t.Fatal("the first configuration is still enabled")
		}

		d := b.HTMX(http.MethodGet, root+"/sso/"+first.Config.ID+"/delete", "dialog", nil)
		d.MustShow(t, "Delete the SSO configuration <strong>"+first.Config.Name+"</strong>", `<form method="dialog"`)
		if _, err := s.SSOConfig(ctx, first.Config.ID); err != nil {
			t.Fatal("asking deleted it")
		}
		p = b.Post(root+"/sso/"+first.Config.ID+"/delete", nil)
		p.MustShow(t, "The SSO configuration "+first.Config.Name+" was deleted.")
		if _, err := s.SSOConfig(ctx, first.Config.ID); err == nil {
			t.Fatal("not deleted")
		}

		p = b.Post(root+"/sso/"+second.Config.ID+"/disable", nil)
		p.MustShow(t, second.Config.Name+" is disabled: everyone signs in with their password again.", `role="switch" aria-checked="false" hx-get=`)
	})
}

// TestAdminSetsUpOIDC: the OIDC form keeps the client secret write-only.
func TestAdminSetsUpOIDC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, b, c, base := adaStarts(t, s, "entra_id_oidc")
		b.Get(base+"/setup").MustShow(t, "Redirect URI (Web platform)", `value="http://gatehouse.test/sso/oidc/`+c.ID+`/callback"`)
		p := b.Get(base + "/connect")
		p.MustShow(t, "Client ID", "Client secret", `name="allowed_algorithms" value="RS256" checked`)

		const secret = "s3cret-value-never-shown"
		const tenant = "8a2c1f1e-5b1c-4d3e-9f10-0123456789ab"
		p = b.Post(base+"/connect", url.Values{"updated_at": {e.Version(c.ID)}, "issuer": {"https://login.microsoftonline.com/" + tenant + "/v2.0"},
			"client_id": {"11111111-2222-3333-4444-555555555555"}, "client_secret": {secret},
			"scopes": {"openid email profile"}, "email_claim": {"email"}, "allowed_algorithms": {"RS256"}, "next": {"continue"}})
		if p.Path != base+"/test" {
			t.Fatalf("save and continue landed on %s:\n%s", p.Path, p.Body)
		}
		p = b.Get(base + "/connect")
		p.MustShow(t, "A secret is saved; it is never shown again.", tenant)
		p.MustOmit(t, secret)
		if ev := e.Audit("sso_config.update"); strings.Contains(strings.Join(mapValues(ev.Details), " "), secret) {
			t.Fatalf("the secret is in the audit log: %+v", ev)
		}
	})
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// signedBoth signs the Response and its Assertion, as most IdPs do.
var signedBoth = samltest.Signing{Response: true, Assertion: true}

// samltestResponse is a Response for the SP values sp answering requestID.
func samltestResponse(e *webtest.Env, sp ssoconfig.SPValues, requestID, nameID string) samltest.Response {
	return samltest.Response{Now: e.Clock.Now(), Destination: sp.ACSURL, Audience: sp.EntityID, InResponseTo: requestID, NameID: nameID,
		Attributes: map[string][]string{"email": {nameID}}}
}

// TestAdminSeesBreakGlassUntilReEnabled: after provider support breaks the
// glass, the account's Authentication page says so and why, until a
// configuration is enabled again.
func TestAdminSeesBreakGlassUntilReEnabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		on := e.SAMLConfig("Acme", "acme", true, nil)
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		ctx := context.Background()
		if err := s.RecordSSOTest(ctx, on.Config.ID, gatehouse.SSOTest{At: e.Clock.Now(), By: ada.ID, Outcome: gatehouse.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		root := "/admin/accounts/" + on.Config.AccountID
		b.Get(root+"/authentication").MustOmit(t, "Provider support turned off SSO")

		if _, err := admin.BreakGlass(ctx, s, on.Config.AccountID, "ticket 4711: IdP down", gatehouse.AuditEvent{Time: e.Clock.Now(), ActorType: "system", ActorID: "cli",
			Details: map[string]string{"by": "Sam <sam@provider.example>"}}); err != nil {
			t.Fatal(err)
		}
		b.Get(root+"/authentication").MustShow(t, "Provider support turned off SSO for this account", "(Sam &lt;sam@provider.example&gt;).",
			"Reason given: ticket 4711: IdP down")

		// No new test is needed: break-glass changed no IdP setting.
		p := b.Post(root+"/sso/"+on.Config.ID+"/enable", nil)
		p.MustShow(t, on.Config.Name+" is enabled")
		p.MustOmit(t, "Provider support turned off SSO")
	})
}

// TestAdminPartAfterSessionEnds: a part of a page asked for by htmx after
// the session ended sends the whole page to sign-in.
func TestAdminPartAfterSessionEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.Browser()
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/admin/certificate", strings.NewReader("field=c&c=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		p := b.Do(req)
		if p.Status != http.StatusUnauthorized || p.Header.Get("HX-Redirect") != "/login" || p.Body != "" {
			t.Fatalf("htmx request without a session: %d, HX-Redirect %q, body %q", p.Status, p.Header.Get("HX-Redirect"), p.Body)
		}
	})
}

// TestAdminWarnedBeforeCertificateExpires: the table warns of a signing
// certificate that expires within 30 days (SECURITY.md P-expired-cert).
func TestAdminWarnedBeforeCertificateExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		idp := webtest.SAMLIdP(t, "acme")
		now := e.Clock.Now()
		soon, err := samltest.SelfSigned(idp.Key, "Expiring IdP key", now.Add(-time.Hour), now.Add(10*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		on := e.SAMLConfig("Acme", "acme", true, func(st *gatehouse.SAMLSettings) {
			st.Certificates = []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: soon.Raw}))}
		})
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		p := b.Get("/admin/accounts/" + on.Config.AccountID + "/authentication")
		p.MustShow(t, "Signing certificate expires", soon.NotAfter.UTC().Format("2 Jan 2006"), "add the IdP's next one")
	})
}

// O-aud: the connect form shows and edits the trusted audiences, one a
// line, and names a problem beside the box.
func TestAdminEditsTrustedAudiences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, b, c, base := adaStarts(t, s, "okta_oidc")
		b.Get(base+"/connect").MustShow(t, `<label for="f-oidc.trusted_audiences">Trusted audiences (optional)</label>`)
		form := url.Values{"updated_at": {e.Version(c.ID)}, "issuer": {"https://acme.okta.example"}, "client_id": {"0oa1okta"},
			"client_secret": {"s3cret"}, "scopes": {"openid email profile"}, "email_claim": {"email"}, "allowed_algorithms": {"RS256"},
			"trusted_audiences": {"api://reports\r\napi://billing\r\n"}, "next": {"draft"}}
		b.Post(base+"/connect", form)
		stored, err := s.SSOConfig(context.Background(), c.ID)
		if err != nil || !slices.Equal(stored.OIDC.TrustedAudiences, []string{"api://reports", "api://billing"}) {
			t.Fatalf("stored trusted audiences %q, %v", stored.OIDC.TrustedAudiences, err)
		}
		b.Get(base+"/connect").MustShow(t, ">api://reports\napi://billing</textarea>")

		form.Set("updated_at", e.Version(c.ID))
		form.Set("trusted_audiences", "api://reports\n0oa1okta")
		p := b.Post(base+"/connect", form)
		p.MustShow(t, `<a href="#f-oidc.trusted_audiences">Trusted audiences, entry 2</a>`,
			`<p class="field-error" id="f-oidc.trusted_audiences-error">Entry 2: trusted audience &#34;0oa1okta&#34; is the client ID itself`)
	})
}
