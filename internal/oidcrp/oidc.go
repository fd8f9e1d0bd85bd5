// Package oidcrp is Gatehouse's OpenID Connect relying party toward customers'
// identity providers (Entra ID single and multi-tenant, Okta, Google
// Workspace, Auth0, Salesforce, any conforming IdP). It builds the
// authorization code request (PKCE S256 always), redeems the code, and
// verifies the ID token; it has no HTTP handlers and no SQL. The only state
// it keeps is a cache, per configuration, of the IdP's discovery document and
// signing keys; state, nonce, PKCE verifier and the replay record of a token
// are the caller's database rows.
//
// Discovery, the key set and ID token verification are this package's own,
// on go-jose, because go-oidc's verifier cannot be made strict enough: it
// refetches the JWKS on every unknown kid without a rate limit, reads
// discovery and JWKS bodies without a bound, cannot express Entra ID's
// {tenantid} issuer template, does not check iat, azp or nonce, and reports
// failures as strings. go-oidc's discovery document type and nonce option
// and golang.org/x/oauth2's code flow and PKCE are used as they are.
package oidcrp

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
)

// Bounds and timings. They are constants, not settings: every configuration
// gets the same protection.
const (
	// ClockSkew is tolerated on exp, iat and nbf.
	ClockSkew = 60 * time.Second
	// MaxTokenBytes caps an ID token; real ones are a few KiB.
	MaxTokenBytes = 64 << 10
	// MaxDocumentBytes caps a discovery document or JWKS body.
	MaxDocumentBytes = 1 << 20
	// HTTPTimeout bounds every request to the IdP, whatever client is given.
	HTTPTimeout = 10 * time.Second
	// DiscoveryTTL and KeysTTL are how long a fetched document or key set is
	// used before it is fetched again.
	DiscoveryTTL = time.Hour
	KeysTTL      = time.Hour
	// RefetchInterval is the least time between two fetches of one
	// provider's discovery document or JWKS once something is cached, so an
	// unknown kid or an IdP outage never turns into a request storm.
	RefetchInterval = 60 * time.Second
	// MaxStale is how long the last good keys keep verifying while the JWKS
	// cannot be fetched; after that a key the IdP may have revoked is no
	// longer trusted.
	MaxStale = 24 * time.Hour
)

// TenantPlaceholder is the part of Entra ID's multi-tenant issuer that stands
// for the tenant ID.
const TenantPlaceholder = "{tenantid}"

// Signing algorithms an administrator may allow. Symmetric ones (HS*) are
// never among them: the "secret" would be the client secret or, in the classic
// confusion attack, the IdP's public key.
var supportedAlgs = []string{
	gooidc.RS256, gooidc.RS384, gooidc.RS512,
	gooidc.PS256, gooidc.PS384, gooidc.PS512,
	gooidc.ES256, gooidc.ES384, gooidc.ES512,
	gooidc.EdDSA,
}

// SupportedAlgorithms lists the signing algorithms an administrator may
// allow, for a form to offer; the slice is a copy.
func SupportedAlgorithms() []string { return slices.Clone(supportedAlgs) }

// DefaultAllowedAlgs is used when Settings.AllowedAlgs is empty: every IdP
// Gatehouse has a preset for signs with one of these.
var DefaultAllowedAlgs = []string{gooidc.RS256, gooidc.ES256}

// DefaultScopes is used when Settings.Scopes is empty.
var DefaultScopes = []string{gooidc.ScopeOpenID, "email", "profile"}

// DefaultEmailClaim is used when Settings.EmailClaim is empty.
const DefaultEmailClaim = "email"

