package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// clientAnswer is a client as creation and rotation answer it.
type clientAnswer struct {
	gatehouse.Client
	ClientSecret string `json:"client_secret"`
}

func clientID(c gatehouse.Client) string { return c.ID }

// storedClient reads client id straight from the store, secret hash and all.
func storedClient(t *testing.T, s *store.Store, id string) gatehouse.Client {
	t.Helper()
	c, err := s.Client(context.Background(), id)
	if err != nil {
		t.Fatalf("client %s: %v", id, err)
	}
	return c
}

// testJWKS is a JSON Web Key Set of one public EC P-256 key, as a JSON
// string inside a JSON body.
func testJWKS(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(set)
}

func TestClientCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		c := f.super

		// A web client gets a secret, shown in the creation answer only.
		res := c.must(http.StatusCreated, "POST", "/api/v1/clients",
			`{"name":"  Voice Portal ","kind":"web","redirect_uris":["https://portal.example/callback"],
			  "post_logout_redirect_uris":["https://portal.example/"],"backchannel_logout_uri":"https://portal.example/bcl"}`)
		web := decodeAs[clientAnswer](t, res)
		if web.ID == "" || web.Name != "Voice Portal" || web.Kind != gatehouse.ClientWeb || len(web.RedirectURIs) != 1 ||
			web.PostLogoutRedirectURIs[0] != "https://portal.example/" || web.BackchannelLogoutURI != "https://portal.example/bcl" {
			t.Errorf("created %+v", web)
		}
		if loc := res.Header.Get("Location"); loc != "/api/v1/clients/"+web.ID {
			t.Errorf("Location %q", loc)
		}
		if len(web.ClientSecret) < 43 {
			t.Fatalf("web client secret %q", web.ClientSecret)
		}
		stored := storedClient(t, s, web.ID)
		if stored.SecretHash != oidcop.HashSecret(web.ClientSecret) || stored.SecretHash == web.ClientSecret {
			t.Errorf("stored hash %q does not match the secret shown", stored.SecretHash)
		}

		// Never again: not on GET, not in the list.
		got := c.must(http.StatusOK, "GET", "/api/v1/clients/"+web.ID, "")
		list := c.must(http.StatusOK, "GET", "/api/v1/clients", "")
		for _, r := range []response{got, list} {
			if contains(string(r.Body), web.ClientSecret) || contains(string(r.Body), stored.SecretHash) || contains(string(r.Body), "client_secret") {
				t.Errorf("a read shows the secret or its hash: %s", r.Body)
			}
		}
		if g := decodeAs[gatehouse.Client](t, got); g.Name != "Voice Portal" || g.RedirectURIs[0] != "https://portal.example/callback" {
			t.Errorf("get %+v", g)
		}

		// Public clients never get a secret.
		spa := decodeAs[clientAnswer](t, c.must(http.StatusCreated, "POST", "/api/v1/clients",
			`{"name":"UC","kind":"spa","redirect_uris":["https://uc.example/cb","http://127.0.0.1:5173/cb"]}`))
		native := decodeAs[clientAnswer](t, c.must(http.StatusCreated, "POST", "/api/v1/clients",
			`{"name":"Desktop","kind":"native","redirect_uris":["http://127.0.0.1/cb","com.example.uc:/oauth","https://app.example/open"]}`))
		for _, pub := range []clientAnswer{spa, native} {
			if pub.ClientSecret != "" {
				t.Errorf("%s client given a secret", pub.Kind)
			}
			if st := storedClient(t, s, pub.ID); st.SecretHash != "" || len(st.PostLogoutRedirectURIs) != 0 {
				t.Errorf("%s client stored %+v", pub.Kind, st)
			}
		}

		// A web client with keys authenticates with private_key_jwt: no secret.
		jwks := testJWKS(t)
		body, _ := json.Marshal(map[string]any{"name": "Billing", "kind": "web", "redirect_uris": []string{"https://billing.example/cb"}, "jwks": jwks})
		keyed := decodeAs[clientAnswer](t, c.must(http.StatusCreated, "POST", "/api/v1/clients", string(body)))
		if keyed.ClientSecret != "" || keyed.JWKS != jwks || storedClient(t, s, keyed.ID).SecretHash != "" {
			t.Errorf("keyed web client %+v", keyed)
		}

		all := decodeAs[page[gatehouse.Client]](t, c.must(http.StatusOK, "GET", "/api/v1/clients?limit=2", ""))
		if want := []string{web.ID, spa.ID}; !equal(ids(all.Items, clientID), want) || all.NextAfter != spa.ID {
			t.Errorf("first page %v (next %q), want %v", ids(all.Items, clientID), all.NextAfter, want)
		}
		rest := decodeAs[page[gatehouse.Client]](t, c.must(http.StatusOK, "GET", "/api/v1/clients?after="+spa.ID, ""))
		if want := []string{native.ID, keyed.ID}; !equal(ids(rest.Items, clientID), want) || rest.NextAfter != "" {
			t.Errorf("second page %v, want %v", ids(rest.Items, clientID), want)
		}

		// PATCH changes what it names; the kind stays.
		upd := decodeAs[gatehouse.Client](t, c.must(http.StatusOK, "PATCH", "/api/v1/clients/"+web.ID,
			`{"name":"Portal","kind":"web","redirect_uris":["https://portal.example/callback","https://portal.example/cb2"]}`))
		if upd.Name != "Portal" || len(upd.RedirectURIs) != 2 || upd.BackchannelLogoutURI != "https://portal.example/bcl" || upd.Kind != gatehouse.ClientWeb {
			t.Errorf("patched %+v", upd)
		}
		if st := storedClient(t, s, web.ID); st.Name != "Portal" || st.SecretHash != stored.SecretHash {
			t.Errorf("stored after PATCH %+v", st)
		}
		if p := problemOf(t, c.must(http.StatusUnprocessableEntity, "PATCH", "/api/v1/clients/"+web.ID, `{"kind":"spa"}`)); !equal(p.fields(), []string{"kind"}) {
			t.Errorf("kind change: fields %v", p.fields())
		}
		if p := problemOf(t, c.must(http.StatusUnprocessableEntity, "PATCH", "/api/v1/clients/"+spa.ID, `{"jwks":`+strconv.Quote(jwks)+`}`)); !equal(p.fields(), []string{"jwks"}) {
			t.Errorf("keys for a spa: fields %v", p.fields())
		}
		if p := problemOf(t, c.must(http.StatusUnprocessableEntity, "PATCH", "/api/v1/clients/"+keyed.ID, `{"jwks":""}`)); !equal(p.fields(), []string{"jwks"}) {
			t.Errorf("removing the only credential: fields %v", p.fields())
		}
		if p := problemOf(t, c.must(http.StatusConflict, "PATCH", "/api/v1/clients/"+spa.ID, `{"name":"Portal"}`)); !equal(p.fields(), []string{"name"}) {
			t.Errorf("duplicate name: fields %v", p.fields())
		}

		// Rotation: a new secret, shown once; the old one no longer matches.
		rot := decodeAs[clientAnswer](t, c.must(http.StatusOK, "POST", "/api/v1/clients/"+web.ID+"/secret", ""))
		after := storedClient(t, s, web.ID)
		if rot.ClientSecret == "" || rot.ClientSecret == web.ClientSecret || after.SecretHash == stored.SecretHash ||
			after.SecretHash != oidcop.HashSecret(rot.ClientSecret) || after.SecretHash == oidcop.HashSecret(web.ClientSecret) {
			t.Errorf("rotation: secret %q, hash %q (was %q)", rot.ClientSecret, after.SecretHash, stored.SecretHash)
		}
		if p := problemOf(t, c.must(http.StatusConflict, "POST", "/api/v1/clients/"+spa.ID+"/secret", "")); !equal(p.fields(), []string{"kind"}) {
			t.Errorf("public client rotation: fields %v", p.fields())
		}
		if storedClient(t, s, spa.ID).SecretHash != "" {
			t.Error("a public client got a secret")
		}
		problemOf(t, c.must(http.StatusNotFound, "POST", "/api/v1/clients/client_nope/secret", ""))

		c.must(http.StatusNoContent, "DELETE", "/api/v1/clients/"+web.ID, "")
		problemOf(t, c.must(http.StatusNotFound, "GET", "/api/v1/clients/"+web.ID, ""))
		problemOf(t, c.must(http.StatusNotFound, "DELETE", "/api/v1/clients/"+web.ID, ""))
		if _, err := s.Client(context.Background(), web.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("client still stored: %v", err)
		}

		evs := f.audit(gatehouse.AuditFilter{TargetID: web.ID})
		wantActions(t, evs, "client.delete", "client.secret_rotate", "client.update", "client.create")
		for _, ev := range evs {
			if ev.TargetType != "client" || ev.Details["kind"] != "web" || ev.Details["name"] == "" ||
				!strings.HasPrefix(ev.Details["redirect_uris"], "https://portal.example/callback") || ev.ActorID != f.super.tok.ID {
				t.Errorf("event %+v", ev)
			}
		}
		if ev := evs[2]; ev.Details["changed"] != "name,redirect_uris" || ev.Details["name"] != "Portal" {
			t.Errorf("update event details %v", ev.Details)
		}
		for _, ev := range f.audit(gatehouse.AuditFilter{ActionPrefix: "client."}) {
			for k, v := range ev.Details {
				for _, secret := range []string{web.ClientSecret, rot.ClientSecret, stored.SecretHash, after.SecretHash} {
					if contains(k+v, secret) {
						t.Errorf("event %s holds a secret or its hash in %s", ev.Action, k)
					}
				}
			}
		}
		for _, secret := range []string{web.ClientSecret, rot.ClientSecret} {
			if contains(f.logs.String(), secret) {
				t.Error("the log holds a client secret")
			}
		}
	})
}

