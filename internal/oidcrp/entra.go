package oidcrp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
)

// DefaultEntraAuthority is Microsoft Entra ID's sign-in host in its global
// cloud; national clouds have their own (login.microsoftonline.us,
// login.partner.microsoftonline.cn).
const DefaultEntraAuthority = "https://login.microsoftonline.com"

// EntraApp is the provider's own multi-tenant Microsoft Entra ID
// application, which the operator registers once and configures on the
// server: every configuration of the Entra ID multi-tenant preset signs in
// through it, and a customer's admin only grants it consent in their tenant.
// It authenticates to the token endpoint with a client secret or, when
// Certificate is set, with a certificate (private_key_jwt); never print it
// with anything but String.
type EntraApp struct {
	// Authority is the Entra ID sign-in host, scheme and host only
	// (DefaultEntraAuthority when empty). Tests point it at a stand-in.
	Authority string
	// ClientID is the application (client) ID of the provider's app.
	ClientID string
	// ClientSecret is one of the app's client secrets, in memory only.
	ClientSecret string
	// Certificate, when set, authenticates the app instead of the secret.
	Certificate *ClientCertificate
}

// Configured reports whether a is set up: a nil or empty app means the
// operator has not configured one, and the multi-tenant preset is not offered.
func (a *EntraApp) Configured() bool { return a != nil && strings.TrimSpace(a.ClientID) != "" }

// authority is a.Authority without a trailing slash, or the default.
func (a EntraApp) authority() string {
	if s := strings.TrimSuffix(strings.TrimSpace(a.Authority), "/"); s != "" {
		return s
	}
	return DefaultEntraAuthority
}

// AuthorityURL is the sign-in host the app uses.
func (a EntraApp) AuthorityURL() string { return a.authority() }

// IssuerTemplate is the multi-tenant issuer the app's tokens carry, with
// TenantPlaceholder for the tenant: {authority}/{tenantid}/v2.0.
func (a EntraApp) IssuerTemplate() string {
	return a.authority() + "/" + TenantPlaceholder + "/v2.0"
}

// Check says what is wrong with the operator's settings, or nil: an
// authority that is https (or http on loopback, for tests) with nothing
// after the host, a client ID, and a client secret or a certificate.
func (a EntraApp) Check() error {
	auth := a.authority()
	if err := checkEndpointURL("the Entra ID authority", auth, true); err != nil {
		return err
	}
	if u, _ := url.Parse(auth); u.Path != "" {
		return fmt.Errorf("the Entra ID authority %s must be a scheme and host only, such as %s", gatehouse.Quote(auth), DefaultEntraAuthority)
	}
	id := strings.TrimSpace(a.ClientID)
	switch {
	case id == "":
		return errors.New("the Entra ID application needs its application (client) ID")
	case strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return fmt.Errorf("the Entra ID application (client) ID %s contains spaces or control characters", gatehouse.Quote(id))
	case a.ClientSecret == "" && a.Certificate == nil:
		return errors.New("the Entra ID application needs a client secret or a certificate to redeem codes with")
	}
	return nil
}

// String shows the app without its secret or key, so a logged
// configuration leaks nothing.
func (a EntraApp) String() string {
	auth := "none"
	switch {
	case a.Certificate != nil:
		auth = "certificate " + a.Certificate.Thumbprint()
	case a.ClientSecret != "":
		auth = "client secret (set)"
	}
	return fmt.Sprintf("oidcrp.EntraApp{Authority:%q ClientID:%q Auth:%s}", a.authority(), a.ClientID, auth)
}

// GoString is String, so %#v does not print the secret either.
func (a EntraApp) GoString() string { return a.String() }

// Settings returns base completed with the app: the multi-tenant issuer
// template on the app's authority, the app's client ID and credentials, and
// Entra ID multi-tenant checks of base's allowed tenants.
func (a EntraApp) Settings(base Settings) Settings {
	s := base
	s.Issuer = a.IssuerTemplate()
	s.ClientID = strings.TrimSpace(a.ClientID)
	s.ClientSecret = a.ClientSecret
	s.ClientCertificate = a.Certificate
	var tenants []string
	if base.Entra != nil {
		tenants = base.Entra.AllowedTenants
	}
	s.Entra = &EntraSettings{MultiTenant: true, AllowedTenants: tenants}
	return s
}

// AdminConsentURL is the link a customer's Entra ID admin opens to grant the
// app consent in tenant (a tenant ID or a verified domain), Microsoft's
// v2.0 admin consent endpoint: {authority}/{tenant}/v2.0/adminconsent with
// client_id, the scopes sign-in asks for, redirect_uri (registered on the
// app) and state. Entra ID then sends the browser to redirectURI with
// tenant, state and admin_consent=True, or error and error_description.
func (a EntraApp) AdminConsentURL(tenant, redirectURI, state string, scopes []string) string {
	tenant = strings.TrimSpace(tenant)
	if tenant == "" {
		tenant = "organizations"
	}
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	q := url.Values{"client_id": {strings.TrimSpace(a.ClientID)}, "scope": {strings.Join(scopes, " ")}, "redirect_uri": {redirectURI}}
	if state != "" {
		q.Set("state", state)
	}
	return a.authority() + "/" + url.PathEscape(tenant) + "/v2.0/adminconsent?" + q.Encode()
}

// IsEntraTenantID reports whether s is an Entra ID tenant ID (a GUID), in
// any case.
func IsEntraTenantID(s string) bool {
	return guidPattern.MatchString(strings.ToLower(strings.TrimSpace(s)))
}

// IsDomainName reports whether s looks like a DNS domain name, such as a
// tenant's verified domain (contoso.com, contoso.onmicrosoft.com).
func IsDomainName(s string) bool {
	return domainPattern.MatchString(strings.ToLower(strings.TrimSpace(s)))
}

