// Package entratest is a TEST STAND-IN FOR MICROSOFT ENTRA ID: real Entra ID
// cannot run here, so tests point Gatehouse's Entra authority at this
// httptest server instead of https://login.microsoftonline.com. It serves
// what Gatehouse uses of Entra's v2.0 endpoints for the provider's one
// multi-tenant application, shaped as Microsoft documents them:
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration
//	     "organizations" (or "common"): the {tenantid} issuer template;
//	     a tenant ID or one of its verified domains: that tenant's issuer;
//	     anything else: 400, as Entra answers AADSTS90002
//	GET  /common/discovery/v2.0/keys      one JWKS: every tenant's tokens are signed with the same keys
//	GET  /{tenant}/v2.0/adminconsent      records the tenant's consent to the app, sends the browser back
//	GET  /{tenant}/oauth2/v2.0/authorize  signs a person in, only in a tenant that consented
//	POST /{tenant}/oauth2/v2.0/token      redeems a code once: client secret (Basic or form) or
//	                                      certificate client assertion (private_key_jwt), PKCE S256
//
// ID tokens carry what Entra's v2.0 tokens carry: iss with the person's
// tenant, tid, oid, a pairwise sub, aud the app, nonce, email with xms_edov
// when the tenant verified the domain, preferred_username, name, uti.
package entratest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse/internal/oidcrp/oidctest"
)

// App is the provider's multi-tenant application as registered at the
// stand-in: its client ID, its credentials (a secret, and a certificate
// whose key signs client assertions), and its registered redirect URIs.
type App struct {
	ClientID     string
	ClientSecret string
	Certificate  *x509.Certificate
	RedirectURIs []string
}

// User is a person of a tenant.
type User struct {
	OID, Email, Name string
	// EmailVerified makes the token carry xms_edov true: the tenant
	// proved it owns the email's domain.
	EmailVerified bool
}

// TokenRequest is what the token endpoint last received, for tests to see
// how the client authenticated: "client_secret_basic",
// "client_secret_post" or "private_key_jwt".
type TokenRequest struct {
	Auth string
	Form url.Values
}

type tenant struct {
	domains []string
	users   []User
}

type grant struct {
	clientID, redirectURI, challenge string
	idToken                          string
}

// Entra is the stand-in. Its URL is the authority to configure.
type Entra struct {
	Server *httptest.Server
	// URL is the authority: scheme and host, no path.
	URL string
	App App

	now func() time.Time
	key *oidctest.Key

	mu        sync.Mutex
	tenants   map[string]*tenant
	consented map[string]bool
	// signInAs, when set, is who signs in at the next authorize request,
	// whatever login_hint says: a person may sign in as anyone of their
	// own tenant.
	signInAs      *struct{ tenant, email string }
	declineNext   bool
	codes         map[string]grant
	lastToken     TokenRequest
	consentScopes string
}

// New starts a stand-in for app until the test ends; now is the clock of
// the tokens it issues (nil: time.Now).
func New(t testing.TB, app App, now func() time.Time) *Entra {
	t.Helper()
	k, err := oidctest.NewRSAKey("entra-stand-in-key", 2048)
	if err != nil {
		t.Fatal(err)
	}
	if now == nil {
		now = time.Now
	}
	e := &Entra{App: app, now: now, key: k, tenants: map[string]*tenant{}, consented: map[string]bool{}, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /common/discovery/v2.0/keys", e.serveKeys)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.serveDiscovery)
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", e.serveAdminConsent)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", e.serveAuthorize)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.serveToken)
	e.Server = httptest.NewServer(mux)
	e.URL = e.Server.URL
	t.Cleanup(e.Server.Close)
	return e
}

// AddTenant creates tenant id (a GUID) with its verified domains.
func (e *Entra) AddTenant(id string, domains ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tenants[id] = &tenant{domains: domains}
}

// AddUser adds a person to tenant id.
func (e *Entra) AddUser(id string, u User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tenants[id].users = append(e.tenants[id].users, u)
}

// Consented reports whether tenant id's admin granted the app consent.
func (e *Entra) Consented(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.consented[id]
}

// Consent grants the app consent in tenant id, as its admin would.
func (e *Entra) Consent(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.consented[id] = true
}

// ConsentScopes is the scope the last admin consent request asked for.
func (e *Entra) ConsentScopes() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.consentScopes
}

// DeclineNextConsent makes the next admin consent end with the admin
// declining, as Entra reports it.
func (e *Entra) DeclineNextConsent() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.declineNext = true
}

// SignInNextAs makes the next authorize request sign in email of tenant
// id, whoever Gatehouse hinted at: the person at Entra's sign-in page is
// whoever has a password there.
func (e *Entra) SignInNextAs(id, email string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.signInAs = &struct{ tenant, email string }{id, email}
}

// LastTokenRequest is what the token endpoint last received.
func (e *Entra) LastTokenRequest() TokenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastToken
}

// RegisterCertificate replaces the app's certificate credential, as the
// operator uploads a new one to the app registration.
func (e *Entra) RegisterCertificate(cert *x509.Certificate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.App.Certificate = cert
}

