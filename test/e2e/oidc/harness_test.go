package e2eoidc

// End-to-end check of the oidc-provider harness (op.sh, op/server.mjs) and of
// the browserless client (opclient), against a fake relying party: a small
// httptest server that starts authorization code flows with PKCE S256, state
// and nonce, and at its callback checks the state, redeems the code at the
// token endpoint and verifies the ID token against the JWKS. Gatehouse's real
// OIDC sign-in can take the fake RP's place later; this test proves the
// harness.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/test/e2e/oidc/opclient"
)

const enableVar = "GATEHOUSE_E2E_OIDC_PROVIDER"

// Two Entra-like tenants, and alice's object ID in the first one (in the
// second, the OP derives one).
const (
	tenantA  = "3f2b8c1e-5d6a-4c7b-9e8f-0a1b2c3d4e5f"
	tenantB  = "9c8b7a6f-5e4d-4c3b-8a29-1f0e9d8c7b6a"
	aliceOID = "a11ce000-0000-4000-8000-00000000000a"

	entraClient = "gatehouse-entra" // one multi-tenant app: the same client in every tenant
)

func TestOIDCProvider(t *testing.T) {
	if os.Getenv(enableVar) != "1" {
		t.Skip("*** SKIPPED: the oidc-provider end-to-end suite. It needs Node.js >= 20.19 and npm " +
			"`oidc-provider` (test/e2e/oidc/op): run test/e2e/oidc/run (installs it, then runs this with " +
			enableVar + "=1), or set " + enableVar + "=1 after `test/e2e/oidc/op.sh install`.")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("%s=1 but node is missing: run test/e2e/oidc/op.sh install", enableVar)
	}

	rp := newFakeRP(t)
	h := startOP(t, rp)
	plain := h.base + "/plain"
	issA := h.base + "/" + tenantA + "/v2.0"
	issB := h.base + "/" + tenantB + "/v2.0"
	rp.add("plain", plain, "gatehouse-plain", "plain-secret-1")
	rp.add("plain-wrong-secret", plain, "gatehouse-plain", "not-the-secret")
	rp.add("plain-public", plain, "gatehouse-public", "")
	rp.add("tenant-a", issA, entraClient, "entra-secret-1")
	rp.add("tenant-b", issB, entraClient, "entra-secret-1")
	rp.add("common", h.base+"/common/v2.0", entraClient, "entra-secret-1")

	t.Run("discovery", func(t *testing.T) {
		for _, iss := range []string{plain, issA, issB} {
			d := discover(t, iss)
			if d.Issuer != iss {
				t.Errorf("issuer %q, want exactly %q", d.Issuer, iss)
			}
			for name, got := range map[string]string{"authorization_endpoint": d.AuthorizationEndpoint, "token_endpoint": d.TokenEndpoint, "jwks_uri": d.JWKSURI} {
				if !strings.HasPrefix(got, iss+"/") {
					t.Errorf("%s: %s %q is not under the issuer", iss, name, got)
				}
			}
			if !slices.Contains(d.CodeChallengeMethods, "S256") {
				t.Errorf("%s: code_challenge_methods_supported %v lacks S256", iss, d.CodeChallengeMethods)
			}
		}
	})

	var alicePlainSub string
	t.Run("plain issuer: confidential client, code + PKCE, alice", func(t *testing.T) {
		client := newClient()
		r := rp.signIn(t, client, "plain", nil, "alice", "alicepass")
		c := r.Claims
		for name, want := range map[string]any{
			"iss": plain, "aud": "gatehouse-plain", "nonce": r.Nonce, "sub": "alice",
			"email": "alice@example.com", "email_verified": true, "name": "Alice Example",
			"preferred_username": "alice@example.com",
		} {
			if c[name] != want {
				t.Errorf("ID token %s = %#v, want %#v", name, c[name], want)
			}
		}
		for _, absent := range []string{"tid", "oid"} {
			if _, ok := c[absent]; ok {
				t.Errorf("the plain issuer's ID token has %s", absent)
			}
		}
		if r.Alg != "RS256" || !slices.Contains(h.kids(t, "/plain"), r.Kid) {
			t.Errorf("ID token alg %q kid %q, want RS256 and a kid of %v", r.Alg, r.Kid, h.kids(t, "/plain"))
		}
		if r.TokenType != "Bearer" || !r.AccessToken {
			t.Errorf("token response: token_type %q, access_token present %v", r.TokenType, r.AccessToken)
		}
		alicePlainSub = c["sub"].(string)

		// The signature check is not vacuous: a changed payload fails it.
		parts := strings.Split(r.IDToken, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := strings.Replace(string(payload), `"alice@example.com"`, `"eve@example.com"`, 1)
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
		if _, _, err := verifyIDToken(context.Background(), strings.Join(parts, "."), plain+"/jwks"); err == nil {
			t.Error("an ID token with a changed email verified")
		}

		// Same browser: the OP session answers without a password.
		again := rp.signIn(t, client, "plain", nil, "", "")
		if again.Claims["sub"] != "alice" || again.Nonce == r.Nonce {
			t.Errorf("second sign-in: sub %v nonce %v (first nonce %v)", again.Claims["sub"], again.Nonce, r.Nonce)
		}
	})

	t.Run("wrong password and unknown user", func(t *testing.T) {
		for _, c := range [][2]string{{"alice", "wrong"}, {"nobody", "alicepass"}} {
			_, err := opclient.Login(context.Background(), newClient(), rp.startURL("plain", nil), c[0], c[1])
			if !errors.Is(err, opclient.ErrWrongCredentials) {
				t.Fatalf("%s/%s: want ErrWrongCredentials, got %v", c[0], c[1], err)
			}
			if !strings.Contains(err.Error(), "Invalid login or password") || !strings.Contains(err.Error(), "posting the login and password") {
				t.Errorf("error does not say where and why: %v", err)
			}
			t.Logf("as expected: %v", err)
		}
	})

	var aliceSubA string
	t.Run("Entra tenant A: tid, oid, issuer with the tenant, pairwise sub", func(t *testing.T) {
		r := rp.signIn(t, newClient(), "tenant-a", nil, "alice", "alicepass")
		c := r.Claims
		for name, want := range map[string]any{
			"iss": issA, "aud": entraClient, "tid": tenantA, "oid": aliceOID,
			"email": "alice@example.com", "email_verified": true, "preferred_username": "alice@example.com",
		} {
			if c[name] != want {
				t.Errorf("ID token %s = %#v, want %#v", name, c[name], want)
			}
		}
		aliceSubA, _ = c["sub"].(string)
		if len(aliceSubA) != 43 || aliceSubA == alicePlainSub {
			t.Errorf("sub %q: want a pairwise value (43 characters of base64url), not the account ID", aliceSubA)
		}
		// Stable: a new browser gets the same sub and oid.
		again := rp.signIn(t, newClient(), "tenant-a", nil, "alice", "alicepass")
		if again.Claims["sub"] != aliceSubA || again.Claims["oid"] != aliceOID {
			t.Errorf("second sign-in: sub %v oid %v, want %s %s", again.Claims["sub"], again.Claims["oid"], aliceSubA, aliceOID)
		}
	})

	t.Run("Entra tenant A: mallory's unverified email names alice", func(t *testing.T) {
		c := rp.signIn(t, newClient(), "tenant-a", nil, "mallory", "mallorypass").Claims
		if c["email"] != "alice@example.com" || c["email_verified"] != false || c["tid"] != tenantA {
			t.Errorf("email %v email_verified %v tid %v, want alice@example.com false %s", c["email"], c["email_verified"], c["tid"], tenantA)
		}
		if oid, _ := c["oid"].(string); oid == aliceOID || !isGUID(oid) {
			t.Errorf("mallory's oid %q: want a GUID of her own", oid)
		}
		if c["sub"] == aliceSubA {
			t.Errorf("mallory has alice's sub")
		}
	})

	t.Run("Entra tenant B: another tid, another oid, a consent page", func(t *testing.T) {
		r := rp.signIn(t, newClient(), "tenant-b", nil, "alice", "alicepass")
		c := r.Claims
		if c["iss"] != issB || c["tid"] != tenantB || c["aud"] != entraClient {
			t.Errorf("iss %v tid %v aud %v, want %s %s %s", c["iss"], c["tid"], c["aud"], issB, tenantB, entraClient)
		}
		if oid, _ := c["oid"].(string); oid == aliceOID || !isGUID(oid) {
			t.Errorf("alice's oid in tenant B %q: want a GUID other than tenant A's %s", oid, aliceOID)
		}
		if c["sub"] == aliceSubA {
			t.Errorf("alice's sub is the same in both tenants")
		}
		if r.Kid == "" || slices.Contains(h.kids(t, "/"+tenantA+"/v2.0"), r.Kid) {
			t.Errorf("tenant B signed with kid %q; tenant A publishes %v", r.Kid, h.kids(t, "/"+tenantA+"/v2.0"))
		}
		// Tenant B shows a consent page, which opclient accepted.
		if log := h.log(t); !strings.Contains(log, "POST /"+tenantB+"/v2.0/interaction/") || !strings.Contains(log, "/confirm 303") {
			t.Errorf("no consent was posted to tenant B; server log:\n%s", tailString(log, 3000))
		}
	})

	t.Run("Entra tenant B: a tid that disagrees with the issuer (claims override)", func(t *testing.T) {
		c := rp.signIn(t, newClient(), "tenant-b", nil, "eve", "evepass").Claims
		if c["iss"] != issB || c["tid"] != tenantA || c["xms_test"] != "forged" {
			t.Errorf("iss %v tid %v xms_test %v, want %s %s forged", c["iss"], c["tid"], c["xms_test"], issB, tenantA)
		}
		if _, err := opclient.Login(context.Background(), newClient(), rp.startURL("tenant-a", nil), "eve", "evepass"); !errors.Is(err, opclient.ErrWrongCredentials) {
			t.Errorf("eve in tenant A: want ErrWrongCredentials, got %v", err)
		}
	})

	t.Run("client authentication and PKCE", func(t *testing.T) {
		r := rp.signIn(t, newClient(), "plain-public", nil, "alice", "alicepass")
		if r.Claims["aud"] != "gatehouse-public" || r.Claims["email_verified"] != true {
			t.Errorf("aud %v email_verified %v", r.Claims["aud"], r.Claims["email_verified"])
		}
		if !r.PKCE || r.ClientAuth != "none" {
			t.Errorf("want PKCE and no client authentication, got pkce=%v auth=%s", r.PKCE, r.ClientAuth)
		}

		cb, err := opclient.Login(context.Background(), newClient(), rp.startURL("plain-public", url.Values{"pkce": {"0"}}), "alice", "alicepass")
		if err != nil {
			t.Fatal(err)
		}
		if q := cb.Query(); q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "PKCE") || q.Get("code") != "" {
			t.Fatalf("without PKCE: callback %s, want error=invalid_request about PKCE and no code", cb)
		}
		t.Logf("as expected, without PKCE: %s: %s", cb.Query().Get("error"), cb.Query().Get("error_description"))
		// The fake RP, given that response, refuses it as well.
		if res := rp.deliver(t, newClient(), &opclient.Callback{URL: cb, Mode: opclient.ModeQuery, Params: cb.Query()}); res.Error == "" {
			t.Errorf("the RP accepted an error response: %+v", res)
		}

		// oidc-provider, like Entra, takes the secret by Basic or in the body
		// from a client registered with either; a wrong secret is refused.
		if r := rp.signIn(t, newClient(), "plain", url.Values{"auth": {"post"}}, "alice", "alicepass"); r.ClientAuth != "client_secret_post" {
			t.Errorf("client auth %s, want client_secret_post", r.ClientAuth)
		}
		cb, err = opclient.Login(context.Background(), newClient(), rp.startURL("plain-wrong-secret", nil), "alice", "alicepass")
		if err != nil {
			t.Fatal(err)
		}
		if res := rp.deliver(t, newClient(), &opclient.Callback{URL: cb, Mode: opclient.ModeQuery, Params: cb.Query()}); !strings.Contains(res.Error, "invalid_client") {
			t.Errorf("a wrong client secret: want invalid_client, got %+v", res)
		} else {
			t.Logf("as expected, a wrong client secret: %s", res.Error)
		}

		// The confidential client may leave PKCE out (pkce_required "public").
		if r := rp.signIn(t, newClient(), "plain", url.Values{"pkce": {"0"}}, "alice", "alicepass"); r.PKCE || r.ClientAuth != "client_secret_basic" {
			t.Errorf("confidential client without PKCE: pkce=%v auth=%s", r.PKCE, r.ClientAuth)
		}
	})

	t.Run("form_post response mode and Cancel", func(t *testing.T) {
		client := newClient()
		cb, err := opclient.Authorize(context.Background(), client, rp.startURL("plain", url.Values{"mode": {"form_post"}}), "alice", "alicepass")
		if err != nil {
			t.Fatal(err)
		}
		if cb.Mode != opclient.ModeFormPost || cb.Params.Get("code") == "" || cb.URL.String() != rp.redirectURI("plain") {
			t.Fatalf("form_post: mode %s action %s params %v", cb.Mode, cb.URL, cb.Params)
		}
		if r := rp.deliver(t, client, cb); r.Error != "" || r.Claims["sub"] != "alice" {
			t.Errorf("form_post delivered: %+v", r)
		}
		if _, err := opclient.Login(context.Background(), newClient(), rp.startURL("plain", url.Values{"mode": {"form_post"}}), "alice", "alicepass"); err == nil || !strings.Contains(err.Error(), "Authorize") {
			t.Errorf("Login with form_post: want an error pointing to Authorize, got %v", err)
		}

		cb, err = opclient.Cancel(context.Background(), newClient(), rp.startURL("plain", nil))
		if err != nil {
			t.Fatal(err)
		}
		var ae *opclient.AuthError
		if !errors.As(cb.Err(), &ae) || ae.Code != "access_denied" {
			t.Errorf("Cancel: want error=access_denied, got %v (%s)", cb.Err(), cb.URL)
		}
	})

	t.Run("Entra common endpoint: templated issuer, tenant chosen by op.sh common", func(t *testing.T) {
		d := discover(t, h.base+"/common/v2.0")
		if d.Issuer != h.base+"/{tenantid}/v2.0" {
			t.Errorf("common issuer %q", d.Issuer)
		}
		keys := jwksKids(t, d.JWKSURI)
		for _, p := range []string{"/" + tenantA + "/v2.0", "/" + tenantB + "/v2.0"} {
			for _, kid := range h.kids(t, p) {
				if !slices.Contains(keys, kid) {
					t.Errorf("common JWKS %v lacks %s's kid %s", keys, p, kid)
				}
			}
		}
		if c := rp.signIn(t, newClient(), "common", nil, "alice", "alicepass").Claims; c["iss"] != issA || c["tid"] != tenantA {
			t.Errorf("through common (tenant A): iss %v tid %v", c["iss"], c["tid"])
		}
		h.sh(t, "common", h.dir, "/common/v2.0", tenantB)
		if c := rp.signIn(t, newClient(), "common", nil, "alice", "alicepass").Claims; c["iss"] != issB || c["tid"] != tenantB {
			t.Errorf("through common (tenant B): iss %v tid %v", c["iss"], c["tid"])
		}
		h.sh(t, "common", h.dir, "/common/v2.0", tenantA)
	})

	t.Run("client added at run time", func(t *testing.T) {
		rp.add("late", plain, "gatehouse-late", "late-secret")
		if _, err := opclient.Login(context.Background(), newClient(), rp.startURL("late", nil), "alice", "alicepass"); err == nil {
			t.Fatal("an unregistered client signed in")
		} else {
			t.Logf("as expected before op.sh client: %v", err)
		}
		h.sh(t, "client", h.dir, "/plain", fmt.Sprintf(`{"client_id": "gatehouse-late", "client_secret": "late-secret", "redirect_uris": [%q]}`, rp.redirectURI("late")))
		if c := rp.signIn(t, newClient(), "late", nil, "alice", "alicepass").Claims; c["aud"] != "gatehouse-late" {
			t.Errorf("aud %v", c["aud"])
		}
	})

	t.Run("key rotation", func(t *testing.T) {
		before := h.kids(t, "/plain")
		h.sh(t, "rotate", h.dir, "/plain")
		after := h.kids(t, "/plain")
		if len(after) != len(before)+1 || slices.Contains(before, after[0]) || !slices.Contains(after, before[0]) {
			t.Fatalf("JWKS kids %v after rotation, before %v: want a new kid and the old ones kept", after, before)
		}
		if r := rp.signIn(t, newClient(), "plain", nil, "alice", "alicepass"); r.Kid != after[0] {
			t.Errorf("ID token kid %s, want the new active kid %s", r.Kid, after[0])
		}

		h.sh(t, "rotate", h.dir, "/plain", "--drop-old")
		only := h.kids(t, "/plain")
		if len(only) != 1 || slices.Contains(after, only[0]) {
			t.Fatalf("JWKS kids %v after rotate --drop-old, before %v: want one new kid", only, after)
		}
		if r := rp.signIn(t, newClient(), "plain", nil, "alice", "alicepass"); r.Kid != only[0] {
			t.Errorf("ID token kid %s, want %s", r.Kid, only[0])
		}
	})

	t.Run("IdP down", func(t *testing.T) {
		h.sh(t, "down", h.dir, "/plain")
		for _, p := range []string{"/plain/.well-known/openid-configuration", "/plain/jwks"} {
			if code := status(t, h.base+p); code != http.StatusServiceUnavailable {
				t.Errorf("down: GET %s answered %d, want 503", p, code)
			}
		}
		if code := status(t, issA+"/.well-known/openid-configuration"); code != http.StatusOK {
			t.Errorf("down /plain: tenant A's discovery answered %d, want 200", code)
		}
		if _, err := opclient.Login(context.Background(), newClient(), rp.startURL("plain", nil), "alice", "alicepass"); err == nil || !strings.Contains(err.Error(), "503") {
			t.Errorf("down: the RP could start a sign-in, or said nothing of the 503: %v", err)
		}
		h.sh(t, "up", h.dir)
		if code := status(t, h.base+"/plain/.well-known/openid-configuration"); code != http.StatusOK {
			t.Errorf("up: discovery answered %d", code)
		}

		h.sh(t, "down", h.dir, "--all")
		if code := status(t, issB+"/auth"); code != http.StatusServiceUnavailable {
			t.Errorf("down --all: tenant B's /auth answered %d, want 503", code)
		}
		h.sh(t, "up", h.dir)

		// A stopped process; restart keeps the port and the keys.
		kids := h.kids(t, "/plain")
		h.sh(t, "stop", h.dir)
		if _, err := http.Get(h.base + "/plain/.well-known/openid-configuration"); err == nil {
			t.Error("stopped, but the OP still answers")
		}
		h.sh(t, "restart", h.dir)
		if got := h.kids(t, "/plain"); !slices.Equal(got, kids) {
			t.Errorf("kids after restart %v, want %v", got, kids)
		}
		rp.signIn(t, newClient(), "plain", nil, "alice", "alicepass")
	})

	t.Run("reload", func(t *testing.T) {
		h.cfg.Users["bob"] = opUser{Password: "bobpass", Email: "bob@example.com", EmailVerified: new(true), Name: "Bob Example"}
		h.writeConfig(t)
		h.sh(t, "reload", h.dir)
		if c := rp.signIn(t, newClient(), "tenant-a", nil, "bob", "bobpass").Claims; c["email"] != "bob@example.com" || !isGUID(fmt.Sprint(c["oid"])) {
			t.Errorf("bob after reload: email %v oid %v", c["email"], c["oid"])
		}
	})
}

