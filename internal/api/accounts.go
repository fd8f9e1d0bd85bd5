package api

import (
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
)

func handleAccountList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		q, err := queryOf(r, "limit", "after", "partition_id")
		if err != nil {
			return err
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		items, err := s.admin.Accounts(r.Context(), who, q.Get("partition_id"), page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(a gatehouse.Account) string { return a.ID }))
		return nil
	}
}

func handleAccountCreate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := admin.MayCreateAccount(who); err != nil {
			return err
		}
		var req admin.AccountInput
		if err := decode(w, r, &req); err != nil {
			return err
		}
		a, err := s.admin.CreateAccount(r.Context(), who, req)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/accounts/"+a.ID)
		writeJSON(w, http.StatusCreated, a)
		return nil
	}
}

func handleAccountGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, a)
		return nil
	}
}

func handleAccountUpdate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		id := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, id); err != nil {
			return err
		}
		var req admin.AccountUpdate
		if err := decode(w, r, &req); err != nil {
			return err
		}
		a, err := s.admin.UpdateAccount(r.Context(), who, id, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, a)
		return nil
	}
}

func handleAccountDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := s.admin.DeleteAccount(r.Context(), who, r.PathValue("account_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
