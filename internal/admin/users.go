package admin

import (
	"context"
	"errors"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/password"
	"gatehouse/internal/policy"
)

// UserInput is a new user. An empty Role means a plain user, an empty
// Status an active one.
type UserInput struct {
	Email       string               `json:"email"`
	DisplayName string               `json:"display_name"`
	Role        gatehouse.Role       `json:"role"`
	Status      gatehouse.UserStatus `json:"status"`
}

// UserUpdate changes a user; nil fields stay as they are.
type UserUpdate struct {
	Email       *string               `json:"email"`
	DisplayName *string               `json:"display_name"`
	Role        *gatehouse.Role       `json:"role"`
	Status      *gatehouse.UserStatus `json:"status"`
}

// Users lists one page of account accountID's users.
func (s *Service) Users(ctx context.Context, p Principal, accountID string, page gatehouse.Page) ([]gatehouse.User, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.ListUsers(ctx, a.ID, page)
}

// User loads user id of account accountID, both of which p must reach.
func (s *Service) User(ctx context.Context, p Principal, accountID, id string) (gatehouse.User, error) {
	_, u, err := s.accountUser(ctx, p, accountID, id)
	return u, err
}

// accountUser loads account accountID and its user id, both of which p
// must reach.
func (s *Service) accountUser(ctx context.Context, p Principal, accountID, id string) (gatehouse.Account, gatehouse.User, error) {
	return inAccount(ctx, s, p, accountID, id, s.store.User, func(u gatehouse.User) string { return u.AccountID })
}

// mayChangeUser refuses p changes to user u when u's role is above p's
// reach, so that a narrower admin cannot take over a wider one.
func mayChangeUser(p Principal, u gatehouse.User) error {
	if policy.MayGrant(p.Reach, u.Role) {
		return nil
	}
	return &ForbiddenError{Reason: "this " + p.noun() + " cannot change a user whose role is " + string(u.Role)}
}

// UserToChange loads user id of account accountID for a change by p: both
// within p's reach, and the user's role not above it (mayChangeUser).
// Callers may ask before reading the change.
func (s *Service) UserToChange(ctx context.Context, p Principal, accountID, id string) (gatehouse.User, error) {
	_, u, err := s.userToChange(ctx, p, accountID, id)
	return u, err
}

func (s *Service) userToChange(ctx context.Context, p Principal, accountID, id string) (gatehouse.Account, gatehouse.User, error) {
	a, u, err := s.accountUser(ctx, p, accountID, id)
	if err != nil {
		return a, u, err
	}
	return a, u, mayChangeUser(p, u)
}

// checkUser validates a user's role and status on v, and that p may grant
// the role.
func checkUser(v *gatehouse.ValidationError, p Principal, u gatehouse.User) {
	switch {
	case !u.Role.Valid():
		v.Add("role", "must be user, admin, partition_admin or super_admin")
	case !policy.MayGrant(p.Reach, u.Role):
		v.Add("role", "this "+p.noun()+" can grant at most "+string(policy.HighestRole(p.Reach)))
	}
	if !u.Status.Valid() {
		v.Add("status", "must be active or disabled")
	}
}

// emailTaken gives a store conflict on email its meaning, ErrEmailTaken.
func emailTaken(err error) error {
	var c *gatehouse.ConflictError
	if errors.As(err, &c) && c.Field == "email" {
		return ErrEmailTaken
	}
	return err
}

// CreateUser creates a user in account accountID.
func (s *Service) CreateUser(ctx context.Context, p Principal, accountID string, in UserInput) (gatehouse.User, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return gatehouse.User{}, err
	}
	v := &gatehouse.ValidationError{}
	u := gatehouse.User{
		AccountID:   a.ID,
		Email:       cleanEmail(v, in.Email),
		DisplayName: cleanName(v, "display_name", in.DisplayName, true),
		Role:        in.Role,
		Status:      in.Status,
	}
	if u.Role == "" {
		u.Role = gatehouse.RoleUser
	}
	if u.Status == "" {
		u.Status = gatehouse.UserActive
	}
	checkUser(v, p, u)
	if err := v.Err(); err != nil {
		return gatehouse.User{}, err
	}
	if err := s.store.CreateUser(ctx, &u); err != nil {
		return gatehouse.User{}, emailTaken(err)
	}
	s.Record(ctx, p, userEvent(gatehouse.ActionUserCreate, a, u.ID, map[string]string{"role": string(u.Role)}))
	return u, nil
}

// UpdateUser changes user id of account accountID as in says. The store
// refuses (a *gatehouse.LastWayInError, audited here) a change that would
// leave an account SSO governs without an admin with a password way in
// (SECURITY.md A-last-admin); a change of role ends the sessions the policy
// no longer allows.
func (s *Service) UpdateUser(ctx context.Context, p Principal, accountID, id string, in UserUpdate) (gatehouse.User, error) {
	return s.UpdateUserIf(ctx, p, accountID, id, in, time.Time{})
}