// Issuer is tenant id's issuer.
func (e *Entra) Issuer(id string) string { return e.URL + "/" + id + "/v2.0" }

// tenantOf resolves a path's tenant (an ID or a verified domain) to its
// ID; "" when the stand-in knows no such tenant.
func (e *Entra) tenantOf(name string) string {
	name = strings.ToLower(name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.tenants[name]; ok {
		return name
	}
	for id, t := range e.tenants {
		if slices.Contains(t.domains, name) {
			return id
		}
	}
	return ""
}

func (e *Entra) serveKeys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"keys": []jose.JSONWebKey{e.key.JWK()}})
}

func (e *Entra) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("tenant")
	issuer, base := "", e.URL+"/"+name
	switch shared := strings.ToLower(name); {
	case shared == "organizations" || shared == "common":
		issuer = e.URL + "/{tenantid}/v2.0"
	default:
		id := e.tenantOf(name)
		if id == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_tenant",
				"error_description": "AADSTS90002: Tenant '" + name + "' not found. (entratest stand-in)"})
			return
		}
		issuer, base = e.Issuer(id), e.URL+"/"+id
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"jwks_uri":                              e.URL + "/common/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nonce", "email", "name", "oid", "tid", "preferred_username"},
		"tenant_region_scope":                   "EU",
	})
}

// redirectBack sends the browser to redirectURI with q, as Entra answers.
func redirectBack(w http.ResponseWriter, r *http.Request, redirectURI string, q url.Values) {
	http.Redirect(w, r, redirectURI+"?"+q.Encode(), http.StatusFound)
}

