package web_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
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
)

// postMultipart posts a multipart form with one file, as a browser sends
// an upload.
func (b *browser) postMultipart(path string, fields url.Values, fileField, fileName string, content []byte) page {
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
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

var configPathRe = regexp.MustCompile(`^/admin/accounts/([^/]+)/sso/([^/]+)/setup$`)

// createConfig runs the wizard's first step and returns the new
// configuration.
func (b *browser) createConfig(accountID, preset string) gatehouse.SSOConfig {
	b.t.Helper()
	p := b.post("/admin/accounts/"+accountID+"/sso", url.Values{"preset": {preset}})
	m := configPathRe.FindStringSubmatch(p.path)
	if p.status != http.StatusOK || m == nil || m[1] != accountID {
		b.t.Fatalf("create %s: %d at %s:\n%s", preset, p.status, p.path, p.body)
	}
	c, err := b.e.store.SSOConfig(context.Background(), m[2])
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// adaStarts signs in Acme's admin Ada and creates a configuration of
// preset in the wizard; base is its pages' root.
func adaStarts(t *testing.T, s *store.Store, preset string) (e *env, b *browser, c gatehouse.SSOConfig, base string) {
	t.Helper()
	e = newEnv(t, s, newClock())
	acme := e.account("Acme")
	e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
	b = e.browser()
	b.signIn("ada@acme.example", goodPassword)
	c = b.createConfig(acme.ID, preset)
	return e, b, c, "/admin/accounts/" + acme.ID + "/sso/" + c.ID
}

// version is the updated_at a form of configuration id carries.
func (e *env) version(id string) string {
	e.t.Helper()
	c, err := e.store.SSOConfig(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.UpdatedAt.Format(time.RFC3339Nano)
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
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		ada := e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.user("Acme", "bob@acme.example")
		idp := testIdP(t, "okta")
		b := e.browser()
		b.signIn("ada@acme.example", goodPassword)
		root := "/admin/accounts/" + acme.ID

		p := b.get("/")
		p.mustShow(t, `href="`+root+`/authentication">Authentication (SSO)</a>`)
		p = b.get("/admin")
		if p.path != root+"/authentication" || p.title() != "Authentication" {
			t.Fatalf("/admin led to %s %q", p.path, p.title())
		}
		p.mustShow(t, "No SSO configuration yet", `href="`+root+`/sso/new"`, `aria-current="page">Authentication</a>`)

		p = b.get(root + "/sso/new")
		for _, idp := range ssoconfig.IdPs() {
			p.mustShow(t, html.EscapeString(idp.Name))
		}
		p.mustShow(t, `value="okta_saml"`, `value="entra_id_multitenant_oidc"`, `value="generic_saml"`)

		c := b.createConfig(acme.ID, "okta_saml")
		sp := ssoconfig.SP(&url.URL{Scheme: "http", Host: "gatehouse.test"}, &c)
		base := root + "/sso/" + c.ID
		p = b.get(base + "/setup")
		p.mustShow(t, "Set up Okta: "+c.Name, "In the Okta Admin Console", "Audience URI (SP Entity ID)", `value="`+sp.EntityID+`"`,
			"Single sign-on URL", `value="`+sp.ACSURL+`"`, `data-copy="sp-acs-url"`, `href="/sso/saml/`+c.ID+`/metadata" download`, "Draft", "Not tested yet")

		// The configuration's own address leads to the step it is at.
		if p := b.get(base); p.path != base+"/connect" {
			t.Errorf("a new draft's address led to %s", p.path)
		}
		// A draft is saved from the first step: it is in the table.
		p = b.get(root + "/authentication")
		p.mustShow(t, "<code>"+c.Name+"</code>", "Okta, SAML 2.0", "Draft", "Complete it first")

		meta, err := idp.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		p = b.postMultipart(base+"/metadata", url.Values{"updated_at": {e.version(c.ID)}}, "metadata_file", "okta.xml", meta)
		if p.path != base+"/connect?done=imported" {
			t.Fatalf("import landed on %s (%d):\n%s", p.path, p.status, p.body)
		}
		infos, err := saml.ParseCertificatesPEM(certPEM(idp))
		if err != nil {
			t.Fatal(err)
		}
		p.mustShow(t, "Imported your identity provider", `value="`+idp.EntityID+`"`, `value="`+idp.SSOURL+`"`,
			infos[0].SHA256Fingerprint, "Complete")
		if ev := e.audit("sso_config.metadata_import"); ev.ActorID != ada.ID || ev.TargetID != c.ID {
			t.Errorf("import audit %+v", ev)
		}

		// Save and continue leads to the test, which is not run yet.
		p = b.post(base+"/connect", url.Values{"next": {"continue"}, "updated_at": {e.version(c.ID)}, "idp_entity_id": {idp.EntityID},
			"sso_url": {idp.SSOURL}, "sso_binding": {"redirect"}, "certificate_0": {certPEM(idp)}, "name_id_format": {saml.NameIDFormatEmail},
			"clock_skew_seconds": {"120"}})
		if p.path != base+"/test" {
			t.Fatalf("save and continue landed on %s:\n%s", p.path, p.body)
		}
		p.mustShow(t, `href="/sso/saml/`+c.ID+`/test">Run test</a>`, "Not tested yet.")

		// Enabling before a test is refused, and says why.
		p = b.get(base + "/enable")
		p.mustShow(t, "It cannot be enabled yet.", "run Test", `disabled aria-describedby="enable-blocked"`)

		// The test: a real sign-in at the IdP, through the configuration.
		req := idpRequest(t, b.get("/sso/saml/"+c.ID+"/test"))
		resp, err := idp.SignedResponse(samltestResponse(e, sp, req.ID, "bob@acme.example"), signedBoth)
		if err != nil {
			t.Fatal(err)
		}
		p = b.postACS(c.ID, resp, req.RelayState)
		if p.title() != "Test of "+c.Name+" passed" {
			t.Fatalf("test result %q:\n%s", p.title(), p.body)
		}
		p.mustShow(t, `href="`+base+`/enable">Next: enable `+c.Name+`</a>`, `aria-label="Administration"`)

		if p := b.get(base); p.path != base+"/enable" {
			t.Errorf("a tested configuration's address led to %s", p.path)
		}
		p = b.get(base + "/enable")
		p.mustShow(t, "Sign in through Okta only: 1", "bob@acme.example", "Keep their password (and authenticator app): 1",
			"ada@acme.example", "administrator: chooses SSO or password", "Enable "+c.Name)
		p.mustOmit(t, "It cannot be enabled yet.")
		// The table's switch opens the same preview in the page's dialog.
		d := b.htmx(http.MethodGet, base+"/enable", "dialog", nil)
		if d.status != http.StatusOK || strings.Contains(d.body, "<html") || !strings.Contains(d.body, `id="dialog-title"`) {
			t.Fatalf("dialog variant: %d\n%s", d.status, d.body)
		}
		d.mustShow(t, "Sign in through Okta only: 1", `<form method="dialog"`)

		p = b.post(base+"/enable", nil)
		if p.path != root+"/authentication?done=enabled&config="+c.ID {
			t.Fatalf("enable landed on %s:\n%s", p.path, p.body)
		}
		p.mustShow(t, c.Name+" is enabled: it now governs sign-in for this account.", `role="switch" aria-checked="true"`)
		if ev := e.audit("sso_config.enable"); ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != ada.ID || ev.ActorType != "user" {
			t.Errorf("enable audit %+v", ev)
		}
		// And bob is sent to the IdP from now on.
		if p := e.browser().post("/login", url.Values{"email": {"bob@acme.example"}}); p.path != "/login/sso" {
			t.Errorf("bob's email step led to %s", p.path)
		}

		// An enabled configuration cannot be deleted.
		p = b.get(base + "/delete")
		p.mustShow(t, "is enabled, so it cannot be deleted")
		if p := b.post(base+"/delete", nil); p.status != http.StatusConflict {
			t.Errorf("delete of an enabled configuration: %d", p.status)
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
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		idp := testIdP(t, "acme")
		b := e.browser()
		b.signIn("ada@acme.example", goodPassword)
		c := b.createConfig(acme.ID, "generic_saml")
		base := "/admin/accounts/" + acme.ID + "/sso/" + c.ID
		before := e.version(c.ID)

		form := samlForm(before, idp.EntityID, "https://idp.acme.test/typed-sso", certPEM(idp))
		form.Set("clock_skew_seconds", "two minutes")
		p := b.post(base+"/connect", form)
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("clock skew in words: %d", p.status)
		}
		p.mustShow(t, "Nothing was saved", "must be a whole number of seconds", `value="two minutes"`, `value="https://idp.acme.test/typed-sso"`,
			`aria-invalid="true"`, `id="f-saml.clock_skew_seconds-error"`)
		if e.version(c.ID) != before {
			t.Fatal("a refused save changed the configuration")
		}

		// A draft saves whatever it holds, and says what is missing where.
		form = samlForm(before, idp.EntityID, "http://idp.acme.example/sso", "not a certificate")
		form.Set("next", "draft")
		p = b.post(base+"/connect", form)
		if p.path != base+"/connect?done=draft" {
			t.Fatalf("draft save landed on %s:\n%s", p.path, p.body)
		}
		p.mustShow(t, "Saved as a draft", "must use https", "Not a certificate Gatehouse can use", `href="#cert-0"`, `href="#f-saml.sso_url"`,
			`value="http://idp.acme.example/sso"`, "not a certificate</textarea>")
		saved, err := s.SSOConfig(context.Background(), c.ID)
		if err != nil || saved.SAML.SSOURL != "http://idp.acme.example/sso" {
			t.Fatalf("draft not saved: %+v %v", saved.SAML, err)
		}

		// The version read before the draft is now stale.
		p = b.post(base+"/connect", samlForm(before, idp.EntityID, idp.SSOURL, certPEM(idp)))
		p.mustShow(t, "Someone changed this configuration after you opened it", `value="`+idp.SSOURL+`"`)
		if again, _ := s.SSOConfig(context.Background(), c.ID); again.SAML.SSOURL != "http://idp.acme.example/sso" {
			t.Fatal("a stale save was applied")
		}
	})
}

// TestAdminEditOfEnabledMustStayComplete: an edit that would leave the
// enabled configuration incomplete is refused and changes nothing.
func TestAdminEditOfEnabledMustStayComplete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		on := e.samlConfig("Acme", "acme", true, nil)
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.browser()
		b.signIn("ada@acme.example", goodPassword)
		base := "/admin/accounts/" + on.config.AccountID + "/sso/" + on.config.ID
		p := b.post(base+"/connect", samlForm(e.version(on.config.ID), on.idp.EntityID, "", certPEM(on.idp)))
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("emptying the SSO URL of an enabled configuration: %d", p.status)
		}
		p.mustShow(t, "This configuration is enabled, so an edit must leave it complete. Nothing was saved", "is required: the IdP&#39;s single sign-on URL")
		if c, _ := s.SSOConfig(context.Background(), on.config.ID); !c.Enabled || c.SAML.SSOURL != on.idp.SSOURL {
			t.Fatalf("configuration after the refused edit: enabled %v, %q", c.Enabled, c.SAML.SSOURL)
		}
	})
}

