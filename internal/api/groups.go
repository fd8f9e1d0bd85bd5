package api

import (
	"net/http"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
)

func handleGroupList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.admin.Groups(r.Context(), who, accountID, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(g gatehouse.Group) string { return g.ID }))
		return nil
	}
}

func handleGroupCreate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		var req admin.GroupInput
		if err := decode(w, r, &req); err != nil {
			return err
		}
		g, err := s.admin.CreateGroup(r.Context(), who, accountID, req)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/accounts/"+g.AccountID+"/groups/"+g.ID)
		writeJSON(w, http.StatusCreated, g)
		return nil
	}
}

func handleGroupGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		g, err := s.admin.Group(r.Context(), who, r.PathValue("account_id"), r.PathValue("group_id"))
		if err != nil {
			return err
		}
		setETag(w, g.ID, g.UpdatedAt)
		writeJSON(w, http.StatusOK, g)
		return nil
	}
}

func handleGroupUpdate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, id := r.PathValue("account_id"), r.PathValue("group_id")
		cond, err := ifMatchOf(r)
		if err != nil {
			return err
		}
		read, err := s.admin.Group(r.Context(), who, accountID, id)
		if err != nil {
			return err
		}
		if err := cond.check(read.ID, read.UpdatedAt); err != nil {
			return err
		}
		var req admin.GroupUpdate
		if err := decode(w, r, &req); err != nil {
			return err
		}
		g, err := s.admin.UpdateGroupIf(r.Context(), who, accountID, id, req, cond.version(read.UpdatedAt))
		if err != nil {
			return cond.refusal(err)
		}
		setETag(w, g.ID, g.UpdatedAt)
		writeJSON(w, http.StatusOK, g)
		return nil
	}
}

func handleGroupDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, id := r.PathValue("account_id"), r.PathValue("group_id")
		cond, err := ifMatchOf(r)
		if err != nil {
			return err
		}
		var version time.Time
		if cond.given {
			read, err := s.admin.Group(r.Context(), who, accountID, id)
			if err != nil {
				return err
			}
			if err := cond.check(read.ID, read.UpdatedAt); err != nil {
				return err
			}
			version = cond.version(read.UpdatedAt)
		}
		if err := s.admin.DeleteGroupIf(r.Context(), who, accountID, id, version); err != nil {
			return cond.refusal(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleMemberList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, groupID := r.PathValue("account_id"), r.PathValue("group_id")
		if _, err := s.admin.Group(r.Context(), who, accountID, groupID); err != nil {
			return err
		}
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.admin.GroupMembers(r.Context(), who, accountID, groupID, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(u gatehouse.User) string { return u.ID }))
		return nil
	}
}

func handleMemberAdd(s *server) apiHandler {
	type request struct {
		UserID string `json:"user_id"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID, groupID := r.PathValue("account_id"), r.PathValue("group_id")
		if _, err := s.admin.Group(r.Context(), who, accountID, groupID); err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		m, err := s.admin.AddGroupMember(r.Context(), who, accountID, groupID, req.UserID)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/accounts/"+accountID+"/groups/"+m.GroupID+"/members/"+m.UserID)
		writeJSON(w, http.StatusCreated, m)
		return nil
	}
}

func handleMemberRemove(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		err := s.admin.RemoveGroupMember(r.Context(), who, r.PathValue("account_id"), r.PathValue("group_id"), r.PathValue("user_id"))
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