// ---- the OP --------------------------------------------------------------------

type harness struct {
	script  string
	dir     string
	port    int
	base    string
	cfg     *opConfig
	cfgFile string
}

type opConfig struct {
	Users   map[string]opUser `json:"users"`
	Issuers []opIssuer        `json:"issuers"`
}

type opUser struct {
	Password          string         `json:"password,omitempty"`
	Email             string         `json:"email,omitempty"`
	EmailVerified     *bool          `json:"email_verified,omitempty"`
	Name              string         `json:"name,omitempty"`
	PreferredUsername string         `json:"preferred_username,omitempty"`
	OID               string         `json:"oid,omitempty"`
	Claims            map[string]any `json:"claims,omitempty"`
}

type opIssuer struct {
	Path            string            `json:"path"`
	TenantID        string            `json:"tenant_id,omitempty"`
	PairwiseSubject bool              `json:"pairwise_subject,omitempty"`
	ConsentPage     bool              `json:"consent_page,omitempty"`
	EntraCommon     bool              `json:"entra_common,omitempty"`
	Users           map[string]opUser `json:"users,omitempty"`
	Clients         []map[string]any  `json:"clients,omitempty"`
}

func startOP(t *testing.T, rp *fakeRP) *harness {
	t.Helper()
	h := newHarness(t)

	confidential := func(id, secret string, cfgs ...string) map[string]any {
		c := map[string]any{"client_id": id, "redirect_uris": rp.redirectURIs(cfgs...)}
		if secret != "" {
			c["client_secret"] = secret
		}
		return c
	}
	h.cfg = &opConfig{
		Users: map[string]opUser{
			"alice": {Password: "alicepass", Email: "alice@example.com", EmailVerified: new(true),
				Name: "Alice Example", PreferredUsername: "alice@example.com"},
			// Mallory controls her own account, whose unverified email names alice.
			"mallory": {Password: "mallorypass", Email: "alice@example.com", EmailVerified: new(false),
				Name: "Mallory", PreferredUsername: "mallory@example.net"},
		},
		Issuers: []opIssuer{
			{Path: "/plain", Clients: []map[string]any{
				confidential("gatehouse-plain", "plain-secret-1", "plain", "plain-wrong-secret"),
				confidential("gatehouse-public", "", "plain-public"),
			}},
			{Path: "/" + tenantA + "/v2.0", TenantID: tenantA, PairwiseSubject: true,
				Users:   map[string]opUser{"alice": {OID: aliceOID}},
				Clients: []map[string]any{confidential(entraClient, "entra-secret-1", "tenant-a", "common")}},
			{Path: "/" + tenantB + "/v2.0", TenantID: tenantB, PairwiseSubject: true, ConsentPage: true,
				// Eve exists only in tenant B, whose tokens for her claim tenant A's tid.
				Users:   map[string]opUser{"eve": {Password: "evepass", Email: "eve@example.org", Claims: map[string]any{"tid": tenantA, "xms_test": "forged"}}},
				Clients: []map[string]any{confidential(entraClient, "entra-secret-1", "tenant-b", "common")}},
			{Path: "/common/v2.0", EntraCommon: true, TenantID: tenantA},
		},
	}
	h.start(t)
	return h
}

