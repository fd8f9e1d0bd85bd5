package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// SealedColumn is a column whose values are sealed with the secret key
// (secretbox), or (Text) a JSON document holding such values. Rotating the
// secret key re-seals every one of them. Key names the columns that find a
// row, comma-separated ("id" when empty).
type SealedColumn struct {
	Table, Column, Key string
	Text               bool
}

func (c SealedColumn) keys() []string {
	if c.Key == "" {
		return []string{"id"}
	}
	return strings.Split(c.Key, ",")
}

// Every column that holds sealed values. In-flight sign-ins' PKCE
// verifiers (sso_flows.secret) are not here: they live minutes, and the
// previous key stays in the ring at least that long (README, "Rotating the
// secret key").
var (
	SealedTOTPSeeds         = SealedColumn{Table: "users", Column: "totp_secret"}
	SealedSPKeys            = SealedColumn{Table: "sso_configs", Column: "sp_key"}
	SealedClientSecrets     = SealedColumn{Table: "sso_configs", Column: "client_secret"}
	SealedPendingSettings   = SealedColumn{Table: "sso_configs", Column: "pending", Text: true}
	SealedSigningKeys       = SealedColumn{Table: "op_keys", Column: "sealed"}
	SealedWebhookSecrets    = SealedColumn{Table: "webhooks", Column: "secret"}
	SealedIdempotentAnswers = SealedColumn{Table: "idempotency_keys", Column: "answer", Key: "principal,idem_key"}
)

// SealedColumns lists them, for the rotation to walk.
var SealedColumns = []SealedColumn{SealedTOTPSeeds, SealedSPKeys, SealedClientSecrets, SealedPendingSettings, SealedSigningKeys,
	SealedWebhookSecrets, SealedIdempotentAnswers}

// SealedValue is one stored sealed value and the key of its row (the
// values of the column's Key columns, in order).
type SealedValue struct {
	Key   []string
	Value []byte
}

// ResealedValue replaces Old with New in Column of the row with Key.
type ResealedValue struct {
	Column   SealedColumn
	Key      []string
	Old, New []byte
}

func known(c SealedColumn) error {
	for _, k := range SealedColumns {
		if k == c {
			return nil
		}
	}
	return fmt.Errorf("store: %s.%s is not a sealed column", c.Table, c.Column)
}

// SealedValues reads every non-empty value of c.
func (s *Store) SealedValues(ctx context.Context, c SealedColumn) ([]SealedValue, error) {
	if err := known(c); err != nil {
		return nil, err
	}
	// The table and column come from the fixed list above, never from input.
	keys := strings.Join(c.keys(), ", ")
	rows, err := s.read.QueryContext(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s IS NOT NULL ORDER BY %s`, c.Column, keys, c.Table, c.Column, keys))
	if err != nil {
		return nil, s.fail("read sealed values", err)
	}
	defer rows.Close()
	var out []SealedValue
	for rows.Next() {
		v := SealedValue{Key: make([]string, len(c.keys()))}
		dest := []any{&v.Value}
		for i := range v.Key {
			dest = append(dest, &v.Key[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, s.fail("read sealed values", err)
		}
		if len(bytes.TrimSpace(v.Value)) > 0 {
			out = append(out, v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("read sealed values", err)
	}
	return out, nil
}

// ReplaceSealedValues writes every change in one transaction, each only
// where the row still holds the value that was read: a value a running
// process wrote meanwhile is sealed with the ring's first key already and
// is left as it is. It returns how many values it replaced.
func (s *Store) ReplaceSealedValues(ctx context.Context, changes []ResealedValue) (int, error) {
	for _, c := range changes {
		if err := known(c.Column); err != nil {
			return 0, err
		}
	}
	n := 0
	err := s.inTx(ctx, func(q querier) error {
		n = 0
		for _, c := range changes {
			var old, new any = c.Old, c.New
			if c.Column.Text {
				old, new = string(c.Old), string(c.New)
			}
			keys := c.Column.keys()
			if len(c.Key) != len(keys) {
				return fmt.Errorf("store: a key of %d values for %s.%s", len(c.Key), c.Column.Table, c.Column.Column)
			}
			where, args := []string{fmt.Sprintf("%s = $2", c.Column.Column)}, []any{new, old}
			for i, k := range keys {
				where = append(where, fmt.Sprintf("%s = $%d", k, i+3))
				args = append(args, c.Key[i])
			}
			res, err := q.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE %s`, c.Column.Table, c.Column.Column, strings.Join(where, " AND ")), args...)
			if err != nil {
				return s.fail("re-seal", err)
			}
			if k, err := res.RowsAffected(); err == nil {
				n += int(k)
			}
		}
		return nil
	})
	return n, err
}
