package api

import (
	"net/http"

	"gatehouse/internal/admin"
)

// SCIM provisioning of an account (issue 15, part 1): its status (the
// base URL to give the IdP, its tokens, the last sync and the last failed
// requests) and its SCIM tokens, whose plaintext is in the answer to their
// creation only. The SCIM endpoint itself is package scim's.

func scimRoutes(s *server) []route {
	a, once := s.authed, s.idempotent
	return []route{
		{"GET", "/api/v1/accounts/{account_id}/scim", a(handleSCIMStatus(s))},
		{"POST", "/api/v1/accounts/{account_id}/scim-tokens", a(once(handleSCIMTokenCreate(s)))},
		{"DELETE", "/api/v1/accounts/{account_id}/scim-tokens/{token_id}", a(handleSCIMTokenRevoke(s))},
	}
}

func handleSCIMStatus(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if _, err := queryOf(r); err != nil {
			return err
		}
		st, err := s.admin.SCIMStatus(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, st)
		return nil
	}
}

func handleSCIMTokenCreate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		var req admin.SCIMTokenInput
		if err := decode(w, r, &req); err != nil {
			return err
		}
		made, err := s.admin.CreateSCIMToken(r.Context(), who, accountID, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, made)
		return nil
	}
}

func handleSCIMTokenRevoke(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := s.admin.RevokeSCIMToken(r.Context(), who, r.PathValue("account_id"), r.PathValue("token_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
