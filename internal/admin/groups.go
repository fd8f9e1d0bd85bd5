package admin

import (
	"context"
	"strings"
	"time"

	"gatehouse"
)

// GroupInput is a new group.
type GroupInput struct {
	Name string `json:"name"`
}

// GroupUpdate changes a group; nil fields stay as they are.
type GroupUpdate struct {
	Name *string `json:"name"`
}

// Membership is a user's place in a group.
type Membership struct {
	GroupID string `json:"group_id"`
	UserID  string `json:"user_id"`
}

// Groups lists one page of account accountID's groups.
func (s *Service) Groups(ctx context.Context, p Principal, accountID string, page gatehouse.Page) ([]gatehouse.Group, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.ListGroups(ctx, a.ID, page)
}

// Group loads group id of account accountID, both of which p must reach.
func (s *Service) Group(ctx context.Context, p Principal, accountID, id string) (gatehouse.Group, error) {
	_, g, err := s.accountGroup(ctx, p, accountID, id)
	return g, err
}

// accountGroup loads account accountID and its group id, both of which p
// must reach.
func (s *Service) accountGroup(ctx context.Context, p Principal, accountID, id string) (gatehouse.Account, gatehouse.Group, error) {
	return inAccount(ctx, s, p, accountID, id, s.store.Group, func(g gatehouse.Group) string { return g.AccountID })
}

// CreateGroup creates a group in account accountID.
func (s *Service) CreateGroup(ctx context.Context, p Principal, accountID string, in GroupInput) (gatehouse.Group, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return gatehouse.Group{}, err
	}
	v := &gatehouse.ValidationError{}
	g := gatehouse.Group{AccountID: a.ID, Name: cleanName(v, "name", in.Name, false)}
	if err := v.Err(); err != nil {
		return gatehouse.Group{}, err
	}
	if err := s.store.CreateGroup(ctx, &g); err != nil {
		return gatehouse.Group{}, err
	}
	s.Record(ctx, p, groupEvent(gatehouse.ActionGroupCreate, a, g.ID, nil))
	return g, nil
}

// UpdateGroup changes group id of account accountID as in says.
func (s *Service) UpdateGroup(ctx context.Context, p Principal, accountID, id string, in GroupUpdate) (gatehouse.Group, error) {
	return s.UpdateGroupIf(ctx, p, accountID, id, in, time.Time{})
}

// UpdateGroupIf is UpdateGroup applied only to the version of the group
// the caller read (its updated_at; any, when zero), else store.ErrChanged.
func (s *Service) UpdateGroupIf(ctx context.Context, p Principal, accountID, id string, in GroupUpdate, version time.Time) (gatehouse.Group, error) {
	a, g, err := s.accountGroup(ctx, p, accountID, id)
	if err != nil {
		return gatehouse.Group{}, err
	}
	if err := sameVersion(g.UpdatedAt, version); err != nil {
		return gatehouse.Group{}, err
	}
	v := &gatehouse.ValidationError{}
	next := g
	if in.Name != nil {
		next.Name = cleanName(v, "name", *in.Name, false)
	}
	if err := v.Err(); err != nil {
		return gatehouse.Group{}, err
	}
	if next.Name == g.Name {
		return next, nil
	}
	if err := s.store.UpdateGroupIf(ctx, &next, version); err != nil {
		return gatehouse.Group{}, err
	}
	s.Record(ctx, p, groupEvent(gatehouse.ActionGroupUpdate, a, g.ID, map[string]string{"changed": "name"}))
	return next, nil
}

// DeleteGroup deletes group id of account accountID. Its members may lose
// an exemption the group gave them: the sessions the policy no longer
// allows end.
func (s *Service) DeleteGroup(ctx context.Context, p Principal, accountID, id string) error {
	return s.DeleteGroupIf(ctx, p, accountID, id, time.Time{})
}

// DeleteGroupIf is DeleteGroup applied only to the version of the group
// the caller read (its updated_at; any, when zero), else store.ErrChanged.
func (s *Service) DeleteGroupIf(ctx context.Context, p Principal, accountID, id string, version time.Time) error {
	a, g, err := s.accountGroup(ctx, p, accountID, id)
	if err != nil {
		return err
	}
	if err := sameVersion(g.UpdatedAt, version); err != nil {
		return err
	}
	if err := s.store.DeleteGroupIf(ctx, g.ID, version); err != nil {
		return err
	}
	s.Record(ctx, p, groupEvent(gatehouse.ActionGroupDelete, a, g.ID, map[string]string{"name": g.Name,
		DetailSessionsEnded: s.EndForbiddenSessions(ctx, a.ID)}))
	return nil
}

// GroupMembers lists one page of the members of group groupID of account
// accountID.
func (s *Service) GroupMembers(ctx context.Context, p Principal, accountID, groupID string, page gatehouse.Page) ([]gatehouse.User, error) {
	_, g, err := s.accountGroup(ctx, p, accountID, groupID)
	if err != nil {
		return nil, err
	}
	return s.store.ListMembers(ctx, g.ID, page)
}

// AddGroupMember adds user userID to group groupID of account accountID.
// Membership can exempt the user from SSO (or end an exemption), so the
// sessions the policy no longer allows end.
func (s *Service) AddGroupMember(ctx context.Context, p Principal, accountID, groupID, userID string) (Membership, error) {
	a, g, err := s.accountGroup(ctx, p, accountID, groupID)
	if err != nil {
		return Membership{}, err
	}
	userID = strings.TrimSpace(userID)
	if userID == "" {
		v := &gatehouse.ValidationError{}
		v.Add("user_id", "must not be empty")
		return Membership{}, v
	}
	// The store refuses a user of another account in the same words as a
	// missing one.
	if err := s.store.AddMember(ctx, g.ID, userID); err != nil {
		return Membership{}, err
	}
	s.Record(ctx, p, groupEvent(gatehouse.ActionGroupMemberAdd, a, g.ID, map[string]string{"user_id": userID,
		DetailSessionsEnded: s.EndForbiddenSessions(ctx, a.ID)}))
	return Membership{GroupID: g.ID, UserID: userID}, nil
}

// RemoveGroupMember removes user userID from group groupID of account
// accountID, ending the sessions the policy no longer allows.
func (s *Service) RemoveGroupMember(ctx context.Context, p Principal, accountID, groupID, userID string) error {
	a, g, err := s.accountGroup(ctx, p, accountID, groupID)
	if err != nil {
		return err
	}
	if err := s.store.RemoveMember(ctx, g.ID, userID); err != nil {
		return err
	}
	s.Record(ctx, p, groupEvent(gatehouse.ActionGroupMemberRemove, a, g.ID, map[string]string{"user_id": userID,
		DetailSessionsEnded: s.EndForbiddenSessions(ctx, a.ID)}))
	return nil
}

// groupEvent is the audit event of a change to group groupID of account a.
func groupEvent(action gatehouse.AuditAction, a gatehouse.Account, groupID string, details map[string]string) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{Action: action, PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "group", TargetID: groupID, Details: details}
}
