package e2eoidc

// Gatehouse, the real binary, as the OpenID Connect relying party of a real
// oidc-provider 9 (op.sh): configured over its REST API, the OP's clients
// registered with the redirect URIs the API hands out, and people signed in
// through Gatehouse's own pages without a browser (opclient plays the person
// at the OP). One Gatehouse and one OP serve every step; each step uses
// fresh cookie jars. The account Example has one enabled configuration at a
// time, so the Entra ID multi-tenant configuration (E) goes first, then the
// plain issuer's (P), whose key rotation and outage come last. Most of the
// run is one wait: Gatehouse refetches a JWKS for an unknown kid at most
// once per oidcrp.RefetchInterval (a minute), counted from P's first fetch.
//
// The binary is built, run and driven with test/e2e/gatehouseproc, as in
// test/e2e/saml.

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/oidcrp"
	"gatehouse/test/e2e/gatehouseproc"
	"gatehouse/test/e2e/oidc/opclient"
)

const (
	adaEmail    = "ada@example.com"
	adaPassword = "e2e-ada-password-0123"
	aliceEmail  = "alice@example.com"
	aliceName   = "Alice Example"
	accountName = "Example"

	plainPath   = "/plain"
	orgsPath    = "/organizations/v2.0" // the OP's imitation of Entra's shared endpoint
	plainClient = "gatehouse-plain"
	plainSecret = "plain-secret-e2e"
	entraSecret = "entra-secret-e2e"
)

