package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/admin"
	"gatehouse/internal/password"
)

func handleUserList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.store.ListUsers(r.Context(), a.ID, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(u gatehouse.User) string { return u.ID }))
		return nil
	}
}

// checkUser validates a user's role and status on v, and that who may grant
// the role.
func checkUser(v *gatehouse.ValidationError, who admin.Principal, u gatehouse.User) {
	switch {
	case !u.Role.Valid():
		v.Add("role", "must be user, admin, partition_admin or super_admin")
	case !admin.WithinReach(who, u.Role):
		v.Add("role", "this token can grant at most "+string(admin.HighestRole(who)))
	}
	if !u.Status.Valid() {
		v.Add("status", "must be active or disabled")
	}
}

// beyondReach refuses changes to a user whose role is above the token's, so
// that a narrower token cannot take over a wider administrator.
// userToChange loads the account and user a request's path names, for a
// change: both within who's reach, and the user's role not above it.
func (s *server) userToChange(r *http.Request, who admin.Principal) (gatehouse.Account, gatehouse.User, error) {
	a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
	if err != nil {
		return a, gatehouse.User{}, err
	}
	u, err := s.user(r.Context(), a, r.PathValue("user_id"))
	if err != nil {
		return a, u, err
	}
	return a, u, beyondReach(who, u)
}

func beyondReach(who admin.Principal, u gatehouse.User) error {
	if admin.WithinReach(who, u.Role) {
		return nil
	}
	return forbidden("this token cannot change a user whose role is " + string(u.Role))
}

// emailTaken gives a store conflict on email its user-facing words.
func emailTaken(err error) error {
	var c *gatehouse.ConflictError
	if errors.As(err, &c) && c.Field == "email" {
		return &problem{Status: http.StatusConflict, Detail: "another user of this account has this email",
			Errors: []gatehouse.FieldError{{Field: "email", Message: "is already used in this account"}}}
	}
	return err
}

func handleUserCreate(s *server) apiHandler {
	type request struct {
		Email       string               `json:"email"`
		DisplayName string               `json:"display_name"`
		Role        gatehouse.Role       `json:"role"`
		Status      gatehouse.UserStatus `json:"status"`
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
		u := gatehouse.User{
			AccountID:   a.ID,
			Email:       cleanEmail(v, req.Email),
			DisplayName: admin.CleanName(v, "display_name", req.DisplayName, true),
			Role:        req.Role,
			Status:      req.Status,
		}
		if u.Role == "" {
			u.Role = gatehouse.RoleUser
		}
		if u.Status == "" {
			u.Status = gatehouse.UserActive
		}
		checkUser(v, who, u)
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.CreateUser(r.Context(), &u); err != nil {
			return emailTaken(err)
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "user.create", PartitionID: a.PartitionID, AccountID: a.ID,
			TargetType: "user", TargetID: u.ID, Details: map[string]string{"role": string(u.Role)}})
		w.Header().Set("Location", "/api/v1/accounts/"+a.ID+"/users/"+u.ID)
		writeJSON(w, http.StatusCreated, u)
		return nil
	}
}

func handleUserGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		u, err := s.user(r.Context(), a, r.PathValue("user_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, u)
		return nil
	}
}

