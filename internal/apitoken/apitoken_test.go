package apitoken_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/apitoken"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

func TestMintAndAuthenticate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := gatehouse.Partition{Name: "Reseller"}
		if err := s.CreatePartition(ctx, &p); err != nil {
			t.Fatal(err)
		}
		a := gatehouse.Account{PartitionID: p.ID, Name: "Acme", Plan: gatehouse.PlanStandard}
		if err := s.CreateAccount(ctx, &a); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			scope   gatehouse.TokenScope
			scopeID string
		}{
			{gatehouse.ScopeSuper, ""},
			{gatehouse.ScopePartition, p.ID},
			{gatehouse.ScopeAccount, a.ID},
		}
		for _, tt := range tests {
			t.Run(string(tt.scope), func(t *testing.T) {
				plain, tok, err := apitoken.Mint(ctx, s, " ci bot ", tt.scope, tt.scopeID)
				if err != nil {
					t.Fatalf("Mint: %v", err)
				}
				if !strings.HasPrefix(plain, "gh_") || len(plain) < 3+26 {
					t.Errorf("plaintext %q: want gh_ and at least 26 random characters", plain)
				}
				if tok.ID == "" || tok.Name != "ci bot" || tok.Scope != tt.scope || tok.ScopeID != tt.scopeID {
					t.Errorf("minted %+v", tok)
				}
				// Only the hash is stored: the plaintext appears nowhere in the table.
				var n int
				if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE secret_hash = $1`, apitoken.Hash(plain)).Scan(&n); err != nil || n != 1 {
					t.Errorf("rows with the hash: %d, %v", n, err)
				}
				if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE secret_hash = $1 OR name = $1 OR scope_id = $1`, plain).Scan(&n); err != nil || n != 0 {
					t.Errorf("rows holding the plaintext: %d, %v", n, err)
				}

				got, err := apitoken.Authenticate(ctx, s, plain)
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if got.ID != tok.ID || got.Scope != tt.scope || got.ScopeID != tt.scopeID {
					t.Errorf("authenticated as %+v, want %+v", got, tok)
				}
			})
		}

		t.Run("two tokens differ", func(t *testing.T) {
			a, _, err := apitoken.Mint(ctx, s, "one", gatehouse.ScopeSuper, "")
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := apitoken.Mint(ctx, s, "two", gatehouse.ScopeSuper, "")
			if err != nil {
				t.Fatal(err)
			}
			if a == b {
				t.Errorf("two mints gave the same plaintext")
			}
		})

		t.Run("revoked token is refused", func(t *testing.T) {
			plain, tok, err := apitoken.Mint(ctx, s, "short-lived", gatehouse.ScopeSuper, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteAPIToken(ctx, tok.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := apitoken.Authenticate(ctx, s, plain); !errors.Is(err, apitoken.ErrInvalidToken) {
				t.Errorf("Authenticate after revoke: %v, want ErrInvalidToken", err)
			}
		})
	})
}

func TestMintRefusesBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := gatehouse.Partition{Name: "Reseller"}
		if err := s.CreatePartition(ctx, &p); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, tokName string
			scope         gatehouse.TokenScope
			scopeID       string
			wantFields    []string
		}{
			{"empty name", "  ", gatehouse.ScopeSuper, "", []string{"name"}},
			{"long name", strings.Repeat("n", 201), gatehouse.ScopeSuper, "", []string{"name"}},
			{"unknown scope", "x", "global", "", []string{"scope"}},
			{"super with an ID", "x", gatehouse.ScopeSuper, p.ID, []string{"scope_id"}},
			{"missing partition", "x", gatehouse.ScopePartition, "part_nope", []string{"scope_id"}},
			{"partition ID for an account token", "x", gatehouse.ScopeAccount, p.ID, []string{"scope_id"}},
			{"account without ID", "", gatehouse.ScopeAccount, "", []string{"name", "scope_id"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				plain, _, err := apitoken.Mint(ctx, s, tt.tokName, tt.scope, tt.scopeID)
				var v *gatehouse.ValidationError
				if !errors.As(err, &v) || plain != "" {
					t.Fatalf("Mint = %q, %v; want a validation error", plain, err)
				}
				var got []string
				for _, f := range v.Fields {
					got = append(got, f.Field)
				}
				if strings.Join(got, ",") != strings.Join(tt.wantFields, ",") {
					t.Errorf("fields %v, want %v", got, tt.wantFields)
				}
			})
		}
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM api_tokens`).Scan(&n); err != nil || n != 0 {
			t.Errorf("tokens stored after refused mints: %d, %v", n, err)
		}
	})
}

func TestAuthenticateRefusesUnknownTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		plain, _, err := apitoken.Mint(ctx, s, "real", gatehouse.ScopeSuper, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{
			"",
			"gh_",
			"gh_AAAAAAAAAAAAAAAAAAAAAAAAAA",
			strings.TrimPrefix(plain, "gh_"), // the secret without its prefix
			plain + "x",
			strings.ToLower(plain),
			"gh_" + strings.Repeat("A", 200),
			apitoken.Hash(plain), // the stored form is not a credential
		} {
			if _, err := apitoken.Authenticate(ctx, s, bad); !errors.Is(err, apitoken.ErrInvalidToken) || !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("Authenticate(%q) = %v, want ErrInvalidToken", bad, err)
			}
		}
	})
}
