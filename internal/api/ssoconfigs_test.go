package api_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// ssoConfig is what an API user reads about an SSO configuration.
type ssoConfig struct {
	ID           string                  `json:"id"`
	Name         string                  `json:"name"`
	AccountID    string                  `json:"account_id"`
	Protocol     string                  `json:"protocol"`
	Preset       string                  `json:"preset"`
	Status       gatehouse.SSOStatus     `json:"status"`
	Enabled      bool                    `json:"enabled"`
	SAML         *gatehouse.SAMLSettings `json:"saml"`
	Certificates []struct {
		Index             int       `json:"index"`
		Subject           string    `json:"subject"`
		SHA256Fingerprint string    `json:"sha256_fingerprint"`
		NotAfter          time.Time `json:"not_after"`
		Expired           bool      `json:"expired"`
		Expiring          bool      `json:"expiring"`
	} `json:"certificates"`
	SP struct {
		EntityID    string `json:"sp_entity_id"`
		ACSURL      string `json:"acs_url"`
		MetadataURL string `json:"metadata_url"`
	} `json:"sp"`
	SPCertificate    string                 `json:"sp_certificate"`
	Problems         []gatehouse.FieldError `json:"problems"`
	LastTest         *gatehouse.SSOTest     `json:"last_test"`
	TestCurrent      bool                   `json:"test_current"`
	TestURL          string                 `json:"test_url"`
	UpdatedAt        time.Time              `json:"updated_at"`
	DisabledConfigID string                 `json:"disabled_config_id"`
	Pending          *pendingVersion        `json:"pending"`
}

// pendingVersion is the pending part of an SSO configuration.
type pendingVersion struct {
	Preset      string                                  `json:"preset"`
	SAML        *gatehouse.SAMLSettings                 `json:"saml"`
	Changes     []struct{ Field, Live, Pending string } `json:"changes"`
	LastTest    *gatehouse.SSOTest                      `json:"last_test"`
	TestCurrent bool                                    `json:"test_current"`
	ChangedAt   time.Time                               `json:"changed_at"`
}

func (c ssoConfig) problemFields() []string {
	out := []string{}
	for _, p := range c.Problems {
		out = append(out, p.Field)
	}
	slices.Sort(out)
	return out
}

// Test IdPs, made once: RSA key generation is the slow part.
var ssoTestIdPs = sync.OnceValues(func() ([2]*samltest.IdP, error) {
	var out [2]*samltest.IdP
	for i, name := range []string{"okta", "entra"} {
		idp, err := samltest.New("https://"+name+".idp.example/metadata", "https://"+name+".idp.example/sso", time.Now())
		if err != nil {
			return out, err
		}
		out[i] = idp
	}
	return out, nil
})

func ssoTestIdP(t *testing.T, i int) (idp *samltest.IdP, metadata, certPEM string) {
	t.Helper()
	idps, err := ssoTestIdPs()
	if err != nil {
		t.Fatal(err)
	}
	md, err := idps[i].Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return idps[i], string(md), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idps[i].Cert.Raw}))
}

// ssoFixture is the API fixture with what SSO configurations need: a base
// URL, a secret box, and private metadata URLs allowed (the test IdP's
// metadata is served on 127.0.0.1).
type ssoFixture struct {
	*fixture
	base string
	box  *secretbox.Box
	// seen collects the OIDC tests' API answers, to search for secrets.
	seen []byte
}

func newSSOFixture(t *testing.T, s *store.Store) *ssoFixture {
	t.Helper()
	f := newFixture(t, s)
	box, err := secretbox.New(strings.Repeat("a test secret key ", 3))
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://gatehouse.example")
	h := app.New(app.Config{Store: s, Passwords: hasher, Now: s.Now, BaseURL: base, Secrets: box, AllowPrivateMetadataURLs: true,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))}).API
	f.h = h
	for _, c := range []*client{&f.super, &f.part, &f.acct, &f.anonymous} {
		c.h = h
	}
	// Each account keeps an admin with a password, so enabling SSO leaves
	// someone a way in (SECURITY.md A-lockout).
	for _, a := range []gatehouse.Account{f.a1, f.a2, f.b1} {
		admin := gatehouse.User{AccountID: a.ID, Email: "keeper@" + strings.ToLower(a.Name) + ".example", DisplayName: "Keeper",
			Role: gatehouse.RoleAdmin, Status: gatehouse.UserActive, PasswordHash: "$argon2id$placeholder"}
		if err := s.CreateUser(context.Background(), &admin); err != nil {
			t.Fatal(err)
		}
	}
	return &ssoFixture{fixture: f, base: base.String(), box: box}
}

