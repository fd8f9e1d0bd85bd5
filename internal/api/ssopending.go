package api

import (
	"context"
	"net/http"

	"gatehouse/internal/admin"
	"gatehouse/internal/policy"
)

// handleSSOConfigPending serves Apply and Discard of a configuration's
// pending changes. The body is optional: {"updated_at": ...} acts only on
// the version the caller read.
func handleSSOConfigPending(ownerOf ssoOwnerOf, reach reachFunc,
	op func(context.Context, admin.Principal, policy.Owner, string, admin.PendingInput) (admin.SSOConfigView, error)) apiHandler {
	withBody := handleSSOConfigEdit(ownerOf, reach, op)
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
			return withBody(w, r, who)
		}
		v, err := op(r.Context(), who, ownerOf(r), r.PathValue("config_id"), admin.PendingInput{})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}
