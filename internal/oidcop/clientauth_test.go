package oidcop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
	"gatehouse/internal/oidcop"
)

const portalSecret = "s3cret+with/odd%chars:and spaces"

// clientKey is the portal's private_key_jwt key; attackerKey is anyone's.
var (
	clientKey, _   = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	attackerKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
)

func jwksJSON(t testing.TB, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func confidential(t testing.TB) gatehouse.Client {
	c := portal
	c.SecretHash = oidcop.HashSecret(portalSecret)
	c.JWKS = jwksJSON(t, jose.JSONWebKey{Key: clientKey.Public(), KeyID: "portal-1", Algorithm: "ES256", Use: "sig"})
	return c
}

// replayCache is the seen function over a map, as the store does it with
// insert-if-absent.
type replayCache struct {
	mu   sync.Mutex
	keys map[string]time.Time
}

func (c *replayCache) seen(key string, exp time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string]time.Time{}
	}
	if _, ok := c.keys[key]; ok {
		return true, nil
	}
	c.keys[key] = exp
	return false, nil
}

// tokenRequest is a POST to the token endpoint with form and, when basic
// is not empty, an Authorization header of exactly that value.
func tokenRequest(form url.Values, basic ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/oauth2/token?client_secret=from-the-query", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, b := range basic {
		r.Header.Add("Authorization", b)
	}
	r.ParseForm()
	return r
}

// basicAuth encodes id and secret as RFC 6749 2.3.1 says: form-urlencoded,
// then HTTP Basic.
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

type assertion struct {
	Iss string   `json:"iss,omitempty"`
	Sub string   `json:"sub,omitempty"`
	Aud any      `json:"aud,omitempty"`
	Exp int64    `json:"exp,omitempty"`
	Nbf int64    `json:"nbf,omitempty"`
	Iat int64    `json:"iat,omitempty"`
	JTI string   `json:"jti,omitempty"`
	_   struct{} // keep literals keyed
}

func goodAssertion() assertion {
	return assertion{Iss: portal.ID, Sub: portal.ID, Aud: issuer, Exp: t0.Add(time.Minute).Unix(), Iat: t0.Unix(), JTI: rand.Text()}
}

func signAssertion(t testing.TB, key any, kid string, alg jose.SignatureAlgorithm, claims assertion) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jws.CompactSerialize()
	return raw
}

func assertionForm(raw string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_assertion_type": {oidcop.ClientAssertionType}, "client_assertion": {raw}}
}

