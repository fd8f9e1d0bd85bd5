package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcop"
)

// runKeysRotate rotates the OpenID Provider's token signing key: a new
// key is published at once and signs from oidcop.PublishAhead later, when
// every process has reloaded the published keys and apps have refreshed
// their JWKS; the old one stops signing then and stays published while the
// tokens it signed may still be valid.
func runKeysRotate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin keys rotate", stderr)
	var dbURL, alg string
	var ring secretKeyFlags
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	ring.register(fs, getenv)
	fs.StringVar(&alg, "alg", oidcop.AlgES256, "ES256 (default) or RS256")
	if err := fs.Parse(args); err != nil {
		return err
	}
	alg = strings.ToUpper(strings.TrimSpace(alg))
	if alg != oidcop.AlgES256 && alg != oidcop.AlgRS256 {
		return errors.New("--alg must be ES256 or RS256")
	}
	box, err := ring.box(getenv, "keys rotate")
	if err != nil {
		return err
	}
	st, err := openAdminStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := st.SigningKeys(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	// A key sealed with another secret key would leave the servers unable
	// to sign: check that this key opens the ones there are first.
	if len(keys) > 0 {
		if _, err := oidcop.LoadKeySet(keys, box, now); err != nil && !errors.Is(err, oidcop.ErrNoSigningKey) {
			return fmt.Errorf("the secret key given does not open the stored signing keys (%v): use the one the servers run with", err)
		}
	}
	next, retired, err := oidcop.PlanRotation(keys, alg, box, now)
	if err != nil {
		return err
	}
	if err := st.AddSigningKey(ctx, &next); err != nil {
		return err
	}
	for _, k := range retired {
		if err := st.RetireSigningKey(ctx, k.ID, k.RetiredAt); err != nil {
			return err
		}
	}
	var old []string
	for _, k := range retired {
		old = append(old, k.ID)
	}
	if err := st.AppendAudit(ctx, &gatehouse.AuditEvent{ActorType: gatehouse.ActorSystem, ActorID: "cli", Action: gatehouse.ActionSigningKeyRotate,
		Outcome: gatehouse.OutcomeSuccess, TargetType: "signing_key", TargetID: next.ID,
		Details: map[string]string{"algorithm": next.Algorithm, "signs_from": next.ActiveFrom.Format(time.RFC3339), "retired": strings.Join(old, " ")}}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signing key %s (%s) published now; it signs from %s\n", next.ID, next.Algorithm, next.ActiveFrom.Format(time.RFC3339))
	for _, k := range retired {
		fmt.Fprintf(stdout, "signing key %s stops signing then, and stays published until the tokens it signed have expired\n", k.ID)
	}
	return nil
}
