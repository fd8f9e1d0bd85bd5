package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestAdminClient registers, lists, changes, re-keys and deletes OpenID
// Provider clients from the command line, on both databases, acting as the
// system principal.
func TestAdminClient(t *testing.T) {
	for name, dbURL := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "g.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := dbURL(t)
			getenv := env(map[string]string{"GATEHOUSE_DATABASE_URL": db})
			if _, _, err := runCmd(t, getenv, "migrate"); err != nil {
				t.Fatal(err)
			}
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			clientOf := func(id string) gatehouse.Client {
				t.Helper()
				c, err := st.Client(ctx, id)
				if err != nil {
					t.Fatalf("client %s: %v", id, err)
				}
				return c
			}

			// A web client: its ID and its secret, once, with a warning.
			out, errOut, err := runCmd(t, getenv, "admin", "client", "create", "--name", "Voice Portal", "--kind", "web",
				"--redirect-uri", "https://portal.example/callback", "--redirect-uri", "https://portal.example/cb2",
				"--post-logout-redirect-uri", "https://portal.example/", "--backchannel-logout-uri", "https://portal.example/bcl")
			if err != nil {
				t.Fatalf("create web: %v\n%s", err, errOut)
			}
			id, secret := field(t, out, "client_id"), field(t, out, "client_secret")
			if !strings.Contains(errOut, "shown only now") {
				t.Errorf("no warning that the secret is shown once: %q", errOut)
			}
			web := clientOf(id)
			if web.Name != "Voice Portal" || web.Kind != gatehouse.ClientWeb || len(web.RedirectURIs) != 2 ||
				web.PostLogoutRedirectURIs[0] != "https://portal.example/" || web.BackchannelLogoutURI != "https://portal.example/bcl" {
				t.Errorf("stored %+v", web)
			}
			if web.SecretHash != oidcop.HashSecret(secret) {
				t.Errorf("stored hash does not match the secret printed")
			}

			// Public clients print no secret.
			out, _, err = runCmd(t, getenv, "admin", "client", "create", "--name", "Mobile", "--kind", "native",
				"--redirect-uri", "com.example.uc:/oauth", "--redirect-uri", "http://127.0.0.1/cb")
			if err != nil || strings.Contains(out, "client_secret") {
				t.Fatalf("create native: %q, %v", out, err)
			}
			native := clientOf(field(t, out, "client_id"))
			if native.SecretHash != "" {
				t.Error("a native client has a secret")
			}

			// A web client with keys (private_key_jwt) prints no secret.
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Use: "sig"}}})
			jwksFile := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(jwksFile, set, 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, err = runCmd(t, getenv, "admin", "client", "create", "--name", "Billing", "--kind", "web",
				"--redirect-uri", "https://billing.example/cb", "--jwks-file", jwksFile)
			if err != nil || strings.Contains(out, "client_secret") {
				t.Fatalf("create keyed web client: %q, %v", out, err)
			}
			if keyed := clientOf(field(t, out, "client_id")); keyed.JWKS != string(set) || keyed.SecretHash != "" {
				t.Errorf("keyed client %+v", keyed)
			}

			// Refusals name the flag, and register nothing.
			for _, tt := range []struct {
				args []string
				want string
			}{
				{[]string{"--name", "P", "--kind", "web", "--redirect-uri", "https://ok.example/cb", "--redirect-uri", "http://portal.example/cb"},
					`--redirect-uri "http://portal.example/cb": must use https`},
				{[]string{"--name", "P", "--kind", "native", "--redirect-uri", "myapp:/cb"}, `--redirect-uri "myapp:/cb"`},
				{[]string{"--name", "P", "--kind", "spa", "--redirect-uri", "https://uc.example/#cb"}, "fragment"},
				{[]string{"--name", "P", "--kind", "web"}, "--redirect-uri: at least one is required"},
				{[]string{"--name", "P", "--kind", "daemon", "--redirect-uri", "https://ok.example/cb"}, "--kind"},
				{[]string{"--kind", "web", "--redirect-uri", "https://ok.example/cb"}, "--name: must not be empty"},
				{[]string{"--name", "Voice Portal", "--kind", "web", "--redirect-uri", "https://ok.example/cb"}, "another client already has this name"},
				{[]string{"--name", "P", "--kind", "spa", "--redirect-uri", "https://ok.example/cb", "--jwks-file", jwksFile}, "--jwks-file"},
			} {
				_, _, err := runCmd(t, getenv, append([]string{"admin", "client", "create"}, tt.args...)...)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("create %q: %v, want an error saying %q", tt.args, err, tt.want)
				}
			}

			out, _, err = runCmd(t, getenv, "admin", "client", "list")
			if err != nil {
				t.Fatal(err)
			}
			if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 || !strings.Contains(lines[1], id) ||
				!strings.Contains(lines[1], "Voice Portal") || !strings.Contains(lines[2], "native") {
				t.Errorf("list:\n%s", out)
			}
			if strings.Contains(out, secret) || strings.Contains(out, web.SecretHash) {
				t.Error("list shows a secret or its hash")
			}

			if _, _, err := runCmd(t, getenv, "admin", "client", "update", "--id", id, "--name", "Portal", "--redirect-uri", "https://portal.example/new"); err != nil {
				t.Fatal(err)
			}
			if c := clientOf(id); c.Name != "Portal" || len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != "https://portal.example/new" ||
				c.BackchannelLogoutURI != "https://portal.example/bcl" || c.SecretHash != web.SecretHash {
				t.Errorf("after update %+v", c)
			}
			if _, _, err := runCmd(t, getenv, "admin", "client", "update", "--id", id); err == nil {
				t.Error("an update without changes succeeded")
			}

			out, errOut, err = runCmd(t, getenv, "admin", "client", "rotate-secret", "--id", id)
			if err != nil {
				t.Fatal(err)
			}
			newSecret := field(t, out, "client_secret")
			if h := clientOf(id).SecretHash; newSecret == secret || h == web.SecretHash || h != oidcop.HashSecret(newSecret) {
				t.Errorf("rotation left hash %q (was %q)", h, web.SecretHash)
			}
			if !strings.Contains(errOut, "no longer works") {
				t.Errorf("rotation does not say the old secret stopped working: %q", errOut)
			}
			if _, _, err := runCmd(t, getenv, "admin", "client", "rotate-secret", "--id", native.ID); err == nil || !strings.Contains(err.Error(), "public") {
				t.Errorf("rotating a native client's secret: %v", err)
			}

			if _, _, err := runCmd(t, getenv, "admin", "client", "delete", "--id", id); err != nil {
				t.Fatal(err)
			}
			if _, _, err := runCmd(t, getenv, "admin", "client", "delete", "--id", id); err == nil || !strings.Contains(err.Error(), "no client "+id) {
				t.Errorf("second delete: %v", err)
			}
			if _, _, err := runCmd(t, getenv, "admin", "client", "delete"); err == nil {
				t.Error("delete without --id succeeded")
			}

			evs, err := st.ListAudit(ctx, gatehouse.AuditFilter{TargetID: id}, gatehouse.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, ev := range evs {
				actions = append(actions, string(ev.Action))
				if ev.ActorType != gatehouse.ActorSystem || ev.ActorID != "cli" || ev.TargetType != "client" || ev.Details["kind"] != "web" {
					t.Errorf("event %+v", ev)
				}
				for _, v := range ev.Details {
					if strings.Contains(v, secret) || strings.Contains(v, newSecret) || strings.Contains(v, web.SecretHash) {
						t.Errorf("event %s holds a secret or its hash", ev.Action)
					}
				}
			}
			if want := "client.delete client.secret_rotate client.update client.create"; strings.Join(actions, " ") != want {
				t.Errorf("audited %v, want %s", actions, want)
			}
			if evs[3].Details["redirect_uris"] != "https://portal.example/callback https://portal.example/cb2" || evs[3].Details["name"] != "Voice Portal" {
				t.Errorf("create event details %v", evs[3].Details)
			}
		})
	}
}

