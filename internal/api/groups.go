package api

import (
	"net/http"
	"strings"

	"gatehouse"
	"gatehouse/internal/admin"
)

func handleGroupList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.store.ListGroups(r.Context(), a.ID, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(g gatehouse.Group) string { return g.ID }))
		return nil
	}
}

func handleGroupCreate(s *server) apiHandler {
	type request struct {
		Name string `json:"name"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		g := gatehouse.Group{AccountID: a.ID, Name: admin.CleanName(v, "name", req.Name, false)}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.CreateGroup(r.Context(), &g); err != nil {
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "group.create", PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "group", TargetID: g.ID})
		w.Header().Set("Location", "/api/v1/accounts/"+a.ID+"/groups/"+g.ID)
		writeJSON(w, http.StatusCreated, g)
		return nil
	}
}

func handleGroupGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		g, err := s.group(r.Context(), a, r.PathValue("group_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, g)
		return nil
	}
}

func handleGroupUpdate(s *server) apiHandler {
	type request struct {
		Name *string `json:"name"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		g, err := s.group(r.Context(), a, r.PathValue("group_id"))
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		next := g
		if req.Name != nil {
			next.Name = admin.CleanName(v, "name", *req.Name, false)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if next.Name != g.Name {
			if err := s.store.UpdateGroup(r.Context(), &next); err != nil {
				return err
			}
			s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "group.update", PartitionID: a.PartitionID, AccountID: a.ID,
				TargetType: "group", TargetID: g.ID, Details: map[string]string{"changed": "name"}})
		}
		writeJSON(w, http.StatusOK, next)
		return nil
	}
}

func handleGroupDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		g, err := s.group(r.Context(), a, r.PathValue("group_id"))
		if err != nil {
			return err
		}
		if err := s.store.DeleteGroup(r.Context(), g.ID); err != nil {
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "group.delete", PartitionID: a.PartitionID, AccountID: a.ID,
			TargetType: "group", TargetID: g.ID, Details: map[string]string{"name": g.Name,
				admin.DetailSessionsEnded: s.admin.EndForbiddenSessions(r.Context(), a.ID)}})
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleMemberList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		g, err := s.group(r.Context(), a, r.PathValue("group_id"))
		if err != nil {
			return err
		}
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.store.ListMembers(r.Context(), g.ID, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(u gatehouse.User) string { return u.ID }))
		return nil
	}
}

// membership is the answer to adding a member.
type membership struct {
	GroupID string `json:"group_id"`
	UserID  string `json:"user_id"`
}

func handleMemberAdd(s *server) apiHandler {
	type request struct {
		UserID string `json:"user_id"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		g, err := s.group(r.Context(), a, r.PathValue("group_id"))
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		userID := strings.TrimSpace(req.UserID)
		if userID == "" {
			v := &gatehouse.ValidationError{}
			v.Add("user_id", "must not be empty")
			return v
		}
		// The store refuses a user of another account in the same words as a
		// missing one.
		if err := s.store.AddMember(r.Context(), g.ID, userID); err != nil {
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "group.member_add", PartitionID: a.PartitionID, AccountID: a.ID,
			TargetType: "group", TargetID: g.ID, Details: map[string]string{"user_id": userID,
				admin.DetailSessionsEnded: s.admin.EndForbiddenSessions(r.Context(), a.ID)}})
		w.Header().Set("Location", "/api/v1/accounts/"+a.ID+"/groups/"+g.ID+"/members/"+userID)
		writeJSON(w, http.StatusCreated, membership{GroupID: g.ID, UserID: userID})
		return nil
	}
}

func handleMemberRemove(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		g, err := s.group(r.Context(), a, r.PathValue("group_id"))
		if err != nil {
			return err
		}
		userID := r.PathValue("user_id")
		if err := s.store.RemoveMember(r.Context(), g.ID, userID); err != nil {
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "group.member_remove", PartitionID: a.PartitionID, AccountID: a.ID,
			TargetType: "group", TargetID: g.ID, Details: map[string]string{"user_id": userID,
				admin.DetailSessionsEnded: s.admin.EndForbiddenSessions(r.Context(), a.ID)}})
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