// serveAdminConsent is the admin consent endpoint: an unknown client or
// an unregistered redirect URI is an error page (Entra never redirects
// there); otherwise the tenant's admin accepts (or declines) and the
// browser goes back with tenant, state and admin_consent=True.
func (e *Entra) serveAdminConsent(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	switch {
	case q.Get("client_id") != e.App.ClientID:
		http.Error(w, "AADSTS700016: Application with identifier '"+q.Get("client_id")+"' was not found. (entratest stand-in)", http.StatusBadRequest)
		return
	case !slices.Contains(e.App.RedirectURIs, redirectURI):
		http.Error(w, "AADSTS50011: The redirect URI '"+redirectURI+"' does not match the redirect URIs configured for the application. (entratest stand-in)", http.StatusBadRequest)
		return
	case q.Get("scope") == "":
		http.Error(w, "AADSTS900144: The request body must contain the following parameter: 'scope'. (entratest stand-in)", http.StatusBadRequest)
		return
	}
	id := e.tenantOf(r.PathValue("tenant"))
	if id == "" {
		http.Error(w, "AADSTS90002: Tenant not found. (entratest stand-in)", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	decline := e.declineNext
	e.declineNext = false
	e.consentScopes = q.Get("scope")
	if !decline {
		e.consented[id] = true
	}
	e.mu.Unlock()
	back := url.Values{"state": {q.Get("state")}}
	if decline {
		back.Set("error", "access_denied")
		back.Set("error_description", "AADSTS65004: User declined to consent to access the app.")
		redirectBack(w, r, redirectURI, back)
		return
	}
	back.Set("tenant", id)
	back.Set("admin_consent", "True")
	back.Set("scope", q.Get("scope"))
	redirectBack(w, r, redirectURI, back)
}

// serveAuthorize signs in the person SignInNextAs named, or the one
// login_hint names, and redirects back with a code; a tenant without
// consent answers consent_required, as Entra does when users may not
// consent themselves.
func (e *Entra) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	switch {
	case q.Get("client_id") != e.App.ClientID:
		http.Error(w, "AADSTS700016: unknown application (entratest stand-in)", http.StatusBadRequest)
		return
	case !slices.Contains(e.App.RedirectURIs, redirectURI):
		http.Error(w, "AADSTS50011: redirect URI not registered (entratest stand-in)", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	fail := func(code, description string) {
		back.Set("error", code)
		back.Set("error_description", description)
		redirectBack(w, r, redirectURI, back)
	}
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		!slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		fail("invalid_request", "AADSTS900144: code flow with PKCE S256 and the openid scope expected (entratest stand-in)")
		return
	}
	e.mu.Lock()
	who := e.signInAs
	e.signInAs = nil
	e.mu.Unlock()
	tid, user, ok := e.person(who, q.Get("login_hint"))
	if !ok {
		http.Error(w, "entratest stand-in: no account for "+q.Get("login_hint"), http.StatusBadRequest)
		return
	}
	if segment := strings.ToLower(r.PathValue("tenant")); segment != "organizations" && segment != "common" && e.tenantOf(segment) != tid {
		fail("invalid_request", "AADSTS50020: the account is not in tenant "+segment+" (entratest stand-in)")
		return
	}
	if !e.Consented(tid) {
		fail("consent_required", "AADSTS65001: The user or administrator has not consented to use the application with ID '"+e.App.ClientID+"'. (entratest stand-in)")
		return
	}
	now := e.now()
	claims := map[string]any{
		"ver": "2.0", "iss": e.Issuer(tid), "aud": e.App.ClientID, "tid": tid, "oid": user.OID,
		"sub":   pairwise(tid, user.OID, e.App.ClientID),
		"nonce": q.Get("nonce"), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"name": user.Name, "preferred_username": user.Email, "email": user.Email, "uti": rand.Text(),
	}
	if user.EmailVerified {
		claims["xms_edov"] = true
	}
	tok, err := e.key.Sign(claims, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	code := rand.Text()
	e.mu.Lock()
	e.codes[code] = grant{clientID: e.App.ClientID, redirectURI: redirectURI, challenge: q.Get("code_challenge"), idToken: tok}
	e.mu.Unlock()
	back.Set("code", code)
	redirectBack(w, r, redirectURI, back)
}

// person finds who signs in: who, when set, else the user whose email is
// hint, in any tenant.
func (e *Entra) person(who *struct{ tenant, email string }, hint string) (string, User, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// In tenant ID order, so a hint several tenants share finds the same
	// person every time.
	for _, id := range slices.Sorted(maps.Keys(e.tenants)) {
		for _, u := range e.tenants[id].users {
			if who != nil && id == who.tenant && strings.EqualFold(u.Email, who.email) ||
				who == nil && strings.EqualFold(u.Email, hint) {
				return id, u, true
			}
		}
	}
	return "", User{}, false
}

// pairwise is Entra's sub: the same person has another sub in another
// application.
func pairwise(tid, oid, clientID string) string {
	sum := sha256.Sum256([]byte(tid + "|" + oid + "|" + clientID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (e *Entra) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	f := r.PostForm
	auth, clientID, ok := e.clientAuth(r)
	e.mu.Lock()
	e.lastToken = TokenRequest{Auth: auth, Form: f}
	code := f.Get("code")
	g, found := e.codes[code]
	delete(e.codes, code)
	e.mu.Unlock()
	switch {
	case !ok:
		tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret or assertion provided. (entratest stand-in)")
	case f.Get("grant_type") != "authorization_code":
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code (entratest stand-in)")
	case !found || g.clientID != clientID || g.redirectURI != f.Get("redirect_uri"):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: The provided authorization code is invalid or expired. (entratest stand-in)")
	case oidctest.S256(f.Get("code_verifier")) != g.challenge:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge. (entratest stand-in)")
	default:
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": "at-" + rand.Text(),
			"scope": "openid profile email", "id_token": g.idToken})
	}
}

// clientAuth checks how the client authenticated: the secret in a Basic
// header or the form, or a client assertion signed by the certificate's
// key for this very token endpoint.
func (e *Entra) clientAuth(r *http.Request) (method, clientID string, ok bool) {
	f := r.PostForm
	if user, pass, basic := r.BasicAuth(); basic {
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		return "client_secret_basic", id, err1 == nil && err2 == nil && e.secretOK(id, secret)
	}
	if f.Has("client_assertion") {
		id := f.Get("client_id")
		return "private_key_jwt", id, f.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" &&
			e.assertionOK(f.Get("client_assertion"), id, e.URL+r.URL.Path)
	}
	id := f.Get("client_id")
	return "client_secret_post", id, f.Has("client_secret") && e.secretOK(id, f.Get("client_secret"))
}

func (e *Entra) secretOK(id, secret string) bool {
	return id == e.App.ClientID && e.App.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(e.App.ClientSecret)) == 1
}

// assertionOK verifies a client assertion as Entra does: signed (PS256 or
// RS256) by the registered certificate, whose SHA-256 thumbprint the
// header names; iss and sub the client; aud this token endpoint; not
// expired.
func (e *Entra) assertionOK(raw, clientID, tokenEndpoint string) bool {
	e.mu.Lock()
	cert := e.App.Certificate
	e.mu.Unlock()
	if cert == nil || clientID != e.App.ClientID {
		return false
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.PS256, jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return false
	}
	sum := sha256.Sum256(cert.Raw)
	if x5t, _ := jws.Signatures[0].Protected.ExtraHeaders["x5t#S256"].(string); x5t != base64.RawURLEncoding.EncodeToString(sum[:]) {
		return false
	}
	pub, isRSA := cert.PublicKey.(*rsa.PublicKey)
	if !isRSA {
		return false
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return false
	}
	var c struct {
		Aud, Iss, Sub, Jti string
		Exp, Nbf           int64
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return false
	}
	now := e.now().Unix()
	return c.Aud == tokenEndpoint && c.Iss == clientID && c.Sub == clientID && c.Jti != "" && c.Exp > now && c.Nbf <= now+60
}

func tokenError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NewCertificate makes a self-signed RSA certificate for an app's
// certificate credential, as the operator would upload it to the app
// registration, and returns it with its PEM files (certificate, then
// unencrypted PKCS #8 key).
func NewCertificate(t testing.TB) (*x509.Certificate, []byte, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Gatehouse provider app (test)"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
}
