package op_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

const legacyReturn = "https://legacy.example/callback"

// headerAlg is the alg of a compact JWS's header.
func headerAlg(t *testing.T, token string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	must(t, err)
	return jws.Signatures[0].Protected.Algorithm
}

// TestIDTokenSigningAlg: an app registered for RS256 gets ID tokens signed
// with RS256, which a relying party accepting RS256 alone verifies; the
// provider makes its first RS256 key on the way, once, and publishes it.
// Other apps' ID tokens, and every access token, stay ES256.
func TestIDTokenSigningAlg(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		legacy := gatehouse.Client{Name: "Legacy", Kind: gatehouse.ClientSPA, RedirectURIs: []string{legacyReturn}, IDTokenSigningAlg: oidcop.AlgRS256}
		must(t, s.CreateClient(ctx, &legacy))

		portal := e.app(e.portal, portalSecret, portalReturn)
		portal.algs = []string{oidcop.AlgES256}
		tok, _ := portal.exchange(portal.authorize(e.browser))
		if alg := headerAlg(t, tok.Extra("id_token").(string)); alg != oidcop.AlgES256 {
			t.Errorf("portal's ID token: %s, want ES256", alg)
		}

		app := e.app(legacy, "", legacyReturn)
		app.algs = []string{oidcop.AlgRS256}
		for range 2 {
			tok, id := app.exchange(app.authorize(e.browser))
			if id.Subject != e.bob.ID {
				t.Errorf("RS256 ID token names %s", id.Subject)
			}
			if alg := headerAlg(t, tok.Extra("id_token").(string)); alg != oidcop.AlgRS256 {
				t.Errorf("legacy app's ID token: %s, want RS256", alg)
			}
			if alg := headerAlg(t, tok.AccessToken); alg != oidcop.AlgES256 {
				t.Errorf("legacy app's access token: %s, want ES256", alg)
			}
		}
		keys, err := s.SigningKeys(ctx)
		must(t, err)
		var rs []string
		for _, k := range keys {
			if k.Algorithm == oidcop.AlgRS256 {
				rs = append(rs, k.ID)
			}
		}
		if len(keys) != 2 || len(rs) != 1 {
			t.Fatalf("keys %+v, want the first ES256 key and one RS256 key", keys)
		}
		resp, err := http.Get(e.issuer + oidcop.PathJWKS)
		must(t, err)
		defer resp.Body.Close()
		var set jose.JSONWebKeySet
		must(t, json.NewDecoder(resp.Body).Decode(&set))
		if len(set.Key(rs[0])) != 1 || set.Key(rs[0])[0].Algorithm != oidcop.AlgRS256 {
			t.Errorf("JWKS %+v does not publish RS256 key %s", set, rs[0])
		}
	})
}

// TestBackchannelLogoutFollowsIDTokenAlg: an app registered for RS256
// verifies its logout tokens as its ID tokens, so they are RS256 too.
func TestBackchannelLogoutFollowsIDTokenAlg(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		r := newReceiver(t, "")
		e.portal.IDTokenSigningAlg = oidcop.AlgRS256
		e.withBackchannel(r)
		sid := e.signInPortal()
		e.post(e.browser, "/logout", nil)
		if n, err := e.provider.SendLogouts(ctx); n != 1 || err != nil {
			t.Fatalf("after sign-out: sent %d, %v; want 1", n, err)
		}
		got := r.received()
		if len(got) != 1 {
			t.Fatalf("the portal received %d logout tokens, want 1", len(got))
		}
		if alg := headerAlg(t, got[0]); alg != oidcop.AlgRS256 {
			t.Errorf("logout token of an RS256 app: %s", alg)
		}
		if _, gotSID := e.logoutClaims(got[0], e.portal.ID, time.Now()); gotSID != sid {
			t.Errorf("logout token sid %q, want %q", gotSID, sid)
		}
	})
}