func (f *ssoFixture) configsPath(accountID string) string {
	return "/api/v1/accounts/" + accountID + "/sso-configs"
}

func (f *ssoFixture) create(c client, accountID, body string) ssoConfig {
	f.t.Helper()
	return decodeAs[ssoConfig](f.t, c.must(http.StatusCreated, "POST", f.configsPath(accountID), body))
}

// completeBody is a create request for a complete SAML configuration.
func completeBody(t *testing.T, i int) string {
	idp, _, cert := ssoTestIdP(t, i)
	b, _ := json.Marshal(map[string]any{"protocol": "saml", "preset": "generic_saml", "saml": map[string]any{
		"idp_entity_id": idp.EntityID, "sso_url": idp.SSOURL, "certificates": []string{cert}}})
	return string(b)
}

// passTest records a passing test now, as the Test endpoint would.
func (f *ssoFixture) passTest(id string) {
	f.t.Helper()
	if err := f.s.RecordSSOTest(context.Background(), id, gatehouse.SSOTest{At: f.s.Now(), By: "usr_admin", Outcome: gatehouse.OutcomeSuccess}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *ssoFixture) get(c client, accountID, id string) ssoConfig {
	f.t.Helper()
	return decodeAs[ssoConfig](f.t, c.must(http.StatusOK, "GET", f.configsPath(accountID)+"/"+id, ""))
}

func TestSSOConfigFromDraftToEnabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		c := f.acct
		path := f.configsPath(f.a1.ID)

		// A new configuration is a draft listing everything still missing,
		// with the preset's defaults and its own SP values.
		res := c.must(http.StatusCreated, "POST", path, `{"protocol":"saml","preset":"okta_saml"}`)
		draft := decodeAs[ssoConfig](t, res)
		if draft.Status != gatehouse.SSODraft || draft.Enabled || !strings.HasPrefix(draft.Name, "sso-") || draft.Preset != "okta_saml" {
			t.Fatalf("created %+v", draft)
		}
		if got, want := draft.problemFields(), []string{"saml.certificates", "saml.idp_entity_id", "saml.sso_url"}; !equal(got, want) {
			t.Errorf("draft problems %v, want %v", got, want)
		}
		if s := draft.SAML; s.NameIDFormat != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" || s.ClockSkewSeconds != 120 || s.SSOBinding != "redirect" {
			t.Errorf("preset defaults %+v", s)
		}
		if loc := res.Header.Get("Location"); loc != path+"/"+draft.ID {
			t.Errorf("Location %q", loc)
		}
		if draft.SP.EntityID != f.base+"/sso/saml/"+draft.ID+"/metadata" || draft.SP.ACSURL != f.base+"/sso/saml/"+draft.ID+"/acs" ||
			draft.TestURL != f.base+"/sso/saml/"+draft.ID+"/test" || draft.LastTest != nil || draft.TestCurrent {
			t.Errorf("SP values and test: %+v", draft)
		}

		// Importing the IdP's metadata completes it.
		idp, md, _ := ssoTestIdP(t, 0)
		b, _ := json.Marshal(map[string]string{"xml": md})
		done := decodeAs[ssoConfig](t, c.must(http.StatusOK, "POST", path+"/"+draft.ID+"/metadata", string(b)))
		if done.Status != gatehouse.SSOComplete || len(done.Problems) != 0 || done.SAML.IdPEntityID != idp.EntityID ||
			done.SAML.SSOURL != idp.SSOURL || len(done.Certificates) != 1 || done.Certificates[0].Expired {
			t.Fatalf("after metadata import: %+v", done)
		}

		// Enabling is refused until a test has passed.
		p := problemOf(t, c.must(http.StatusConflict, "POST", path+"/"+draft.ID+"/enable", ""))
		if !equal(p.fields(), []string{"last_test"}) || !contains(p.Detail, "test") {
			t.Errorf("enable without a test: %+v", p)
		}
		if got := f.get(c, f.a1.ID, draft.ID); got.Enabled || got.Status != gatehouse.SSOComplete {
			t.Errorf("after a refused enable: %+v", got)
		}
		f.passTest(draft.ID)
		if got := f.get(c, f.a1.ID, draft.ID); !got.TestCurrent || got.LastTest == nil || got.LastTest.Outcome != gatehouse.OutcomeSuccess {
			t.Errorf("after a passing test: %+v", got)
		}
		first := decodeAs[ssoConfig](t, c.must(http.StatusOK, "POST", path+"/"+draft.ID+"/enable", ""))
		if !first.Enabled || first.Status != gatehouse.SSOEnabled || first.DisabledConfigID != "" {
			t.Fatalf("enabled %+v", first)
		}

		// Enabling a second one switches in one step.
		second := f.create(c, f.a1.ID, completeBody(t, 1))
		if second.Status != gatehouse.SSOComplete {
			t.Fatalf("second created %+v", second)
		}
		f.passTest(second.ID)
		switched := decodeAs[ssoConfig](t, c.must(http.StatusOK, "POST", path+"/"+second.ID+"/enable", ""))
		if !switched.Enabled || switched.DisabledConfigID != first.ID {
			t.Fatalf("switch: %+v", switched)
		}
		if got := f.get(c, f.a1.ID, first.ID); got.Enabled || got.Status != gatehouse.SSOComplete {
			t.Errorf("the previous configuration after the switch: %+v", got)
		}
		list := decodeAs[page[ssoConfig]](t, c.must(http.StatusOK, "GET", path, ""))
		var on []string
		for _, cfg := range list.Items {
			if cfg.Enabled {
				on = append(on, cfg.ID)
			}
		}
		if len(list.Items) != 2 || !equal(on, []string{second.ID}) {
			t.Errorf("listing: %d configurations, enabled %v", len(list.Items), on)
		}

		// An edit leaving the enabled configuration invalid is refused and
		// changes nothing.
		before := f.get(c, f.a1.ID, second.ID)
		p = problemOf(t, c.must(http.StatusUnprocessableEntity, "PATCH", path+"/"+second.ID,
			`{"saml":{"sso_url":"http://idp.example/sso","certificates":[]}}`))
		if !equal(p.fields(), []string{"saml.certificates", "saml.sso_url"}) {
			t.Errorf("invalid edit of an enabled configuration: %+v", p)
		}
		if after := f.get(c, f.a1.ID, second.ID); !after.Enabled || !after.UpdatedAt.Equal(before.UpdatedAt) ||
			after.SAML.SSOURL != before.SAML.SSOURL || !after.TestCurrent {
			t.Errorf("after the refused edit: %+v", after)
		}

		// A valid edit of its IdP settings is staged as a pending version:
		// the live settings and their test stay until a tested one is
		// applied.
		edited := decodeAs[ssoConfig](t, c.must(http.StatusOK, "PATCH", path+"/"+second.ID, `{"saml":{"sso_url":"https://entra.idp.example/sso2"}}`))
		if !edited.Enabled || edited.Status != gatehouse.SSOEnabled || !edited.TestCurrent || edited.SAML.SSOURL != before.SAML.SSOURL {
			t.Errorf("the live settings after an edit of an enabled configuration: %+v", edited)
		}
		if p := edited.Pending; p == nil || p.TestCurrent || p.SAML.SSOURL != "https://entra.idp.example/sso2" {
			t.Errorf("the pending version after an edit of an enabled configuration: %+v", p)
		}

		// An enabled configuration cannot be deleted; a disabled one can.
		p = problemOf(t, c.must(http.StatusConflict, "DELETE", path+"/"+second.ID, ""))
		if !contains(p.Detail, "disable") {
			t.Errorf("delete enabled: %+v", p)
		}
		c.must(http.StatusNoContent, "DELETE", path+"/"+first.ID, "")
		problemOf(t, c.must(http.StatusNotFound, "GET", path+"/"+first.ID, ""))

		off := decodeAs[ssoConfig](t, c.must(http.StatusOK, "POST", path+"/"+second.ID+"/disable", ""))
		if off.Enabled || off.Status != gatehouse.SSOComplete {
			t.Errorf("disabled: %+v", off)
		}
		c.must(http.StatusNoContent, "DELETE", path+"/"+second.ID, "")

		wantActions(t, f.audit(gatehouse.AuditFilter{TargetID: draft.ID, Outcome: gatehouse.OutcomeSuccess}),
			"sso_config.delete", "sso_config.disable", "sso_config.enable", "sso_config.metadata_import", "sso_config.create")
		wantActions(t, f.audit(gatehouse.AuditFilter{TargetID: second.ID}),
			"sso_config.delete", "sso_config.disable", "sso_config.update", "sso_config.enable", "sso_config.create")
		evs := f.audit(gatehouse.AuditFilter{TargetID: draft.ID, Outcome: gatehouse.OutcomeFailure})
		if len(evs) != 1 || evs[0].Action != "sso_config.enable" || !contains(evs[0].Reason, "test") {
			t.Errorf("refused enable audited as %+v", evs)
		}
		upd := f.audit(gatehouse.AuditFilter{TargetID: second.ID, ActionPrefix: "sso_config.update"})
		if d := upd[0].Details; d["changed"] != "saml.sso_url" || d["sso_url"] != "https://entra.idp.example/sso2" || d["version"] != "pending" || d["test"] != "" {
			t.Errorf("update audit details %v", d)
		}
		if d := f.audit(gatehouse.AuditFilter{TargetID: draft.ID, ActionPrefix: "sso_config.disable"})[0].Details; d["reason"] != "switched to "+second.ID {
			t.Errorf("switch audit details %v", d)
		}
	})
}