// newHarness picks the OP's port and directories; h.cfg is the caller's to
// fill before h.start.
func newHarness(t *testing.T) *harness {
	t.Helper()
	script, err := filepath.Abs("op.sh")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	h := &harness{script: script, dir: filepath.Join(tmp, "op"), cfgFile: filepath.Join(tmp, "config.json"), port: freePort(t)}
	h.base = fmt.Sprintf("http://127.0.0.1:%d", h.port)
	return h
}

// start writes h.cfg and starts the OP, stopped when the test ends.
func (h *harness) start(t *testing.T) {
	t.Helper()
	h.writeConfig(t)

	// Registered after t.TempDir, so it runs before the directory is removed,
	// and runs whether the test passed, failed or stopped.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("---- server.log (last 6 KiB)\n%s", tailString(h.log(t), 6<<10))
		}
		out, err := exec.Command(h.script, "stop", h.dir).CombinedOutput()
		if err != nil {
			t.Errorf("op.sh stop: %v\n%s", err, out)
		}
	})
	// OP_WATCH_PID: the server goes away with this test binary even when a
	// timeout or a signal kills it before the cleanup runs.
	t.Setenv("OP_WATCH_PID", fmt.Sprint(os.Getpid()))
	h.sh(t, "start", h.dir, fmt.Sprint(h.port), h.cfgFile)
}

