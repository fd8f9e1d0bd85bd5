package admin

import (
	"context"

	"gatehouse"
)

// SignInMethods are the ways in a sign-in history can be filtered by, as
// they appear after "signin." in audit actions.
var SignInMethods = []string{"password", "totp", "recovery_code", "saml", "oidc"}

// SignIns lists account accountID's sign-in history (DESIGN rule 14): every
// sign-in attempt, successful or not with its reason, filtered by f (whose
// AccountID is set here).
func (s *Service) SignIns(ctx context.Context, p Principal, accountID string, f gatehouse.SignInFilter, page gatehouse.Page) ([]gatehouse.AuditEvent, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	f.AccountID = a.ID
	return s.store.ListSignIns(ctx, f, page)
}

// AuditEvents lists the audit events p reaches that match f. A filter
// outside p's reach matches nothing rather than revealing whether the
// partition or account exists.
func (s *Service) AuditEvents(ctx context.Context, p Principal, f gatehouse.AuditFilter, page gatehouse.Page) ([]gatehouse.AuditEvent, error) {
	if !p.IsAdmin() {
		return nil, ErrForbidden
	}
	f, ok := NarrowAuditFilter(p, f)
	if !ok {
		return nil, nil
	}
	return s.store.ListAudit(ctx, f, page)
}

// NarrowAuditFilter narrows f to what p reaches, reporting false when f
// asks for something outside it (or p reaches nothing).
func NarrowAuditFilter(p Principal, f gatehouse.AuditFilter) (gatehouse.AuditFilter, bool) {
	switch p.Scope {
	case gatehouse.ScopeSuper:
		return f, true
	case gatehouse.ScopePartition:
		outside := f.PartitionID != "" && f.PartitionID != p.ScopeID
		f.PartitionID = p.ScopeID
		return f, !outside
	case gatehouse.ScopeAccount:
		outside := f.AccountID != "" && f.AccountID != p.ScopeID
		f.AccountID = p.ScopeID
		return f, !outside
	}
	return f, false
}

// AccountAuditEvents lists account accountID's audit events matching f
// (whose AccountID is set here).
func (s *Service) AccountAuditEvents(ctx context.Context, p Principal, accountID string, f gatehouse.AuditFilter, page gatehouse.Page) ([]gatehouse.AuditEvent, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	f.AccountID = a.ID
	return s.store.ListAudit(ctx, f, page)
}
