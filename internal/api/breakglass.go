package api

import (
	"errors"
	"net/http"

	"gatehouse/internal/admin"
)

func handleBreakGlass(s *server) apiHandler {
	type request struct {
		Reason string `json:"reason"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		// Out of reach answers 404, and a token that may not 403, before
		// the body is read.
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		if !admin.MayBreakGlass(who) {
			return errBreakGlassForbidden
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		res, err := s.admin.BreakGlass(r.Context(), who, accountID, req.Reason)
		switch {
		case errors.Is(err, admin.ErrNoSSOEnabled):
			return &problem{Status: http.StatusConflict,
				Detail: "no SSO enabled: the account has no enabled SSO configuration and does not use its partition's; password sign-in already works"}
		case errors.Is(err, admin.ErrForbidden):
			return errBreakGlassForbidden
		case err != nil:
			return err
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	}
}

var errBreakGlassForbidden = forbidden("break-glass needs a super token; the account's admins turn SSO off with POST …/sso-configs/{config_id}/disable")