// TestClientValidation: every problem names its field, a redirect URI by
// its index, and a refused request registers nothing.
func TestClientValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		f.super.must(http.StatusCreated, "POST", "/api/v1/clients", `{"name":"Taken","kind":"spa","redirect_uris":["https://uc.example/cb"]}`)
		jwks := strconv.Quote(testJWKS(t))
		for _, tt := range []struct {
			name, body string
			want       int
			fields     []string
		}{
			{"http redirect for a web client", `{"name":"P","kind":"web","redirect_uris":["http://portal.example/cb"]}`, 422, []string{"redirect_uris[0]"}},
			{"fragment", `{"name":"P","kind":"web","redirect_uris":["https://portal.example/cb","https://portal.example/cb#x"]}`, 422, []string{"redirect_uris[1]"}},
			{"private-use scheme without a dot", `{"name":"P","kind":"native","redirect_uris":["myapp:/cb"]}`, 422, []string{"redirect_uris[0]"}},
			{"private-use scheme for a spa", `{"name":"P","kind":"spa","redirect_uris":["com.example.app:/cb"]}`, 422, []string{"redirect_uris[0]"}},
			{"localhost", `{"name":"P","kind":"native","redirect_uris":["http://localhost:8080/cb"]}`, 422, []string{"redirect_uris[0]"}},
			{"wildcard", `{"name":"P","kind":"web","redirect_uris":["https://*.portal.example/cb"]}`, 422, []string{"redirect_uris[0]"}},
			{"user information", `{"name":"P","kind":"web","redirect_uris":["https://a@portal.example/cb"]}`, 422, []string{"redirect_uris[0]"}},
			{"listed twice", `{"name":"P","kind":"web","redirect_uris":["https://portal.example/cb","https://portal.example/cb"]}`, 422, []string{"redirect_uris[1]"}},
			{"no redirect URI", `{"name":"P","kind":"web"}`, 422, []string{"redirect_uris"}},
			{"post-logout fragment", `{"name":"P","kind":"web","redirect_uris":["https://portal.example/cb"],"post_logout_redirect_uris":["https://portal.example/#bye"]}`, 422, []string{"post_logout_redirect_uris[0]"}},
			{"back-channel over http", `{"name":"P","kind":"web","redirect_uris":["https://portal.example/cb"],"backchannel_logout_uri":"http://portal.example/bcl"}`, 422, []string{"backchannel_logout_uri"}},
			{"empty name", `{"name":"  ","kind":"web","redirect_uris":["https://portal.example/cb"]}`, 422, []string{"name"}},
			{"long name", `{"name":"` + strings.Repeat("n", 101) + `","kind":"web","redirect_uris":["https://portal.example/cb"]}`, 422, []string{"name"}},
			{"unknown kind", `{"name":"P","kind":"daemon","redirect_uris":["https://portal.example/cb"]}`, 422, []string{"kind"}},
			{"keys for a native app", `{"name":"P","kind":"native","redirect_uris":["http://127.0.0.1/cb"],"jwks":` + jwks + `}`, 422, []string{"jwks"}},
			{"keys that are no key set", `{"name":"P","kind":"web","redirect_uris":["https://portal.example/cb"],"jwks":"{\"keys\":[]}"}`, 422, []string{"jwks"}},
			{"everything at once", `{"name":"","kind":"web","redirect_uris":["http://portal.example/cb","https://ok.example/cb","https://x.example/#f"]}`, 422, []string{"name", "redirect_uris[0]", "redirect_uris[2]"}},
			{"name taken", `{"name":"Taken","kind":"web","redirect_uris":["https://portal.example/cb"]}`, 409, []string{"name"}},
			{"a secret cannot be chosen", `{"name":"P","kind":"web","redirect_uris":["https://portal.example/cb"],"client_secret":"mine"}`, 400, []string{"client_secret"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res := f.super.must(tt.want, "POST", "/api/v1/clients", tt.body)
				if p := problemOf(t, res); !equal(p.fields(), tt.fields) {
					t.Errorf("fields %v, want %v; body %s", p.fields(), tt.fields, res.Body)
				}
				if n := len(decodeAs[page[gatehouse.Client]](t, f.super.must(http.StatusOK, "GET", "/api/v1/clients", "")).Items); n != 1 {
					t.Errorf("%d clients after a refused registration", n)
				}
			})
		}
		if evs := f.audit(gatehouse.AuditFilter{ActionPrefix: "client."}); len(evs) != 1 {
			t.Errorf("%d client events, want the one registration", len(evs))
		}
	})
}

