package oidcrp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
)

// Identity is who a verified ID token says the person is. Every field is
// read from claims whose signature verified.
type Identity struct {
	// Issuer is the token's iss (for Google, always the configured
	// https://accounts.google.com).
	Issuer  string
	Subject string
	// Email is the EmailClaim's value as sent; compare case-insensitively.
	// It may be empty.
	Email string
	// EmailVerified is true only when the IdP vouches for Email (see
	// VerifyIDToken). An unverified email must never link or match anyone.
	EmailVerified bool
	// TenantID and ObjectID are Entra ID's tid and oid, lower case; empty for
	// other IdPs.
	TenantID, ObjectID string
	// LinkKey is the immutable key the person is linked to a user by:
	// "entra:{tid}:{oid}" for Entra ID, "iss:{iss}|sub:{sub}" otherwise.
	LinkKey string
	// Claims are all claims of the token; numbers are json.Number.
	Claims   map[string]any
	IssuedAt time.Time
	Expiry   time.Time
	// JTI is the token's jti (Entra ID: uti) when it has one.
	JTI string
	// TokenHash is the hex SHA-256 of the raw token: the key the caller
	// records, atomically and until ReplayUntil, to accept a token once.
	TokenHash string
	// ReplayUntil is Expiry plus ClockSkew: until then a copy of this token
	// would still pass VerifyIDToken.
	ReplayUntil time.Time
	// Algorithm and KeyID say which published key verified the token, for
	// the test result page.
	Algorithm, KeyID string
}

// VerifyIDToken verifies an ID token the token endpoint returned for this
// configuration and returns who it names. expectedNonce is the nonce this
// browser's sign-in sent; using it once is the caller's database job (the
// flow row), as is recording Identity.TokenHash against replay. Every error
// is a *gatehouse.Rejection.
//
// The checks, in order: size (MaxTokenBytes); compact JWS; alg on the
// configuration's allow-list (none and HS* never are); signature by a key in
// the IdP's JWKS, the kid matching (an unknown kid costs one rate-limited
// refetch); tid, whatever the IdP, not Microsoft's consumer tenant; iss
// exactly the configured issuer (Entra ID: tid an allowed tenant, and iss
// the template with that tid); aud containing the client ID and no other
// audience but the configuration's trusted ones, and azp equal to the client
// ID whenever there are several audiences or azp is present (OpenID Connect
// Core 3.1.3.7); exp, iat and nbf within ClockSkew of now; sub present
// (Entra ID: oid too); nonce equal to expectedNonce; hd equal to the
// configured Google Workspace domain.
//
// Email verification decisions:
//   - Most IdPs: EmailVerified is true when email_verified is true (JSON
//     true or "true"). It vouches for the email claim only, so a different
//     EmailClaim counts as verified only when it holds that same address.
//   - Entra ID: email_verified is not an Entra claim and is ignored. The
//     email claim is verified only when xms_edov (the "email domain owner
//     verified" optional claim) is true: without it, any tenant can put a
//     victim's address in a user's mail attribute (the nOAuth attack). An
//     EmailClaim of upn is verified: a UPN's domain must be one the tenant
//     proved it owns. Any other claim, preferred_username above all
//     (Microsoft documents it as mutable), never is. There is no silent
//     fallback from one claim to another. Users are linked by LinkKey
//     (tid+oid) in any case.
func (p *Provider) VerifyIDToken(ctx context.Context, raw, expectedNonce string, now time.Time) (*Identity, error) {
	id, verr := p.verifyIDToken(ctx, raw, expectedNonce, now)
	if verr != nil {
		return nil, verr
	}
	return id, nil
}

