package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/domainverify"
	"gatehouse/internal/domainverify/dnstest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestAccountDomainsVerifiedByDNS: an account's admin claims a domain, is
// given the TXT record to publish, and verifies it once a real DNS server
// (on loopback, through the configured resolver) answers with it; a domain
// belongs to one account, and another account's token cannot touch the
// claim (issue 15, part 2).
func TestAccountDomainsVerifiedByDNS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		dns := dnstest.Start(t)
		base, _ := url.Parse("https://gatehouse.example")
		h := app.New(app.Config{Store: s, Passwords: hasher, Now: s.Now, BaseURL: base, DNS: domainverify.Resolver(dns.Addr),
			Logger: slog.New(slog.NewTextHandler(f.logs, nil))}).API
		for _, c := range []*client{&f.super, &f.part, &f.acct, &f.anonymous} {
			c.h = h
		}
		path := "/api/v1/accounts/" + f.a1.ID + "/domains"
		type domain struct {
			Domain      string `json:"domain"`
			Verified    bool   `json:"verified"`
			RecordName  string `json:"record_name"`
			RecordValue string `json:"record_value"`
		}

		if p := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "POST", path, `{"domain":"ian@acme.example"}`)); !equal(p.fields(), []string{"domain"}) {
			t.Errorf("an email as a domain: %+v", p)
		}
		claim := decodeAs[domain](t, f.acct.must(http.StatusOK, "POST", path, `{"domain":"ACME.example"}`))
		if claim.Domain != "acme.example" || claim.Verified || claim.RecordName != "_gatehouse-challenge.acme.example" || claim.RecordValue == "" {
			t.Fatalf("claim: %+v", claim)
		}
		if again := decodeAs[domain](t, f.acct.must(http.StatusOK, "POST", path, `{"domain":"acme.example"}`)); again.RecordValue != claim.RecordValue {
			t.Errorf("claiming again gave another record: %+v", again)
		}

		// Not published yet, then published with another value: not verified.
		verify := path + "/acme.example/verify"
		if p := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "POST", verify, "")); !contains(p.Errors[0].Message, "no TXT record was found") {
			t.Errorf("verify before the record: %+v", p)
		}
		dns.SetTXT(claim.RecordName, "gatehouse-domain-verification=someone-else")
		if p := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "POST", verify, "")); !contains(p.Errors[0].Message, "none holds the value") {
			t.Errorf("verify with another value: %+v", p)
		}
		dns.SetTXT(claim.RecordName, claim.RecordValue)
		if got := decodeAs[domain](t, f.acct.must(http.StatusOK, "POST", verify, "")); !got.Verified {
			t.Fatalf("verify with the record: %+v", got)
		}
		if id, err := s.VerifiedDomainAccount(t.Context(), "acme.example"); err != nil || id != f.a1.ID {
			t.Errorf("the domain's account: %q, %v", id, err)
		}

		// Globex claims the same domain, publishes its own record: refused,
		// the domain is Acme's.
		other := "/api/v1/accounts/" + f.a2.ID + "/domains"
		theirs := decodeAs[domain](t, f.part.must(http.StatusOK, "POST", other, `{"domain":"acme.example"}`))
		dns.SetTXT(theirs.RecordName, claim.RecordValue, theirs.RecordValue)
		f.part.must(http.StatusConflict, "POST", other+"/acme.example/verify", "")
		// Acme's token reaches neither Globex's claims nor its own beyond.
		f.acct.must(http.StatusNotFound, "GET", other, "")
		f.acct.must(http.StatusNotFound, "DELETE", other+"/acme.example", "")

		list := decodeAs[page[domain]](t, f.acct.must(http.StatusOK, "GET", path, ""))
		if len(list.Items) != 1 || !list.Items[0].Verified {
			t.Errorf("list: %+v", list)
		}
		f.acct.must(http.StatusNoContent, "DELETE", path+"/acme.example", "")
		if _, err := s.VerifiedDomainAccount(t.Context(), "acme.example"); err == nil {
			t.Error("the domain is still verified after its claim was dropped")
		}
		wantActions(t, f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "domain.", Outcome: gatehouse.OutcomeSuccess}),
			"domain.delete", "domain.verify", "domain.claim", "domain.claim")
		// The failed attempts are audited with what was found.
		failed := f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "domain.", Outcome: gatehouse.OutcomeFailure})
		if len(failed) != 2 || !contains(failed[0].Reason, "none holds the value") || !contains(failed[1].Reason, "no TXT record") {
			t.Errorf("failed verifications audited as %+v", failed)
		}
	})
}

// TestJITAppliesAtOnce: just-in-time seats are Gatehouse's own setting, not
// the IdP's: turning them on applies at once, even while IdP changes wait
// as pending, and leaves those pending changes as they were.
func TestJITAppliesAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		c := f.acct
		cfg := f.create(c, f.a1.ID, completeBody(t, 0))
		one := f.configsPath(f.a1.ID) + "/" + cfg.ID
		f.passTest(cfg.ID)
		c.must(http.StatusOK, "POST", one+"/enable", "")
		staged := decodeAs[ssoConfig](t, c.must(http.StatusOK, "PATCH", one, `{"saml":{"sso_url":"https://entra.idp.example/sso-new"}}`))
		type withJIT struct {
			ssoConfig
			JIT struct {
				Enabled         bool   `json:"enabled"`
				GroupsAttribute string `json:"groups_attribute"`
			} `json:"jit"`
		}
		got := decodeAs[withJIT](t, c.must(http.StatusOK, "PATCH", one, `{"jit":{"enabled":true,"groups_attribute":"groups"}}`))
		if !got.JIT.Enabled || got.JIT.GroupsAttribute != "groups" || got.Pending == nil || !got.Pending.ChangedAt.Equal(staged.Pending.ChangedAt) {
			t.Errorf("JIT while changes are pending: jit %+v, pending %+v (was changed at %v)", got.JIT, got.Pending, staged.Pending.ChangedAt)
		}
		// A groups attribute longer than any IdP's attribute name is refused.
		long, _ := json.Marshal(map[string]any{"jit": map[string]any{"groups_attribute": strings.Repeat("g", 257)}})
		if p := problemOf(t, c.must(http.StatusUnprocessableEntity, "PATCH", one, string(long))); !equal(p.fields(), []string{"jit.groups_attribute"}) {
			t.Errorf("a 257-character groups attribute: %+v", p)
		}
		stored, _ := s.SSOConfig(t.Context(), cfg.ID)
		if !stored.JIT.Enabled || stored.SAML.SSOURL == "https://entra.idp.example/sso-new" {
			t.Errorf("stored: jit %+v, live SSO URL %s", stored.JIT, stored.SAML.SSOURL)
		}
	})
}
