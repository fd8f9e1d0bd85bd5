package scim

import (
	"net/http"
	"strings"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
)

func (s *server) listUsers(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	p, err := readListParams(r)
	if err != nil {
		return err
	}
	base := s.baseURL(accountID)
	var users []store.SCIMProvisioned
	if attr, value, ok := eqKey(p.Filter); ok {
		var email, userName, externalID string
		switch attr {
		case "userName":
			userName = value
			if e, err := gatehouse.NormalizeEmail(value); err == nil {
				email = e // a user SCIM never touched has their email as userName
			}
		case "externalId":
			externalID = value
		case "emails":
			if e, err := gatehouse.NormalizeEmail(value); err == nil {
				email = e
			}
		}
		ids, err := s.admin.SCIMUserIDsByKey(r.Context(), who, accountID, email, userName, externalID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			u, _, err := s.admin.SCIMUser(r.Context(), who, accountID, id)
			if err != nil {
				return err
			}
			users = append(users, u)
		}
	} else {
		users, err = s.admin.SCIMUsers(r.Context(), who, accountID)
		if err != nil {
			return err
		}
	}
	var matches []map[string]any
	for _, u := range users {
		res := renderUser(u, nil, base)
		if p.Filter == nil || Match(p.Filter, res, UserSchema) {
			matches = append(matches, res)
		}
	}
	// The page's users get their groups (the list read none).
	out := listResponse(matches, p)
	for _, v := range out["Resources"].([]any) {
		res := v.(map[string]any)
		id, _ := res["id"].(string)
		if id == "" || (len(p.Attributes) > 0 && !containsFold(p.Attributes, "groups")) || containsFold(p.Excluded, "groups") {
			continue
		}
		_, groups, err := s.admin.SCIMUser(r.Context(), who, accountID, id)
		if err != nil {
			return err
		}
		if full := renderUser(store.SCIMProvisioned{}, groups, base); full["groups"] != nil {
			res["groups"] = full["groups"]
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func (s *server) getUser(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	p, err := readListParams(r)
	if err != nil {
		return err
	}
	res, err := s.userResource(r, who, accountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, project(res, p))
	return nil
}

func (s *server) userResource(r *http.Request, who admin.Principal, accountID, id string) (map[string]any, error) {
	u, groups, err := s.admin.SCIMUser(r.Context(), who, accountID, id)
	if err != nil {
		return nil, err
	}
	return renderUser(u, groups, s.baseURL(accountID)), nil
}

func (s *server) createUser(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	f, err := readUser(obj)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if ids, err := s.admin.SCIMUserIDsByKey(ctx, who, accountID, "", f.UserName, ""); err != nil {
		return err
	} else if len(ids) > 0 {
		return &Error{Status: http.StatusConflict, ScimType: TypeUniqueness, Detail: "another user of this account has this userName"}
	}
	status := gatehouse.UserActive
	if !f.Active {
		status = gatehouse.UserDisabled
	}
	u, err := s.admin.CreateUser(ctx, who, accountID, admin.UserInput{Email: f.Email, DisplayName: f.DisplayName, Status: status})
	if err != nil {
		return err
	}
	// The user exists: keeping what SCIM knows of them must not stop half way.
	if err := s.admin.PutSCIMUser(background(ctx), who, accountID, gatehouse.SCIMUser{UserID: u.ID, UserName: f.UserName,
		ExternalID: f.ExternalID, Attributes: f.attrsJSON()}); err != nil {
		if derr := s.admin.DeleteUser(background(ctx), who, accountID, u.ID); derr != nil {
			s.logger.Error("scim: user created but neither kept nor removed", "user_id", u.ID, "err", derr)
		}
		return err
	}
	res, err := s.userResource(r, who, accountID, u.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.baseURL(accountID)+"/Users/"+u.ID)
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// saveUser makes user id what f says: the seat's email, display name and
// status through admin.UpdateUser (which disables, ends sessions and
// grants, guards the last way in and audits), and the rest as SCIM's.
func (s *server) saveUser(r *http.Request, who admin.Principal, accountID, id string, f userFields) error {
	ctx := r.Context()
	cur, err := s.admin.UserToChange(ctx, who, accountID, id)
	if err != nil {
		return err
	}
	ids, err := s.admin.SCIMUserIDsByKey(ctx, who, accountID, "", f.UserName, "")
	if err != nil {
		return err
	}
	for _, other := range ids {
		if other != id {
			return &Error{Status: http.StatusConflict, ScimType: TypeUniqueness, Detail: "another user of this account has this userName"}
		}
	}
	var in admin.UserUpdate
	if email, err := gatehouse.NormalizeEmail(f.Email); err != nil || email != cur.Email {
		if cur.Role != gatehouse.RoleUser {
			// SECURITY.md A-scim-admin-email: an IdP's token moving an
			// admin's email would move where the admin's password reset goes.
			return &Error{Status: http.StatusForbidden, Detail: "SCIM does not change an admin's email; an admin of the account does"}
		}
		in.Email = &f.Email
	}
	if f.DisplayName != cur.DisplayName {
		in.DisplayName = &f.DisplayName
	}
	status := gatehouse.UserActive
	if !f.Active {
		status = gatehouse.UserDisabled
	}
	if status != cur.Status {
		in.Status = &status
	}
	if in.Email != nil || in.DisplayName != nil || in.Status != nil {
		if _, err := s.admin.UpdateUser(ctx, who, accountID, id, in); err != nil {
			return err
		}
	}
	return s.admin.PutSCIMUser(background(ctx), who, accountID, gatehouse.SCIMUser{UserID: id, UserName: f.UserName,
		ExternalID: f.ExternalID, Attributes: f.attrsJSON()})
}

func (s *server) putUser(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	id := r.PathValue("id")
	if _, err := s.admin.UserToChange(r.Context(), who, accountID, id); err != nil {
		return err
	}
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	f, err := readUser(obj)
	if err != nil {
		return err
	}
	if err := s.saveUser(r, who, accountID, id, f); err != nil {
		return err
	}
	return s.answerUser(w, r, who, accountID, id)
}

func (s *server) answerUser(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID, id string) error {
	res, err := s.userResource(r, who, accountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// readPatch reads a PatchOp body.
func readPatch(r *http.Request) ([]PatchOp, error) {
	obj, err := readObject(r)
	if err != nil {
		return nil, err
	}
	if schemas, ok := obj["schemas"].([]any); ok && !containsFold(anyStrings(schemas), URNPatchOp) {
		return nil, badRequest(TypeInvalidSyntax, "a PATCH body's schemas must be %s", URNPatchOp)
	}
	raw, ok := obj["Operations"]
	if !ok {
		raw = getFold(obj, "Operations")
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, badRequest(TypeInvalidSyntax, "a PATCH body needs an Operations list")
	}
	ops := make([]PatchOp, 0, len(list))
	for i, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, badRequest(TypeInvalidSyntax, "Operations[%d] is not an object", i)
		}
		op, _ := getFold(m, "op").(string)
		path, isStr := getFold(m, "path").(string)
		if !isStr && getFold(m, "path") != nil {
			return nil, badRequest(TypeInvalidPath, "Operations[%d].path must be a string", i)
		}
		ops = append(ops, PatchOp{Op: op, Path: path, Value: getFold(m, "value")})
	}
	return ops, nil
}

func anyStrings(vs []any) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, str0(v))
	}
	return out
}

func (s *server) patchUser(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	id := r.PathValue("id")
	if _, err := s.admin.UserToChange(r.Context(), who, accountID, id); err != nil {
		return err
	}
	ops, err := readPatch(r)
	if err != nil {
		return err
	}
	res, err := s.userResource(r, who, accountID, id)
	if err != nil {
		return err
	}
	delete(res, "groups")
	delete(res, "meta")
	if err := ApplyPatch(res, UserSchema, ops); err != nil {
		return err
	}
	f, err := readUser(res)
	if err != nil {
		return err
	}
	if err := s.saveUser(r, who, accountID, id, f); err != nil {
		return err
	}
	return s.answerUser(w, r, who, accountID, id)
}

// deleteUser removes the seat (admin.DeleteUser: its sessions, grants and
// memberships go with it).
func (s *server) deleteUser(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error {
	if err := s.admin.DeleteUser(r.Context(), who, accountID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