func TestSSOConfigEnableNeedsEnterprise(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		std := gatehouse.Account{PartitionID: f.p1.ID, Name: "Small Co", Plan: gatehouse.PlanStandard}
		if err := s.CreateAccount(context.Background(), &std); err != nil {
			t.Fatal(err)
		}
		// A standard account may prepare a configuration, not enable it.
		cfg := f.create(f.part, std.ID, completeBody(t, 0))
		f.passTest(cfg.ID)
		p := problemOf(t, f.part.must(http.StatusConflict, "POST", f.configsPath(std.ID)+"/"+cfg.ID+"/enable", ""))
		if !equal(p.fields(), []string{"plan"}) || !contains(p.Detail, "enterprise") {
			t.Errorf("standard plan enable: %+v", p)
		}
		if got := f.get(f.part, std.ID, cfg.ID); got.Enabled {
			t.Error("enabled on a standard plan")
		}

		// Incomplete comes with every field to fix.
		draft := f.create(f.part, f.a1.ID, `{"preset":"entra_id_saml"}`)
		f.passTest(draft.ID)
		p = problemOf(t, f.part.must(http.StatusConflict, "POST", f.configsPath(f.a1.ID)+"/"+draft.ID+"/enable", ""))
		if !equal(p.fields(), []string{"saml.certificates", "saml.idp_entity_id", "saml.sso_url"}) {
			t.Errorf("incomplete enable: %+v", p)
		}
	})
}

func TestSSOConfigCreateInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := f.configsPath(f.a1.ID)
		_, _, cert := ssoTestIdP(t, 0)

		for _, tc := range []struct {
			name, body string
			status     int
			fields     []string
		}{
			{"OIDC settings on a SAML configuration", `{"protocol":"saml","oidc":{}}`, 422, []string{"oidc"}},
			{"a SAML preset for OIDC", `{"protocol":"oidc","preset":"okta_saml"}`, 422, []string{"preset"}},
			{"unknown protocol", `{"protocol":"ws-fed"}`, 422, []string{"protocol"}},
			{"unknown preset", `{"preset":"ping_saml"}`, 422, []string{"preset"}},
			{"unknown field", `{"saml":{"idp_entity":"x"}}`, 400, []string{"idp_entity"}},
			{"wrong type", `{"saml":{"clock_skew_seconds":"120"}}`, 400, []string{"saml.clock_skew_seconds"}},
			{"clock skew over 300 seconds", `{"saml":{"clock_skew_seconds":9999}}`, 422, []string{"saml.clock_skew_seconds"}},
			{"negative clock skew", `{"saml":{"clock_skew_seconds":-1}}`, 422, []string{"saml.clock_skew_seconds"}},
		} {
			res := f.acct.do("POST", path, tc.body)
			if res.Status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, res.Status, tc.status, res.Body)
				continue
			}
			if p := problemOf(t, res); !equal(p.fields(), tc.fields) {
				t.Errorf("%s: fields %v, want %v", tc.name, p.fields(), tc.fields)
			}
		}

		// Invalid values are saved as a draft, every problem listed; short
		// names are normalized; 0 seconds of clock skew stays 0.
		b, _ := json.Marshal(map[string]any{"preset": "adfs_saml", "saml": map[string]any{
			"idp_entity_id": "http://adfs.example/adfs/services/trust", "sso_url": "http://adfs.example/adfs/ls/",
			"certificates":   []string{cert, "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"},
			"name_id_format": "persistent", "email_attribute": "", "clock_skew_seconds": 0, "sso_binding": "HTTP-POST"}})
		draft := f.create(f.acct, f.a1.ID, string(b))
		if want := []string{"saml.certificates[1]", "saml.email_attribute", "saml.sso_url"}; !equal(draft.problemFields(), want) || draft.Status != gatehouse.SSODraft {
			t.Errorf("draft: %s %v, want %v", draft.Status, draft.problemFields(), want)
		}
		if s := draft.SAML; s.NameIDFormat != "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" || s.ClockSkewSeconds != 0 || s.SSOBinding != "post" {
			t.Errorf("normalized settings %+v", s)
		}
		// A clock skew out of bounds is refused, not kept in the draft.
		if p := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "PATCH", path+"/"+draft.ID, `{"saml":{"clock_skew_seconds":301}}`)); !equal(p.fields(), []string{"saml.clock_skew_seconds"}) {
			t.Errorf("clock skew 301: %+v", p)
		}
		// The preset's email attribute fills in when none is sent.
		entra := f.create(f.acct, f.a1.ID, `{"preset":"entra_id_saml"}`)
		if entra.SAML.EmailAttribute != "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" || entra.SAML.ClockSkewSeconds != 120 {
			t.Errorf("entra defaults %+v", entra.SAML)
		}

		presets := decodeAs[page[struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
		}]](t, f.acct.must(http.StatusOK, "GET", "/api/v1/sso-presets", ""))
		if len(presets.Items) != 15 || presets.Items[8].ID != "generic_oidc" || presets.Items[1].ID != "entra_id_saml" || presets.Items[1].DisplayName == "" {
			t.Errorf("presets %+v", presets.Items)
		}
	})
}

func TestSSOConfigReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		inA1 := f.create(f.acct, f.a1.ID, completeBody(t, 0))
		inA2 := f.create(f.part, f.a2.ID, completeBody(t, 0))
		inB1 := f.create(f.super, f.b1.ID, completeBody(t, 0))

		// Out of reach answers 404, whether the account or only the
		// configuration belongs to someone else.
		for _, tc := range []struct {
			who       client
			accountID string
			configID  string
		}{
			{f.acct, f.a2.ID, inA2.ID},
			{f.acct, f.a1.ID, inA2.ID}, // the token's own account, another account's configuration
			{f.part, f.b1.ID, inB1.ID},
			{f.part, f.a1.ID, inB1.ID},
		} {
			p := f.configsPath(tc.accountID) + "/" + tc.configID
			for _, req := range [][2]string{{"GET", p}, {"PATCH", p}, {"DELETE", p}, {"POST", p + "/enable"}, {"POST", p + "/disable"}, {"POST", p + "/sp-key"}, {"POST", p + "/metadata"}} {
				body := ""
				if req[0] == "PATCH" || strings.HasSuffix(req[1], "/metadata") {
					body = `{}`
				}
				if res := tc.who.do(req[0], req[1], body); res.Status != http.StatusNotFound {
					t.Errorf("%s %s by a %s token: %d, want 404", req[0], req[1], tc.who.tok.Scope, res.Status)
				}
			}
		}
		f.acct.must(http.StatusNotFound, "GET", f.configsPath(f.a2.ID), "")
		f.acct.must(http.StatusNotFound, "POST", f.configsPath(f.b1.ID), `{}`)
		f.anonymous.must(http.StatusUnauthorized, "GET", f.configsPath(f.a1.ID), "")

		// Partition and super tokens reach down.
		f.part.must(http.StatusOK, "GET", f.configsPath(f.a1.ID)+"/"+inA1.ID, "")
		f.super.must(http.StatusOK, "GET", f.configsPath(f.a2.ID)+"/"+inA2.ID, "")
		if got, _ := s.SSOConfig(context.Background(), inA2.ID); got.Name != inA2.Name {
			t.Error("a refused request changed the configuration")
		}
	})
}

