package webtest

import (
	"context"
	"errors"
	"html"
	"net/url"
	"regexp"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/oidctest"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store/storetest"
)

// Entra tenant IDs.
const (
	TenantA = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa" // the customer's Entra tenant
	TenantB = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb" // someone else's
)

// OIDCSetup is one account's OIDC configuration and the OP it trusts.
type OIDCSetup struct {
	e      *Env
	op     *oidctest.OP
	key    *oidctest.Key
	Config gatehouse.SSOConfig
	// entra makes tokens Entra-like (tid, oid, tenant issuer).
	entra bool
}

// OIDCConfig creates an OIDC configuration for the account trusting op,
// with its client secret sealed, enabled when asked. preset is an
// internal/oidcrp preset ID; the Entra multi-tenant one allows tenantA and
// signs in through the provider's Entra ID application, which is op's
// client (the Env is built again with it, see UseEntraApp).
func (e *Env) OIDCConfig(accountName string, op *oidctest.OP, k *oidctest.Key, preset string, enable bool) *OIDCSetup {
	e.T.Helper()
	settings := &gatehouse.OIDCSettings{Issuer: op.URL, ClientID: op.ClientID, Scopes: []string{"openid", "email", "profile"},
		EmailClaim: "email", AllowedAlgorithms: []string{"RS256"}}
	if preset == oidcrp.PresetEntraMulti {
		e.UseEntraApp(oidcrp.EntraApp{Authority: op.URL, ClientID: op.ClientID, ClientSecret: op.ClientSecret})
		settings.Issuer, settings.ClientID, settings.EntraTenants = "", "", []string{TenantA}
	}
	c := gatehouse.SSOConfig{AccountID: e.Account(accountName).ID, Protocol: gatehouse.ProtocolOIDC, Preset: preset, OIDC: settings}
	ctx := context.Background()
	if err := e.Store.CreateSSOConfig(ctx, &c); err != nil {
		e.T.Fatal(err)
	}
	ssoconfig.SealClientSecret(e.secrets, &c, op.ClientSecret)
	if err := e.Store.UpdateSSOConfig(ctx, &c, true); err != nil {
		e.T.Fatal(err)
	}
	if enable {
		storetest.KeepWayIn(e.T, e.Store, c.AccountID)
		if _, err := e.Store.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
			e.T.Fatal(err)
		}
	}
	c, err := e.Store.SSOConfig(ctx, c.ID)
	if err != nil {
		e.T.Fatal(err)
	}
	return &OIDCSetup{e: e, op: op, key: k, Config: c, entra: preset == oidcrp.PresetEntraMulti}
}

// TokenHits counts the requests op's token endpoint answered.
func (e *Env) TokenHits(op *oidctest.OP) int {
	_, _, n := op.Hits()
	return n
}

// TrustAudiences stores audiences as o's trusted ones, as an admin's edit
// would (a new version, so the next sign-in uses them).
func (o *OIDCSetup) TrustAudiences(audiences ...string) {
	o.e.T.Helper()
	o.e.Clock.Advance(time.Second)
	ctx := context.Background()
	c, err := o.e.Store.SSOConfig(ctx, o.Config.ID)
	if err != nil {
		o.e.T.Fatal(err)
	}
	c.OIDC.TrustedAudiences = audiences
	if err := o.e.Store.UpdateSSOConfig(ctx, &c, true); err != nil {
		o.e.T.Fatal(err)
	}
}

// AuthRequest is an authorization request as the OP received it.
type AuthRequest struct {
	State, Nonce, Challenge, Method, RedirectURI, ClientID, LoginHint, DomainHint string
}

var continueHrefRe = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)

// OIDCRequest reads the authorization request from the page that sends the
// browser to the IdP.
func OIDCRequest(t testing.TB, p Page) AuthRequest {
	t.Helper()
	m := continueHrefRe.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("page %s (%d) does not send the browser to an IdP:\n%s", p.Path, p.Status, p.Body)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	return AuthRequest{State: q.Get("state"), Nonce: q.Get("nonce"), Challenge: q.Get("code_challenge"), Method: q.Get("code_challenge_method"),
		RedirectURI: q.Get("redirect_uri"), ClientID: q.Get("client_id"), LoginHint: q.Get("login_hint"), DomainHint: q.Get("domain_hint")}
}