// Settings are one SSO configuration's OIDC values.
type Settings struct {
	// Issuer is the IdP's issuer URL exactly as its discovery document says
	// it (trailing slash included, as Auth0 has one). For Entra ID
	// multi-tenant it is the template
	// https://login.microsoftonline.com/{tenantid}/v2.0; Microsoft's shared
	// endpoints (common, organizations, consumers) name no tenant and are
	// refused.
	Issuer   string
	ClientID string
	// ClientSecret is plaintext in memory only; empty for a public client,
	// which then sends its client_id and PKCE alone.
	ClientSecret string
	// ClientCertificate, when set, authenticates the client with a signed
	// JWT client assertion (private_key_jwt) instead of ClientSecret, as
	// an Entra ID application with a certificate credential does.
	ClientCertificate *ClientCertificate
	// Scopes are requested; empty means DefaultScopes, and openid is always
	// added.
	Scopes []string
	// EmailClaim names the claim holding the email address; empty means
	// DefaultEmailClaim.
	EmailClaim string
	// AllowedAlgs are the ID token signing algorithms accepted; empty means
	// DefaultAllowedAlgs. none and HS* are refused.
	AllowedAlgs []string
	// Entra marks a Microsoft Entra ID configuration; nil for other IdPs.
	Entra *EntraSettings
	// GoogleHostedDomain, when set, is the Google Workspace domain every
	// token's hd claim must name.
	GoogleHostedDomain string
	// TrustedAudiences are the audiences besides ClientID an ID token's aud
	// may list (OpenID Connect Core 3.1.3.7); empty, a token naming any other
	// audience is refused.
	TrustedAudiences []string
}

// EntraSettings are what Entra ID needs beyond standard OIDC.
type EntraSettings struct {
	// MultiTenant means Issuer is the {tenantid} template and tokens come
	// from any tenant in AllowedTenants (which must then be set).
	MultiTenant bool
	// AllowedTenants are tenant IDs (GUIDs). Single-tenant configurations
	// may leave it empty: the issuer names the one tenant.
	AllowedTenants []string
}

// String shows the settings without the client secret, so logging a
// configuration by mistake leaks nothing.
func (s Settings) String() string {
	secret := ""
	if s.ClientSecret != "" {
		secret = "(set)"
	}
	if s.ClientCertificate != nil {
		secret += "(certificate " + s.ClientCertificate.Thumbprint() + ")"
	}
	return fmt.Sprintf("oidc.Settings{Issuer:%q ClientID:%q ClientSecret:%s Scopes:%q EmailClaim:%q AllowedAlgs:%q Entra:%v GoogleHostedDomain:%q TrustedAudiences:%q}",
		s.Issuer, s.ClientID, secret, s.Scopes, s.EmailClaim, s.AllowedAlgs, s.Entra, s.GoogleHostedDomain, s.TrustedAudiences)
}

// GoString is String, so %#v does not print the secret either.
func (s Settings) GoString() string { return s.String() }

// Validate reports the first problem with s as a *gatehouse.Rejection
// (ErrConfiguration), or nil when a Provider can be built from it. Nothing is
// fetched.
func (s Settings) Validate() error {
	if _, verr := s.compile(); verr != nil {
		return verr
	}
	return nil
}

// config is Settings checked and normalised once, when a Provider is built.
type config struct {
	// issuer is what the discovery document must say: the exact issuer, or
	// the {tenantid} template for Entra multi-tenant.
	issuer       string
	discoveryURL string
	clientID     string
	clientSecret string
	clientCert   *ClientCertificate
	scopes       []string
	emailClaim   string
	algs         []jose.SignatureAlgorithm
	entra        *entraConfig
	hostedDomain string
	// trustedAudiences are the audiences besides clientID a token may name.
	trustedAudiences []string
}

type entraConfig struct {
	multiTenant bool
	// template is the issuer with the tenant replaced by TenantPlaceholder;
	// a token's iss must equal it with the token's own tid put back.
	template string
	// tenants are the allowed tenant IDs, lower case.
	tenants []string
}

