// Package oidctest is an in-process OpenID Provider for tests: an httptest
// server publishing a discovery document and a JWKS, and a token endpoint
// that redeems codes with client_secret_basic (or a public client's
// client_id) and PKCE S256. Tokens are signed in the test with go-jose, so a
// test can start from a genuinely signed ID token and alter it the way an
// attacker would. Keys can be rotated, and either endpoint taken down.
//
// One server imitates Entra ID too: a discovery document under any path
// prefix P is served with issuer URL+P, except that a first segment of
// "organizations" or "common" becomes Entra's {tenantid} template.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a signing key with its JWK identity.
type Key struct {
	ID     string
	Alg    jose.SignatureAlgorithm
	Signer crypto.Signer
}

// NewRSAKey makes an RS256 key of bits bits.
func NewRSAKey(id string, bits int) (*Key, error) {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	return &Key{ID: id, Alg: jose.RS256, Signer: k}, nil
}

// NewECKey makes an ES256 key.
func NewECKey(id string) (*Key, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Key{ID: id, Alg: jose.ES256, Signer: k}, nil
}

// JWK is the key's public half as published.
func (k *Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Signer.Public(), KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"}
}

// Sign signs claims with k; extra header fields are added to the protected
// header (kid and alg are set from the key).
func (k *Key) Sign(claims any, extra map[jose.HeaderKey]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.ID)
	for name, v := range extra {
		opts = opts.WithHeader(name, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: k.Signer}, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// Grant is what a code stands for at the token endpoint.
type Grant struct {
	ClientID    string
	RedirectURI string
	// Challenge is the S256 PKCE challenge the authorization request carried.
	Challenge string
	IDToken   string
}

// TokenRequest is what the token endpoint last received.
type TokenRequest struct {
	BasicUser, BasicPassword string
	HasBasic                 bool
	Form                     map[string][]string
}

// OP is the test OpenID Provider.
type OP struct {
	Server *httptest.Server
	// URL is the server's base URL and the issuer of its root discovery
	// document.
	URL string
	// ClientID and ClientSecret are the confidential client; PublicClientID
	// is a client without a secret.
	ClientID, ClientSecret, PublicClientID string

	mu            sync.Mutex
	published     []*Key
	discoveryDown bool
	jwksDown      bool
	editDiscovery func(doc map[string]any)
	grants        map[string]Grant
	lastToken     TokenRequest
	discoveryHits int
	jwksHits      int
	tokenHits     int
	extraJWKs     []json.RawMessage
}

// New starts an OP publishing keys; close it with Close.
func New(keys ...*Key) *OP {
	op := &OP{
		ClientID:       "gatehouse-client",
		ClientSecret:   "s3cret:with/odd&chars",
		PublicClientID: "gatehouse-public",
		published:      keys,
		grants:         map[string]Grant{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /keys", op.serveJWKS)
	mux.HandleFunc("POST /token", op.serveToken)
	mux.HandleFunc("GET /", op.serveDiscovery)
	op.Server = httptest.NewServer(mux)
	op.URL = op.Server.URL
	return op
}

// Close stops the server.
func (op *OP) Close() { op.Server.Close() }

// TenantIssuer is the Entra-style issuer of tenant tid on this server.
func (op *OP) TenantIssuer(tid string) string { return op.URL + "/" + tid + "/v2.0" }

// TemplateIssuer is the Entra-style multi-tenant issuer template.
func (op *OP) TemplateIssuer() string { return op.URL + "/{tenantid}/v2.0" }

// Publish sets the published keys (a rotation publishes the new key, later
// drops the old one).
func (op *OP) Publish(keys ...*Key) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.published = keys
}

// PublishRaw adds raw JWK objects to the JWKS, such as keys a relying party
// must ignore.
func (op *OP) PublishRaw(jwks ...json.RawMessage) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.extraJWKs = append(op.extraJWKs, jwks...)
}

// SetDown makes the discovery document or the JWKS answer 503.
func (op *OP) SetDown(discovery, jwks bool) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.discoveryDown, op.jwksDown = discovery, jwks
}

// EditDiscovery changes every discovery document before it is served.
func (op *OP) EditDiscovery(edit func(doc map[string]any)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.editDiscovery = edit
}

// Hits returns how often discovery, JWKS and token endpoint were requested.
func (op *OP) Hits() (discovery, jwks, token int) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.discoveryHits, op.jwksHits, op.tokenHits
}

// IssueCode registers a code for g and returns it.
func (op *OP) IssueCode(g Grant) string {
	code := rand.Text()
	op.mu.Lock()
	defer op.mu.Unlock()
	op.grants[code] = g
	return code
}

// LastTokenRequest returns what the token endpoint last received.
func (op *OP) LastTokenRequest() TokenRequest {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.lastToken
}

func (op *OP) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	prefix, ok := strings.CutSuffix(r.URL.Path, "/.well-known/openid-configuration")
	if !ok {
		http.NotFound(w, r)
		return
	}
	op.mu.Lock()
	op.discoveryHits++
	down, edit := op.discoveryDown, op.editDiscovery
	op.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	issuer := op.URL + prefix
	if first, rest, _ := strings.Cut(strings.TrimPrefix(prefix, "/"), "/"); first == "organizations" || first == "common" {
		issuer = op.URL + "/{tenantid}/" + rest
	}
	doc := map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                op.URL + "/authorize",
		"token_endpoint":                        op.URL + "/token",
		"jwks_uri":                              op.URL + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
	}
	if edit != nil {
		edit(doc)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

func (op *OP) serveJWKS(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	op.jwksHits++
	down := op.jwksDown
	keys := make([]any, 0, len(op.published)+len(op.extraJWKs))
	for _, k := range op.published {
		keys = append(keys, k.JWK())
	}
	for _, raw := range op.extraJWKs {
		keys = append(keys, raw)
	}
	op.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
}

// serveToken redeems a code once, as RFC 6749 and 7636 require.
func (op *OP) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	user, pass, hasBasic := r.BasicAuth()
	op.mu.Lock()
	op.tokenHits++
	op.lastToken = TokenRequest{BasicUser: user, BasicPassword: pass, HasBasic: hasBasic, Form: r.PostForm}
	code := r.PostForm.Get("code")
	g, found := op.grants[code]
	delete(op.grants, code)
	op.mu.Unlock()

	// RFC 6749 section 2.3.1: Basic credentials are form-encoded first.
	clientID := r.PostForm.Get("client_id")
	if hasBasic {
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil || id != op.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(op.ClientSecret)) != 1 {
			tokenError(w, http.StatusUnauthorized, "invalid_client")
			return
		}
		clientID = id
	} else if clientID != op.PublicClientID || r.PostForm.Has("client_secret") {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code":
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
	case !found || g.ClientID != clientID || g.RedirectURI != r.PostForm.Get("redirect_uri"):
		tokenError(w, http.StatusBadRequest, "invalid_grant")
	case s256(r.PostForm.Get("code_verifier")) != g.Challenge:
		tokenError(w, http.StatusBadRequest, "invalid_grant")
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": "at-" + rand.Text(),
			"token_type":   "Bearer",
			"expires_in":   3600,
			"id_token":     g.IDToken,
		})
	}
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": "oidctest refused the request"})
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// S256 is the PKCE challenge of verifier.
func S256(verifier string) string { return s256(verifier) }
