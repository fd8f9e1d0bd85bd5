package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestAdminKeysRotate: rotating publishes a new signing key at once that
// signs only after oidcop.PublishAhead, retires the old one at that moment
// (still published), refuses a secret key that does not open the stored
// keys, and is audited; on both databases.
func TestAdminKeysRotate(t *testing.T) {
	const secret = "the servers' secret key, at least thirty-two characters"
	for name, dbURL := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "g.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := dbURL(t)
			getenv := env(map[string]string{"GATEHOUSE_DATABASE_URL": db, "GATEHOUSE_SECRET_KEY": secret})
			if _, _, err := runCmd(t, getenv, "migrate"); err != nil {
				t.Fatal(err)
			}
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			box, err := secretbox.New(secret)
			if err != nil {
				t.Fatal(err)
			}
			first, err := oidcop.NewSigningKey(oidcop.AlgES256, box, time.Now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateFirstSigningKey(ctx, &first); err != nil {
				t.Fatal(err)
			}

			wrong := env(map[string]string{"GATEHOUSE_DATABASE_URL": db, "GATEHOUSE_SECRET_KEY": "another secret key, also thirty-two characters long"})
			if _, _, err := runCmd(t, wrong, "admin", "keys", "rotate"); err == nil || !strings.Contains(err.Error(), "does not open") {
				t.Errorf("rotating with another secret key: %v, want a refusal naming the secret key", err)
			}
			if keys, _ := st.SigningKeys(ctx); len(keys) != 1 {
				t.Fatalf("a refused rotation left %d keys", len(keys))
			}

			before := time.Now()
			out, errOut, err := runCmd(t, getenv, "admin", "keys", "rotate")
			if err != nil {
				t.Fatalf("rotate: %v\n%s", err, errOut)
			}
			keys, err := st.SigningKeys(ctx)
			if err != nil || len(keys) != 2 {
				t.Fatalf("after rotation: %d keys, %v", len(keys), err)
			}
			old, next := keys[0], keys[1]
			if old.ID != first.ID || !strings.Contains(out, next.ID) {
				t.Fatalf("keys %s, %s; output %q", old.ID, next.ID, out)
			}
			if d := next.ActiveFrom.Sub(before); d < oidcop.PublishAhead-time.Minute || d > oidcop.PublishAhead+time.Minute {
				t.Errorf("the new key signs %s after the rotation, want %s", d, oidcop.PublishAhead)
			}
			if !old.RetiredAt.Equal(next.ActiveFrom) {
				t.Errorf("the old key retires at %s, want when the new one takes over (%s)", old.RetiredAt, next.ActiveFrom)
			}
			// Now the old key signs and both are published; after the
			// take-over the new one signs.
			ks, err := oidcop.LoadKeySet(keys, box, time.Now())
			if err != nil || ks.SigningKeyID() != old.ID || len(ks.JWKS().Keys) != 2 {
				t.Errorf("right after rotation: signing %s, %d published, %v", ks.SigningKeyID(), len(ks.JWKS().Keys), err)
			}
			ks, err = oidcop.LoadKeySet(keys, box, next.ActiveFrom.Add(time.Second))
			if err != nil || ks.SigningKeyID() != next.ID || len(ks.JWKS().Keys) != 2 {
				t.Errorf("after the take-over: signing %s, %d published, %v", ks.SigningKeyID(), len(ks.JWKS().Keys), err)
			}
			evs, err := st.ListAudit(ctx, gatehouse.AuditFilter{ActionPrefix: "op.signing_key_rotate"}, gatehouse.Page{Limit: 10})
			if err != nil || len(evs) != 1 || evs[0].TargetID != next.ID || evs[0].Details["retired"] != old.ID {
				t.Errorf("audit %+v", evs)
			}
		})
	}
}
