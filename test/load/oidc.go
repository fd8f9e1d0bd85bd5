package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// provider is the minimal OpenID Provider the OIDC load signs in at:
// discovery, JWKS and a token endpoint redeeming codes (client_secret_basic,
// PKCE S256) for ID tokens (RS256, or ES256 with -idp-alg) carrying the authorization request's
// nonce. It runs in the tool's process, and counts its own time (busy) so
// the report can state the figures without it.
type provider struct {
	srv          *http.Server
	url          string
	public       any // the signing key's public half
	alg          jose.SignatureAlgorithm
	signer       jose.Signer
	clientID     string
	clientSecret string
	codes        sync.Map // code -> grant
	busy         atomic.Int64
}

// grant is what a code stands for.
type grant struct{ redirectURI, challenge, nonce, email string }

func startProvider(alg string) (*provider, error) {
	var (
		key    crypto.Signer
		err    error
		jalg   = jose.SignatureAlgorithm(alg)
		public any
	)
	if jalg == jose.ES256 {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, err
	}
	public = key.Public()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jalg, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "load-1"))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &provider{url: "http://" + ln.Addr().String(), public: public, alg: jalg, signer: signer,
		clientID: "gatehouse-load", clientSecret: rand.Text()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("POST /token", p.token)
	p.srv = &http.Server{Handler: p.timed(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *provider) close() { _ = p.srv.Close() }

// timed adds every request's handling time to busy.
func (p *provider) timed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		p.busy.Add(int64(time.Since(start)))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.url,
		"authorization_endpoint":                p.url + "/authorize",
		"token_endpoint":                        p.url + "/token",
		"jwks_uri":                              p.url + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(p.alg)},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
	})
}

func (p *provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: p.public, KeyID: "load-1", Algorithm: string(p.alg), Use: "sig"},
	}})
}

// authorize is the person signing in at the provider: it reads the
// authorization request in link, as the provider's page would, and
// returns where the provider sends the browser back (code and state).
func (p *provider) authorize(link *url.URL, email string) (string, error) {
	start := time.Now()
	defer func() { p.busy.Add(int64(time.Since(start))) }()
	q := link.Query()
	switch {
	case q.Get("client_id") != p.clientID:
		return "", fmt.Errorf("authorize: client_id %q", q.Get("client_id"))
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256":
		return "", fmt.Errorf("authorize: response_type %q, code_challenge_method %q", q.Get("response_type"), q.Get("code_challenge_method"))
	case q.Get("nonce") == "" || q.Get("state") == "" || q.Get("code_challenge") == "":
		return "", errors.New("authorize: no nonce, state or code_challenge")
	}
	code := rand.Text()
	p.codes.Store(code, grant{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), email: email})
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		return "", err
	}
	back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	return back.String(), nil
}

// token redeems a code once for an ID token (RFC 6749, 7636).
func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code string) { writeJSON(w, status, map[string]string{"error": code}) }
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request")
		return
	}
	user, pass, _ := r.BasicAuth()
	id, _ := url.QueryUnescape(user)
	secret, _ := url.QueryUnescape(pass)
	if id != p.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret)) != 1 {
		fail(http.StatusUnauthorized, "invalid_client")
		return
	}
	v, found := p.codes.LoadAndDelete(r.PostForm.Get("code"))
	g, _ := v.(grant)
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code":
		fail(http.StatusBadRequest, "unsupported_grant_type")
		return
	case !found || g.redirectURI != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		fail(http.StatusBadRequest, "invalid_grant")
		return
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"iss": p.url, "sub": "sub-" + g.email, "aud": p.clientID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": g.nonce, "email": g.email, "email_verified": true, "jti": rand.Text(),
	})
	jws, err := p.signer.Sign(claims)
	if err != nil {
		fail(http.StatusInternalServerError, "server_error")
		return
	}
	idToken, _ := jws.CompactSerialize()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": "at-" + rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

// oidcLoad drives the email step (which answers with the page to the
// provider), the callback and the finish step.
type oidcLoad struct {
	cl    *cluster
	p     *provider
	users []string
	tr    *http.Transport
	next  atomic.Uint64
}

// newOIDCTarget starts the provider, configures an OIDC SSO configuration
// at Gatehouse pointing at it, runs its Test as the admin and enables it.
func newOIDCTarget(ctx context.Context, cl *cluster, t *tenant, tr *http.Transport, alg string) (*target, func(), error) {
	p, err := startProvider(alg)
	if err != nil {
		return nil, nil, err
	}
	v, err := createConfig(ctx, cl, t, map[string]any{"protocol": "oidc", "preset": "generic_oidc", "oidc": map[string]any{
		"issuer": p.url, "client_id": p.clientID, "client_secret": p.clientSecret,
	}})
	if err == nil {
		err = testAndEnable(ctx, cl, t, "oidc", v, func(ctx context.Context, b *browser, link *url.URL) (answer, error) {
			back, err := p.authorize(link, t.adminEmail)
			if err != nil {
				return answer{}, err
			}
			return b.get(ctx, back)
		})
	}
	if err != nil {
		p.close()
		return nil, nil, err
	}
	o := &oidcLoad{cl: cl, p: p, users: t.users, tr: tr}
	return &target{what: "Gatehouse", pids: cl.pids(), signIn: o.signIn,
		aside: func() time.Duration { return time.Duration(p.busy.Load()) }}, p.close, nil
}

// signIn is one person's OIDC sign-in, every step on the process picked:
// the email step, whose answer is the page that sends the browser to the
// provider, the provider's answer at the callback (Gatehouse redeems the
// code), and the finish step.
func (o *oidcLoad) signIn(ctx context.Context, _ int) error {
	email := o.users[o.next.Add(1)%uint64(len(o.users))]
	base := o.cl.pick()
	b := newBrowser(o.tr)
	a, err := b.post(ctx, base+"/login", base, url.Values{"email": {email}}.Encode())
	if err != nil {
		return err
	}
	link, err := continueLink("email step", a)
	if err != nil {
		return err
	}
	back, err := o.p.authorize(link, email)
	if err != nil {
		return err
	}
	// The redirect URI names the public URL (the first process); behind a
	// load balancer the browser may reach any process: the one picked.
	cb, err := url.Parse(back)
	if err != nil {
		return err
	}
	if a, err = b.get(ctx, base+cb.RequestURI()); err != nil {
		return err
	}
	next, err := a.redirectTo("callback", base, "/sso/finish/")
	if err != nil {
		return err
	}
	return b.finish(ctx, base, next)
}
