package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrChanged refuses a write given the version (updated_at) of a row the
// caller read, when the row has changed since: the caller reads it again.
var ErrChanged = errors.New("store: changed since the version read")

// versionClause is the condition that makes a write apply only to the
// version read, with its argument at position n: none when version is
// zero, which is any version.
func versionClause(version time.Time, n int, args []any) (string, []any) {
	if version.IsZero() {
		return "", args
	}
	return fmt.Sprintf(" AND updated_at = $%d", n), append(args, micros(version))
}

// changedOrMissing is the error of a versioned write to row id of table
// that touched no row: ErrChanged when the row is there, else not found.
func (s *Store) changedOrMissing(ctx context.Context, q querier, op, table, id string) error {
	var one int
	if err := q.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = $1`, id).Scan(&one); err != nil {
		return s.fail(op, err)
	}
	return fmt.Errorf("store: %s: %w", op, ErrChanged)
}
