package api

import (
	"errors"
	"net/http"

	"gatehouse/internal/admin"
)

// recoveryRoutes are a user's sign-in lock and password reset link (issue
// 15, part 3).
func recoveryRoutes(s *server) []route {
	a := s.authed
	return []route{
		{"GET", "/api/v1/accounts/{account_id}/users/{user_id}/lock", a(handleUserLock(s))},
		{"POST", "/api/v1/accounts/{account_id}/users/{user_id}/unlock", a(handleUserUnlock(s))},
		{"POST", "/api/v1/accounts/{account_id}/users/{user_id}/password-reset", a(handleUserPasswordReset(s))},
	}
}

func handleUserLock(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		st, err := s.admin.UserLock(r.Context(), who, r.PathValue("account_id"), r.PathValue("user_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, st)
		return nil
	}
}

func handleUserUnlock(s *server) apiHandler {
	type response struct {
		WasLocked bool `json:"was_locked"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		was, err := s.admin.UnlockUser(r.Context(), who, r.PathValue("account_id"), r.PathValue("user_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, response{WasLocked: was})
		return nil
	}
}

func handleUserPasswordReset(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		err := s.admin.SendResetLink(r.Context(), who, r.PathValue("account_id"), r.PathValue("user_id"))
		if errors.Is(err, admin.ErrNoMail) {
			return &problem{Status: http.StatusServiceUnavailable, Detail: err.Error()}
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
}
