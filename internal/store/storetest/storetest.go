// Package storetest opens real, migrated stores for tests: SQLite always, and
// PostgreSQL when GATEHOUSE_TEST_POSTGRES_URL names a server. Each PostgreSQL
// store lives in a schema of its own, dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
)

// PostgresEnv is the environment variable holding the test server's URL.
const PostgresEnv = "GATEHOUSE_TEST_POSTGRES_URL"

var warnOnce sync.Once

// SkipNotice is what a run without PostgreSQL prints.
const SkipNotice = "\n*** SKIPPED: the PostgreSQL store suite. Set " + PostgresEnv +
	"=postgres://USER@127.0.0.1:5432/DB (or run bash .ci/run) to run it. ***\n\n"

// SQLite returns a migrated store on a fresh SQLite file.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return s
}

// PostgresURL returns a URL for a fresh schema on the test server, and a
// function that drops it. It skips the test, loudly, when no server is set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		warnOnce.Do(func() { fmt.Fprint(os.Stderr, SkipNotice) })
		t.Skip("PostgreSQL not configured: set " + PostgresEnv)
	}
	schema := "t_" + strings.ToLower(rand.Text()[:12])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres returns a migrated store in a fresh schema, or skips loudly.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, PostgresURL(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return s
}

// Each runs fn as a subtest once per database: "sqlite", and "postgres"
// (skipped loudly when not configured).
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// KeeperEmail is the email of the admin KeepWayIn gives an account.
const KeeperEmail = "keeper@break-glass.example"

// KeepWayIn gives each account an active admin with a password (a stored
// hash no password matches), unless it already has one, so that a test may
// enable SSO for it: while SSO governs an account, the store refuses every
// change that would leave it without one (SECURITY.md A-last-admin).
func KeepWayIn(t testing.TB, s *store.Store, accountIDs ...string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range accountIDs {
		if _, err := s.UserByEmail(ctx, id, KeeperEmail); err == nil {
			continue
		}
		u := gatehouse.User{AccountID: id, Email: KeeperEmail, DisplayName: "Break-glass keeper", Role: gatehouse.RoleAdmin,
			Status: gatehouse.UserActive, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$bm8tcGFzc3dvcmQ$bm8tcGFzc3dvcmQtbWF0Y2hlcy10aGlz"}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatalf("keep a way in to account %s: %v", id, err)
		}
	}
}

// KeepWayInUnder is KeepWayIn for every account a configuration of this
// owner can govern: account accountID, or, when it is empty, every account
// of partition partitionID.
func KeepWayInUnder(t testing.TB, s *store.Store, accountID, partitionID string) {
	t.Helper()
	if accountID != "" {
		KeepWayIn(t, s, accountID)
		return
	}
	as, err := s.ListAccounts(context.Background(), partitionID, gatehouse.Page{Limit: store.MaxPageLimit})
	if err != nil {
		t.Fatalf("accounts of partition %s: %v", partitionID, err)
	}
	for _, a := range as {
		KeepWayIn(t, s, a.ID)
	}
}

// Stop makes s's database stop answering, as a database that goes away
// does: both its readers' pool and, on SQLite, its writes' own are closed.
func Stop(t testing.TB, s *store.Store) {
	t.Helper()
	if w := s.WritePool(); w != nil {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DB().Close(); err != nil {
		t.Fatal(err)
	}
}