func TestGatehouseWithOIDCProvider(t *testing.T) {
	if os.Getenv(enableVar) != "1" {
		t.Skip("*** SKIPPED: Gatehouse (the binary) against a real OpenID Provider. It needs Node.js >= 20.19 and npm " +
			"`oidc-provider` (test/e2e/oidc/op): run test/e2e/oidc/run (installs it, then runs this with " +
			enableVar + "=1), or set " + enableVar + "=1 after `test/e2e/oidc/op.sh install`.")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("%s=1 but node is missing: run test/e2e/oidc/op.sh install", enableVar)
	}
	began := time.Now()

	// The OP's port is picked first, so its issuers are known before
	// Gatehouse is configured; the OP starts once the configurations exist
	// and its clients can be registered with their redirect URIs.
	h := newHarness(t)
	g := startGatehouse(t, h.base)
	ex := g.seed(t)
	plainIss := h.base + plainPath
	issA := h.base + "/" + tenantA + "/v2.0"

	p := g.createOIDCConfig(t, ex, "generic_oidc", map[string]any{
		"issuer": plainIss, "client_id": plainClient, "client_secret": plainSecret})
	p.authEndpoint = plainIss + "/auth"
	// Entra's multi-tenant issuer is a template; Gatehouse discovers it at
	// the shared "organizations" endpoint, which the OP imitates.
	// The customer names the tenant only: issuer, client and secret are
	// the provider's Entra ID application's, configured on the server.
	e := g.createOIDCConfig(t, ex, "entra_id_multitenant_oidc", map[string]any{"entra_tenants": []string{tenantA}})
	e.authEndpoint, e.entra = h.base+orgsPath+"/auth", true

	h.cfg = opConfigFor(p, e)
	h.start(t)
	t.Logf("OP at %s, Gatehouse at %s, ready after %s", h.base, g.Base, time.Since(began).Round(time.Millisecond))

	// Each step builds on the ones before it: the first failure ends the test.
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		start := time.Now()
		ok := t.Run(name, f)
		t.Logf("step %-78s %s", name, time.Since(start).Round(time.Millisecond))
		if !ok {
			t.FailNow()
		}
	}

	var aliceSubA string
	step("E: Test as ada; alice of tenant A, her email verified by xms_edov", func(t *testing.T) {
		ada := g.admin(t, false)
		r := ada.runTest(e, "alice", "alicepass")
		r.passed(t, e)
		claims := r.claims(t)
		aliceSubA = claims["sub"]
		for name, want := range map[string]string{
			"iss": issA, "aud": entraClient, "tid": tenantA, "oid": aliceOID, "xms_edov": "true",
			"email": aliceEmail, "preferred_username": aliceEmail, "name": aliceName,
		} {
			if claims[name] != want {
				t.Errorf("claim %s shown as %q, want %q", name, claims[name], want)
			}
		}
		claimsAre(t, claims, "aud", "email", "email_verified", "exp", "iat", "iss", "name", "nonce", "oid",
			"preferred_username", "sub", "tid", "xms_edov")
		if len(aliceSubA) != 43 {
			t.Errorf("sub %q: want the tenant's pairwise value", aliceSubA)
		}
		r.mustShow(t, "<dt>Subject (sub)</dt><dd><code>"+aliceSubA+"</code></dd>",
			"<dt>Link key</dt><dd><code>entra:"+tenantA+":"+aliceOID+"</code></dd>",
			"<dt>Email</dt><dd>alice@example.com (verified by the IdP)</dd>",
			"Matches "+aliceName+" (alice@example.com).")
		r.mustSay(t, "Matched by: the email the IdP verified", "No one was signed in.")
		g.lastTestIs(t, ex, e, aliceSubA, ex.AliceID)
	})

	step("E: enable; alice of tenant A signs in (linked by tid+oid)", func(t *testing.T) {
		if v := g.enable(t, ex, e.id); !v.Enabled || v.Status != "enabled" {
			t.Fatalf("after enable: enabled %v, status %q", v.Enabled, v.Status)
		}
		br := g.browser(t)
		br.signIn(e, aliceEmail, "alice", "alicepass").signedInAs(t, br, aliceEmail)
		if ev := g.lastSignIn(t, ex, "success"); ev.ActorID != ex.AliceID || ev.Details["sso_config"] != e.id || ev.Details["subject"] != aliceSubA {
			t.Errorf("audit signin.oidc success = %+v, want alice through %s with subject %s", ev, e.id, aliceSubA)
		}
	})

	var tenantRefusal auditEvent
	var tenantTest testResult
	step("E: alice of tenant B (not allowed), her email verified too, is refused", func(t *testing.T) {
		h.sh(t, "common", h.dir, orgsPath, tenantB)
		defer h.sh(t, "common", h.dir, orgsPath, tenantA)
		// The admin's Test fails, naming tenant B's issuer.
		tenantTest = g.admin(t, true).runTest(e, "alice", "alicepass")
		if tenantTest.Title() != "Test of "+e.name+" failed" || !strings.Contains(tenantTest.Text(), tenantB) {
			t.Fatalf("Test through tenant B: %d %q, want a failure naming tenant %s:\n%.4000s", tenantTest.Status, tenantTest.Title(), tenantB, tenantTest.Body)
		}
		tenantTest.mustSay(t, "No one was signed in.")
		successes := len(g.signIns(t, ex, "success"))
		tokens := h.count(t, "POST "+orgsPath+"/token ")
		br := g.browser(t)
		p := br.signIn(e, aliceEmail, "alice", "alicepass")
		tenantRefusal = g.refused(t, ex, p)
		ev := tenantRefusal
		if ev.Details["sso_config"] != e.id || !strings.Contains(ev.Reason, tenantB) {
			t.Errorf("audit %+v: want a refusal at %s whose reason names tenant %s", ev, e.id, tenantB)
		}
		t.Logf("refused: reason %q (%s), fix in %s: %s", ev.Details["reason"], ev.Details["received"], ev.Details["fix_in"], ev.Reason)
		if strings.Contains(p.Text(), tenantB) || strings.Contains(p.Text(), aliceEmail) {
			t.Errorf("the refusal page tells the person the details; it should stay generic")
		}
		br.NoSession()
		if n := len(g.signIns(t, ex, "success")); n != successes {
			t.Errorf("%d sign-ins succeeded meanwhile", n-successes)
		}
		t.Logf("code redemptions at the token endpoint during the refusal: %d", h.count(t, "POST "+orgsPath+"/token ")-tokens)
	})

	step("E: mallory of tenant A, her email naming alice without xms_edov, is refused", func(t *testing.T) {
		br := g.browser(t)
		ev := g.unverified(t, ex, br.signIn(e, aliceEmail, "mallory", "mallorypass"))
		if ev.Details["sso_config"] != e.id || ev.ActorID == ex.AliceID || !strings.HasPrefix(ev.Details["link_key"], "entra:"+tenantA+":") {
			t.Errorf("audit %+v, want a refusal at %s with mallory's tid+oid", ev, e.id)
		}
		br.NoSession()
	})

	step("E: alice's email changes in tenant A and is no longer verified; she still signs in as alice", func(t *testing.T) {
		a := h.cfg.Issuers[1]
		if a.TenantID != tenantA {
			t.Fatalf("issuer 1 is %s, want tenant A", a.Path)
		}
		a.Users["alice"] = opUser{OID: aliceOID, Email: "alice@contoso.example", Claims: map[string]any{"xms_edov": false}}
		h.writeConfig(t)
		h.sh(t, "reload", h.dir)
		br := g.browser(t)
		br.signIn(e, aliceEmail, "alice", "alicepass").signedInAs(t, br, aliceEmail)
		if ev := g.lastSignIn(t, ex, "success"); ev.ActorID != ex.AliceID || ev.Details["sso_config"] != e.id {
			t.Errorf("audit signin.oidc success = %+v, want alice through %s", ev, e.id)
		}
	})

	var alicePlainSub string
	step("P: Test as ada (the plain issuer, a confidential client); every claim, alice matched", func(t *testing.T) {
		ada := g.admin(t, true)
		r := ada.runTest(p, "alice", "alicepass")
		r.passed(t, p)
		claims := r.claims(t)
		alicePlainSub = claims["sub"]
		for name, want := range map[string]string{
			"iss": plainIss, "aud": plainClient, "sub": "alice", "email": aliceEmail, "email_verified": "true",
			"name": aliceName, "preferred_username": aliceEmail,
		} {
			if claims[name] != want {
				t.Errorf("claim %s shown as %q, want %q", name, claims[name], want)
			}
		}
		// Every claim of oidc-provider's ID token for the scopes openid
		// email profile (test/e2e/oidc/harness_test.go checks the token).
		claimsAre(t, claims, "aud", "email", "email_verified", "exp", "iat", "iss", "name", "nonce", "preferred_username", "sub")
		r.mustShow(t, "<dt>Subject (sub)</dt><dd><code>alice</code></dd>",
			"<dt>Link key</dt><dd><code>iss:"+plainIss+"|sub:alice</code></dd>",
			"<dt>Email</dt><dd>alice@example.com (verified by the IdP)</dd>",
			"Matches "+aliceName+" (alice@example.com).")
		r.mustSay(t, "Matched by: the email the IdP verified", "No one was signed in.")
		g.lastTestIs(t, ex, p, "alice", ex.AliceID)
	})

	var keysFetched time.Time // when Gatehouse last fetched /plain's JWKS
	step("P: enable (E switches off); alice signs in email-first", func(t *testing.T) {
		v := g.enable(t, ex, p.id)
		if !v.Enabled || v.DisabledConfigID != e.id {
			t.Fatalf("enable P: enabled %v, disabled_config_id %q; want true and E (%s)", v.Enabled, v.DisabledConfigID, e.id)
		}
		br := g.browser(t)
		br.signIn(p, aliceEmail, "alice", "alicepass").signedInAs(t, br, aliceEmail)
		keysFetched = time.Now()
		if ev := g.lastSignIn(t, ex, "success"); ev.ActorID != ex.AliceID || ev.Details["sso_config"] != p.id ||
			ev.Details["subject"] != alicePlainSub || ev.Details["email"] != aliceEmail {
			t.Errorf("audit signin.oidc success = %+v, want alice through %s", ev, p.id)
		}
	})

	step("P: mallory's unverified email naming alice signs no one in", func(t *testing.T) {
		successes := len(g.signIns(t, ex, "success"))
		br := g.browser(t)
		ev := g.unverified(t, ex, br.signIn(p, aliceEmail, "mallory", "mallorypass"))
		if ev.Details["sso_config"] != p.id || ev.Details["link_key"] != "iss:"+plainIss+"|sub:mallory" || ev.Details["email"] != aliceEmail {
			t.Errorf("audit %+v, want mallory's refusal at %s", ev, p.id)
		}
		br.NoSession()
		if n := len(g.signIns(t, ex, "success")); n != successes {
			t.Errorf("%d sign-ins succeeded meanwhile", n-successes)
		}
	})

	step("P: alice's email claim changes at the IdP; she still signs in as alice (issuer+sub link)", func(t *testing.T) {
		u := h.cfg.Users["alice"]
		u.Email = "alice.renamed@example.org"
		h.cfg.Users["alice"] = u
		h.writeConfig(t)
		h.sh(t, "reload", h.dir)
		br := g.browser(t)
		br.signIn(p, aliceEmail, "alice", "alicepass").signedInAs(t, br, aliceEmail)

		r := g.admin(t, true).runTest(p, "alice", "alicepass")
		r.passed(t, p)
		r.mustShow(t, "<dt>Email</dt><dd>alice.renamed@example.org (verified by the IdP)</dd>", "Matches "+aliceName+" (alice@example.com).")
		r.mustSay(t, "Matched by: the link made at this person's first sign-in (the email claim is not used)")
	})

	step("P: the IdP rotates its signing key; the next sign-in refetches the JWKS once", func(t *testing.T) {
		// Gatehouse refetches a JWKS for an unknown kid at most once per
		// oidcrp.RefetchInterval: let that pass since alice's first sign-in.
		if wait := time.Until(keysFetched.Add(oidcrp.RefetchInterval + time.Second)); wait > 0 {
			t.Logf("waiting %s: Gatehouse fetched /plain's JWKS at alice's first sign-in and refetches at most once per %s",
				wait.Round(100*time.Millisecond), oidcrp.RefetchInterval)
			time.Sleep(wait)
		}
		fetches := h.count(t, "GET "+plainPath+"/jwks 200 ")
		var rotated struct {
			ActiveKid string   `json:"active_kid"`
			Kids      []string `json:"kids"`
		}
		if err := json.Unmarshal([]byte(h.sh(t, "rotate", h.dir, plainPath)), &rotated); err != nil || rotated.ActiveKid == "" {
			t.Fatalf("op.sh rotate: %v %+v", err, rotated)
		}
		br := g.browser(t)
		br.signIn(p, aliceEmail, "alice", "alicepass").signedInAs(t, br, aliceEmail)
		if n := h.count(t, "GET "+plainPath+"/jwks 200 ") - fetches; n != 1 {
			t.Errorf("Gatehouse fetched the JWKS %d times for the token signed with the new kid %s, want once", n, rotated.ActiveKid)
		}
	})

	step("P: the IdP's discovery and JWKS answer 503; a sign-in still works from the cache", func(t *testing.T) {
		h.sh(t, "down", h.dir, plainPath)
		for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
			if code := status(t, plainIss+path); code != http.StatusServiceUnavailable {
				t.Fatalf("down: %s answered %d, want 503", path, code)
			}
		}
		tried := h.count(t, "GET "+plainPath+"/.well-known/openid-configuration 503 ") + h.count(t, "GET "+plainPath+"/jwks 503 ")
		br := g.browser(t)
		br.signIn(p, aliceEmail, "alice", "alicepass").signedInAs(t, br, aliceEmail)
		t.Logf("Gatehouse's requests to the down discovery or JWKS during the sign-in: %d",
			h.count(t, "GET "+plainPath+"/.well-known/openid-configuration 503 ")+h.count(t, "GET "+plainPath+"/jwks 503 ")-tried)
	})

	step("D: a new configuration of the down IdP: its Test shows the discovery error", func(t *testing.T) {
		d := g.createOIDCConfig(t, ex, "generic_oidc", map[string]any{
			"issuer": plainIss, "client_id": "gatehouse-new", "client_secret": "new-secret-e2e"})
		ada := g.admin(t, true)
		r := ada.get(d.testURL)
		want := "could not reach the IdP's discovery document at " + plainIss + "/.well-known/openid-configuration: it answered 503 Service Unavailable"
		if r.Status != http.StatusConflict || r.Title() != "Cannot test "+d.name+" yet" {
			t.Fatalf("Test of %s: %d %q at %s, want 409 %q:\n%.3000s", d.id, r.Status, r.Title(), r.URL, "Cannot test "+d.name+" yet", r.Body)
		}
		r.mustSay(t, want, "Fix this in your IdP.", "Test again")
		if strings.Contains(r.Body, "data-sso-continue") {
			t.Errorf("the page sends the browser on to the IdP")
		}
		if v := g.config(t, ex, d.id); v.LastTest != nil || v.TestCurrent || v.Enabled {
			t.Errorf("D after the failed Test: last_test %+v, test_current %v, enabled %v", v.LastTest, v.TestCurrent, v.Enabled)
		}
	})

	// Findings: checks of how Gatehouse explains a refusal, kept last so
	// that a finding does not hide the steps above.
	t.Run("finding: a tenant that is not allowed is reported as such, to be fixed in Gatehouse", func(t *testing.T) {
		// oidc-provider sends RFC 9207's iss with the code, so Gatehouse
		// refuses tenant B's answer before redeeming it. The ID token
		// check would say "tenant ... not allowed", fix in Gatehouse (add
		// the tenant); the answer's iss, which fits the {tenantid}
		// template, should be explained the same way.
		if !strings.Contains(tenantTest.Text(), "not allowed") || !strings.Contains(tenantTest.Text(), "Fix this in Gatehouse.") {
			m := regexp.MustCompile(`(?s)<h2>Why it failed</h2>(.*?)<p><a class="button"`).FindStringSubmatch(tenantTest.Body)
			if m == nil {
				m = []string{"", tenantTest.Body}
			}
			t.Errorf("the admin's Test through tenant B says:%s\nwant: tenant %s is not allowed; Fix this in Gatehouse.", html.UnescapeString(m[1]), tenantB)
		}
		ev := tenantRefusal
		if ev.Details["reason"] != "tenant" || ev.Details["fix_in"] != "gatehouse" || !strings.Contains(ev.Reason, "not allowed") {
			t.Errorf("tenant B's refusal is audited with reason %q, fix_in %q, expected %q, received %q: %s; "+
				"want reason tenant, fix_in gatehouse, and a reason saying tenant %s is not allowed",
				ev.Details["reason"], ev.Details["fix_in"], ev.Details["expected"], ev.Details["received"], ev.Reason, tenantB)
		}
	})
	t.Logf("whole run: %s", time.Since(began).Round(time.Millisecond))
}