func (p *Provider) verifyIDToken(ctx context.Context, raw, expectedNonce string, now time.Time) (*Identity, *gatehouse.Rejection) {
	if len(raw) > MaxTokenBytes {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, fmt.Sprintf("the ID token is %d bytes, over the %d-byte limit", len(raw), MaxTokenBytes))
	}
	if raw == "" {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "the ID token is empty")
	}
	if verr := p.checkAlgorithm(raw); verr != nil {
		return nil, verr
	}
	jws, err := jose.ParseSignedCompact(raw, p.cfg.algs)
	if err != nil {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "the ID token is not a signed JWT: "+err.Error()).Wrap(err)
	}
	if len(jws.Signatures) != 1 {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "the ID token does not carry exactly one signature")
	}
	payload, key, verr := p.verifySignature(ctx, jws)
	if verr != nil {
		return nil, verr
	}

	claims, verr := parseClaims(payload)
	if verr != nil {
		return nil, verr
	}
	c := claimReader{claims: claims}
	id := &Identity{Claims: claims, Algorithm: jws.Signatures[0].Header.Algorithm, KeyID: key.KeyID}

	// Identity first: who issued it and for whom, then when, then which
	// sign-in it answers.
	if verr := refuseConsumerTenant(&c); verr != nil {
		return nil, verr
	}
	iss := c.str("iss")
	if verr := p.checkIssuer(&c, iss, id); verr != nil {
		return nil, verr
	}
	if verr := p.checkAudience(&c); verr != nil {
		return nil, verr
	}
	if verr := checkTimes(&c, id, now); verr != nil {
		return nil, verr
	}
	if id.Subject = c.str("sub"); c.err != nil {
		return nil, c.err
	}
	if id.Subject == "" {
		return nil, reject(ErrSubject, gatehouse.FixInIdP, "the ID token has no sub")
	}
	if verr := checkNonce(&c, expectedNonce); verr != nil {
		return nil, verr
	}
	if verr := p.checkHostedDomain(&c); verr != nil {
		return nil, verr
	}
	p.readEmail(&c, id)
	id.JTI = c.str("jti")
	if id.JTI == "" && p.cfg.entra != nil {
		id.JTI = c.str("uti")
	}
	if c.err != nil {
		return nil, c.err
	}

	if p.cfg.entra != nil {
		id.ObjectID = strings.ToLower(c.str("oid"))
		if c.err != nil {
			return nil, c.err
		}
		if id.ObjectID == "" {
			return nil, reject(ErrSubject, gatehouse.FixInIdP, "the Entra ID token has no oid, which users are linked by")
		}
		id.LinkKey = "entra:" + id.TenantID + ":" + id.ObjectID
	} else {
		id.LinkKey = "iss:" + id.Issuer + "|sub:" + id.Subject
	}
	sum := sha256.Sum256([]byte(raw))
	id.TokenHash = hex.EncodeToString(sum[:])
	id.ReplayUntil = id.Expiry.Add(ClockSkew)
	return id, nil
}

// checkAlgorithm reads the alg from the header before go-jose does, so an
// administrator learns which algorithm was refused rather than "malformed".
func (p *Provider) checkAlgorithm(raw string) *gatehouse.Rejection {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return reject(ErrMalformed, gatehouse.FixInIdP, "the ID token is not a JWT (no header)")
	}
	decoded, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return reject(ErrMalformed, gatehouse.FixInIdP, "the ID token's header is not base64url").Wrap(err)
	}
	var h struct {
		Alg any `json:"alg"`
	}
	if err := json.Unmarshal(decoded, &h); err != nil {
		return reject(ErrMalformed, gatehouse.FixInIdP, "the ID token's header is not a JSON object").Wrap(err)
	}
	alg, _ := h.Alg.(string)
	if slices.Contains(p.cfg.algs, jose.SignatureAlgorithm(alg)) {
		return nil
	}
	allowed := make([]string, len(p.cfg.algs))
	for i, a := range p.cfg.algs {
		allowed[i] = string(a)
	}
	e := mismatch(ErrAlgorithm, gatehouse.FixInIdP, "alg", alg, strings.Join(allowed, " or "))
	if slices.Contains(supportedAlgs, alg) {
		e.FixIn = gatehouse.FixInGatehouse
		e.Message += ": allow it in the configuration if the IdP signs with it"
	}
	return e
}

