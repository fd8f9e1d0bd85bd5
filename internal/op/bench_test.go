package op_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// BenchmarkRefreshGrant measures a whole refresh grant through the token
// endpoint's handler (client authentication, the grant and its session
// checked, the refresh token rotated in one write, an access token and an
// ID token signed), on each database, beside its floor in the same run:
// the two ES256 signatures alone.
//
//	go test -run '^$' -bench RefreshGrant -benchtime 2000x ./internal/op/
func BenchmarkRefreshGrant(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *store.Store{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		b.Run(name, func(b *testing.B) {
			e := newOPEnv(b, open(b))
			portal := e.app(e.portal, portalSecret, portalReturn)
			tok, _ := portal.exchange(portal.authorize(e.browser))
			refresh := tok.RefreshToken
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, e.issuer+oidcop.PathToken,
					strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(url.QueryEscape(e.portal.ID), url.QueryEscape(portalSecret))
				rec := httptest.NewRecorder()
				e.handler.ServeHTTP(rec, req)
				var out struct {
					RefreshToken string `json:"refresh_token"`
				}
				if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.RefreshToken == "" {
					b.Fatalf("refresh: %d %s", rec.Code, rec.Body)
				}
				refresh = out.RefreshToken
			}
		})
	}
	b.Run("floor-two-es256-signatures", func(b *testing.B) {
		box, err := secretbox.New("test secret key, at least thirty-two characters long")
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		k, err := oidcop.NewSigningKey(oidcop.AlgES256, box, now.Add(-time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		ks, err := oidcop.LoadKeySet([]gatehouse.SigningKey{k}, box, now)
		if err != nil {
			b.Fatal(err)
		}
		claims := map[string]any{"iss": "https://gatehouse.example", "sub": "user_x", "exp": now.Add(time.Minute).Unix()}
		for b.Loop() {
			if _, err := ks.Sign(claims, oidcop.TypAccessToken); err != nil {
				b.Fatal(err)
			}
			if _, err := ks.Sign(claims, oidcop.TypIDToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCodeFlow measures an app's sign-in for a person already signed
// in at Gatehouse, through the handlers: authorize (session checked, code
// stored) and the code's exchange at the token endpoint (client
// authenticated, code used once, PKCE checked, grant stored, access and ID
// token signed), on each database.
//
//	go test -run '^$' -bench CodeFlow -benchtime 1000x ./internal/op/
func BenchmarkCodeFlow(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *store.Store{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		b.Run(name, func(b *testing.B) {
			e := newOPEnv(b, open(b))
			portal := e.app(e.portal, portalSecret, portalReturn)
			portal.exchange(portal.authorize(e.browser))
			u, _ := url.Parse(e.issuer)
			cookies := e.browser.Jar.Cookies(u)
			verifier := oauth2.GenerateVerifier()
			authURL := portal.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, authURL, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				e.handler.ServeHTTP(rec, req)
				back, err := url.Parse(rec.Header().Get("Location"))
				if err != nil || back.Query().Get("code") == "" {
					b.Fatalf("authorize: %d %s", rec.Code, rec.Header().Get("Location"))
				}
				req = httptest.NewRequest(http.MethodPost, e.issuer+oidcop.PathToken, strings.NewReader(url.Values{
					"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")}, "redirect_uri": {portalReturn}, "code_verifier": {verifier}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(url.QueryEscape(e.portal.ID), url.QueryEscape(portalSecret))
				rec = httptest.NewRecorder()
				e.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("token: %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
