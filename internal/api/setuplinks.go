package api

import (
	"net/http"

	"gatehouse/internal/admin"
)

// Setup links of an account's SSO configurations (issue 14, part 7): a
// link for whoever runs the IdP, which opens that configuration's Set up,
// Connect and Test steps and nothing else. The link's URL, which holds its
// secret, is in the answer to its creation only.

func setupLinkRoutes(s *server) []route {
	a, once := s.authed, s.idempotent
	links := "/api/v1/accounts/{account_id}/sso-configs/{config_id}/setup-links"
	return []route{
		{"GET", links, a(handleSetupLinkList(s))},
		{"POST", links, a(once(handleSetupLinkCreate(s)))},
		{"DELETE", links + "/{link_id}", a(handleSetupLinkRevoke(s))},
	}
}

func handleSetupLinkList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if _, err := queryOf(r); err != nil {
			return err
		}
		links, err := s.admin.SetupLinks(r.Context(), who, accountOwner(r), r.PathValue("config_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, list[admin.SetupLinkView]{Items: links})
		return nil
	}
}

// handleSetupLinkCreate makes a link, with the optional label of a JSON
// body; a request without a body gives none.
func handleSetupLinkCreate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		o, id := accountOwner(r), r.PathValue("config_id")
		// Out of reach answers 404 before the body is read.
		if err := s.admin.Reach(r.Context(), who, o, id); err != nil {
			return err
		}
		var req admin.CreateSetupLinkInput
		if err := decodeOptional(w, r, &req); err != nil {
			return err
		}
		made, err := s.admin.CreateSetupLink(r.Context(), who, o, id, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, made)
		return nil
	}
}

// handleSetupLinkRevoke revokes a link; it stays listed, as revoked.
func handleSetupLinkRevoke(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if _, err := s.admin.RevokeSetupLink(r.Context(), who, accountOwner(r), r.PathValue("config_id"), r.PathValue("link_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
