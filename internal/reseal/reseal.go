// Package reseal re-seals every stored secret (TOTP seeds, SAML SP keys,
// OIDC client secrets live and pending, the OpenID Provider's signing keys)
// under the first key of the secret-key ring, so the previous key can be
// retired: `gatehouse admin secret-key rotate`.
package reseal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/totp"
	"gatehouse/internal/webhook"
)

// Report counts, per column ("users.totp_secret"), the values found and the
// values re-sealed.
type Report struct {
	Found, Resealed map[string]int
	// Replaced is how many were written; fewer than the re-sealed count
	// when a running process changed a value meanwhile (its new value is
	// sealed with the first key already).
	Replaced int
}

// ErrUnopenable means a stored value opens under no key of the ring:
// nothing was written.
var ErrUnopenable = errors.New("a stored secret opens under no key of the ring")

// Value re-seals one stored value of column c in the row with key under
// box's first key, and says whether that changed it.
func Value(box *secretbox.Box, c store.SealedColumn, key []string, v []byte) ([]byte, bool, error) {
	id := key[0]
	switch c {
	case store.SealedWebhookSecrets:
		return box.Reseal(webhook.SealPurpose, v)
	case store.SealedIdempotentAnswers:
		if len(key) != 2 {
			return nil, false, errors.New("reseal: an idempotency answer's key is its principal and key")
		}
		return box.Reseal(store.IdempotentAnswerPurpose(key[0], key[1]), v)
	case store.SealedTOTPSeeds:
		return box.Reseal(totp.SealPurpose, v)
	case store.SealedSPKeys:
		return box.Reseal(ssoconfig.SPKeyPurpose(id), v)
	case store.SealedClientSecrets:
		return box.Reseal(ssoconfig.ClientSecretPurpose(id), v)
	case store.SealedSigningKeys:
		return box.Reseal(oidcop.SealPurpose(id), v)
	case store.SealedPendingSettings:
		var p gatehouse.SSOPending
		if err := json.Unmarshal(v, &p); err != nil {
			return nil, false, fmt.Errorf("pending settings: %w", err)
		}
		if len(p.ClientSecret) == 0 {
			return v, false, nil
		}
		sealed, changed, err := box.Reseal(ssoconfig.ClientSecretPurpose(id), p.ClientSecret)
		if err != nil || !changed {
			return v, false, err
		}
		p.ClientSecret = sealed
		out, err := json.Marshal(&p)
		return out, err == nil, err
	}
	return nil, false, fmt.Errorf("reseal: no purpose known for %s.%s", c.Table, c.Column)
}

// All re-seals every stored secret under box's first key. It opens every
// value first and writes nothing when one does not open (ErrUnopenable,
// naming the column and row); then it writes all changes in one
// transaction. Running it again finds nothing to do.
func All(ctx context.Context, st *store.Store, box *secretbox.Box) (Report, error) {
	r, changes, err := plan(ctx, st, box)
	if err != nil {
		return r, err
	}
	r.Replaced, err = st.ReplaceSealedValues(ctx, changes)
	return r, err
}

// Check opens every stored secret with box and counts what All would
// re-seal, writing nothing.
func Check(ctx context.Context, st *store.Store, box *secretbox.Box) (Report, error) {
	r, _, err := plan(ctx, st, box)
	return r, err
}

func plan(ctx context.Context, st *store.Store, box *secretbox.Box) (Report, []store.ResealedValue, error) {
	r := Report{Found: map[string]int{}, Resealed: map[string]int{}}
	var changes []store.ResealedValue
	for _, c := range store.SealedColumns {
		name := c.Table + "." + c.Column
		values, err := st.SealedValues(ctx, c)
		if err != nil {
			return r, nil, err
		}
		r.Found[name] = len(values)
		for _, v := range values {
			out, changed, err := Value(box, c, v.Key, v.Value)
			if err != nil {
				return r, nil, fmt.Errorf("%w: %s of %s (%v)", ErrUnopenable, name, strings.Join(v.Key, " "), err)
			}
			if changed {
				changes = append(changes, store.ResealedValue{Column: c, Key: v.Key, Old: v.Value, New: out})
				r.Resealed[name]++
			}
		}
	}
	return r, changes, nil
}