func TestAuthenticateClient(t *testing.T) {
	web := confidential(t)
	noKeys := web
	noKeys.ID, noKeys.JWKS = "client_nokeys", ""
	lookup := lookupClients(web, noKeys, ucApp, desktop)
	with := func(edit func(*assertion)) assertion {
		a := goodAssertion()
		edit(&a)
		return a
	}
	form := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"authorization_code"}}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	rawSecret := "Basic " + base64.StdEncoding.EncodeToString([]byte(portal.ID+":"+portalSecret))
	replayed := signAssertion(t, clientKey, "portal-1", jose.ES256, goodAssertion())
	cache := &replayCache{}
	if _, e := oidcop.AuthenticateClient(tokenRequest(assertionForm(replayed)), lookup, issuer, t0, cache.seen); e != nil {
		t.Fatalf("first use of an assertion: %v", e)
	}
	for _, tc := range []struct {
		name   string
		r      *http.Request
		client string // the client authenticated; "" for an error
		code   string
	}{
		// client_secret_basic
		{"basic", tokenRequest(form(), basicAuth(portal.ID, portalSecret)), portal.ID, ""},
		{"basic with the same client_id in the body", tokenRequest(form("client_id", portal.ID), basicAuth(portal.ID, portalSecret)), portal.ID, ""},
		{"basic with another client_id in the body", tokenRequest(form("client_id", ucApp.ID), basicAuth(portal.ID, portalSecret)), "", "invalid_client"},
		{"basic, wrong secret", tokenRequest(form(), basicAuth(portal.ID, portalSecret+"x")), "", "invalid_client"},
		{"basic, empty secret", tokenRequest(form(), basicAuth(portal.ID, "")), "", "invalid_client"},
		{"basic, secret not form-encoded", tokenRequest(form(), rawSecret), "", "invalid_client"},
		{"basic, unknown client", tokenRequest(form(), basicAuth("client_nobody", portalSecret)), "", "invalid_client"},
		{"basic, client ID in another case", tokenRequest(form(), basicAuth(strings.ToUpper(portal.ID), portalSecret)), "", "invalid_client"},
		{"basic, public client", tokenRequest(form(), basicAuth(ucApp.ID, "anything")), "", "invalid_client"},
		{"basic, store down", tokenRequest(form(), basicAuth("client_down", "x")), "", "temporarily_unavailable"},
		{"bearer instead of basic", tokenRequest(form(), "Bearer abc"), "", "invalid_client"},
		{"two Authorization headers", tokenRequest(form(), basicAuth(portal.ID, portalSecret), basicAuth(portal.ID, portalSecret)), "", "invalid_request"},
		{"basic and a secret in the body", tokenRequest(form("client_secret", portalSecret), basicAuth(portal.ID, portalSecret)), "", "invalid_request"},

		// client_secret_post, refused
		{"secret in the body", tokenRequest(form("client_id", portal.ID, "client_secret", portalSecret)), "", "invalid_client"},
		{"secret only in the URL query", tokenRequest(form("client_id", portal.ID)), "", "invalid_client"},

		// none
		{"public client", tokenRequest(form("client_id", ucApp.ID)), ucApp.ID, ""},
		{"native client", tokenRequest(form("client_id", desktop.ID)), desktop.ID, ""},
		{"confidential client without credentials", tokenRequest(form("client_id", portal.ID)), "", "invalid_client"},
		{"no client at all", tokenRequest(form()), "", "invalid_client"},
		{"unknown public client", tokenRequest(form("client_id", "client_nobody")), "", "invalid_client"},
		{"client_id twice", tokenRequest(form("client_id", ucApp.ID, "client_id", desktop.ID)), "", "invalid_request"},

		// private_key_jwt
		{"assertion", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, goodAssertion()))), portal.ID, ""},
		{"assertion without kid", tokenRequest(assertionForm(signAssertion(t, clientKey, "", jose.ES256, goodAssertion()))), portal.ID, ""},
		{"assertion with the client_id in the body", tokenRequest(func() url.Values {
			v := assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, goodAssertion()))
			v.Set("client_id", portal.ID)
			return v
		}()), portal.ID, ""},
		{"assertion with another client_id in the body", tokenRequest(func() url.Values {
			v := assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, goodAssertion()))
			v.Set("client_id", ucApp.ID)
			return v
		}()), "", "invalid_client"},
		{"assertion replayed", tokenRequest(assertionForm(replayed)), "", "invalid_client"},
		{"assertion for the token endpoint", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Aud = issuer + oidcop.PathToken })))), "", "invalid_client"},
		{"assertion with two audiences", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Aud = []string{issuer, "https://other.example"} })))), "", "invalid_client"},
		{"assertion with the issuer in an array", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Aud = []string{issuer} })))), portal.ID, ""},
		{"assertion with sub another client", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Sub = ucApp.ID })))), "", "invalid_client"},
		{"assertion expired", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Exp = t0.Add(-time.Minute).Unix() })))), "", "invalid_client"},
		{"assertion without exp", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Exp = 0 })))), "", "invalid_client"},
		{"assertion for too long", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Exp = t0.Add(time.Hour).Unix() })))), "", "invalid_client"},
		{"assertion not valid yet", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Nbf = t0.Add(time.Minute).Unix() })))), "", "invalid_client"},
		{"assertion issued in the future", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Iat = t0.Add(time.Minute).Unix() })))), "", "invalid_client"},
		{"assertion without jti", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.JTI = "" })))), "", "invalid_client"},
		{"assertion signed by another key", tokenRequest(assertionForm(signAssertion(t, attackerKey, "portal-1", jose.ES256, goodAssertion()))), "", "invalid_client"},
		{"assertion with an unknown kid", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-2", jose.ES256, goodAssertion()))), "", "invalid_client"},
		{"assertion HS256 keyed with the JWKS", tokenRequest(assertionForm(signRaw(t, []byte(web.JWKS), map[string]any{"alg": "HS256", "kid": "portal-1"}, goodAssertion()))), "", "invalid_client"},
		{"assertion alg none", tokenRequest(assertionForm(signRaw(t, nil, map[string]any{"alg": "none"}, goodAssertion()))), "", "invalid_client"},
		{"assertion of a client without keys", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Iss, a.Sub = noKeys.ID, noKeys.ID })))), "", "invalid_client"},
		{"assertion of a public client", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, with(func(a *assertion) { a.Iss, a.Sub = ucApp.ID, ucApp.ID })))), "", "invalid_client"},
		{"assertion of the wrong type", tokenRequest(func() url.Values {
			v := assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, goodAssertion()))
			v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			return v
		}()), "", "invalid_client"},
		{"assertion and a Basic header", tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, goodAssertion())), basicAuth(portal.ID, portalSecret)), "", "invalid_request"},
		{"assertion that is not a JWT", tokenRequest(assertionForm("not-a-jwt")), "", "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, e := oidcop.AuthenticateClient(tc.r, lookup, issuer, t0, cache.seen)
			switch {
			case tc.code == "" && (e != nil || c.ID != tc.client):
				t.Fatalf("AuthenticateClient = %q, %v; want %s", c.ID, e, tc.client)
			case tc.code != "" && (e == nil || e.Code != tc.code || c.ID != ""):
				t.Fatalf("AuthenticateClient = %q, %v; want %s", c.ID, e, tc.code)
			}
			if e != nil && (strings.Contains(e.Description, portalSecret) || strings.Contains(e.Description, "nobody")) {
				t.Fatalf("the description gives away the request: %q", e.Description)
			}
		})
	}
}

