package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

func TestAuthentication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		revoked := f.super
		if err := s.DeleteAPIToken(context.Background(), f.super.tok.ID); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			header string
		}{
			{"no header", ""},
			{"empty bearer", "Bearer "},
			{"basic auth", "Basic dXNlcjpwYXNz"},
			{"token without scheme", f.acct.token},
			{"unknown token", "Bearer gh_AAAAAAAAAAAAAAAAAAAAAAAAAA"},
			{"not a gatehouse token", "Bearer eyJhbGciOiJub25lIn0.e30."},
			{"revoked token", "Bearer " + revoked.token},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, r := range []struct{ method, path, body string }{
					{"GET", "/api/v1/partitions", ""},
					{"POST", "/api/v1/partitions", `{"name":"x"}`},
					{"GET", "/api/v1/accounts/" + f.a1.ID + "/users", ""},
					{"GET", "/api/v1/accounts/acct_nope", ""},
				} {
					before := f.snapshot()
					res := f.anonymous.do(r.method, r.path, r.body, "Authorization", tt.header)
					if res.Status != http.StatusUnauthorized {
						t.Fatalf("%s %s: %d, want 401", r.method, r.path, res.Status)
					}
					problemOf(t, res)
					if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
					}
					if f.snapshot() != before {
						t.Errorf("an unauthenticated request changed the store")
					}
				}
			})
		}
		// The scheme is case-insensitive (RFC 9110).
		if res := f.acct.do("GET", "/api/v1/accounts/"+f.a1.ID, "", "Authorization", "bearer "+f.acct.token); res.Status != http.StatusOK {
			t.Errorf("lower-case scheme: %d", res.Status)
		}
		// Answers carry personal data and must not be cached.
		if cc := f.acct.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID, "").Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
	})
}