func handleUserUpdate(s *server) apiHandler {
	type request struct {
		Email       *string               `json:"email"`
		DisplayName *string               `json:"display_name"`
		Role        *gatehouse.Role       `json:"role"`
		Status      *gatehouse.UserStatus `json:"status"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, u, err := s.userToChange(r, who)
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		next := u
		if req.Email != nil {
			next.Email = cleanEmail(v, *req.Email)
		}
		if req.DisplayName != nil {
			next.DisplayName = admin.CleanName(v, "display_name", *req.DisplayName, true)
		}
		if req.Role != nil {
			next.Role = *req.Role
		}
		if req.Status != nil {
			next.Status = *req.Status
		}
		checkUser(v, who, next)
		if err := v.Err(); err != nil {
			return err
		}
		var changed []string
		details := map[string]string{}
		if next.Email != u.Email {
			changed = append(changed, "email")
		}
		if next.DisplayName != u.DisplayName {
			changed = append(changed, "display_name")
		}
		if next.Role != u.Role {
			changed = append(changed, "role")
			details["role"] = string(next.Role)
		}
		if next.Status != u.Status {
			changed = append(changed, "status")
			details["status"] = string(next.Status)
		}
		if len(changed) > 0 {
			if err := s.store.UpdateUser(r.Context(), &next); err != nil {
				s.recordLastWayIn(r.Context(), who, a, "user.update", u.ID, err)
				return emailTaken(err)
			}
			details["changed"] = strings.Join(changed, ",")
			if next.Role != u.Role {
				details[admin.DetailSessionsEnded] = s.admin.EndForbiddenSessions(r.Context(), a.ID)
			}
			s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "user.update", PartitionID: a.PartitionID, AccountID: a.ID,
				TargetType: "user", TargetID: u.ID, Details: details})
		}
		writeJSON(w, http.StatusOK, next)
		return nil
	}
}

func handleUserDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, u, err := s.userToChange(r, who)
		if err != nil {
			return err
		}
		if err := s.store.DeleteUser(r.Context(), u.ID); err != nil {
			s.recordLastWayIn(r.Context(), who, a, "user.delete", u.ID, err)
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "user.delete", PartitionID: a.PartitionID, AccountID: a.ID,
			TargetType: "user", TargetID: u.ID, Details: map[string]string{"email": u.Email}})
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleUserSetPassword(s *server) apiHandler {
	type request struct {
		Password string `json:"password"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, u, err := s.userToChange(r, who)
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		if refusal, err := s.passwordRefusal(r.Context(), u); err != nil || refusal != "" {
			if err != nil {
				return err
			}
			s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "user.password_set", Outcome: gatehouse.OutcomeFailure, Reason: refusal,
				PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "user", TargetID: u.ID})
			return &problem{Status: http.StatusConflict, Detail: refusal,
				Errors: []gatehouse.FieldError{{Field: "password", Message: refusal}}}
		}
		if err := password.CheckPolicy(req.Password); err != nil {
			v := &gatehouse.ValidationError{}
			v.Add("password", err.Error())
			return v
		}
		hash, err := s.passwords.Hash(r.Context(), req.Password)
		if err != nil {
			return err
		}
		if err := s.store.SetPassword(r.Context(), u.ID, hash); err != nil {
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "user.password_set", PartitionID: a.PartitionID, AccountID: a.ID,
			TargetType: "user", TargetID: u.ID})
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// recordLastWayIn audits a change of user userID that the store refused
// because it would leave account a without a way in around its IdP
// (SECURITY.md A-last-admin); other errors are not recorded here.
func (s *server) recordLastWayIn(ctx context.Context, who admin.Principal, a gatehouse.Account, action, userID string, err error) {
	var last *gatehouse.LastWayInError
	if errors.As(err, &last) {
		s.admin.Record(ctx, who, gatehouse.AuditEvent{Action: action, Outcome: gatehouse.OutcomeFailure, Reason: last.Error(),
			PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "user", TargetID: userID})
	}
}

// passwordRefusal says why u may not be given a password, or "" when they
// may: a person forced to SSO (DESIGN rule 9, SECURITY.md A-enforce) has
// no password way in, so setting one would only open a path around the IdP.
func (s *server) passwordRefusal(ctx context.Context, u gatehouse.User) (string, error) {
	d, err := access.Decide(ctx, s.store, u)
	if err != nil || !d.SSOOnly() {
		return "", err
	}
	name := d.SSOConfigID
	if c, err := s.store.SSOConfig(ctx, d.SSOConfigID); err == nil {
		name = c.Name
	} else if !isNotFound(err) {
		return "", err
	}
	return "this user signs in with SSO (" + name + "); exempt them or disable SSO first", nil
}
