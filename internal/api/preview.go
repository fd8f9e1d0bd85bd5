package api

import (
	"context"
	"net/http"

	"gatehouse"
	"gatehouse/internal/access"
)

// lockoutRefusal returns why enabling configuration c of account a must be
// refused because no admin would keep a way in (SECURITY.md A-lockout), or
// "" when one would.
func (s *server) lockoutRefusal(ctx context.Context, a gatehouse.Account, c gatehouse.SSOConfig) (string, error) {
	p, err := access.EnablePreview(ctx, s.store, a, c.ID)
	if err != nil {
		return "", err
	}
	if p.AdminsWithWayIn == 0 {
		return "no active admin of the account would keep a way in: give an admin a password first", nil
	}
	return "", nil
}

func handleSSOConfigEnablePreview(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		a, c, err := s.accountSSOConfig(r, tok)
		if err != nil {
			return err
		}
		p, err := access.EnablePreview(r.Context(), s.store, a, c.ID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, p)
		return nil
	}
}