func (p *Provider) checkIssuer(c *claimReader, iss string, id *Identity) *gatehouse.Rejection {
	if c.err != nil {
		return c.err
	}
	if p.cfg.entra == nil {
		if iss != p.cfg.issuer && !(p.cfg.issuer == googleIssuer && iss == googleIssuerNoScheme) {
			return mismatch(ErrIssuer, gatehouse.FixInIdP, "iss", iss, p.cfg.issuer)
		}
		id.Issuer = p.cfg.issuer
		return nil
	}

	// Entra ID: tid is allowed, and iss is the template with that tid in
	// it. Every tenant's tokens are signed with the same Microsoft keys, so
	// this is what keeps tenant B out of A (SECURITY.md E-tenant). tid is
	// judged first: it is the tenant the token speaks for, so a refusal
	// names the configured tenants as expected and tid as received.
	e := p.cfg.entra
	issTenant, ok := tenantInIssuer(e.template, iss)
	if !ok {
		return e.issuerWithoutTenant("iss", iss)
	}
	tid := c.str("tid")
	if c.err != nil {
		return c.err
	}
	if tid == "" {
		return reject(ErrTenant, gatehouse.FixInIdP, "the Entra ID token has no tid")
	}
	if err := e.allowTenant("tid", tid); err != nil {
		return err
	}
	if issTenant != tid {
		ve := mismatch(ErrTenant, gatehouse.FixInIdP, "iss", iss, strings.Replace(e.template, TenantPlaceholder, tid, 1))
		ve.Message += ": the tenant in iss is not the token's tid"
		return ve
	}
	id.Issuer, id.TenantID = iss, strings.ToLower(tid)
	return nil
}

// refuseConsumerTenant refuses a token whose tid is Microsoft's consumer
// tenant, whatever the IdP and whatever the configuration allows
// (SECURITY.md E-consumer). A tid that is no string is not Entra's and is
// left to the other checks.
func refuseConsumerTenant(c *claimReader) *gatehouse.Rejection {
	tid, _ := c.claims["tid"].(string)
	if !isConsumerTenant(tid) {
		return nil
	}
	return consumerTenantRejection("tid", tid)
}

// consumerTenantRejection refuses a token or answer of the consumer tenant
// that what names. The fix is the IdP's: an Entra ID app registration that
// lets only organizations' accounts sign in.
func consumerTenantRejection(what, tenant string) *gatehouse.Rejection {
	ve := reject(ErrTenant, gatehouse.FixInIdP, fmt.Sprintf("%s is %s, %s; in Entra ID, let only accounts in organizational directories sign in to the app",
		what, gatehouse.Quote(tenant), consumerTenantWhy))
	ve.Received = tenant
	return ve
}

