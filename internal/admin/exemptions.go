package admin

import (
	"context"
	"strings"
	"time"

	"gatehouse"
)

// exemptionList loads exemption list id of account accountID, both of
// which p must reach.
func (s *Service) exemptionList(ctx context.Context, p Principal, accountID, id string) (gatehouse.Account, gatehouse.ExemptionList, error) {
	return inAccount(ctx, s, p, accountID, id, s.store.ExemptionList, func(l gatehouse.ExemptionList) string { return l.AccountID })
}

// exemptionEvent is the audit event of a change to list l of account a.
func exemptionEvent(action gatehouse.AuditAction, a gatehouse.Account, l gatehouse.ExemptionList) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{Action: action, PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "exemption_list", TargetID: l.ID,
		Details: map[string]string{"name": l.Name, "kind": string(l.Kind), "members": strings.Join(l.Members, " ")}}
}

// checkMemberIDs refuses members that are empty or look like emails.
func checkMemberIDs(v *gatehouse.ValidationError, ids []string) {
	for _, id := range ids {
		if strings.TrimSpace(id) == "" || strings.Contains(id, "@") {
			v.Add("members", "must be user or group IDs (never emails)")
			return
		}
	}
}

// ExemptionLists lists account accountID's exemption lists whose name
// matches q.
func (s *Service) ExemptionLists(ctx context.Context, p Principal, accountID, q string, page gatehouse.Page) ([]gatehouse.ExemptionList, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.ListExemptionLists(ctx, a.ID, q, page)
}

// ExemptionListInput is a new exemption list.
type ExemptionListInput struct {
	Name    string                  `json:"name"`
	Kind    gatehouse.ExemptionKind `json:"kind"`
	Members []string                `json:"members"`
}

// CreateExemptionList creates an exemption list in account accountID.
func (s *Service) CreateExemptionList(ctx context.Context, p Principal, accountID string, in ExemptionListInput) (gatehouse.ExemptionList, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return gatehouse.ExemptionList{}, err
	}
	v := &gatehouse.ValidationError{}
	l := gatehouse.ExemptionList{AccountID: a.ID, Name: cleanName(v, "name", in.Name, false), Kind: in.Kind, Members: in.Members}
	if !in.Kind.Valid() {
		v.Add("kind", `must be "users" or "groups"`)
	}
	checkMemberIDs(v, in.Members)
	if err := v.Err(); err != nil {
		return gatehouse.ExemptionList{}, err
	}
	if err := s.store.CreateExemptionList(ctx, &l); err != nil {
		return gatehouse.ExemptionList{}, err
	}
	e := exemptionEvent(gatehouse.ActionExemptionListCreate, a, l)
	e.Details[DetailSessionsEnded] = s.EndForbiddenSessions(ctx, a.ID)
	s.Record(ctx, p, e)
	return l, nil
}

// ExemptionList returns exemption list id of account accountID.
func (s *Service) ExemptionList(ctx context.Context, p Principal, accountID, id string) (gatehouse.ExemptionList, error) {
	_, l, err := s.exemptionList(ctx, p, accountID, id)
	return l, err
}

// ExemptionListUpdate is an edit of an exemption list: fields left out
// (nil) keep their value; the kind cannot change.
type ExemptionListUpdate struct {
	Name    *string                  `json:"name"`
	Kind    *gatehouse.ExemptionKind `json:"kind"`
	Members *[]string                `json:"members"`
}

// UpdateExemptionList edits exemption list id of account accountID.
func (s *Service) UpdateExemptionList(ctx context.Context, p Principal, accountID, id string, in ExemptionListUpdate) (gatehouse.ExemptionList, error) {
	return s.UpdateExemptionListIf(ctx, p, accountID, id, in, time.Time{})
}

// UpdateExemptionListIf is UpdateExemptionList applied only to the version
// of the list the caller read (its updated_at; any, when zero), else
// store.ErrChanged.
func (s *Service) UpdateExemptionListIf(ctx context.Context, p Principal, accountID, id string, in ExemptionListUpdate, version time.Time) (gatehouse.ExemptionList, error) {
	a, l, err := s.exemptionList(ctx, p, accountID, id)
	if err != nil {
		return l, err
	}
	if err := sameVersion(l.UpdatedAt, version); err != nil {
		return gatehouse.ExemptionList{}, err
	}
	v := &gatehouse.ValidationError{}
	next := l
	if in.Name != nil {
		next.Name = cleanName(v, "name", *in.Name, false)
	}
	if in.Kind != nil && *in.Kind != l.Kind {
		v.Add("kind", "cannot change; create a new list of the other kind")
	}
	if in.Members != nil {
		next.Members = *in.Members
		checkMemberIDs(v, next.Members)
	}
	if err := v.Err(); err != nil {
		return gatehouse.ExemptionList{}, err
	}
	if err := s.store.UpdateExemptionListIf(ctx, &next, version); err != nil {
		return gatehouse.ExemptionList{}, err
	}
	e := exemptionEvent(gatehouse.ActionExemptionListUpdate, a, next)
	e.Details["previous_members"] = strings.Join(l.Members, " ")
	e.Details[DetailSessionsEnded] = s.EndForbiddenSessions(ctx, a.ID)
	if l.Name != next.Name {
		e.Details["previous_name"] = l.Name
	}
	s.Record(ctx, p, e)
	return next, nil
}

// DeleteExemptionList deletes exemption list id of account accountID.
func (s *Service) DeleteExemptionList(ctx context.Context, p Principal, accountID, id string) error {
	return s.DeleteExemptionListIf(ctx, p, accountID, id, time.Time{})
}

// DeleteExemptionListIf is DeleteExemptionList applied only to the version
// of the list the caller read (its updated_at; any, when zero), else
// store.ErrChanged.
func (s *Service) DeleteExemptionListIf(ctx context.Context, p Principal, accountID, id string, version time.Time) error {
	a, l, err := s.exemptionList(ctx, p, accountID, id)
	if err != nil {
		return err
	}
	if err := sameVersion(l.UpdatedAt, version); err != nil {
		return err
	}
	if err := s.store.DeleteExemptionListIf(ctx, l.ID, version); err != nil {
		return err
	}
	e := exemptionEvent(gatehouse.ActionExemptionListDelete, a, l)
	e.Details[DetailSessionsEnded] = s.EndForbiddenSessions(ctx, a.ID)
	s.Record(ctx, p, e)
	return nil
}

// ExemptionCandidates lists the users or groups (kind) of account
// accountID matching q, to put on an exemption list.
func (s *Service) ExemptionCandidates(ctx context.Context, p Principal, accountID string, kind gatehouse.ExemptionKind, q string, page gatehouse.Page) ([]gatehouse.ExemptionCandidate, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.ExemptionCandidates(ctx, a.ID, kind, q, page)
}

// ExemptionMembers names ids, the members of an exemption list of kind
// kind in account accountID: each user's display name and email, or each
// group's name, in the order of ids and without repeats. IDs that name
// nothing of that kind in the account are left out: a member removed since,
// one of the other kind (an admin switching a form from users to groups),
// or another account's, whose name must not leak to this account's admins.
// One query per 500 IDs; at most store.MaxExemptionMembers are looked at.
func (s *Service) ExemptionMembers(ctx context.Context, p Principal, accountID string, kind gatehouse.ExemptionKind, ids []string) ([]gatehouse.ExemptionCandidate, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	if !kind.Valid() {
		v := &gatehouse.ValidationError{}
		v.Add("kind", `must be "users" or "groups"`)
		return nil, v
	}
	return s.store.AccountMembers(ctx, a.ID, kind, ids)
}