// opConfigFor is the OP for configurations p (the plain issuer) and e
// (Entra multi-tenant): alice (email verified) and mallory (an unverified
// email naming alice) everywhere; two Entra-like tenants where alice's
// email is verified by xms_edov, and the "organizations" endpoint in front
// of them, tenant A behind it until op.sh common says otherwise.
func opConfigFor(p, e *ghConfig) *opConfig {
	client := func(c *ghConfig, secret string) map[string]any {
		return map[string]any{"client_id": c.clientID, "client_secret": secret, "redirect_uris": []string{c.redirectURI}}
	}
	return &opConfig{
		Users: map[string]opUser{
			"alice": {Password: "alicepass", Email: aliceEmail, EmailVerified: new(true),
				Name: aliceName, PreferredUsername: aliceEmail},
			"mallory": {Password: "mallorypass", Email: aliceEmail, EmailVerified: new(false),
				Name: "Mallory", PreferredUsername: "mallory@example.net"},
		},
		Issuers: []opIssuer{
			{Path: plainPath, Clients: []map[string]any{client(p, plainSecret)}},
			{Path: "/" + tenantA + "/v2.0", TenantID: tenantA, PairwiseSubject: true,
				Users:   map[string]opUser{"alice": {OID: aliceOID, Claims: map[string]any{"xms_edov": true}}},
				Clients: []map[string]any{client(e, entraSecret)}},
			// Tenant B's alice is someone else whose verified email names
			// alice: only the allowed-tenant list keeps her out.
			{Path: "/" + tenantB + "/v2.0", TenantID: tenantB, PairwiseSubject: true,
				Users:   map[string]opUser{"alice": {Claims: map[string]any{"xms_edov": true}}},
				Clients: []map[string]any{client(e, entraSecret)}},
			{Path: orgsPath, EntraCommon: true, TenantID: tenantA},
		},
	}
}