// TestClientsAreSuperOnly: partition and account tokens may not list,
// read, register, change, rotate or delete clients (403, before anything
// is looked up), and a refused request changes nothing.
func TestClientsAreSuperOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		web := decodeAs[clientAnswer](t, f.super.must(http.StatusCreated, "POST", "/api/v1/clients",
			`{"name":"Portal","kind":"web","redirect_uris":["https://portal.example/cb"]}`))
		before := storedClient(t, s, web.ID)
		one := "/api/v1/clients/" + web.ID
		for _, c := range []client{f.part, f.acct} {
			for _, rq := range []struct{ method, path, body string }{
				{"GET", "/api/v1/clients", ""},
				{"POST", "/api/v1/clients", `{"name":"Mine","kind":"spa","redirect_uris":["https://mine.example/cb"]}`},
				{"GET", one, ""},
				{"GET", "/api/v1/clients/client_nope", ""},
				{"PATCH", one, `{"name":"Mine"}`},
				{"POST", one + "/secret", ""},
				{"DELETE", one, ""},
			} {
				res := c.do(rq.method, rq.path, rq.body)
				if res.Status != http.StatusForbidden {
					t.Errorf("%s token: %s %s: status %d, want 403; body %s", c.tok.Scope, rq.method, rq.path, res.Status, res.Body)
					continue
				}
				if p := problemOf(t, res); !contains(p.Detail, "super") {
					t.Errorf("refusal %q does not say who may", p.Detail)
				}
			}
		}
		problemOf(t, f.anonymous.must(http.StatusUnauthorized, "GET", "/api/v1/clients", ""))
		after := storedClient(t, s, web.ID)
		if after.Name != before.Name || after.SecretHash != before.SecretHash || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("a refused request changed the client: %+v", after)
		}
		if list, _ := s.ListClients(context.Background(), gatehouse.Page{Limit: 10}); len(list) != 1 {
			t.Errorf("%d clients, want 1", len(list))
		}
		if evs := f.audit(gatehouse.AuditFilter{ActionPrefix: "client."}); len(evs) != 1 {
			t.Errorf("%d client events, want 1", len(evs))
		}
	})
}