// ResolveEntraTenant returns the tenant ID of domain, one of a tenant's
// verified domains, as Entra ID's discovery document at
// {authority}/{domain}/v2.0 names it in its issuer. Microsoft resolves only
// verified domains, so whoever enters a domain names the tenant that proved
// it owns it. The consumer tenant and the shared endpoints are refused.
// client nil means one with HTTPTimeout.
func ResolveEntraTenant(ctx context.Context, client *http.Client, authority, domain string) (string, error) {
	app := EntraApp{Authority: authority}
	domain = strings.ToLower(strings.TrimSpace(domain))
	if !IsDomainName(domain) {
		return "", fmt.Errorf("%s is neither a tenant ID nor a domain name", gatehouse.Quote(domain))
	}
	if client == nil {
		client = &http.Client{Timeout: HTTPTimeout}
	}
	where := app.authority() + "/" + domain + "/v2.0/.well-known/openid-configuration"
	p := &Provider{client: guardRedirects(client)}
	body, verr := p.fetch(ctx, "discovery document", where)
	if verr != nil {
		if strings.Contains(verr.Message, "answered 400") || strings.Contains(verr.Message, "answered 404") {
			return "", fmt.Errorf("no Entra ID tenant has verified the domain %s (Microsoft does not know it at %s)", domain, where)
		}
		return "", errors.New(verr.Message)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("the discovery document at %s is not JSON: %v", where, err)
	}
	tenant, ok := tenantInIssuer(app.IssuerTemplate(), doc.Issuer)
	tenant = strings.ToLower(tenant)
	switch {
	case !ok || !IsEntraTenantID(tenant):
		return "", fmt.Errorf("the discovery document at %s names issuer %s, not a tenant's", where, gatehouse.Quote(doc.Issuer))
	case isConsumerTenant(tenant):
		return "", fmt.Errorf("the domain %s belongs to %s", domain, consumerTenantWhy)
	}
	return tenant, nil
}

// ClientCertificate is a certificate and its RSA private key with which an
// Entra ID application authenticates to the token endpoint: a signed JWT
// client assertion (private_key_jwt) instead of a client secret. The key
// never leaves the process.
type ClientCertificate struct {
	Certificate *x509.Certificate
	Key         *rsa.PrivateKey
}

// ParseClientCertificate reads a PEM certificate and its unencrypted RSA
// private key (PKCS #8 or PKCS #1) from data, which may hold both, as
// Microsoft's tools export them, or one of them when the other is in a
// second file. The key must belong to the certificate and be at least
// MinRSABits long.
func ParseClientCertificate(data ...[]byte) (*ClientCertificate, error) {
	c := &ClientCertificate{}
	for _, d := range data {
		for {
			var block *pem.Block
			block, d = pem.Decode(d)
			if block == nil {
				break
			}
			switch block.Type {
			case "CERTIFICATE":
				if c.Certificate != nil {
					continue // a chain: the first certificate is the app's
				}
				cert, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					return nil, fmt.Errorf("the certificate: %w", err)
				}
				c.Certificate = cert
			case "PRIVATE KEY", "RSA PRIVATE KEY":
				key, err := parseRSAKey(block)
				if err != nil {
					return nil, err
				}
				c.Key = key
			case "ENCRYPTED PRIVATE KEY":
				return nil, errors.New("the private key is encrypted: give it unencrypted, in a file only the server can read")
			}
		}
	}
	switch {
	case c.Certificate == nil:
		return nil, errors.New("no PEM CERTIFICATE block found")
	case c.Key == nil:
		return nil, errors.New("no PEM PRIVATE KEY block found")
	case c.Key.N.BitLen() < MinRSABits:
		return nil, fmt.Errorf("the RSA key has %d bits; at least %d are needed", c.Key.N.BitLen(), MinRSABits)
	}
	pub, ok := c.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(c.Key.Public()) {
		return nil, errors.New("the private key does not belong to the certificate")
	}
	return c, nil
}

func parseRSAKey(block *pem.Block) (*rsa.PrivateKey, error) {
	if block.Type == "RSA PRIVATE KEY" {
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the private key: %w", err)
		}
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("the private key is not RSA: Entra ID takes RSA certificates for client assertions")
	}
	return rk, nil
}

// Thumbprint is the certificate's SHA-256 thumbprint, base64url, as Entra
// ID's x5t#S256 header names it; it is public.
func (c *ClientCertificate) Thumbprint() string {
	sum := sha256.Sum256(c.Certificate.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// clientAssertionTTL bounds a client assertion's life: it is sent at once.
const clientAssertionTTL = 5 * time.Minute

// ClientAssertionType is the client_assertion_type of a JWT client
// assertion (RFC 7523).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertion signs a client assertion for clientID toward tokenEndpoint, as
// Microsoft documents certificate credentials: PS256, x5t#S256 (and the
// older SHA-1 x5t) in the header; aud the token endpoint, iss and sub the
// client ID, a fresh jti, nbf, iat and a short exp.
func (c *ClientCertificate) assertion(clientID, tokenEndpoint string, now time.Time) (string, error) {
	sha1Sum := sha1.Sum(c.Certificate.Raw)
	opts := (&jose.SignerOptions{}).WithType("JWT").
		WithHeader("x5t#S256", c.Thumbprint()).
		WithHeader("x5t", base64.RawURLEncoding.EncodeToString(sha1Sum[:]))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS256, Key: crypto.Signer(c.Key)}, opts)
	if err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"aud": tokenEndpoint, "iss": clientID, "sub": clientID, "jti": base64.RawURLEncoding.EncodeToString(jti),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(clientAssertionTTL).Unix(),
	})
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
