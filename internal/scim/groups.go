package scim

import (
	"net/http"
	"slices"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
)

func (s *server) listGroups(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	p, err := readListParams(r)
	if err != nil {
		return err
	}
	groups, err := s.admin.SCIMGroups(r.Context(), who, accountID)
	if err != nil {
		return err
	}
	base := s.baseURL(accountID)
	withMembers := !containsFold(p.Excluded, "members") && (len(p.Attributes) == 0 || containsFold(p.Attributes, "members"))
	var matches []map[string]any
	for _, g := range groups {
		var members []store.MemberRef
		if withMembers {
			if _, members, err = s.admin.SCIMGroup(r.Context(), who, accountID, g.ID); err != nil {
				return err
			}
		}
		res := renderGroup(g, members, withMembers, base)
		if p.Filter == nil || Match(p.Filter, res, GroupSchema) {
			matches = append(matches, res)
		}
	}
	writeJSON(w, http.StatusOK, listResponse(matches, p))
	return nil
}

func (s *server) groupResource(r *http.Request, who admin.Principal, accountID, id string) (map[string]any, []store.MemberRef, error) {
	g, members, err := s.admin.SCIMGroup(r.Context(), who, accountID, id)
	if err != nil {
		return nil, nil, err
	}
	return renderGroup(g, members, true, s.baseURL(accountID)), members, nil
}

func (s *server) getGroup(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	p, err := readListParams(r)
	if err != nil {
		return err
	}
	res, _, err := s.groupResource(r, who, accountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, project(res, p))
	return nil
}

func (s *server) createGroup(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	f, err := readGroup(obj)
	if err != nil {
		return err
	}
	ctx := r.Context()
	g, err := s.admin.CreateGroup(ctx, who, accountID, admin.GroupInput{Name: f.DisplayName})
	if err != nil {
		return err
	}
	if err := s.saveGroup(r, who, accountID, g, nil, f); err != nil {
		if derr := s.admin.DeleteGroup(background(ctx), who, accountID, g.ID); derr != nil {
			s.logger.Error("scim: group created but neither kept nor removed", "group_id", g.ID, "err", derr)
		}
		return err
	}
	res, _, err := s.groupResource(r, who, accountID, g.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.baseURL(accountID)+"/Groups/"+g.ID)
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// saveGroup makes group g (whose members are now cur) what f says: its
// name, its externalId and its members, each membership change an
// admin.AddGroupMember or RemoveGroupMember (audited, and the sessions an
// exemption by group no longer allows end).
func (s *server) saveGroup(r *http.Request, who admin.Principal, accountID string, g gatehouse.Group, cur []store.MemberRef, f groupFields) error {
	ctx := r.Context()
	// Every new member must be a user of this account before anything changes.
	for _, id := range f.Members {
		if !slices.ContainsFunc(cur, func(m store.MemberRef) bool { return m.UserID == id }) {
			if _, err := s.admin.User(ctx, who, accountID, id); err != nil {
				return badRequest(TypeInvalidValue, "members: %q is no user of this account", id)
			}
		}
	}
	if f.DisplayName != g.Name {
		if _, err := s.admin.UpdateGroup(ctx, who, accountID, g.ID, admin.GroupUpdate{Name: &f.DisplayName}); err != nil {
			return err
		}
	}
	ctx = background(ctx)
	if err := s.admin.PutSCIMGroup(ctx, who, accountID, gatehouse.SCIMGroup{GroupID: g.ID, ExternalID: f.ExternalID}); err != nil {
		return err
	}
	for _, m := range cur {
		if !slices.Contains(f.Members, m.UserID) {
			if err := s.admin.RemoveGroupMember(ctx, who, accountID, g.ID, m.UserID); err != nil {
				return err
			}
		}
	}
	for _, id := range f.Members {
		if !slices.ContainsFunc(cur, func(m store.MemberRef) bool { return m.UserID == id }) {
			if _, err := s.admin.AddGroupMember(ctx, who, accountID, g.ID, id); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *server) putGroup(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	id := r.PathValue("id")
	g, err := s.admin.Group(r.Context(), who, accountID, id)
	if err != nil {
		return err
	}
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	f, err := readGroup(obj)
	if err != nil {
		return err
	}
	_, cur, err := s.admin.SCIMGroup(r.Context(), who, accountID, id)
	if err != nil {
		return err
	}
	if err := s.saveGroup(r, who, accountID, g, cur, f); err != nil {
		return err
	}
	return s.answerGroup(w, r, who, accountID, id)
}

func (s *server) answerGroup(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID, id string) error {
	res, _, err := s.groupResource(r, who, accountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *server) patchGroup(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	id := r.PathValue("id")
	g, err := s.admin.Group(r.Context(), who, accountID, id)
	if err != nil {
		return err
	}
	ops, err := readPatch(r)
	if err != nil {
		return err
	}
	res, cur, err := s.groupResource(r, who, accountID, id)
	if err != nil {
		return err
	}
	delete(res, "meta")
	if err := ApplyPatch(res, GroupSchema, ops); err != nil {
		return err
	}
	f, err := readGroup(res)
	if err != nil {
		return err
	}
	if err := s.saveGroup(r, who, accountID, g, cur, f); err != nil {
		return err
	}
	return s.answerGroup(w, r, who, accountID, id)
}

func (s *server) deleteGroup(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	if err := s.admin.DeleteGroup(r.Context(), who, accountID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
