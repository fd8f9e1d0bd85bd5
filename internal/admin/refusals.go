package admin

import (
	"fmt"

	"gatehouse"
)

// ForbiddenError is an operation the principal can see but may not perform,
// with the reason in words for whoever asked. It matches ErrForbidden.
type ForbiddenError struct {
	Reason string
}

func (e *ForbiddenError) Error() string { return "admin: forbidden: " + e.Reason }

// Is makes errors.Is(err, ErrForbidden) true for a *ForbiddenError.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// RefusalError is a change refused for what it would do to how people sign
// in: leave an account's admins without a way in, silently turn off the SSO
// people are forced to, or open a password way around the IdP. The refusal
// is audited before it is returned. It matches gatehouse.ErrConflict.
type RefusalError struct {
	// Field is what must change first: "admins", "plan" or "password".
	Field string
	// Change is what was refused, e.g. "cannot change the plan to
	// standard"; empty when Reason says it.
	Change string
	// Reason says why, and what to do first.
	Reason string
}

func (e *RefusalError) Error() string {
	if e.Change == "" {
		return e.Reason
	}
	return e.Change + ": " + e.Reason
}

// Is makes errors.Is(err, gatehouse.ErrConflict) true for a *RefusalError.
func (e *RefusalError) Is(target error) bool { return target == gatehouse.ErrConflict }

// ErrEmailTaken refuses a user whose email another user of the account
// has. It is a gatehouse.ErrConflict too.
var ErrEmailTaken = fmt.Errorf("admin: another user of this account has this email: %w", gatehouse.ErrConflict)
