package api

import (
	"net/http"
	"time"

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
		setETag(w, u.ID, u.UpdatedAt)
		writeJSON(w, http.StatusOK, u)
		return nil
	}
}

func handleUserUpdate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, id := r.PathValue("account_id"), r.PathValue("user_id")
		cond, err := ifMatchOf(r)
		if err != nil {
			return err
		}
		read, err := s.admin.UserToChange(r.Context(), who, accountID, id)
		if err != nil {
			return err
		}
		if err := cond.check(read.ID, read.UpdatedAt); err != nil {
			return err
		}
		var req admin.UserUpdate
		if err := decode(w, r, &req); err != nil {
			return err
		}
		u, err := s.admin.UpdateUserIf(r.Context(), who, accountID, id, req, cond.version(read.UpdatedAt))
		if err != nil {
			return cond.refusal(err)
		}
		setETag(w, u.ID, u.UpdatedAt)
		writeJSON(w, http.StatusOK, u)
		return nil
	}
}

func handleUserDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, id := r.PathValue("account_id"), r.PathValue("user_id")
		cond, err := ifMatchOf(r)
		if err != nil {
			return err
		}
		var version time.Time
		if cond.given {
			read, err := s.admin.UserToChange(r.Context(), who, accountID, id)
			if err != nil {
				return err
			}
			if err := cond.check(read.ID, read.UpdatedAt); err != nil {
				return err
			}
			version = cond.version(read.UpdatedAt)
		}
		if err := s.admin.DeleteUserIf(r.Context(), who, accountID, id, version); err != nil {
			return cond.refusal(err)
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
