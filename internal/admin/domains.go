package admin

import (
	"context"
	"crypto/rand"
	"errors"

	"gatehouse"
	"gatehouse/internal/domainverify"
)

// An account's email domains (issue 15): claimed by its admins, verified by
// a DNS TXT record, after which an unknown email at the domain is sent to
// the account's SSO and, where a configuration allows, gets a seat at its
// first sign-in.

// DomainView is a claimed domain as admins see it: the TXT record to
// publish while it is not verified.
type DomainView struct {
	gatehouse.AccountDomain
	Verified    bool   `json:"verified"`
	RecordName  string `json:"record_name"`
	RecordValue string `json:"record_value"`
}

func domainView(d gatehouse.AccountDomain) DomainView {
	return DomainView{AccountDomain: d, Verified: d.Verified(), RecordName: domainverify.RecordName(d.Domain),
		RecordValue: domainverify.RecordValue(d.Challenge)}
}

// DomainInput is a domain an admin typed. The JSON name is the API's.
type DomainInput struct {
	Domain string `json:"domain"`
}

// Domains lists account accountID's claimed domains.
func (s *Service) Domains(ctx context.Context, p Principal, accountID string) ([]DomainView, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	ds, err := s.store.AccountDomains(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	out := make([]DomainView, len(ds))
	for i, d := range ds {
		out[i] = domainView(d)
	}
	return out, nil
}

// ClaimDomain starts the verification of a domain for account accountID:
// it returns the TXT record to publish. Claiming it again returns the same
// record.
func (s *Service) ClaimDomain(ctx context.Context, p Principal, accountID string, in DomainInput) (DomainView, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return DomainView{}, err
	}
	domain, err := domainverify.Normalize(in.Domain)
	if err != nil {
		return DomainView{}, &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "domain", Message: err.Error()}}}
	}
	d := gatehouse.AccountDomain{AccountID: a.ID, Domain: domain, Challenge: rand.Text()}
	if err := s.store.ClaimDomain(ctx, &d); err != nil {
		return DomainView{}, err
	}
	s.Record(ctx, p, gatehouse.AuditEvent{Action: gatehouse.ActionDomainClaim, AccountID: a.ID, PartitionID: a.PartitionID,
		TargetType: "domain", TargetID: domain, Details: map[string]string{"domain": domain}})
	return domainView(d), nil
}

// VerifyDomain looks up the TXT record of a claimed domain through the
// configured resolver and, when it holds the value asked for, marks the
// domain verified for the account. A record not found (yet), or another
// account having verified the domain first, is a *gatehouse.ValidationError
// or *gatehouse.ConflictError that says so; the failed attempt is audited.
func (s *Service) VerifyDomain(ctx context.Context, p Principal, accountID, domain string) (DomainView, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return DomainView{}, err
	}
	d, err := s.store.AccountDomain(ctx, a.ID, domain)
	if err != nil {
		return DomainView{}, err
	}
	if d.Verified() {
		return domainView(d), nil
	}
	event := gatehouse.AuditEvent{Action: gatehouse.ActionDomainVerify, AccountID: a.ID, PartitionID: a.PartitionID,
		TargetType: "domain", TargetID: d.Domain, Details: map[string]string{"domain": d.Domain, "record": domainverify.RecordName(d.Domain)}}
	if err := domainverify.Check(ctx, s.dns, d.Domain, d.Challenge); err != nil {
		event.Outcome, event.Reason = gatehouse.OutcomeFailure, err.Error()
		s.Record(ctx, p, event)
		msg := err.Error()
		if !errors.Is(err, domainverify.ErrNoRecord) && !errors.Is(err, domainverify.ErrMismatch) {
			msg = "the DNS look-up failed; try again in a moment"
		}
		return DomainView{}, &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "domain",
			Message: "not verified: " + msg + ": publish a TXT record " + domainverify.RecordName(d.Domain) + " with the value " + domainverify.RecordValue(d.Challenge)}}}
	}
	now := s.now()
	if err := s.store.MarkDomainVerified(ctx, a.ID, d.Domain, now); err != nil {
		if errors.Is(err, gatehouse.ErrConflict) {
			event.Outcome, event.Reason = gatehouse.OutcomeFailure, "verified for another account already"
			s.Record(ctx, p, event)
		}
		return DomainView{}, err
	}
	s.Record(ctx, p, event)
	d.VerifiedAt = now
	return domainView(d), nil
}

// DeleteDomain drops account accountID's claim of domain.
func (s *Service) DeleteDomain(ctx context.Context, p Principal, accountID, domain string) error {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDomain(ctx, a.ID, domain); err != nil {
		return err
	}
	s.Record(ctx, p, gatehouse.AuditEvent{Action: gatehouse.ActionDomainDelete, AccountID: a.ID, PartitionID: a.PartitionID,
		TargetType: "domain", TargetID: domain, Details: map[string]string{"domain": domain}})
	return nil
}