func (s Settings) compile() (config, *gatehouse.Rejection) {
	c := config{
		clientID:     strings.TrimSpace(s.ClientID),
		clientSecret: s.ClientSecret,
		clientCert:   s.ClientCertificate,
		emailClaim:   strings.TrimSpace(s.EmailClaim),
		hostedDomain: strings.ToLower(strings.TrimSpace(s.GoogleHostedDomain)),
	}
	bad := func(format string, args ...any) (config, *gatehouse.Rejection) {
		return config{}, reject(ErrConfiguration, gatehouse.FixInGatehouse, fmt.Sprintf(format, args...))
	}
	if c.clientID == "" {
		return bad("the client ID is empty")
	}
	if cc := c.clientCert; cc != nil && (cc.Certificate == nil || cc.Key == nil) {
		return bad("the client certificate has no certificate or no key")
	}
	if c.emailClaim == "" {
		c.emailClaim = DefaultEmailClaim
	}
	if c.hostedDomain != "" && !domainPattern.MatchString(c.hostedDomain) {
		return bad("the Google hosted domain %s is not a domain name", gatehouse.Quote(s.GoogleHostedDomain))
	}

	scopes, err := normaliseScopes(s.Scopes)
	if err != nil {
		return bad("%v", err)
	}
	c.scopes = scopes

	for _, aud := range s.TrustedAudiences {
		aud = strings.TrimSpace(aud)
		if problem := trustedAudienceProblem(aud, c.clientID); problem != "" {
			return bad("%s", problem)
		}
		if !slices.Contains(c.trustedAudiences, aud) {
			c.trustedAudiences = append(c.trustedAudiences, aud)
		}
	}

	algs := s.AllowedAlgs
	if len(algs) == 0 {
		algs = DefaultAllowedAlgs
	}
	for _, a := range algs {
		if !slices.Contains(supportedAlgs, a) {
			return bad("signing algorithm %s is not allowed: use asymmetric ones (%s); none and HS* never are", gatehouse.Quote(a), strings.Join(supportedAlgs, ", "))
		}
		if !slices.Contains(c.algs, jose.SignatureAlgorithm(a)) {
			c.algs = append(c.algs, jose.SignatureAlgorithm(a))
		}
	}

	issuer := strings.TrimSpace(s.Issuer)
	if issuer == "" {
		return bad("the issuer is empty")
	}
	if isConsumerIssuer(issuer) {
		return bad("the issuer %s is %s", gatehouse.Quote(issuer), consumerTenantWhy)
	}
	if s.Entra == nil {
		if strings.Contains(issuer, TenantPlaceholder) {
			return bad("the issuer %s is Entra ID's multi-tenant template: choose the Entra ID multi-tenant preset", gatehouse.Quote(issuer))
		}
		if err := checkEndpointURL("the issuer", issuer, true); err != nil {
			return bad("%v", err)
		}
		if segment, ok := microsoftSharedEndpoint(issuer); ok {
			return bad("the issuer names %s, %s, not a tenant: choose an Entra ID preset and name the tenant ID", gatehouse.Quote(segment), sharedEndpoints[segment])
		}
		c.issuer = issuer
		c.discoveryURL = strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
		return c, nil
	}

	entra, discoveryBase, verr := compileEntra(issuer, *s.Entra)
	if verr != nil {
		return config{}, verr
	}
	c.entra = entra
	c.issuer = issuer
	if entra.multiTenant {
		c.issuer = entra.template
	}
	c.discoveryURL = strings.TrimSuffix(discoveryBase, "/") + "/.well-known/openid-configuration"
	return c, nil
}

// ConsumerTenant is the tenant of personal Microsoft accounts (Outlook.com,
// Xbox, Skype): anyone can make an account in it, so it never stands for a
// customer's organization and never signs anyone in (SECURITY.md
// E-consumer).
const ConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// consumerTenantWhy completes a sentence naming the consumer tenant.
const consumerTenantWhy = "Microsoft's consumer tenant: personal Microsoft accounts, which anyone can create, never sign in to Gatehouse"