// TestAuthenticateClientSameAnswer is SECURITY.md Q-client: a wrong
// secret, an unknown client and a public client posing as confidential
// all get one answer.
func TestAuthenticateClientSameAnswer(t *testing.T) {
	lookup := lookupClients(confidential(t), ucApp)
	var answers []oidcop.Error
	for _, auth := range []string{basicAuth(portal.ID, "wrong"), basicAuth("client_nobody", "wrong"), basicAuth(ucApp.ID, "wrong")} {
		_, e := oidcop.AuthenticateClient(tokenRequest(url.Values{}, auth), lookup, issuer, t0, nil)
		answers = append(answers, *e)
	}
	for _, a := range answers[1:] {
		if a != answers[0] {
			t.Fatalf("different answers: %+v", answers)
		}
	}
	if answers[0].Status != http.StatusUnauthorized {
		t.Fatalf("status %d", answers[0].Status)
	}
}

func TestAuthenticateClientWithoutReplayCache(t *testing.T) {
	r := tokenRequest(assertionForm(signAssertion(t, clientKey, "portal-1", jose.ES256, goodAssertion())))
	if _, e := oidcop.AuthenticateClient(r, lookupClients(confidential(t)), issuer, t0, nil); e == nil || e.Code != "server_error" {
		t.Fatalf("private_key_jwt without a replay cache: %v", e)
	}
}

func TestHashSecretAndNewClientSecret(t *testing.T) {
	a, b := oidcop.NewClientSecret(), oidcop.NewClientSecret()
	if len(a) != 43 || a == b || url.QueryEscape(a) != a {
		t.Fatalf("NewClientSecret = %q, %q", a, b)
	}
	if oidcop.HashSecret(a) == oidcop.HashSecret(b) || len(oidcop.HashSecret(a)) != 64 || strings.Contains(oidcop.HashSecret(a), a) {
		t.Fatal("HashSecret")
	}
}

