package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"

	"github.com/pquerna/otp/totp"
)

// TestSecretKeyRotation is the operator's story: Ada enrols her
// authenticator under the demo's first secret key; the operator makes a new
// key, re-seals every stored secret with the old key given as a previous
// one, and starts Gatehouse with the new key alone; Ada still signs in with
// her authenticator, and the sample apps' signing key still opens. A ring
// without the old key is refused and changes nothing.
func TestSecretKeyRotation(t *testing.T) {
	dir := t.TempDir()
	base, stop := startDemoUntilStopped(t, dir)
	b := newBrowser(t, base)
	if _, where, body := signInAdaWithPassword(t, b); where != "/" {
		t.Fatalf("password sign-in ended at %s: %.500s", where, body)
	}
	key, _, enrolled := enrolTOTP(t, b)
	stop()

	oldKey, err := os.ReadFile(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	newKey, _, err := runCmd(t, env(nil), "admin", "secret-key", "new")
	newKey = strings.TrimSpace(newKey)
	if other, _, _ := runCmd(t, env(nil), "admin", "secret-key", "new"); err != nil || len(newKey) < 32 || strings.TrimSpace(other) == newKey {
		t.Fatalf("secret-key new: %q then %q, %v", newKey, other, err)
	}
	db := "sqlite:" + filepath.Join(dir, "gatehouse.db")
	previous := filepath.Join(t.TempDir(), "previous.keys")
	if err := os.WriteFile(previous, append([]byte("\n"), oldKey...), 0o600); err != nil {
		t.Fatal(err)
	}
	newOnly := env(map[string]string{"GATEHOUSE_DATABASE_URL": db, "GATEHOUSE_SECRET_KEY": newKey})
	ring := env(map[string]string{"GATEHOUSE_DATABASE_URL": db, "GATEHOUSE_SECRET_KEY": newKey, "GATEHOUSE_PREVIOUS_SECRET_KEYS_FILE": previous})

	if _, _, err := runCmd(t, newOnly, "admin", "secret-key", "rotate"); err == nil || !strings.Contains(err.Error(), "opens under no key") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("rotation without the old key: %v, want a refusal that changed nothing", err)
	}
	onlyPrevious := env(map[string]string{"GATEHOUSE_DATABASE_URL": db, "GATEHOUSE_PREVIOUS_SECRET_KEYS": string(oldKey)})
	if _, _, err := runCmd(t, onlyPrevious, "admin", "secret-key", "rotate"); err == nil || !strings.Contains(err.Error(), "without the secret key that seals") {
		t.Fatalf("previous keys alone: %v", err)
	}
	out, _, err := runCmd(t, ring, "admin", "secret-key", "rotate", "--dry-run")
	if err != nil || !regexp.MustCompile(`users\.totp_secret +1 stored, 1 to re-seal`).MatchString(out) ||
		!regexp.MustCompile(`op_keys\.sealed +[1-9]\d* stored, [1-9]\d* to re-seal`).MatchString(out) || !strings.Contains(out, "nothing was changed") {
		t.Fatalf("dry run: %q, %v", out, err)
	}
	out, _, err = runCmd(t, ring, "admin", "secret-key", "rotate")
	m := regexp.MustCompile(`re-sealed (\d+) of (\d+) stored secrets`).FindStringSubmatch(out)
	if err != nil || m == nil || m[1] != m[2] || m[1] == "0" {
		t.Fatalf("rotate: %q, %v", out, err)
	}
	if out, _, err := runCmd(t, ring, "admin", "secret-key", "rotate"); err != nil || !strings.Contains(out, "re-sealed 0 of "+m[2]) {
		t.Fatalf("a second rotation: %q, %v; want nothing to do", out, err)
	}

	// The old key is gone: Gatehouse runs with the new key alone.
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte(newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b = newBrowser(t, startDemo(t, dir))
	if _, where, body := signInAdaWithPassword(t, b); where != "/login/totp" {
		t.Fatalf("after the rotation the password step led to %s: %.500s", where, body)
	}
	code, _ := totp.GenerateCode(key, enrolled.Add(30*time.Second))
	if _, where, body := b.do("POST", "/login/totp", url.Values{"code": {code}}); where != "/" || !strings.Contains(body, "ada@acme.example") {
		t.Fatalf("after the rotation Ada's authenticator code ended at %s: %.800s", where, body)
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: string(gatehouse.ActionSecretKeyRotate)}, gatehouse.Page{Limit: 10})
	if err != nil || len(evs) != 2 || evs[len(evs)-1].Details["resealed"] != m[1] {
		t.Fatalf("audit of the rotations: %+v, %v", evs, err)
	}
}
