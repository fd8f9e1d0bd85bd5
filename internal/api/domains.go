package api

import (
	"net/http"

	"gatehouse/internal/admin"
)

// domainRoutes are an account's email domains: claim, list, verify, drop.
func domainRoutes(s *server) []route {
	a, once := s.authed, s.idempotent
	const base = "/api/v1/accounts/{account_id}/domains"
	return []route{
		{"GET", base, a(handleDomainList(s))},
		{"POST", base, a(once(handleDomainClaim(s)))},
		{"POST", base + "/{domain}/verify", a(handleDomainVerify(s))},
		{"DELETE", base + "/{domain}", a(handleDomainDelete(s))},
	}
}

func handleDomainList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		ds, err := s.admin.Domains(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": ds})
		return nil
	}
}

func handleDomainClaim(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		// Out of reach answers 404 before the body is read.
		if _, err := s.admin.Account(r.Context(), who, r.PathValue("account_id")); err != nil {
			return err
		}
		var in admin.DomainInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		d, err := s.admin.ClaimDomain(r.Context(), who, r.PathValue("account_id"), in)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, d)
		return nil
	}
}

func handleDomainVerify(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		d, err := s.admin.VerifyDomain(r.Context(), who, r.PathValue("account_id"), r.PathValue("domain"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, d)
		return nil
	}
}

func handleDomainDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := s.admin.DeleteDomain(r.Context(), who, r.PathValue("account_id"), r.PathValue("domain")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
