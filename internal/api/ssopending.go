package api

import (
	"context"
	"time"

	"gatehouse/internal/admin"
	"gatehouse/internal/policy"
)

// handleSSOConfigPending serves Apply and Discard of a configuration's
// pending changes. The body is optional: {"updated_at": ...}, or If-Match
// with the ETag read, acts only on the version the caller read.
func handleSSOConfigPending(s *server, ownerOf ssoOwnerOf,
	op func(context.Context, admin.Principal, policy.Owner, string, admin.PendingInput) (admin.SSOConfigView, error)) apiHandler {
	return handleSSOConfigVersioned(s, ownerOf, true, func(in *admin.PendingInput) **time.Time { return &in.UpdatedAt }, op)
}