// UpdateUserIf is UpdateUser applied only to the version of the user the
// caller read (its updated_at; any, when zero), else store.ErrChanged.
func (s *Service) UpdateUserIf(ctx context.Context, p Principal, accountID, id string, in UserUpdate, version time.Time) (gatehouse.User, error) {
	a, u, err := s.userToChange(ctx, p, accountID, id)
	if err != nil {
		return gatehouse.User{}, err
	}
	if err := sameVersion(u.UpdatedAt, version); err != nil {
		return gatehouse.User{}, err
	}
	v := &gatehouse.ValidationError{}
	next := u
	if in.Email != nil {
		next.Email = cleanEmail(v, *in.Email)
	}
	if in.DisplayName != nil {
		next.DisplayName = cleanName(v, "display_name", *in.DisplayName, true)
	}
	if in.Role != nil {
		next.Role = *in.Role
	}
	if in.Status != nil {
		next.Status = *in.Status
	}
	checkUser(v, p, next)
	if err := v.Err(); err != nil {
		return gatehouse.User{}, err
	}
	var ch changes
	ch.note("email", next.Email != u.Email)
	ch.note("display_name", next.DisplayName != u.DisplayName)
	ch.noteValue("role", next.Role != u.Role, string(next.Role))
	ch.noteValue("status", next.Status != u.Status, string(next.Status))
	if ch.none() {
		return next, nil
	}
	if err := s.store.UpdateUserIf(ctx, &next, version); err != nil {
		s.recordLastWayIn(ctx, p, a, gatehouse.ActionUserUpdate, u.ID, err)
		return gatehouse.User{}, emailTaken(err)
	}
	details := ch.details()
	if next.Role != u.Role {
		details[DetailSessionsEnded] = s.EndForbiddenSessions(ctx, a.ID)
	}
	s.Record(ctx, p, userEvent(gatehouse.ActionUserUpdate, a, u.ID, details))
	return next, nil
}

// DeleteUser deletes user id of account accountID; the store refuses
// (audited here) to delete the last admin with a way in, as UpdateUser.
func (s *Service) DeleteUser(ctx context.Context, p Principal, accountID, id string) error {
	return s.DeleteUserIf(ctx, p, accountID, id, time.Time{})
}

// DeleteUserIf is DeleteUser applied only to the version of the user the
// caller read (its updated_at; any, when zero), else store.ErrChanged.
func (s *Service) DeleteUserIf(ctx context.Context, p Principal, accountID, id string, version time.Time) error {
	a, u, err := s.userToChange(ctx, p, accountID, id)
	if err != nil {
		return err
	}
	if err := sameVersion(u.UpdatedAt, version); err != nil {
		return err
	}
	if err := s.store.DeleteUserIf(ctx, u.ID, version); err != nil {
		s.recordLastWayIn(ctx, p, a, gatehouse.ActionUserDelete, u.ID, err)
		return err
	}
	s.Record(ctx, p, userEvent(gatehouse.ActionUserDelete, a, u.ID, map[string]string{"email": u.Email}))
	return nil
}

// SetUserPassword gives user id of account accountID the password pw. It
// is refused (a *RefusalError on "password", audited) when the user is
// forced to SSO, and a password the policy does not accept is a
// *gatehouse.ValidationError.
func (s *Service) SetUserPassword(ctx context.Context, p Principal, accountID, id, pw string) error {
	a, u, err := s.userToChange(ctx, p, accountID, id)
	if err != nil {
		return err
	}
	refusal, err := s.passwordRefusal(ctx, u)
	if err != nil {
		return err
	}
	if refusal != "" {
		e := userEvent(gatehouse.ActionUserPasswordSet, a, u.ID, nil)
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, refusal
		s.Record(ctx, p, e)
		return &RefusalError{Field: "password", Reason: refusal}
	}
	if err := password.CheckPolicy(pw); err != nil {
		v := &gatehouse.ValidationError{}
		v.Add("password", err.Error())
		return v
	}
	if s.passwords == nil {
		return errNoHasher
	}
	hash, err := s.passwords.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, u.ID, hash); err != nil {
		return err
	}
	s.Record(ctx, p, userEvent(gatehouse.ActionUserPasswordSet, a, u.ID, nil))
	return nil
}

// errNoHasher is a deployment that built the Service without Config.Passwords.
var errNoHasher = errors.New("admin: setting passwords needs Config.Passwords")

// passwordRefusal says why u may not be given a password, or "" when they
// may: a person forced to SSO (DESIGN rule 9, SECURITY.md A-enforce) has
// no password way in, so setting one would only open a path around the IdP.
func (s *Service) passwordRefusal(ctx context.Context, u gatehouse.User) (string, error) {
	d, err := access.Decide(ctx, s.store, u)
	if err != nil || !d.SSOOnly() {
		return "", err
	}
	name := d.SSOConfigID
	if c, err := s.store.SSOConfig(ctx, d.SSOConfigID); err == nil {
		name = c.Name
	} else if !errors.Is(err, gatehouse.ErrNotFound) {
		return "", err
	}
	return "this user signs in with SSO (" + name + "); exempt them or disable SSO first", nil
}

// recordLastWayIn audits a change of user userID that the store refused
// because it would leave account a without a way in around its IdP
// (SECURITY.md A-last-admin); other errors are not recorded here.
func (s *Service) recordLastWayIn(ctx context.Context, p Principal, a gatehouse.Account, action gatehouse.AuditAction, userID string, err error) {
	var last *gatehouse.LastWayInError
	if errors.As(err, &last) {
		e := userEvent(action, a, userID, nil)
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, last.Error()
		s.Record(ctx, p, e)
	}
}

// userEvent is the audit event of a change to user userID of account a.
func userEvent(action gatehouse.AuditAction, a gatehouse.Account, userID string, details map[string]string) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{Action: action, PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "user", TargetID: userID, Details: details}
}