// TestAdminMetadataImportRefusals: bad metadata is refused with the reason
// beside the field it came from, and changes nothing.
func TestAdminMetadataImportRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, b, c, base := adaStarts(t, s, "generic_saml")
		before := e.version(c.ID)

		for name, tc := range map[string]struct {
			file []byte
			want string
		}{
			"malformed XML": {[]byte("<EntityDescriptor><unclosed>"), "Nothing was imported"},
			"a DTD":         {[]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>`), "Nothing was imported"},
			"empty":         {[]byte("  "), "The file is empty."},
			"too large":     {bytes.Repeat([]byte("<a/>"), 300_000), "larger than 1 MiB"},
		} {
			p := b.postMultipart(base+"/metadata", url.Values{"updated_at": {before}}, "metadata_file", "idp.xml", tc.file)
			if p.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d", name, p.status)
			}
			p.mustShow(t, tc.want, `id="metadata-file-error"`)
		}
		p := b.post(base+"/metadata", url.Values{"url": {""}})
		p.mustShow(t, "Enter the URL of your identity provider")
		// An IdP whose metadata URL answers with an error page.
		broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) }))
		defer broken.Close()
		p = b.post(base+"/metadata", url.Values{"url": {broken.URL + "/metadata"}})
		p.mustShow(t, `id="metadata-url-error"`, `value="`+broken.URL+`/metadata"`)
		if e.version(c.ID) != before {
			t.Fatal("a refused import changed the configuration")
		}

		// The same by URL, from an IdP that serves it, works.
		meta, _ := testIdP(t, "acme").Metadata()
		good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(meta) }))
		defer good.Close()
		p = b.post(base+"/metadata", url.Values{"url": {good.URL + "/metadata"}, "updated_at": {before}})
		if p.path != base+"/connect?done=imported" {
			t.Fatalf("URL import landed on %s:\n%s", p.path, p.body)
		}
	})
}

// TestAdminCertificateShownAtOnce: a pasted certificate is described
// (subject, fingerprint, expiry) before anything is saved.
func TestAdminCertificateShownAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.user("Acme", "bob@acme.example")
		idp := testIdP(t, "acme")
		info, _ := saml.ParseCertificatesPEM(certPEM(idp))
		b := e.browser()
		b.signIn("ada@acme.example", goodPassword)

		p := b.post("/admin/certificate", url.Values{"field": {"certificate_1"}, "certificate_1": {certPEM(idp)}})
		p.mustShow(t, "<dt>Subject</dt><dd>"+html.EscapeString(info[0].Subject)+"</dd>", info[0].SHA256Fingerprint, "Valid until")
		p.mustOmit(t, "<html")
		p = b.post("/admin/certificate", url.Values{"field": {"certificate_0"}, "certificate_0": {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}})
		p.mustShow(t, "Not a certificate Gatehouse can use")
		p = b.post("/admin/certificate", url.Values{"field": {"certificate_0"}, "certificate_0": {strings.Repeat("A", 40<<10)}})
		p.mustShow(t, "This is too long to be a certificate.")

		// Only admins may ask.
		bob := e.browser()
		bob.signIn("bob@acme.example", goodPassword)
		if p := bob.post("/admin/certificate", url.Values{"field": {"c"}, "c": {certPEM(idp)}}); p.status != http.StatusForbidden {
			t.Errorf("a user asked: %d", p.status)
		}
	})
}

// TestAdminPagesReach: users are refused, admins of another account find
// nothing, partition admins reach their partition's accounts, and a form
// posted from another site is refused.
func TestAdminPagesReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		acmeConfig := e.samlConfig("Acme", "acme", false, nil)
		globex := e.accountIn("Globex", acme.PartitionID)
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.user("Acme", "bob@acme.example")
		e.member("Globex", "gina@globex.example", gatehouse.RoleAdmin)
		e.member("Globex", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		acmeBase := "/admin/accounts/" + acme.ID

		bob := e.browser()
		bob.signIn("bob@acme.example", goodPassword)
		if p := bob.get(acmeBase + "/authentication"); p.status != http.StatusForbidden {
			t.Errorf("a user opened the Authentication page: %d", p.status)
		}
		bob.get("/").mustOmit(t, "/admin/")

		gina := e.browser()
		gina.signIn("gina@globex.example", goodPassword)
		for _, path := range []string{acmeBase + "/authentication", acmeBase + "/sso/" + acmeConfig.config.ID + "/connect",
			"/admin/accounts/" + globex.ID + "/sso/" + acmeConfig.config.ID + "/connect"} {
			if p := gina.get(path); p.status != http.StatusNotFound {
				t.Errorf("Globex's admin at %s: %d", path, p.status)
			}
		}
		if p := gina.post("/admin/accounts/"+globex.ID+"/sso/"+acmeConfig.config.ID+"/delete", nil); p.status != http.StatusNotFound {
			t.Errorf("Globex's admin deleted Acme's configuration through Globex's URL: %d", p.status)
		}
		if _, err := s.SSOConfig(context.Background(), acmeConfig.config.ID); err != nil {
			t.Fatalf("Acme's configuration: %v", err)
		}

		rita := e.browser()
		rita.signIn("rita@reseller.example", goodPassword)
		if p := rita.get(acmeBase + "/authentication"); p.status != http.StatusOK {
			t.Errorf("the partition admin at Acme: %d", p.status)
		}
		if p := rita.get("/admin"); p.path != "/admin/accounts" {
			t.Errorf("/admin led the partition admin to %s", p.path)
		}

		ada := e.browser()
		ada.signIn("ada@acme.example", goodPassword)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+acmeBase+"/sso", strings.NewReader("preset=okta_saml"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		if p := ada.do(req); p.status != http.StatusForbidden {
			t.Errorf("a cross-site form: %d", p.status)
		}
		if all, _ := s.ListSSOConfigs(context.Background(), acme.ID, ""); len(all) != 1 {
			t.Errorf("%d configurations after the cross-site form, want 1", len(all))
		}
		// Not choosing an IdP is refused with the reason, and nothing made.
		p := ada.post(acmeBase+"/sso", url.Values{"preset": {"no_such_idp"}})
		p.mustShow(t, "Choose your identity provider, then continue.", `id="preset-error"`)
		if all, _ := s.ListSSOConfigs(context.Background(), acme.ID, ""); len(all) != 1 {
			t.Errorf("%d configurations after a bad choice, want 1", len(all))
		}
	})
}

// TestAdminSwitchAndDelete: enabling a second configuration switches the
// first off in the same step; a disabled one is deleted after asking.
func TestAdminSwitchAndDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		first := e.samlConfig("Acme", "acme", true, nil)
		second := e.samlConfig("Acme", "okta", false, nil)
		ada := e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		ctx := context.Background()
		if err := s.RecordSSOTest(ctx, second.config.ID, gatehouse.SSOTest{At: e.clock.Now(), By: ada.ID, Outcome: gatehouse.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.signIn("ada@acme.example", goodPassword)
		root := "/admin/accounts/" + first.config.AccountID

		b.get(root+"/sso/"+second.config.ID+"/enable").mustShow(t, first.config.Name+" is enabled now:</strong> enabling "+second.config.Name+" switches it off")
		p := b.post(root+"/sso/"+second.config.ID+"/enable", nil)
		p.mustShow(t, second.config.Name+" is enabled, and "+first.config.Name+" was switched off in the same step.")
		if c, _ := s.SSOConfig(ctx, first.config.ID); c.Enabled {
			t.Fatal("the first configuration is still enabled")
		}

		d := b.htmx(http.MethodGet, root+"/sso/"+first.config.ID+"/delete", "dialog", nil)
		d.mustShow(t, "Delete the SSO configuration <strong>"+first.config.Name+"</strong>", `<form method="dialog"`)
		if _, err := s.SSOConfig(ctx, first.config.ID); err != nil {
			t.Fatal("asking deleted it")
		}
		p = b.post(root+"/sso/"+first.config.ID+"/delete", nil)
		p.mustShow(t, "The SSO configuration "+first.config.Name+" was deleted.")
		if _, err := s.SSOConfig(ctx, first.config.ID); err == nil {
			t.Fatal("not deleted")
		}

		p = b.post(root+"/sso/"+second.config.ID+"/disable", nil)
		p.mustShow(t, second.config.Name+" is disabled: everyone signs in with their password again.", `role="switch" aria-checked="false" hx-get=`)
	})
}

// TestAdminSetsUpOIDC: the OIDC form keeps the client secret write-only.
func TestAdminSetsUpOIDC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, b, c, base := adaStarts(t, s, "entra_id_multitenant_oidc")
		b.get(base+"/setup").mustShow(t, "Redirect URI (Web platform)", `value="http://gatehouse.test/sso/oidc/`+c.ID+`/callback"`)
		p := b.get(base + "/connect")
		p.mustShow(t, "Allowed tenant IDs", "Client secret", `name="allowed_algorithms" value="RS256" checked`)

		const secret = "s3cret-value-never-shown"
		const tenant = "8a2c1f1e-5b1c-4d3e-9f10-0123456789ab"
		p = b.post(base+"/connect", url.Values{"updated_at": {e.version(c.ID)}, "issuer": {"https://login.microsoftonline.com/{tenantid}/v2.0"},
			"client_id": {"11111111-2222-3333-4444-555555555555"}, "client_secret": {secret}, "entra_tenants": {tenant},
			"scopes": {"openid email profile"}, "email_claim": {"email"}, "allowed_algorithms": {"RS256"}, "next": {"continue"}})
		if p.path != base+"/test" {
			t.Fatalf("save and continue landed on %s:\n%s", p.path, p.body)
		}
		p = b.get(base + "/connect")
		p.mustShow(t, "A secret is saved; it is never shown again.", tenant)
		p.mustOmit(t, secret)
		b.get(base+"/setup").mustShow(t, "Admin consent for tenant <code>"+tenant+"</code>")
		if ev := e.audit("sso_config.update"); strings.Contains(strings.Join(mapValues(ev.Details), " "), secret) {
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
func samltestResponse(e *env, sp ssoconfig.SPValues, requestID, nameID string) samltest.Response {
	return samltest.Response{Now: e.clock.Now(), Destination: sp.ACSURL, Audience: sp.EntityID, InResponseTo: requestID, NameID: nameID,
		Attributes: map[string][]string{"email": {nameID}}}
}

// TestAdminSeesBreakGlassUntilReEnabled: after provider support breaks the
// glass, the account's Authentication page says so and why, until a
// configuration is enabled again.
func TestAdminSeesBreakGlassUntilReEnabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		on := e.samlConfig("Acme", "acme", true, nil)
		ada := e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		ctx := context.Background()
		if err := s.RecordSSOTest(ctx, on.config.ID, gatehouse.SSOTest{At: e.clock.Now(), By: ada.ID, Outcome: gatehouse.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.signIn("ada@acme.example", goodPassword)
		root := "/admin/accounts/" + on.config.AccountID
		b.get(root+"/authentication").mustOmit(t, "Provider support turned off SSO")

		if _, err := admin.BreakGlass(ctx, s, on.config.AccountID, "ticket 4711: IdP down", gatehouse.AuditEvent{Time: e.clock.Now(), ActorType: "system", ActorID: "cli",
			Details: map[string]string{"by": "Sam <sam@provider.example>"}}); err != nil {
			t.Fatal(err)
		}
		b.get(root+"/authentication").mustShow(t, "Provider support turned off SSO for this account", "(Sam &lt;sam@provider.example&gt;).",
			"Reason given: ticket 4711: IdP down")

		// No new test is needed: break-glass changed no IdP setting.
		p := b.post(root+"/sso/"+on.config.ID+"/enable", nil)
		p.mustShow(t, on.config.Name+" is enabled")
		p.mustOmit(t, "Provider support turned off SSO")
	})
}

// TestAdminPartAfterSessionEnds: a part of a page asked for by htmx after
// the session ended sends the whole page to sign-in.
func TestAdminPartAfterSessionEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.browser()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/certificate", strings.NewReader("field=c&c=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		p := b.do(req)
		if p.status != http.StatusUnauthorized || p.header.Get("HX-Redirect") != "/login" || p.body != "" {
			t.Fatalf("htmx request without a session: %d, HX-Redirect %q, body %q", p.status, p.header.Get("HX-Redirect"), p.body)
		}
	})
}

// TestAdminWarnedBeforeCertificateExpires: the table warns of a signing
// certificate that expires within 30 days (SECURITY.md P-expired-cert).
func TestAdminWarnedBeforeCertificateExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		idp := testIdP(t, "acme")
		now := e.clock.Now()
		soon, err := samltest.SelfSigned(idp.Key, "Expiring IdP key", now.Add(-time.Hour), now.Add(10*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		on := e.samlConfig("Acme", "acme", true, func(st *gatehouse.SAMLSettings) {
			st.Certificates = []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: soon.Raw}))}
		})
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.browser()
		b.signIn("ada@acme.example", goodPassword)
		p := b.get("/admin/accounts/" + on.config.AccountID + "/authentication")
		p.mustShow(t, "Signing certificate expires", soon.NotAfter.UTC().Format("2 Jan 2006"), "add the IdP's next one")
	})
}