func TestParseClientJWKS(t *testing.T) {
	rsaSmall, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec := func(kid string) jose.JSONWebKey { return jose.JSONWebKey{Key: clientKey.Public(), KeyID: kid} }
	for _, tc := range []struct {
		name string
		jwks string
		ok   bool
	}{
		{"one EC key", jwksJSON(t, ec("")), true},
		{"an RSA key", jwksJSON(t, jose.JSONWebKey{Key: rsa2048.Public(), KeyID: "r", Algorithm: "PS256"}), true},
		{"two keys with kids", jwksJSON(t, ec("a"), jose.JSONWebKey{Key: rsa2048.Public(), KeyID: "b"}), true},
		{"two keys, one kid", jwksJSON(t, ec("a"), ec("a")), false},
		{"two keys without kids", jwksJSON(t, ec(""), ec("")), false},
		{"a private key", jwksJSON(t, jose.JSONWebKey{Key: clientKey, KeyID: "p"}), false},
		{"a symmetric key", jwksJSON(t, jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "s"}), false},
		{"RSA 1024", jwksJSON(t, jose.JSONWebKey{Key: rsaSmall.Public(), KeyID: "r"}), false},
		{"P-384", jwksJSON(t, jose.JSONWebKey{Key: p384.Public(), KeyID: "e"}), false},
		{"an encryption key", jwksJSON(t, jose.JSONWebKey{Key: clientKey.Public(), KeyID: "e", Use: "enc"}), false},
		{"an EC key for RS256", jwksJSON(t, jose.JSONWebKey{Key: clientKey.Public(), KeyID: "e", Algorithm: "RS256"}), false},
		{"no keys", `{"keys":[]}`, false},
		{"not JSON", `keys`, false},
		{"too long", `{"keys":[]}` + strings.Repeat(" ", oidcop.MaxClientJWKSBytes), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := oidcop.ParseClientJWKS(tc.jwks); (err == nil) != tc.ok {
				t.Fatalf("ParseClientJWKS = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// FuzzAuthenticateClient reads any token request body and Authorization
// header. It must never panic, and whoever it authenticates must have
// proved it: the portal with its secret or a signed assertion, a public
// client by name alone.
//
//	go test ./internal/op -run '^$' -fuzz FuzzAuthenticateClient -fuzztime 20s
func FuzzAuthenticateClient(f *testing.F) {
	web := confidential(f)
	lookup := lookupClients(web, ucApp, desktop)
	f.Add("grant_type=authorization_code", basicAuth(portal.ID, portalSecret))
	f.Add("client_id="+ucApp.ID, "")
	f.Add("client_id="+portal.ID+"&client_secret="+url.QueryEscape(portalSecret), "")
	f.Add(assertionForm(signAssertion(f, clientKey, "portal-1", jose.ES256, goodAssertion())).Encode(), "")
	f.Add(assertionForm(signRaw(f, []byte(web.JWKS), map[string]any{"alg": "HS256", "kid": "portal-1"}, goodAssertion())).Encode(), "")
	f.Fuzz(func(t *testing.T, body, authorization string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		if r.ParseForm() != nil {
			return
		}
		cache := &replayCache{}
		c, e := oidcop.AuthenticateClient(r, lookup, issuer, t0, cache.seen)
		if e != nil {
			if c.ID != "" {
				t.Fatalf("client %q returned with error %v", c.ID, e)
			}
			return
		}
		switch {
		case c.Kind.Public():
			if r.PostForm.Get("client_id") != c.ID || authorization != "" {
				t.Fatalf("public client %s authenticated by %q / %q", c.ID, body, authorization)
			}
		case c.ID == portal.ID:
			user, pass, basic := r.BasicAuth()
			if basic {
				id, _ := url.QueryUnescape(user)
				secret, _ := url.QueryUnescape(pass)
				if id != portal.ID || secret != portalSecret {
					t.Fatalf("portal authenticated by Basic %q", authorization)
				}
			} else if len(cache.keys) != 1 {
				t.Fatalf("portal authenticated without Basic and without a recorded assertion: %q", body)
			}
		default:
			t.Fatalf("unexpected client %+v", c)
		}
	})
}
