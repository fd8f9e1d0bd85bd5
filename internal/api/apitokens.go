package api

import (
	"errors"
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/apitoken"
)

// API tokens (issue 16, part 3): a token lists and revokes the API tokens
// its scope reaches (a super token all, a partition token its partition's
// and its accounts', an account token its account's). Secrets are never in
// an answer; tokens are made with `gatehouse admin token create`.

func apiTokenRoutes(s *server) []route {
	a := s.authed
	return []route{
		{"GET", "/api/v1/api-tokens", a(handleAPITokenList(s))},
		{"GET", "/api/v1/api-tokens/{token_id}", a(handleAPITokenGet(s))},
		{"DELETE", "/api/v1/api-tokens/{token_id}", a(handleAPITokenRevoke(s))},
	}
}

func handleAPITokenList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.admin.APITokens(r.Context(), who, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(t gatehouse.APIToken) string { return t.ID }))
		return nil
	}
}

func handleAPITokenGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if _, err := queryOf(r); err != nil {
			return err
		}
		t, err := s.admin.APIToken(r.Context(), who, r.PathValue("token_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, t)
		return nil
	}
}

func handleAPITokenRevoke(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if _, err := s.admin.RevokeAPIToken(r.Context(), who, r.PathValue("token_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// tokenRefusal is the detail of a 401 for a token that did not
// authenticate: an expired or revoked token says so, so that its holder
// knows to ask for a new one rather than look for a typo.
func tokenRefusal(err error) string {
	switch {
	case errors.Is(err, apitoken.ErrExpired):
		return "the API token has expired: ask an administrator for a new one"
	case errors.Is(err, apitoken.ErrRevoked):
		return "the API token was revoked: ask an administrator for a new one"
	}
	return "the API token is not valid"
}
