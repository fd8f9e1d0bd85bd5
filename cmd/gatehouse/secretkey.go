package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"gatehouse"
	"gatehouse/internal/reseal"
	"gatehouse/internal/secretbox"
)

// secretKeyFlags are how a command is given the secret-key ring: the key
// that seals, and the previous keys that still open. Neither is ever a
// plain flag, so no key shows in the process list.
type secretKeyFlags struct {
	file, previousFile string
}

func (k *secretKeyFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	envString(fs, &k.file, "secret-key-file", "GATEHOUSE_SECRET_KEY_FILE", "", "file holding the secret key that seals secrets at rest (or set $GATEHOUSE_SECRET_KEY)", getenv)
	envString(fs, &k.previousFile, "previous-secret-keys-file", "GATEHOUSE_PREVIOUS_SECRET_KEYS_FILE", "",
		"file holding earlier secret keys, one per line, that still open what they sealed while a rotation runs (or set $GATEHOUSE_PREVIOUS_SECRET_KEYS)", getenv)
}

// load reads the ring: the sealing key ("" when none is given) and the
// previous keys.
func (k *secretKeyFlags) load(getenv func(string) string) (string, []string, error) {
	primary, err := readSecretKey(k.file, getenv)
	if err != nil {
		return "", nil, err
	}
	raw := getenv("GATEHOUSE_PREVIOUS_SECRET_KEYS")
	if k.previousFile != "" {
		b, err := os.ReadFile(k.previousFile)
		if err != nil {
			return "", nil, fmt.Errorf("previous secret keys file: %w", err)
		}
		raw = string(b)
	}
	var previous []string
	for _, line := range strings.Split(raw, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			previous = append(previous, line)
		}
	}
	if primary == "" && len(previous) > 0 {
		return "", nil, errors.New("previous secret keys were given without the secret key that seals: set GATEHOUSE_SECRET_KEY or --secret-key-file too")
	}
	return primary, previous, nil
}

// box opens the ring, refusing to go on without a sealing key; what says
// what the command needs the key for.
func (k *secretKeyFlags) box(getenv func(string) string, what string) (*secretbox.Box, error) {
	primary, previous, err := k.load(getenv)
	if err != nil {
		return nil, err
	}
	if primary == "" {
		return nil, fmt.Errorf("%s needs the secret key the servers run with: set GATEHOUSE_SECRET_KEY or --secret-key-file", what)
	}
	return secretbox.NewRing(primary, previous...)
}

const secretKeyUsage = `Usage:
  gatehouse admin secret-key new
      print a new random secret key
  gatehouse admin secret-key rotate [--dry-run]
      re-seal every stored secret under the secret key ($GATEHOUSE_SECRET_KEY or --secret-key-file);
      the keys it replaces are given as previous keys ($GATEHOUSE_PREVIOUS_SECRET_KEYS or --previous-secret-keys-file)
`

func runSecretKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) >= 1 && args[0] == "new":
		// 256 bits of randomness, in base32 (rand.Text gives 128 each).
		fmt.Fprintln(stdout, rand.Text()+rand.Text())
		return nil
	case len(args) >= 1 && args[0] == "rotate":
		return runSecretKeyRotate(ctx, args[1:], getenv, stdout, stderr)
	}
	fmt.Fprint(stderr, secretKeyUsage)
	return errUsage
}

// runSecretKeyRotate re-seals every stored secret under the ring's first
// key. Every process must already run with the ring (the new key first, the
// old one as a previous key), so each opens what is sealed either way; once
// this has run, the previous keys can be dropped from their configuration.
func runSecretKeyRotate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin secret-key rotate", stderr)
	var dbURL string
	var keys secretKeyFlags
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	keys.register(fs, getenv)
	dryRun := fs.Bool("dry-run", false, "open every stored secret and count what would be re-sealed, writing nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	box, err := keys.box(getenv, "secret-key rotate")
	if err != nil {
		return err
	}
	st, err := openAdminStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	var r reseal.Report
	if *dryRun {
		r, err = reseal.Check(ctx, st, box)
	} else {
		r, err = reseal.All(ctx, st, box)
	}
	if errors.Is(err, reseal.ErrUnopenable) {
		return fmt.Errorf("%w; nothing was changed. Give the key that sealed it as a previous key (GATEHOUSE_PREVIOUS_SECRET_KEYS or --previous-secret-keys-file)", err)
	}
	if err != nil {
		return err
	}
	found, resealed := 0, 0
	var cols []string
	for name, n := range r.Found {
		found += n
		resealed += r.Resealed[name]
		cols = append(cols, name)
	}
	sort.Strings(cols)
	fmt.Fprintf(stdout, "sealing key %s (previous: %s)\n", box.KeyID(), strings.Join(box.KeyIDs()[1:], ", "))
	for _, name := range cols {
		fmt.Fprintf(stdout, "  %-26s %d stored, %d to re-seal\n", name, r.Found[name], r.Resealed[name])
	}
	if *dryRun {
		fmt.Fprintf(stdout, "dry run: %d of %d stored secrets would be re-sealed; nothing was changed\n", resealed, found)
		return nil
	}
	if err := st.AppendAudit(ctx, &gatehouse.AuditEvent{ActorType: gatehouse.ActorSystem, ActorID: "cli", Action: gatehouse.ActionSecretKeyRotate,
		Outcome: gatehouse.OutcomeSuccess, TargetType: "secret_key", TargetID: box.KeyID(),
		Details: map[string]string{"resealed": fmt.Sprint(r.Replaced), "stored": fmt.Sprint(found), "previous": strings.Join(box.KeyIDs()[1:], " ")}}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-sealed %d of %d stored secrets: every one now opens with the sealing key alone.\n", r.Replaced, found)
	fmt.Fprintln(stdout, "Keep the previous keys configured for 10 more minutes (sign-ins in progress), then remove them and restart.")
	return nil
}
