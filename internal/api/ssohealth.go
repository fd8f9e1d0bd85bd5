package api

import (
	"net/http"

	"gatehouse/internal/admin"
)

// handleSSOConfigHealth answers how a configuration is doing: its latest
// sign-in, its failures of the last 24 hours by reason, its certificates'
// days left, and where its metadata came from.
func handleSSOConfigHealth(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		h, err := s.admin.SSOConfigHealth(r.Context(), who, ownerOf(r), r.PathValue("config_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, h)
		return nil
	}
}

func handleSSOConfigMetadataRefresh(s *server, ownerOf ssoOwnerOf) apiHandler {
	return handleSSOConfigAction(ownerOf, s.admin.RefreshSSOMetadata)
}