// sharedEndpoints are the Entra ID path segments that name no single
// tenant, with whom Microsoft signs in there (SECURITY.md E-consumer).
var sharedEndpoints = map[string]string{
	"common":        "Microsoft's shared endpoint for every work or school tenant and personal Microsoft accounts",
	"organizations": "Microsoft's shared endpoint for every work or school tenant",
	"consumers":     "Microsoft's shared endpoint for personal Microsoft accounts",
}

// isConsumerTenant reports whether tenant is ConsumerTenant, in any case.
func isConsumerTenant(tenant string) bool {
	return strings.EqualFold(strings.TrimSpace(tenant), ConsumerTenant)
}

// isConsumerIssuer reports whether issuer names the consumer tenant
// anywhere: its ID is Microsoft's alone, so no other IdP's issuer holds it.
func isConsumerIssuer(issuer string) bool {
	return strings.Contains(strings.ToLower(issuer), ConsumerTenant)
}

// microsoftSharedEndpoint returns the shared endpoint (common,
// organizations, consumers) an issuer on a Microsoft sign-in host names in
// the tenant's place, lower case; false for any other issuer.
func microsoftSharedEndpoint(issuer string) (string, bool) {
	u, err := url.Parse(issuer)
	if err != nil || !isMicrosoftSignInHost(u.Hostname()) {
		return "", false
	}
	segment, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	segment = strings.ToLower(segment)
	_, ok := sharedEndpoints[segment]
	return segment, ok
}