// field returns the value of a "key: value" line of out.
func field(t *testing.T, out, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + key + `: (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %s in %q", key, out)
	}
	return m[1]
}

// TestAdminClientIDTokenAlg: --id-token-alg registers and changes the
// algorithm of a client's ID tokens; anything but ES256 or RS256 is
// refused, naming the flag.
func TestAdminClientIDTokenAlg(t *testing.T) {
	for name, dbURL := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "g.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := dbURL(t)
			getenv := env(map[string]string{"GATEHOUSE_DATABASE_URL": db})
			if _, _, err := runCmd(t, getenv, "migrate"); err != nil {
				t.Fatal(err)
			}
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			alg := func(id string) string {
				t.Helper()
				c, err := st.Client(ctx, id)
				if err != nil {
					t.Fatalf("client %s: %v", id, err)
				}
				return c.IDTokenSigningAlg
			}
			out, errOut, err := runCmd(t, getenv, "admin", "client", "create", "--name", "Legacy", "--kind", "spa",
				"--redirect-uri", "https://legacy.example/cb", "--id-token-alg", "RS256")
			if err != nil {
				t.Fatalf("create: %v\n%s", err, errOut)
			}
			id := field(t, out, "client_id")
			if got := alg(id); got != "RS256" {
				t.Errorf("created with --id-token-alg RS256: %q", got)
			}
			out, _, err = runCmd(t, getenv, "admin", "client", "create", "--name", "UC", "--kind", "spa", "--redirect-uri", "https://uc.example/cb")
			if err != nil {
				t.Fatal(err)
			}
			if got := alg(field(t, out, "client_id")); got != "ES256" {
				t.Errorf("created without --id-token-alg: %q, want ES256", got)
			}
			if out, _, err = runCmd(t, getenv, "admin", "client", "list"); err != nil || !strings.Contains(out, "RS256") {
				t.Errorf("list: %v\n%s", err, out)
			}
			_, _, err = runCmd(t, getenv, "admin", "client", "create", "--name", "Bad", "--kind", "spa",
				"--redirect-uri", "https://bad.example/cb", "--id-token-alg", "HS256")
			if err == nil || !strings.Contains(err.Error(), "--id-token-alg") {
				t.Errorf("create with HS256: %v, want an error naming --id-token-alg", err)
			}
			if _, _, err := runCmd(t, getenv, "admin", "client", "update", "--id", id, "--id-token-alg", "ES256"); err != nil {
				t.Fatal(err)
			}
			if got := alg(id); got != "ES256" {
				t.Errorf("updated with --id-token-alg ES256: %q", got)
			}
			_, _, err = runCmd(t, getenv, "admin", "client", "update", "--id", id, "--id-token-alg", "none")
			if err == nil || !strings.Contains(err.Error(), "--id-token-alg") {
				t.Errorf("update to none: %v, want an error naming --id-token-alg", err)
			}
		})
	}
}