// TestClientIDTokenAlg: id_token_signed_response_alg is ES256 unless set
// to RS256, on POST and PATCH; any other value is a field error.
func TestClientIDTokenAlg(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newFixture(t, s).super
		es := decodeAs[gatehouse.Client](t, c.must(http.StatusCreated, "POST", "/api/v1/clients",
			`{"name":"UC","kind":"spa","redirect_uris":["https://uc.example/cb"]}`))
		rs := decodeAs[gatehouse.Client](t, c.must(http.StatusCreated, "POST", "/api/v1/clients",
			`{"name":"Legacy","kind":"spa","redirect_uris":["https://legacy.example/cb"],"id_token_signed_response_alg":"RS256"}`))
		if es.IDTokenSigningAlg != "ES256" || rs.IDTokenSigningAlg != "RS256" {
			t.Errorf("created with %q and %q, want ES256 and RS256", es.IDTokenSigningAlg, rs.IDTokenSigningAlg)
		}
		if p := problemOf(t, c.must(http.StatusUnprocessableEntity, "POST", "/api/v1/clients",
			`{"name":"Bad","kind":"spa","redirect_uris":["https://bad.example/cb"],"id_token_signed_response_alg":"HS256"}`)); !equal(p.fields(), []string{"id_token_signed_response_alg"}) {
			t.Errorf("HS256: fields %v", p.fields())
		}
		upd := decodeAs[gatehouse.Client](t, c.must(http.StatusOK, "PATCH", "/api/v1/clients/"+es.ID, `{"id_token_signed_response_alg":"RS256"}`))
		if upd.IDTokenSigningAlg != "RS256" || storedClient(t, s, es.ID).IDTokenSigningAlg != "RS256" {
			t.Errorf("patched to RS256: %q", upd.IDTokenSigningAlg)
		}
		if p := problemOf(t, c.must(http.StatusUnprocessableEntity, "PATCH", "/api/v1/clients/"+es.ID,
			`{"id_token_signed_response_alg":"none"}`)); !equal(p.fields(), []string{"id_token_signed_response_alg"}) {
			t.Errorf("none: fields %v", p.fields())
		}
	})
}
