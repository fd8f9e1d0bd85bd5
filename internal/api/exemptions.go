package api

import (
	"net/http"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
)

func handleExemptionList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		q, err := queryOf(r, "limit", "after", "q")
		if err != nil {
			return err
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		items, err := s.admin.ExemptionLists(r.Context(), who, accountID, q.Get("q"), page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(l gatehouse.ExemptionList) string { return l.ID }))
		return nil
	}
}

func handleExemptionCreate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		var req admin.ExemptionListInput
		if err := decode(w, r, &req); err != nil {
			return err
		}
		l, err := s.admin.CreateExemptionList(r.Context(), who, accountID, req)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/accounts/"+l.AccountID+"/exemptions/"+l.ID)
		writeJSON(w, http.StatusCreated, l)
		return nil
	}
}

func handleExemptionGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		l, err := s.admin.ExemptionList(r.Context(), who, r.PathValue("account_id"), r.PathValue("list_id"))
		if err != nil {
			return err
		}
		setETag(w, l.ID, l.UpdatedAt)
		writeJSON(w, http.StatusOK, l)
		return nil
	}
}

func handleExemptionUpdate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, id := r.PathValue("account_id"), r.PathValue("list_id")
		cond, err := ifMatchOf(r)
		if err != nil {
			return err
		}
		// Out of reach answers 404 before the body is read.
		read, err := s.admin.ExemptionList(r.Context(), who, accountID, id)
		if err != nil {
			return err
		}
		if err := cond.check(read.ID, read.UpdatedAt); err != nil {
			return err
		}
		var req admin.ExemptionListUpdate
		if err := decode(w, r, &req); err != nil {
			return err
		}
		l, err := s.admin.UpdateExemptionListIf(r.Context(), who, accountID, id, req, cond.version(read.UpdatedAt))
		if err != nil {
			return cond.refusal(err)
		}
		setETag(w, l.ID, l.UpdatedAt)
		writeJSON(w, http.StatusOK, l)
		return nil
	}
}

func handleExemptionDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, id := r.PathValue("account_id"), r.PathValue("list_id")
		cond, err := ifMatchOf(r)
		if err != nil {
			return err
		}
		var version time.Time
		if cond.given {
			read, err := s.admin.ExemptionList(r.Context(), who, accountID, id)
			if err != nil {
				return err
			}
			if err := cond.check(read.ID, read.UpdatedAt); err != nil {
				return err
			}
			version = cond.version(read.UpdatedAt)
		}
		if err := s.admin.DeleteExemptionListIf(r.Context(), who, accountID, id, version); err != nil {
			return cond.refusal(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleExemptionCandidates(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		q, err := queryOf(r, "limit", "after", "q", "kind")
		if err != nil {
			return err
		}
		kind := gatehouse.ExemptionKind(q.Get("kind"))
		if !kind.Valid() {
			return badRequest(`kind must be "users" or "groups"`, gatehouse.FieldError{Field: "kind", Message: `must be "users" or "groups"`})
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		items, err := s.admin.ExemptionCandidates(r.Context(), who, accountID, kind, q.Get("q"), page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(c gatehouse.ExemptionCandidate) string { return c.ID }))
		return nil
	}
}