func TestSSOConfigStaleEdit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		cfg := f.create(f.acct, f.a1.ID, `{}`)
		path := f.configsPath(f.a1.ID) + "/" + cfg.ID
		read := cfg.UpdatedAt.Format(time.RFC3339Nano)

		// Another admin edits first.
		f.acct.must(http.StatusOK, "PATCH", path, `{"saml":{"idp_entity_id":"https://one.example"}}`)
		p := problemOf(t, f.acct.must(http.StatusConflict, "PATCH", path, `{"updated_at":"`+read+`","saml":{"idp_entity_id":"https://two.example"}}`))
		if !equal(p.fields(), []string{"updated_at"}) {
			t.Errorf("stale edit: %+v", p)
		}
		now := f.get(f.acct, f.a1.ID, cfg.ID)
		if now.SAML.IdPEntityID != "https://one.example" {
			t.Errorf("the stale edit was applied: %q", now.SAML.IdPEntityID)
		}
		b, _ := json.Marshal(map[string]any{"updated_at": now.UpdatedAt, "saml": map[string]string{"idp_entity_id": "https://two.example"}})
		if got := decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "PATCH", path, string(b))); got.SAML.IdPEntityID != "https://two.example" {
			t.Errorf("current edit: %+v", got.SAML)
		}
		// An edit that changes nothing writes nothing.
		again := f.get(f.acct, f.a1.ID, cfg.ID)
		same := decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "PATCH", path, `{"saml":{"idp_entity_id":" https://two.example "}}`))
		if !same.UpdatedAt.Equal(again.UpdatedAt) {
			t.Error("a no-op edit changed updated_at")
		}
		wantActions(t, f.audit(gatehouse.AuditFilter{TargetID: cfg.ID}), "sso_config.update", "sso_config.update", "sso_config.create")
	})
}

func TestSSOConfigSPValuesAreDistinct(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		a := f.create(f.acct, f.a1.ID, completeBody(t, 0))
		b := f.create(f.acct, f.a1.ID, completeBody(t, 0))
		c := f.create(f.super, f.b1.ID, completeBody(t, 0))
		seen := map[string]string{}
		for _, cfg := range []ssoConfig{a, b, c} {
			for _, v := range []string{cfg.SP.EntityID, cfg.SP.ACSURL, cfg.TestURL} {
				if !strings.HasPrefix(v, f.base+"/sso/saml/"+cfg.ID+"/") {
					t.Errorf("%s: SP value %q is not under its own path", cfg.ID, v)
				}
				if other, ok := seen[v]; ok {
					t.Errorf("%s shares %q with %s", cfg.ID, v, other)
				}
				seen[v] = cfg.ID
			}
		}
	})
}

func TestSSOConfigMetadataImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		okta, oktaMD, _ := ssoTestIdP(t, 0)
		entra, entraMD, _ := ssoTestIdP(t, 1)
		cfg := f.create(f.acct, f.a1.ID, `{"preset":"entra_id_saml","saml":{"allow_idp_initiated":true}}`)
		path := f.configsPath(f.a1.ID) + "/" + cfg.ID + "/metadata"
		jsonBody := func(v map[string]string) string { b, _ := json.Marshal(v); return string(b) }
		strip := func(md string) string { return md[strings.Index(md, "<md:EntityDescriptor"):] }
		both := `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + strip(oktaMD) + strip(entraMD) + `</md:EntitiesDescriptor>`

		// Several IdPs: the answer lists the choices.
		res := f.acct.must(http.StatusUnprocessableEntity, "POST", path, jsonBody(map[string]string{"xml": both}))
		var choice struct {
			problemDoc
			Choices []string `json:"choices"`
		}
		problemOf(t, res)
		json.Unmarshal(res.Body, &choice)
		if !equal(choice.Choices, []string{okta.EntityID, entra.EntityID}) || !equal(choice.fields(), []string{"entity_id"}) {
			t.Errorf("several IdPs: %s", res.Body)
		}
		got := decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "POST", path, jsonBody(map[string]string{"xml": both, "entity_id": entra.EntityID})))
		// The IdP's fields are filled; the others (the preset's NameID
		// format and email attribute, IdP-initiated) are kept.
		if got.SAML.IdPEntityID != entra.EntityID || got.SAML.SSOURL != entra.SSOURL || len(got.SAML.Certificates) != 1 ||
			got.SAML.NameIDFormat != "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" || !got.SAML.AllowIdPInitiated ||
			got.SAML.EmailAttribute != "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" || got.Status != gatehouse.SSOComplete {
			t.Errorf("chosen import: %+v %+v", got, got.SAML)
		}

		// Metadata that cannot be used names what is wrong, and changes nothing.
		for _, tc := range []struct {
			name, body, field, says string
		}{
			{"DOCTYPE", jsonBody(map[string]string{"xml": `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + strip(oktaMD)}), "xml", "DOCTYPE"},
			{"no SSO URL", jsonBody(map[string]string{"xml": strings.ReplaceAll(oktaMD, "SingleSignOnService", "ArtifactResolutionService")}), "xml", "SingleSignOnService"},
			{"neither xml nor url", `{}`, "url", "either"},
			{"both xml and url", jsonBody(map[string]string{"xml": oktaMD, "url": "https://idp.example/md"}), "url", "either"},
			{"unknown entity", jsonBody(map[string]string{"xml": both, "entity_id": "https://nobody.example"}), "xml", "https://nobody.example"},
			{"a URL that is not http", jsonBody(map[string]string{"url": "file:///etc/passwd"}), "url", `not "file"`},
		} {
			res := f.acct.do("POST", path, tc.body)
			if res.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d: %s", tc.name, res.Status, res.Body)
				continue
			}
			p := problemOf(t, res)
			said := p.Detail
			for _, e := range p.Errors {
				said += " " + e.Message
			}
			if !slices.Contains(p.fields(), tc.field) || !contains(said, tc.says) {
				t.Errorf("%s: %s, want field %s saying %q", tc.name, res.Body, tc.field, tc.says)
			}
		}
		if now := f.get(f.acct, f.a1.ID, cfg.ID); now.SAML.IdPEntityID != entra.EntityID {
			t.Errorf("a refused import changed the configuration: %+v", now.SAML)
		}

		// By URL, from the IdP's web server (loopback: allowed by the
		// operator's flag in this fixture).
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/federationmetadata.xml" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprint(w, oktaMD)
		}))
		defer srv.Close()
		got = decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "POST", path, jsonBody(map[string]string{"url": srv.URL + "/federationmetadata.xml?appid=secret-ish"})))
		if got.SAML.IdPEntityID != okta.EntityID || !got.SAML.AllowIdPInitiated {
			t.Errorf("import by URL: %+v", got.SAML)
		}
		res = f.acct.must(http.StatusUnprocessableEntity, "POST", path, jsonBody(map[string]string{"url": srv.URL + "/missing"}))
		if p := problemOf(t, res); !equal(p.fields(), []string{"url"}) || !contains(string(res.Body), "404") {
			t.Errorf("a URL answering 404: %s", res.Body)
		}

		evs := f.audit(gatehouse.AuditFilter{TargetID: cfg.ID, ActionPrefix: "sso_config.metadata_import"})
		if len(evs) != 2 {
			t.Fatalf("metadata imports audited: %d", len(evs))
		}
		if d := evs[0].Details; d["source"] != "url" || d["url"] != srv.URL+"/federationmetadata.xml" || d["entity_id"] != okta.EntityID ||
			d["certificates_added"] == "" || d["certificates_removed"] == "" || !contains(d["changed"], "saml.certificates") {
			t.Errorf("import by URL audited with %v", d)
		}
		if d := evs[1].Details; d["source"] != "xml" || d["entity_id"] != entra.EntityID {
			t.Errorf("import by XML audited with %v", d)
		}
	})
}