// Claims is a valid ID token's claims for sub and email, answering nonce.
func (o *OIDCSetup) Claims(nonce, sub, email string) map[string]any {
	now := o.e.Clock.Now()
	c := map[string]any{"iss": o.op.URL, "aud": o.op.ClientID, "sub": sub, "email": email, "email_verified": true,
		"nonce": nonce, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "name": "Test Person", "groups": []string{"Staff", "VPN users"}}
	if o.entra {
		delete(c, "email_verified")
		c["iss"], c["tid"], c["oid"], c["xms_edov"] = o.op.TenantIssuer(TenantA), TenantA, sub, true
	}
	return c
}

// Code is what the OP redirects back with after signing claims for req.
func (o *OIDCSetup) Code(req AuthRequest, claims map[string]any) string {
	o.e.T.Helper()
	tok, err := o.key.Sign(claims, nil)
	if err != nil {
		o.e.T.Fatal(err)
	}
	return o.op.IssueCode(oidctest.Grant{ClientID: req.ClientID, RedirectURI: req.RedirectURI, Challenge: req.Challenge, IDToken: tok})
}

// Callback follows the OP's redirect to the configuration's redirect URI
// (the provider's Entra ID application's, for the multi-tenant preset).
func (b *Browser) Callback(o *OIDCSetup, q url.Values) Page {
	b.t.Helper()
	return b.Get(ssoconfig.RedirectPath(&o.Config) + "?" + q.Encode())
}

// SignInOIDC runs a whole sign-in of email whose token says sub and
// tokenEmail, and returns the last page.
func (b *Browser) SignInOIDC(o *OIDCSetup, email, sub, tokenEmail string) Page {
	b.t.Helper()
	req := OIDCRequest(b.t, b.Post("/login", url.Values{"email": {email}}))
	return b.Callback(o, url.Values{"code": {o.Code(req, o.Claims(req.Nonce, sub, tokenEmail))}, "state": {req.State}})
}

// SignInWith runs a sign-in of email whose ID token is the usual one with
// edit applied, and returns the last page.
func (b *Browser) SignInWith(o *OIDCSetup, email, sub string, edit func(c map[string]any)) Page {
	b.t.Helper()
	req := OIDCRequest(b.t, b.Post("/login", url.Values{"email": {email}}))
	c := o.Claims(req.Nonce, sub, email)
	edit(c)
	return b.Callback(o, url.Values{"code": {o.Code(req, c)}, "state": {req.State}})
}

// RefusedOIDC checks the generic refusal page and returns the
// signin.oidc audit event its reference names.
func (e *Env) RefusedOIDC(p Page) gatehouse.AuditEvent {
	e.T.Helper()
	if p.Status < 400 || p.Status > 499 {
		e.T.Fatalf("status %d at %s, want a 4xx:\n%s", p.Status, p.Path, p.Body)
	}
	m := referenceRe.FindStringSubmatch(p.Body)
	if m == nil {
		e.T.Fatalf("no reference on the refusal page:\n%s", p.Body)
	}
	evs, err := e.Store.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: string(gatehouse.ActionSignInOIDC)}, gatehouse.Page{Limit: 100})
	if err != nil {
		e.T.Fatal(err)
	}
	for _, ev := range evs {
		if ev.ID == m[1] {
			if ev.Outcome != gatehouse.OutcomeFailure || ev.Reason == "" {
				e.T.Errorf("referenced event = %+v", ev)
			}
			return ev
		}
	}
	e.T.Fatalf("the reference %s names no signin.oidc audit event", m[1])
	return gatehouse.AuditEvent{}
}

// LinkOf returns the identity link of key through configuration
// configID, and whether there is one.
func (e *Env) LinkOf(configID, key string) (gatehouse.IdentityLink, bool) {
	e.T.Helper()
	l, err := e.Store.IdentityLink(context.Background(), configID, key)
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		e.T.Fatal(err)
	}
	return l, err == nil
}
