package admin

import (
	"fmt"
	"time"

	"gatehouse/internal/store"
)

// sameVersion refuses, with store.ErrChanged, a change to a resource read
// at version current when the caller read another version (none, zero,
// is any). The store checks the version again in its write, so a change
// made between the two is refused too.
func sameVersion(current, version time.Time) error {
	if version.IsZero() || current.Equal(version) {
		return nil
	}
	return fmt.Errorf("admin: %w", store.ErrChanged)
}