func TestSSOConfigMetadataURLRefusesPrivateAddresses(t *testing.T) {
	s := storetest.SQLite(t)
	f := newFixture(t, s)
	box, _ := secretbox.New(strings.Repeat("k", 32))
	base, _ := url.Parse("https://gatehouse.example")
	// The operator has not allowed private addresses.
	f.acct.h = app.New(app.Config{Store: s, Passwords: hasher, Now: s.Now, BaseURL: base, Secrets: box}).API
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("Gatehouse connected to a loopback address")
	}))
	defer srv.Close()
	cfg := decodeAs[ssoConfig](t, f.acct.must(http.StatusCreated, "POST", "/api/v1/accounts/"+f.a1.ID+"/sso-configs", `{}`))
	res := f.acct.must(http.StatusUnprocessableEntity, "POST", "/api/v1/accounts/"+f.a1.ID+"/sso-configs/"+cfg.ID+"/metadata", `{"url":"`+srv.URL+`/md"}`)
	if p := problemOf(t, res); !equal(p.fields(), []string{"url"}) || !contains(string(res.Body), "loopback") || !contains(string(res.Body), "--allow-private-metadata-urls") {
		t.Errorf("loopback metadata URL: %s", res.Body)
	}
}

func TestSSOConfigSigningKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		cfg := f.create(f.acct, f.a1.ID, completeBody(t, 0))
		path := f.configsPath(f.a1.ID) + "/" + cfg.ID
		if cfg.SPCertificate != "" {
			t.Errorf("a configuration without signing has an SP certificate")
		}
		f.passTest(cfg.ID)

		// Turning signing on makes a key; the configuration stays complete.
		on := decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "PATCH", path, `{"saml":{"sign_requests":true}}`))
		if !strings.HasPrefix(on.SPCertificate, "-----BEGIN CERTIFICATE-----") || on.Status != gatehouse.SSOComplete || on.TestCurrent {
			t.Fatalf("signing on: %+v", on)
		}
		f.passTest(cfg.ID)
		rotated := decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "POST", path+"/sp-key", ""))
		if rotated.SPCertificate == on.SPCertificate || !strings.HasPrefix(rotated.SPCertificate, "-----BEGIN CERTIFICATE-----") || rotated.TestCurrent {
			t.Errorf("rotated: same certificate %v, test current %v", rotated.SPCertificate == on.SPCertificate, rotated.TestCurrent)
		}
		// Turning signing off keeps the key, so turning it on again does not
		// make the IdP's copy of the certificate stale.
		off := decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "PATCH", path, `{"saml":{"sign_requests":false}}`))
		if off.SPCertificate != rotated.SPCertificate {
			t.Error("turning signing off changed the SP certificate")
		}
		// Signing can be asked for on create, too.
		b := strings.Replace(completeBody(t, 1), `"saml":{`, `"saml":{"sign_requests":true,`, 1)
		signed := f.create(f.acct, f.a1.ID, b)
		if signed.SPCertificate == "" || signed.Status != gatehouse.SSOComplete {
			t.Errorf("created with signing: %s %v", signed.Status, signed.Problems)
		}

		rot := f.audit(gatehouse.AuditFilter{TargetID: cfg.ID, ActionPrefix: "sso_config.sp_key_rotate"})
		if len(rot) != 1 || rot[0].Details["sp_certificate_sha256"] == "" || rot[0].Details["previous_sp_certificate_sha256"] == "" || rot[0].Details["test"] != "out_of_date" {
			t.Errorf("rotation audited as %+v", rot)
		}
		// No audit event carries key material.
		for _, e := range f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID}) {
			for k, v := range e.Details {
				if contains(v, "PRIVATE") || contains(v, "BEGIN") || len(v) > 2000 {
					t.Errorf("%s detail %s holds key or certificate material", e.Action, k)
				}
			}
		}
	})
}