// tenantInIssuer reads the tenant out of an Entra issuer built from template
// ("…/{tenantid}/v2.0"); false when iss does not fit the template or what
// stands in the tenant's place is not a tenant ID (a GUID).
func tenantInIssuer(template, iss string) (string, bool) {
	prefix, suffix, _ := strings.Cut(template, TenantPlaceholder)
	tenant, ok := strings.CutPrefix(iss, prefix)
	if ok {
		tenant, ok = strings.CutSuffix(tenant, suffix)
	}
	isTenantID := func(r rune) bool {
		return r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return tenant, ok && tenant != "" && !strings.ContainsFunc(tenant, func(r rune) bool { return !isTenantID(r) })
}

// issuerWithoutTenant refuses an issuer that does not name a tenant in the
// template's form; the template itself is named as such, since "expected" and
// "received" would read the same.
func (e *entraConfig) issuerWithoutTenant(what, iss string) *gatehouse.Rejection {
	if iss == e.template {
		return reject(ErrIssuer, gatehouse.FixInIdP, what+" is the issuer template itself; it must name the tenant")
	}
	return mismatch(ErrIssuer, gatehouse.FixInIdP, what, iss, e.template)
}

// allowTenant refuses a tenant this configuration does not accept, and the
// consumer tenant always. The fix is Gatehouse's (add the tenant), whichever
// message named it; expected are the configured tenants, received is tenant.
func (e *entraConfig) allowTenant(what, tenant string) *gatehouse.Rejection {
	if isConsumerTenant(tenant) {
		return consumerTenantRejection(what, tenant)
	}
	if slices.Contains(e.tenants, strings.ToLower(tenant)) {
		return nil
	}
	ve := mismatch(ErrTenant, gatehouse.FixInGatehouse, what, tenant, strings.Join(e.tenants, " or "))
	ve.Message += ": the tenant is not allowed for this configuration"
	return ve
}

func (p *Provider) checkAudience(c *claimReader) *gatehouse.Rejection {
	aud := c.audience()
	if c.err != nil {
		return c.err
	}
	if !slices.Contains(aud, p.cfg.clientID) {
		return mismatch(ErrAudience, gatehouse.FixInIdP, "aud", strings.Join(aud, ", "), p.cfg.clientID)
	}
	if others := untrustedAudiences(aud, p.cfg.clientID, p.cfg.trustedAudiences); len(others) > 0 {
		e := reject(ErrAudience, gatehouse.FixInGatehouse, fmt.Sprintf("aud also names %s, not a trusted audience of this configuration: "+
			"a token for other parties too is refused (OpenID Connect Core 3.1.3.7); add it to the trusted audiences only if that party may see who signs in here",
			quoteList(others, 5)))
		e.Expected = strings.Join(append([]string{p.cfg.clientID}, p.cfg.trustedAudiences...), ", ")
		e.Received = strings.Join(aud, ", ")
		return e
	}
	_, hasAzp := c.claims["azp"]
	azp := c.str("azp")
	if c.err != nil {
		return c.err
	}
	if (len(aud) > 1 || hasAzp) && azp != p.cfg.clientID {
		e := mismatch(ErrAudience, gatehouse.FixInIdP, "azp", azp, p.cfg.clientID)
		if len(aud) > 1 {
			e.Message += " (a token for several audiences must name this client as its authorized party)"
		}
		return e
	}
	return nil
}

// untrustedAudiences lists, once each and in order, the audiences of aud
// that are neither clientID nor among trusted (SECURITY.md O-aud).
func untrustedAudiences(aud []string, clientID string, trusted []string) []string {
	var out []string
	for _, a := range aud {
		if a != clientID && !slices.Contains(trusted, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// quoteList quotes the first limit values of list, saying how many more
// there are.
func quoteList(list []string, limit int) string {
	var quoted []string
	for i, v := range list {
		if i == limit {
			quoted = append(quoted, fmt.Sprintf("and %d more", len(list)-limit))
			break
		}
		quoted = append(quoted, gatehouse.Quote(v))
	}
	return strings.Join(quoted, ", ")
}

func checkTimes(c *claimReader, id *Identity, now time.Time) *gatehouse.Rejection {
	exp, hasExp := c.time("exp")
	iat, hasIat := c.time("iat")
	nbf, hasNbf := c.time("nbf")
	if c.err != nil {
		return c.err
	}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	switch {
	case !hasExp:
		return reject(ErrExpired, gatehouse.FixInIdP, "the ID token has no exp")
	case now.After(exp.Add(ClockSkew)):
		e := reject(ErrExpired, gatehouse.FixInIdP, fmt.Sprintf("exp is %s, %s before now (%s) beyond the %s clock skew", stamp(exp), now.Sub(exp).Round(time.Second), stamp(now), ClockSkew))
		e.Expected, e.Received = "after "+stamp(now.Add(-ClockSkew)), stamp(exp)
		return e
	case !hasIat:
		return reject(ErrIssuedAt, gatehouse.FixInIdP, "the ID token has no iat")
	case iat.After(now.Add(ClockSkew)):
		e := reject(ErrIssuedAt, gatehouse.FixInIdP, fmt.Sprintf("iat is %s, %s after now (%s) beyond the %s clock skew: check the clocks", stamp(iat), iat.Sub(now).Round(time.Second), stamp(now), ClockSkew))
		e.Expected, e.Received = "before "+stamp(now.Add(ClockSkew)), stamp(iat)
		return e
	case hasNbf && nbf.After(now.Add(ClockSkew)):
		e := reject(ErrNotBefore, gatehouse.FixInIdP, fmt.Sprintf("nbf is %s, %s after now (%s) beyond the %s clock skew: check the clocks", stamp(nbf), nbf.Sub(now).Round(time.Second), stamp(now), ClockSkew))
		e.Expected, e.Received = "before "+stamp(now.Add(ClockSkew)), stamp(nbf)
		return e
	}
	id.IssuedAt, id.Expiry = iat, exp
	return nil
}

// checkNonce compares in constant time and never shows either value: the
// expected nonce is the only thing tying the token to this browser.
func checkNonce(c *claimReader, expected string) *gatehouse.Rejection {
	got := c.str("nonce")
	if c.err != nil {
		return c.err
	}
	switch {
	case expected == "":
		return reject(ErrNonce, gatehouse.FixInGatehouse, "no nonce is expected: the sign-in did not record the one it sent")
	case got == "":
		return reject(ErrNonce, gatehouse.FixInIdP, "the ID token has no nonce, though the sign-in sent one")
	case subtle.ConstantTimeCompare([]byte(got), []byte(expected)) != 1:
		return reject(ErrNonce, gatehouse.FixInIdP, "the ID token's nonce is not the one this sign-in sent: it answers another sign-in or is replayed")
	}
	return nil
}

func (p *Provider) checkHostedDomain(c *claimReader) *gatehouse.Rejection {
	if p.cfg.hostedDomain == "" {
		return nil
	}
	hd := c.str("hd")
	if c.err != nil {
		return c.err
	}
	if !strings.EqualFold(hd, p.cfg.hostedDomain) {
		e := mismatch(ErrHostedDomain, gatehouse.FixInIdP, "hd", hd, p.cfg.hostedDomain)
		e.Message += ": the account is not in the configured Google Workspace domain"
		return e
	}
	return nil
}

// readEmail applies the email decisions documented on VerifyIDToken.
func (p *Provider) readEmail(c *claimReader, id *Identity) {
	claim := p.cfg.emailClaim
	id.Email = strings.TrimSpace(c.str(claim))
	if id.Email == "" {
		return
	}
	if p.cfg.entra != nil {
		switch claim {
		case "upn":
			id.EmailVerified = true
		case "email":
			id.EmailVerified = c.boolean("xms_edov")
		}
		return
	}
	id.EmailVerified = c.boolean("email_verified") && (claim == "email" || strings.EqualFold(id.Email, strings.TrimSpace(c.str("email"))))
}

// parseClaims decodes the verified payload: one JSON object, numbers kept
// exact.
func parseClaims(payload []byte) (map[string]any, *gatehouse.Rejection) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		ve := reject(ErrMalformed, gatehouse.FixInIdP, "the ID token's claims are not a JSON object")
		if err != nil {
			ve = ve.Wrap(err)
		}
		return nil, ve
	}
	if dec.More() {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "the ID token's claims have data after the JSON object")
	}
	return claims, nil
}

// claimReader reads typed claims, remembering the first claim of the wrong
// type as an ErrMalformed rejection.
type claimReader struct {
	claims map[string]any
	err    *gatehouse.Rejection
}

func (c *claimReader) fail(name, want string) {
	if c.err == nil {
		c.err = reject(ErrMalformed, gatehouse.FixInIdP, fmt.Sprintf("claim %s is not %s", name, want))
	}
}

func (c *claimReader) str(name string) string {
	v, ok := c.claims[name]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		c.fail(name, "a string")
	}
	return s
}

// boolean is true only for JSON true or the string "true": some IdPs send
// email_verified as a string.
func (c *claimReader) boolean(name string) bool {
	switch v := c.claims[name].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

func (c *claimReader) audience() []string {
	switch v := c.claims["aud"].(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, a := range v {
			s, ok := a.(string)
			if !ok {
				c.fail("aud", "a string or an array of strings")
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	c.fail("aud", "a string or an array of strings")
	return nil
}

// time reads a NumericDate (seconds since the epoch, fractions allowed).
func (c *claimReader) time(name string) (time.Time, bool) {
	v, ok := c.claims[name]
	if !ok || v == nil {
		return time.Time{}, false
	}
	n, ok := v.(json.Number)
	if !ok {
		c.fail(name, "a number")
		return time.Time{}, false
	}
	f, err := n.Float64()
	// Up to the year 9999: anything later is not a date an IdP means.
	if err != nil || math.IsNaN(f) || f < 0 || f > 253402300799 {
		c.fail(name, "a date in seconds since 1970")
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// Google documents that its tokens may carry iss without the scheme.
const (
	googleIssuer         = "https://accounts.google.com"
	googleIssuerNoScheme = "accounts.google.com"
)