// count is how many lines of the OP's request log contain s.
func (h *harness) count(t *testing.T, s string) int {
	t.Helper()
	return strings.Count(h.log(t), s)
}

// ---- Gatehouse, the binary ---------------------------------------------------

// gatehouseServer is `gatehouse serve` (gatehouseproc) with this suite's
// OIDC-specific calls.
type gatehouseServer struct{ *gatehouseproc.Server }

// startGatehouse builds cmd/gatehouse, mints an API token with its CLI and
// runs `gatehouse serve` on a free loopback port until the test ends, with
// the provider's Entra ID application (entraClient) at the OP's authority.
func startGatehouse(t *testing.T, authority string) *gatehouseServer {
	t.Helper()
	secretFile := filepath.Join(t.TempDir(), "entra-secret")
	if err := os.WriteFile(secretFile, []byte(entraSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gatehouseServer{gatehouseproc.Start(t, "--entra-client-id", entraClient, "--entra-authority", authority, "--entra-client-secret-file", secretFile)}
	if g.BannerURL != g.Base {
		t.Fatalf("serve listens on %s but names the public URL %s", g.Base, g.BannerURL)
	}
	return g
}

// example is the seeded enterprise account.
type example = gatehouseproc.Example

// seed creates, over the API, a partition, the enterprise account Example,
// alice (a user, no password: she signs in through the IdP only) and ada
// (an admin with a password).
func (g *gatehouseServer) seed(t *testing.T) example {
	t.Helper()
	return g.Seed(t, accountName, gatehouseproc.Person{Email: aliceEmail, Name: aliceName},
		gatehouseproc.Person{Email: adaEmail, Name: "Ada Admin", Password: adaPassword})
}

// configView is what the tests read of the API's SSO configuration.
type configView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Preset  string `json:"preset"`
	Status  string `json:"status"`
	Enabled bool   `json:"enabled"`
	OIDC    *struct {
		Issuer          string   `json:"issuer"`
		ClientID        string   `json:"client_id"`
		Scopes          []string `json:"scopes"`
		EmailClaim      string   `json:"email_claim"`
		EntraTenants    []string `json:"entra_tenants"`
		ClientSecretSet bool     `json:"client_secret_set"`
	} `json:"oidc"`
	SP struct {
		RedirectURI string `json:"redirect_uri"`
	} `json:"sp"`
	Problems []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"problems"`
	LastTest *struct {
		Outcome string `json:"outcome"`
		By      string `json:"by"`
		Subject string `json:"subject"`
		UserID  string `json:"user_id"`
		Reason  string `json:"reason"`
	} `json:"last_test"`
	TestCurrent      bool   `json:"test_current"`
	TestURL          string `json:"test_url"`
	DisabledConfigID string `json:"disabled_config_id"`
}

// ghConfig is an OIDC configuration as the OP and the browser see it.
type ghConfig struct {
	id, name, clientID   string
	redirectURI, testURL string
	authEndpoint         string // the OP's authorization endpoint Gatehouse should send the browser to
	entra                bool
}

// createOIDCConfig creates a complete OIDC configuration from preset and
// settings, and checks the redirect URI and Test URL the API hands out.
func (g *gatehouseServer) createOIDCConfig(t *testing.T, ex example, preset string, settings map[string]any) *ghConfig {
	t.Helper()
	body := map[string]any{"protocol": "oidc", "preset": preset, "oidc": settings}
	var v configView
	g.Call(t, "POST", "/api/v1/accounts/"+ex.AccountID+"/sso-configs", body, http.StatusCreated, &v)
	if v.Status != "complete" || len(v.Problems) != 0 || v.Enabled || v.Preset != preset {
		t.Fatalf("new %s configuration: status %q, enabled %v, preset %q, problems %+v; want complete", preset, v.Status, v.Enabled, v.Preset, v.Problems)
	}
	wantIssuer, wantClient, wantSecret, wantRedirect := settings["issuer"], settings["client_id"], true, g.Base+"/sso/oidc/"+v.ID+"/callback"
	if preset == "entra_id_multitenant_oidc" && v.OIDC != nil {
		// The provider's Entra ID application's, shared by every customer.
		wantIssuer, wantClient, wantSecret, wantRedirect = v.OIDC.Issuer, entraClient, false, g.Base+"/sso/entra/callback"
		if !strings.HasSuffix(v.OIDC.Issuer, "/{tenantid}/v2.0") {
			t.Errorf("the provider application's issuer %q is not the {tenantid} template", v.OIDC.Issuer)
		}
	}
	if v.OIDC == nil || v.OIDC.ClientSecretSet != wantSecret || v.OIDC.Issuer != wantIssuer || v.OIDC.ClientID != wantClient {
		t.Fatalf("new %s configuration's OIDC settings %+v", preset, v.OIDC)
	}
	secret, _ := settings["client_secret"].(string)
	if raw, _ := json.Marshal(v); secret != "" && bytes.Contains(raw, []byte(secret)) {
		t.Errorf("the API shows the client secret of the new %s configuration", preset)
	}
	c := &ghConfig{id: v.ID, name: v.Name, clientID: v.OIDC.ClientID, redirectURI: v.SP.RedirectURI, testURL: v.TestURL}
	if want := wantRedirect; c.redirectURI != want {
		t.Errorf("redirect URI %q, want %q", c.redirectURI, want)
	}
	if want := g.Base + "/sso/oidc/" + v.ID + "/test"; c.testURL != want {
		t.Errorf("test URL %q, want %q", c.testURL, want)
	}
	return c
}

func (g *gatehouseServer) config(t *testing.T, ex example, id string) configView {
	t.Helper()
	var v configView
	g.Call(t, "GET", ex.ConfigPath(id), nil, http.StatusOK, &v)
	return v
}

func (g *gatehouseServer) enable(t *testing.T, ex example, id string) configView {
	t.Helper()
	var v configView
	g.Call(t, "POST", ex.ConfigPath(id)+"/enable", nil, http.StatusOK, &v)
	return v
}

// lastTestIs checks the API's record of c's last Test: a current success
// by ada naming subject and user.
func (g *gatehouseServer) lastTestIs(t *testing.T, ex example, c *ghConfig, subject, userID string) {
	t.Helper()
	v := g.config(t, ex, c.id)
	if lt := v.LastTest; lt == nil || lt.Outcome != "success" || lt.Subject != subject || lt.UserID != userID || lt.By != ex.AdaID || !v.TestCurrent {
		t.Errorf("API last_test %+v, test_current %v: want a current success for %s (%s) by ada", v.LastTest, v.TestCurrent, subject, userID)
	}
}

type auditEvent = gatehouseproc.AuditEvent

// signIns are the account's signin.oidc audit events with that outcome
// ("" for all).
func (g *gatehouseServer) signIns(t *testing.T, ex example, outcome string) []auditEvent {
	t.Helper()
	return g.AuditEvents(t, ex, "signin.oidc", outcome)
}

// lastSignIn is the newest signin.oidc audit event with that outcome.
func (g *gatehouseServer) lastSignIn(t *testing.T, ex example, outcome string) auditEvent {
	t.Helper()
	return g.LastAuditEvent(t, ex, "signin.oidc", outcome)
}

// referenced returns the failed signin.oidc audit event page p quotes.
func (g *gatehouseServer) referenced(t *testing.T, ex example, p webPage) auditEvent {
	t.Helper()
	ref := p.Reference()
	if ref == "" {
		t.Fatalf("the page has no reference:\n%.2000s", p.Body)
	}
	return g.FailedAuditEvent(t, ex, "signin.oidc", ref)
}

// refused checks one of Gatehouse's SSO failure pages and returns the failed
// signin.oidc audit event its reference names.
func (g *gatehouseServer) refused(t *testing.T, ex example, p webPage) auditEvent {
	t.Helper()
	if p.Status != http.StatusForbidden || !strings.Contains(p.Text(), "Quote it when you ask for help.") {
		t.Fatalf("want the refusal page, got %d %q at %s:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
	}
	return g.referenced(t, ex, p)
}

// unverified checks the page that tells a person the IdP did not verify
// their email, and returns its audit event.
func (g *gatehouseServer) unverified(t *testing.T, ex example, p webPage) auditEvent {
	t.Helper()
	if p.Status != http.StatusForbidden || p.Title() != "Your email could not be verified" ||
		!strings.Contains(p.Text(), "We could not verify your email address with your company's sign-in") {
		t.Fatalf("want the unverified-email page, got %d %q at %s:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
	}
	ev := g.referenced(t, ex, p)
	if ev.Details["reason"] != "email_unverified" || ev.ActorID != "" {
		t.Errorf("audit %+v, want reason email_unverified and no actor", ev)
	}
	return ev
}

// ---- a browser on Gatehouse's pages ------------------------------------------

// browser is one person's browser (gatehouseproc.Browser): a cookie jar
// shared between Gatehouse and the OP, redirects followed and remembered.
type browser struct {
	*gatehouseproc.Browser
	g *gatehouseServer
}

type webPage struct{ gatehouseproc.Page }

func (g *gatehouseServer) browser(t *testing.T) *browser {
	return &browser{g.Browser(t), g}
}

func (b *browser) get(target string) webPage {
	b.T.Helper()
	return webPage{b.Get(target)}
}

// post submits a form of Gatehouse's own pages.
func (b *browser) post(target string, form url.Values) webPage {
	b.T.Helper()
	return webPage{b.Post(target, form)}
}

// signedInAs checks the page is Gatehouse's home page for email, reached
// through the finish step, and the browser holds a session.
func (p webPage) signedInAs(t *testing.T, b *browser, email string) {
	t.Helper()
	p.SignedInAs(t, b.Browser, email)
}

// admin is a browser signed in as ada with her password; ssoOn says the
// account has an enabled configuration, so she is offered the choice.
func (g *gatehouseServer) admin(t *testing.T, ssoOn bool) *browser {
	t.Helper()
	b := g.browser(t)
	b.signInWithPassword(adaEmail, adaPassword, ssoOn)
	return b
}

// signInWithPassword signs an admin in on Gatehouse's pages: email, the
// choice between SSO and password when SSO is on (choice), password.
func (b *browser) signInWithPassword(email, password string, choice bool) {
	b.T.Helper()
	p := b.post(b.g.Base+"/login", url.Values{"email": {email}, "return_to": {"/"}})
	if choice {
		if p.URL.Path != "/login/way" || p.Title() != "How do you want to sign in?" {
			b.T.Fatalf("%s after the email: %q at %s, want the choice of ways", email, p.Title(), p.URL)
		}
		p = b.get(b.g.Base + "/login/password")
	}
	if p.URL.Path != "/login/password" || p.Title() != "Enter your password" {
		b.T.Fatalf("%s: %q at %s, want the password page", email, p.Title(), p.URL)
	}
	p = b.post(b.g.Base+"/login/password", url.Values{"username": {email}, "password": {password}})
	p.signedInAs(b.T, b, email)
}

var continueLinkRe = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)

// authRequest is the authorization request Gatehouse sends the browser to
// the OP with.
type authRequest struct {
	url   string
	query url.Values
}

// toIdP reads the Continue link of Gatehouse's page in front of the IdP
// (sso.js follows it in a real browser) and checks it is an authorization
// code request of configuration c with state, nonce and PKCE S256.
func (b *browser) toIdP(p webPage, c *ghConfig) authRequest {
	b.T.Helper()
	m := continueLinkRe.FindStringSubmatch(p.Body)
	if m == nil {
		b.T.Fatalf("%d %q at %s does not send the browser to the IdP:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
	}
	link := html.UnescapeString(m[1])
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, c.authEndpoint+"?") {
		b.T.Fatalf("Continue leads to %q, want the OP's authorization endpoint %s", link, c.authEndpoint)
	}
	q := u.Query()
	for name, want := range map[string]string{
		"response_type": "code", "client_id": c.clientID, "redirect_uri": c.redirectURI, "code_challenge_method": "S256",
	} {
		if q.Get(name) != want {
			b.T.Errorf("authorization request %s = %q, want %q", name, q.Get(name), want)
		}
	}
	if scopes := strings.Fields(q.Get("scope")); !slices.Contains(scopes, "openid") || !slices.Contains(scopes, "email") {
		b.T.Errorf("authorization request scope %q, want openid and email", q.Get("scope"))
	}
	if q.Get("state") == "" || len(q.Get("nonce")) < 16 || len(q.Get("code_challenge")) != 43 {
		b.T.Errorf("authorization request state %q, nonce %q, code_challenge %q: want all three", q.Get("state"), q.Get("nonce"), q.Get("code_challenge"))
	}
	return authRequest{url: link, query: q}
}

// atIdP signs user in at the OP and returns the authorization response,
// which must go to c's redirect URI with a code for this request's state.
func (b *browser) atIdP(req authRequest, c *ghConfig, user, pass string) *url.URL {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cb, err := opclient.Login(ctx, b.Client, req.url, user, pass)
	if err != nil {
		b.T.Fatalf("%s at the OP: %v", user, err)
	}
	q := cb.Query()
	if at := cb.Scheme + "://" + cb.Host + cb.Path; at != c.redirectURI || q.Get("code") == "" || q.Get("state") != req.query.Get("state") || q.Get("iss") == "" {
		b.T.Fatalf("the OP answered %s, want %s with a code, iss and the request's state", cb, c.redirectURI)
	}
	return cb
}

// signIn is a sign-in from Gatehouse's email page through configuration
// c: the email typed, the page that takes the browser to the IdP, user
// signed in at the OP, the answer delivered to Gatehouse's callback, and
// Gatehouse's redirects followed. It returns the last page.
func (b *browser) signIn(c *ghConfig, email, user, pass string) webPage {
	b.T.Helper()
	p := b.post(b.g.Base+"/login", url.Values{"email": {email}, "return_to": {"/"}})
	// The email step answers with the page to the IdP itself.
	if p.URL.Path != "/login" || p.Title() != "Taking you to your company's sign-in…" {
		b.T.Fatalf("%s after the email: %d %q at %s, want the page to the IdP", email, p.Status, p.Title(), p.URL)
	}
	req := b.toIdP(p, c)
	if req.query.Get("login_hint") != email {
		b.T.Errorf("login_hint %q, want %q", req.query.Get("login_hint"), email)
	}
	if _, domain, _ := strings.Cut(email, "@"); c.entra && req.query.Get("domain_hint") != domain {
		b.T.Errorf("domain_hint %q, want %q for Entra ID", req.query.Get("domain_hint"), domain)
	}
	p = b.get(b.atIdP(req, c, user, pass).String())
	if p.URL.Path == "/" && !slices.ContainsFunc(b.Hops, func(h string) bool { return strings.HasPrefix(h, b.g.Base+"/sso/finish/") }) {
		b.T.Errorf("the callback did not go through /sso/finish/ (redirects %v)", b.Hops)
	}
	return p
}

// testResult is a Test's result page.
type testResult struct{ webPage }

// runTest starts configuration c's Test at the Test URL the API gave, signs
// user in at the OP, and returns the result page Gatehouse sends the
// browser to.
func (b *browser) runTest(c *ghConfig, user, pass string) testResult {
	b.T.Helper()
	p := b.get(c.testURL)
	if p.Title() != "Testing "+c.name+"…" {
		b.T.Fatalf("test start: %d %q at %s:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
	}
	p = b.get(b.atIdP(b.toIdP(p, c), c, user, pass).String())
	if !strings.HasPrefix(p.URL.Path, "/sso/test-result/") {
		b.T.Fatalf("after the Test: %d %q at %s, want the result page:\n%.3000s", p.Status, p.Title(), p.URL, p.Body)
	}
	return testResult{p}
}

func (r testResult) passed(t *testing.T, c *ghConfig) {
	t.Helper()
	if r.Status != http.StatusOK || r.Title() != "Test of "+c.name+" passed" {
		t.Fatalf("result: %d %q at %s:\n%.4000s", r.Status, r.Title(), r.URL, r.Body)
	}
}

var attributeRowRe = regexp.MustCompile(`<tr><td><code>([^<]+)</code></td><td>(.*?)</td></tr>`)

// claims are the rows of the result's attribute table, by claim name.
func (r testResult) claims(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	var names []string
	for _, m := range attributeRowRe.FindAllStringSubmatch(r.Body, -1) {
		name := html.UnescapeString(m[1])
		out[name] = html.UnescapeString(strings.ReplaceAll(m[2], "<br>", "\n"))
		names = append(names, name)
	}
	if len(out) == 0 {
		t.Fatalf("the result shows no claims:\n%.4000s", r.Body)
	}
	t.Logf("claims shown: %s", strings.Join(names, ", "))
	return out
}

// claimsAre checks the result showed exactly the claims names.
func claimsAre(t *testing.T, claims map[string]string, names ...string) {
	t.Helper()
	var got []string
	for name := range claims {
		got = append(got, name)
	}
	slices.Sort(got)
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Errorf("the result shows the claims %v, want every claim of the ID token: %v", got, names)
	}
}

// mustShow checks the page's HTML holds each fragment.
func (p webPage) mustShow(t *testing.T, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(p.Body, f) {
			t.Errorf("%s does not show %s:\n%.4000s", p.URL, f, p.Body)
		}
	}
}

// mustSay checks the page's text (entities decoded) holds each fragment.
func (p webPage) mustSay(t *testing.T, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(p.Text(), f) {
			t.Errorf("%s does not say %q:\n%.4000s", p.URL, f, p.Body)
		}
	}
}
