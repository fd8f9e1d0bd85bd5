package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/apitoken"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

type apiTokenList struct {
	Items []gatehouse.APIToken `json:"items"`
}

func TestAPITokensListedWithinReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		_, other, err := apitoken.Mint(ctx, s, "initech sync", gatehouse.ScopeAccount, f.b1.ID)
		if err != nil {
			t.Fatal(err)
		}
		tokID := func(tk gatehouse.APIToken) string { return tk.ID }
		for _, tt := range []struct {
			name string
			c    client
			want []string
		}{
			{"super sees every token", f.super, []string{f.super.tok.ID, f.part.tok.ID, f.acct.tok.ID, other.ID}},
			{"partition token sees its partition's and its accounts'", f.part, []string{f.part.tok.ID, f.acct.tok.ID}},
			{"account token sees its account's", f.acct, []string{f.acct.tok.ID}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res := tt.c.must(http.StatusOK, "GET", "/api/v1/api-tokens", "")
				got := ids(decodeAs[apiTokenList](t, res).Items, tokID)
				want := slices.Clone(tt.want)
				slices.Sort(want)
				if !equal(got, want) {
					t.Errorf("listed %v, want %v", got, want)
				}
				// The secret and its hash are never in an answer.
				for _, secret := range []string{f.super.token, f.part.token, f.acct.token, apitoken.Hash(f.acct.token), "secret"} {
					if strings.Contains(string(res.Body), secret) {
						t.Errorf("listing holds a secret: %s", res.Body)
					}
				}
			})
		}
		// Paged like every list.
		page := decodeAs[struct {
			Items     []gatehouse.APIToken `json:"items"`
			NextAfter string               `json:"next_after"`
		}](t, f.super.must(http.StatusOK, "GET", "/api/v1/api-tokens?limit=2", ""))
		if len(page.Items) != 2 || page.NextAfter == "" {
			t.Errorf("limit=2: %d items, next_after %q", len(page.Items), page.NextAfter)
		}
		// Out of reach is missing: another partition's, or a wider token.
		for _, c := range []struct {
			c  client
			id string
		}{{f.part, other.ID}, {f.part, f.super.tok.ID}, {f.acct, f.part.tok.ID}, {f.acct, other.ID}} {
			problemOf(t, c.c.must(http.StatusNotFound, "GET", "/api/v1/api-tokens/"+c.id, ""))
			before := f.snapshot()
			problemOf(t, c.c.must(http.StatusNotFound, "DELETE", "/api/v1/api-tokens/"+c.id, ""))
			if f.snapshot() != before {
				t.Errorf("a refused revoke changed the store")
			}
		}
		got := decodeAs[gatehouse.APIToken](t, f.part.must(http.StatusOK, "GET", "/api/v1/api-tokens/"+f.acct.tok.ID, ""))
		if got.Name != "account token" || got.Scope != gatehouse.ScopeAccount || got.ScopeID != f.a1.ID || got.LastUsedAt.IsZero() {
			t.Errorf("got %+v", got)
		}
	})
}

func TestRevokedAndExpiredTokensAreRefusedClearly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()

		// A partition token revokes one of its account's tokens.
		f.part.must(http.StatusNoContent, "DELETE", "/api/v1/api-tokens/"+f.acct.tok.ID, "")
		res := f.acct.do("GET", "/api/v1/accounts/"+f.a1.ID, "")
		if res.Status != http.StatusUnauthorized {
			t.Fatalf("revoked token: %d, want 401", res.Status)
		}
		if p := problemOf(t, res); !strings.Contains(p.Detail, "revoked") {
			t.Errorf("revoked token's problem detail %q: want it to say revoked", p.Detail)
		}
		if !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
		}
		got := decodeAs[gatehouse.APIToken](t, f.part.must(http.StatusOK, "GET", "/api/v1/api-tokens/"+f.acct.tok.ID, ""))
		if got.RevokedAt.IsZero() || got.RevokedBy != f.part.tok.ID {
			t.Errorf("after revoke: %+v", got)
		}
		evs := f.audit(gatehouse.AuditFilter{TargetID: f.acct.tok.ID})
		if len(evs) != 1 || evs[0].Action != gatehouse.ActionAPITokenRevoke || evs[0].ActorID != f.part.tok.ID || evs[0].AccountID != f.a1.ID {
			t.Fatalf("audit: %+v", evs)
		}
		// Again: nothing changes, nothing is recorded.
		f.part.must(http.StatusNoContent, "DELETE", "/api/v1/api-tokens/"+f.acct.tok.ID, "")
		if n := len(f.audit(gatehouse.AuditFilter{TargetID: f.acct.tok.ID})); n != 1 {
			t.Errorf("second revoke recorded: %d events", n)
		}

		// An expired token.
		plain, tok, err := apitoken.MintExpiring(ctx, s, "temp", gatehouse.ScopeSuper, "", s.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		temp := client{t: t, h: f.h, token: plain, tok: tok}
		temp.must(http.StatusOK, "GET", "/api/v1/partitions", "")
		listed := decodeAs[gatehouse.APIToken](t, f.super.must(http.StatusOK, "GET", "/api/v1/api-tokens/"+tok.ID, ""))
		if !listed.ExpiresAt.Equal(tok.ExpiresAt) || listed.ExpiresAt.IsZero() {
			t.Errorf("expires_at %v, want %v", listed.ExpiresAt, tok.ExpiresAt)
		}
		later := s.Now().Add(2 * time.Hour)
		s.Now = tickingClock(later)
		res = temp.do("GET", "/api/v1/partitions", "")
		if res.Status != http.StatusUnauthorized {
			t.Fatalf("expired token: %d, want 401", res.Status)
		}
		if p := problemOf(t, res); !strings.Contains(p.Detail, "expired") {
			t.Errorf("expired token's problem detail %q: want it to say expired", p.Detail)
		}
		// An unknown token is still just not valid.
		res = f.anonymous.do("GET", "/api/v1/partitions", "", "Authorization", "Bearer gh_AAAAAAAAAAAAAAAAAAAAAAAAAA")
		if p := problemOf(t, res); res.Status != http.StatusUnauthorized || p.Detail != "the API token is not valid" {
			t.Errorf("unknown token: %d %q", res.Status, p.Detail)
		}
	})
}

func TestAPITokenLastUsedWrittenAtMostOnceAMinute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		lastUsed := func() time.Time {
			var v int64
			if err := s.DB().QueryRow(`SELECT last_used_at FROM api_tokens WHERE id = $1`, f.acct.tok.ID).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return time.UnixMicro(v)
		}
		f.acct.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID, "")
		first := lastUsed()
		if first.IsZero() || first.Unix() == 0 {
			t.Fatalf("last used not written on first use")
		}
		for range 5 {
			f.acct.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID, "")
		}
		if got := lastUsed(); !got.Equal(first) {
			t.Errorf("last used rewritten within a minute: %v then %v", first, got)
		}
		s.Now = tickingClock(s.Now().Add(61 * time.Second))
		f.acct.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID, "")
		if got := lastUsed(); !got.After(first.Add(time.Minute)) {
			t.Errorf("last used not rewritten after a minute: %v then %v", first, got)
		}
	})
}