func (h *harness) writeConfig(t *testing.T) {
	t.Helper()
	b, err := json.MarshalIndent(h.cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) sh(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, h.script, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("op.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (h *harness) log(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(h.dir, "log", "server.log"))
	if err != nil {
		t.Logf("server log: %v", err)
	}
	return string(b)
}

// kids are the kids an issuer's JWKS publishes, the active one first.
func (h *harness) kids(t *testing.T, issuerPath string) []string {
	t.Helper()
	return jwksKids(t, h.base+issuerPath+"/jwks")
}

// ---- the fake relying party ----------------------------------------------------

// fakeRP is a relying party with one configuration per name:
// /sso/oidc/{cfg}/start starts a sign-in (query: pkce=0 leaves PKCE out,
// mode=form_post asks for that response mode, auth=post makes the callback
// send the client secret in the body) and /sso/oidc/{cfg}/callback
// (GET and POST) checks the response, redeems the code and answers with the
// verified ID token's claims as JSON (rpResult).
type fakeRP struct {
	srv *httptest.Server

	mu      sync.Mutex
	cfgs    map[string]rpConfig
	pending map[string]pendingAuth // by state
}

type rpConfig struct {
	issuer, clientID, secret string
}

type pendingAuth struct {
	cfg, verifier, nonce string
	postAuth             bool // client_secret_post instead of client_secret_basic
	disc                 discovery
}

type discovery struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
}

// rpResult is what the fake RP's callback answers.
type rpResult struct {
	Error       string         `json:"error,omitempty"`
	Claims      map[string]any `json:"claims,omitempty"`
	IDToken     string         `json:"id_token,omitempty"`
	Alg         string         `json:"alg,omitempty"`
	Kid         string         `json:"kid,omitempty"`
	Nonce       string         `json:"nonce,omitempty"` // the nonce the RP sent
	PKCE        bool           `json:"pkce,omitempty"`
	ClientAuth  string         `json:"client_auth,omitempty"`
	TokenType   string         `json:"token_type,omitempty"`
	AccessToken bool           `json:"access_token,omitempty"`
}

func newFakeRP(t *testing.T) *fakeRP {
	rp := &fakeRP{cfgs: map[string]rpConfig{}, pending: map[string]pendingAuth{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sso/oidc/{cfg}/start", rp.start)
	mux.HandleFunc("GET /sso/oidc/{cfg}/callback", rp.callback)
	mux.HandleFunc("POST /sso/oidc/{cfg}/callback", rp.callback)
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *fakeRP) add(name, issuer, clientID, secret string) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.cfgs[name] = rpConfig{issuer: issuer, clientID: clientID, secret: secret}
}

func (rp *fakeRP) redirectURI(cfg string) string {
	return rp.srv.URL + "/sso/oidc/" + cfg + "/callback"
}

func (rp *fakeRP) redirectURIs(cfgs ...string) []string {
	var out []string
	for _, c := range cfgs {
		out = append(out, rp.redirectURI(c))
	}
	return out
}

func (rp *fakeRP) startURL(cfg string, q url.Values) string {
	u := rp.srv.URL + "/sso/oidc/" + cfg + "/start"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (rp *fakeRP) start(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("cfg")
	rp.mu.Lock()
	cfg, ok := rp.cfgs[name]
	rp.mu.Unlock()
	if !ok {
		http.Error(w, "no configuration "+name, http.StatusNotFound)
		return
	}
	disc, err := fetchDiscovery(r.Context(), cfg.issuer)
	if err != nil {
		http.Error(w, "discovery: "+err.Error(), http.StatusBadGateway)
		return
	}
	p := pendingAuth{cfg: name, nonce: rand.Text(), disc: disc, postAuth: r.URL.Query().Get("auth") == "post"}
	state := rand.Text()
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {cfg.clientID},
		"redirect_uri":  {rp.redirectURI(name)},
		"scope":         {"openid email profile"},
		"state":         {state},
		"nonce":         {p.nonce},
	}
	if r.URL.Query().Get("pkce") != "0" {
		p.verifier = rand.Text() + rand.Text() // 52 characters: RFC 7636 wants 43 to 128
		sum := sha256.Sum256([]byte(p.verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
	}
	if m := r.URL.Query().Get("mode"); m != "" {
		q.Set("response_mode", m)
	}
	rp.mu.Lock()
	rp.pending[state] = p
	rp.mu.Unlock()
	http.Redirect(w, r, disc.AuthorizationEndpoint+"?"+q.Encode(), http.StatusFound)
}

func (rp *fakeRP) callback(w http.ResponseWriter, r *http.Request) {
	res, status := rp.finish(r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(res)
}

func (rp *fakeRP) finish(r *http.Request) (rpResult, int) {
	fail := func(format string, args ...any) (rpResult, int) {
		return rpResult{Error: fmt.Sprintf(format, args...)}, http.StatusBadRequest
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			return fail("form: %v", err)
		}
		params = r.PostForm
	}
	name := r.PathValue("cfg")
	rp.mu.Lock()
	cfg := rp.cfgs[name]
	p, ok := rp.pending[params.Get("state")]
	delete(rp.pending, params.Get("state")) // a state is good once
	rp.mu.Unlock()
	if !ok || p.cfg != name {
		return fail("unknown state %q for %s", params.Get("state"), name)
	}
	if e := params.Get("error"); e != "" {
		return fail("the OP answered %s: %s", e, params.Get("error_description"))
	}
	// RFC 9207: the response names its issuer (common: the template's tenant is unknown yet).
	if iss := params.Get("iss"); iss == "" || (!strings.Contains(p.disc.Issuer, "{tenantid}") && iss != p.disc.Issuer) {
		return fail("response iss %q, want %q", iss, p.disc.Issuer)
	}

	form := url.Values{"grant_type": {"authorization_code"}, "code": {params.Get("code")}, "redirect_uri": {rp.redirectURI(name)}}
	if p.verifier != "" {
		form.Set("code_verifier", p.verifier)
	}
	res := rpResult{Nonce: p.nonce, PKCE: p.verifier != "", ClientAuth: "client_secret_basic"}
	switch {
	case cfg.secret == "":
		form.Set("client_id", cfg.clientID)
		res.ClientAuth = "none"
	case p.postAuth:
		form.Set("client_id", cfg.clientID)
		form.Set("client_secret", cfg.secret)
		res.ClientAuth = "client_secret_post"
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, p.disc.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res.ClientAuth == "client_secret_basic" {
		// RFC 6749 section 2.3.1: form-encode both before Basic.
		req.SetBasicAuth(url.QueryEscape(cfg.clientID), url.QueryEscape(cfg.secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail("token endpoint: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fail("token endpoint: HTTP %d: %s", resp.StatusCode, body)
	}
	var tok struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return fail("token response: %v", err)
	}
	res.TokenType, res.AccessToken, res.IDToken = tok.TokenType, tok.AccessToken != "", tok.IDToken

	hdr, claims, err := verifyIDToken(r.Context(), tok.IDToken, p.disc.JWKSURI)
	if err != nil {
		return fail("ID token: %v", err)
	}
	res.Alg, res.Kid, res.Claims = hdr.Alg, hdr.Kid, claims

	wantIss := p.disc.Issuer
	if tid, _ := claims["tid"].(string); strings.Contains(wantIss, "{tenantid}") && tid != "" {
		wantIss = strings.Replace(wantIss, "{tenantid}", tid, 1)
	}
	now := float64(time.Now().Unix())
	exp, _ := claims["exp"].(float64)
	iat, _ := claims["iat"].(float64)
	switch {
	case claims["iss"] != wantIss:
		return fail("ID token iss %v, want %s", claims["iss"], wantIss)
	case !audHas(claims["aud"], cfg.clientID):
		return fail("ID token aud %v, want %s", claims["aud"], cfg.clientID)
	case claims["nonce"] != p.nonce:
		return fail("ID token nonce %v, want %s", claims["nonce"], p.nonce)
	case exp < now || iat == 0 || iat > now+60:
		return fail("ID token exp %v iat %v, now %v", exp, iat, now)
	case claims["sub"] == nil || claims["sub"] == "":
		return fail("ID token without sub")
	}
	return res, http.StatusOK
}

// signIn signs user in through cfg in client's browser, delivers the
// response to the RP and returns what the RP made of it, which must be a
// success.
func (rp *fakeRP) signIn(t *testing.T, client *http.Client, cfg string, q url.Values, user, pass string) rpResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cbURL, err := opclient.Login(ctx, client, rp.startURL(cfg, q), user, pass)
	if err != nil {
		t.Fatalf("sign-in of %q through %s: %v", user, cfg, err)
	}
	if cbURL.Query().Get("code") == "" {
		t.Fatalf("sign-in of %q through %s: callback without a code: %s", user, cfg, cbURL)
	}
	res := rp.deliver(t, client, &opclient.Callback{URL: cbURL, Mode: opclient.ModeQuery, Params: cbURL.Query()})
	if res.Error != "" {
		t.Fatalf("sign-in of %q through %s: the RP says: %s", user, cfg, res.Error)
	}
	return res
}

func (rp *fakeRP) deliver(t *testing.T, client *http.Client, cb *opclient.Callback) rpResult {
	t.Helper()
	resp, err := cb.Deliver(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res rpResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatalf("the RP's callback answered %s, not JSON: %v", resp.Status, err)
	}
	if (resp.StatusCode == http.StatusOK) != (res.Error == "") {
		t.Fatalf("the RP's callback answered %s with %+v", resp.Status, res)
	}
	return res
}

// ---- ID tokens, with the standard library --------------------------------------

type jwsHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// verifyIDToken checks an RS256 JWS against the key of its kid in the JWKS
// at jwksURI, and returns its header and claims.
func verifyIDToken(ctx context.Context, token, jwksURI string) (jwsHeader, map[string]any, error) {
	var hdr jwsHeader
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return hdr, nil, fmt.Errorf("%d parts, want 3", len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return hdr, nil, fmt.Errorf("header: %w", err)
	}
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return hdr, nil, fmt.Errorf("header: %w", err)
	}
	if hdr.Alg != "RS256" { // an allow-list of one
		return hdr, nil, fmt.Errorf("alg %q, want RS256", hdr.Alg)
	}
	var set struct{ Keys []jwk }
	if err := getJSON(ctx, jwksURI, &set); err != nil {
		return hdr, nil, fmt.Errorf("JWKS: %w", err)
	}
	i := slices.IndexFunc(set.Keys, func(k jwk) bool { return k.Kid == hdr.Kid })
	if i < 0 {
		return hdr, nil, fmt.Errorf("kid %q is not in the JWKS at %s", hdr.Kid, jwksURI)
	}
	k := set.Keys[i]
	if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != hdr.Alg) {
		return hdr, nil, fmt.Errorf("kid %q: kty %s use %s alg %s, want an RSA signing key", k.Kid, k.Kty, k.Use, k.Alg)
	}
	n, err1 := base64.RawURLEncoding.DecodeString(k.N)
	e, err2 := base64.RawURLEncoding.DecodeString(k.E)
	if err := errors.Join(err1, err2); err != nil || len(e) > 4 {
		return hdr, nil, fmt.Errorf("kid %q: bad n or e: %v", k.Kid, err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return hdr, nil, fmt.Errorf("signature: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return hdr, nil, fmt.Errorf("signature (kid %s): %w", k.Kid, err)
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return hdr, nil, fmt.Errorf("payload: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(pb, &claims); err != nil {
		return hdr, nil, fmt.Errorf("payload: %w", err)
	}
	return hdr, claims, nil
}

func audHas(aud any, clientID string) bool {
	switch a := aud.(type) {
	case string:
		return a == clientID
	case []any:
		return slices.Contains(a, any(clientID))
	}
	return false
}

// ---- helpers -----------------------------------------------------------------

func fetchDiscovery(ctx context.Context, issuer string) (discovery, error) {
	var d discovery
	err := getJSON(ctx, issuer+"/.well-known/openid-configuration", &d)
	return d, err
}

func discover(t *testing.T, issuer string) discovery {
	t.Helper()
	d, err := fetchDiscovery(context.Background(), issuer)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func jwksKids(t *testing.T, uri string) []string {
	t.Helper()
	var set struct{ Keys []jwk }
	if err := getJSON(context.Background(), uri, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

func status(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdef", c):
			return false
		}
	}
	return true
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