// isMicrosoftSignInHost reports whether host is one of Microsoft's Entra ID
// sign-in hosts, in any cloud.
func isMicrosoftSignInHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range []string{"login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn",
		"login.chinacloudapi.cn", "login.windows.net", "sts.windows.net", "login.microsoft.com", "ciamlogin.com"} {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// entraTenantProblem says why tenant cannot be an allowed Entra ID tenant,
// or "" when it can: it must be one organization's tenant ID.
func entraTenantProblem(tenant string) string {
	t := strings.ToLower(strings.TrimSpace(tenant))
	if why, ok := sharedEndpoints[t]; ok {
		return fmt.Sprintf("allowed tenant %s is not a tenant but %s: list each organization's tenant ID", gatehouse.Quote(tenant), why)
	}
	if isConsumerTenant(t) {
		return fmt.Sprintf("allowed tenant %s is %s", gatehouse.Quote(tenant), consumerTenantWhy)
	}
	if !guidPattern.MatchString(t) {
		return fmt.Sprintf("allowed tenant %s is not a tenant ID (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47)", gatehouse.Quote(tenant))
	}
	return ""
}

// trustedAudienceProblem says why aud cannot be a trusted extra audience of
// client clientID, or "" when it can (SECURITY.md O-aud).
func trustedAudienceProblem(aud, clientID string) string {
	switch {
	case aud == "":
		return "a trusted audience is empty"
	case aud == clientID:
		return fmt.Sprintf("trusted audience %s is the client ID itself, which every token must name anyway: list only the other audiences", gatehouse.Quote(aud))
	}
	return ""
}

// compileEntra splits an Entra issuer into its tenant and the rest. The
// tenant is the first path segment, as in every Entra cloud
// (login.microsoftonline.com, .us, .cn, ciamlogin.com).
func compileEntra(issuer string, es EntraSettings) (*entraConfig, string, *gatehouse.Rejection) {
	bad := func(format string, args ...any) (*entraConfig, string, *gatehouse.Rejection) {
		return nil, "", reject(ErrConfiguration, gatehouse.FixInGatehouse, fmt.Sprintf(format, args...))
	}
	// url.Parse would escape the braces of the template; check a concrete form.
	probe := strings.Replace(issuer, TenantPlaceholder, "organizations", 1)
	if err := checkEndpointURL("the issuer", probe, true); err != nil {
		return bad("%v", err)
	}
	u, _ := url.Parse(probe)
	origin := u.Scheme + "://" + u.Host
	rest := strings.TrimPrefix(issuer, origin)
	segment, tail, ok := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if !strings.HasPrefix(rest, "/") || !ok || segment == "" || tail == "" {
		return bad("the Entra ID issuer %s is not of the form https://login.microsoftonline.com/{tenant}/v2.0", gatehouse.Quote(issuer))
	}
	e := &entraConfig{multiTenant: es.MultiTenant, template: origin + "/" + TenantPlaceholder + "/" + tail}
	for _, t := range es.AllowedTenants {
		if problem := entraTenantProblem(t); problem != "" {
			return bad("%s", problem)
		}
		if t = strings.ToLower(strings.TrimSpace(t)); !slices.Contains(e.tenants, t) {
			e.tenants = append(e.tenants, t)
		}
	}
	shared, isShared := sharedEndpoints[strings.ToLower(segment)]

	if es.MultiTenant {
		switch {
		case isShared:
			return bad("the issuer names %s, %s: a multi-tenant Entra ID issuer is %s, and the allowed tenants say whose tokens are accepted", gatehouse.Quote(segment), shared, gatehouse.Quote(e.template))
		case strings.ToLower(segment) != TenantPlaceholder:
			return bad("a multi-tenant Entra ID issuer is %s, not one naming tenant %s", gatehouse.Quote(e.template), gatehouse.Quote(segment))
		case len(e.tenants) == 0:
			return bad("a multi-tenant Entra ID configuration needs at least one allowed tenant ID")
		}
		// Discovered where work or school tenants sign in, never personal
		// accounts.
		return e, origin + "/organizations/" + tail, nil
	}

	switch {
	case isShared:
		return bad("the issuer names %s, %s, not one tenant: a single-tenant Entra ID issuer names the tenant ID, https://login.microsoftonline.com/{tenant-id}/v2.0", gatehouse.Quote(segment), shared)
	case strings.ToLower(segment) == TenantPlaceholder:
		return bad("a single-tenant Entra ID issuer names the tenant ID, not %s: https://login.microsoftonline.com/{tenant-id}/v2.0", gatehouse.Quote(segment))
	}
	tenant := strings.ToLower(segment)
	if !guidPattern.MatchString(tenant) {
		return bad("the Entra ID issuer names %s: use the tenant ID (a GUID), as the IdP's discovery document does", gatehouse.Quote(segment))
	}
	if len(e.tenants) > 0 && !slices.Contains(e.tenants, tenant) {
		return bad("the allowed tenants do not include the issuer's tenant %s", gatehouse.Quote(tenant))
	}
	e.tenants = []string{tenant}
	return e, issuer, nil
}

var (
	guidPattern   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// normaliseScopes applies the default, puts openid first and refuses what
// cannot be a scope token (RFC 6749 section 3.3).
func normaliseScopes(in []string) ([]string, error) {
	if len(in) == 0 {
		in = DefaultScopes
	}
	out := []string{gooidc.ScopeOpenID}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		for _, r := range s {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return nil, fmt.Errorf("scope %s contains a character scopes cannot hold", gatehouse.Quote(s))
			}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// checkEndpointURL accepts https URLs, and plain http only on a loopback host
// (test and demo IdPs): keys fetched over plain http from elsewhere could be
// anyone's.
func checkEndpointURL(what, raw string, isIssuer bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s %s is not a URL: %v", what, gatehouse.Quote(raw), err)
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" || u.RawFragment != "" {
		return fmt.Errorf("%s %s is not an absolute URL without credentials or fragment", what, gatehouse.Quote(raw))
	}
	if isIssuer && u.RawQuery != "" {
		return fmt.Errorf("%s %s has a query, which an issuer never has", what, gatehouse.Quote(raw))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%s %s must use https", what, gatehouse.Quote(raw))
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
