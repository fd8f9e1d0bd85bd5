// Package scim is Gatehouse's SCIM 2.0 service provider (RFC 7643, RFC
// 7644) at /scim/v2/{account}: the customer's IdP (Entra ID, Okta, Google,
// OneLogin) creates, changes and removes the account's users and groups.
// It is one more adapter over package admin, like the REST API: every
// change is an admin.Service call on behalf of the SCIM token's principal,
// so reach, email normalisation, policy versions, sessions and audit stay
// there. The filter parser and the PATCH applier are pure functions over
// JSON values; the handlers translate requests and answers.
package scim

import (
	"fmt"
	"net/http"
)

// Error is a SCIM error answer (RFC 7644 section 3.12): an HTTP status, a
// scimType for 400s and 409s, and a detail for people.
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim %d: %s", e.Status, e.Detail)
}

// The scimType values RFC 7644 table 9 defines that Gatehouse answers.
const (
	TypeInvalidFilter = "invalidFilter"
	TypeTooMany       = "tooMany"
	TypeUniqueness    = "uniqueness"
	TypeMutability    = "mutability"
	TypeInvalidSyntax = "invalidSyntax"
	TypeInvalidPath   = "invalidPath"
	TypeNoTarget      = "noTarget"
	TypeInvalidValue  = "invalidValue"
	TypeInvalidVers   = "invalidVers"
)

// badRequest is a 400 of scimType t.
func badRequest(t, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: t, Detail: fmt.Sprintf(format, args...)}
}
