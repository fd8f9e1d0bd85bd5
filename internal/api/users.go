package api

import (
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
)

func handleUserList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.admin.Users(r.Context(), who, accountID, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(u gatehouse.User) string { return u.ID }))
		return nil
	}
}

func handleUserCreate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		var req admin.UserInput
		if err := decode(w, r, &req); err != nil {
			return err
		}
		u, err := s.admin.CreateUser(r.Context(), who, accountID, req)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/accounts/"+u.AccountID+"/users/"+u.ID)
		writeJSON(w, http.StatusCreated, u)
		return nil
	}
}

func handleUserGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		u, err := s.admin.User(r.Context(), who, r.PathValue("account_id"), r.PathValue("user_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, u)
		return nil
	}
}

func handleUserUpdate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, id := r.PathValue("account_id"), r.PathValue("user_id")
		if _, err := s.admin.UserToChange(r.Context(), who, accountID, id); err != nil {
			return err
		}
		var req admin.UserUpdate
		if err := decode(w, r, &req); err != nil {
			return err
		}
		u, err := s.admin.UpdateUser(r.Context(), who, accountID, id, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, u)
		return nil
	}
}

func handleUserDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := s.admin.DeleteUser(r.Context(), who, r.PathValue("account_id"), r.PathValue("user_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleUserSetPassword(s *server) apiHandler {
	type request struct {
		Password string `json:"password"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, id := r.PathValue("account_id"), r.PathValue("user_id")
		if _, err := s.admin.UserToChange(r.Context(), who, accountID, id); err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		if err := s.admin.SetUserPassword(r.Context(), who, accountID, id, req.Password); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
