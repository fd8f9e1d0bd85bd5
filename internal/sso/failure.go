package sso

import (
	"context"
	"errors"
	"fmt"

	"gatehouse"
	"gatehouse/internal/login"
)

// namedBy is who a refusal names (gatehouse.Rejection's Subject and Email,
// the IdP's verified word), as an Identity for the audit event and a
// Test's result page; nil when it names nobody. SAML is the only protocol
// that names anyone on a refusal, and the email of a verified assertion
// counts as verified there (see samlconnector).
func namedBy(e *gatehouse.Rejection) *Identity {
	if e == nil || e.Subject == "" {
		return nil
	}
	return &Identity{Subject: e.Subject, Email: e.Email, EmailVerified: e.Email != ""}
}

// nameTarget sets cb.target to the user of the account the attempt was
// recorded in whom a refused answer's identity id names, so the account's
// sign-in history lists the attempt under that person. It reads only, as
// match does: by the link of id's key first, else by an email the IdP
// verified (an unverified email never names anyone, E-noauth). An answer
// recorded on a partition, not an account, names nobody.
func (f *Flow) nameTarget(ctx context.Context, cb *callback, id *Identity) error {
	accountID := cb.owner.accountID
	if accountID == "" {
		return nil
	}
	if id.LinkKey != "" {
		u, err := f.cfg.Store.LinkedUser(ctx, cb.config.ID, id.LinkKey)
		switch {
		case err == nil:
			if u.ID != "" && u.AccountID == accountID {
				cb.target = u.ID
			}
			return nil
		case !errors.Is(err, gatehouse.ErrNotFound):
			return fmt.Errorf("sso: refused answer's link: %w", err)
		}
	}
	if !id.EmailVerified {
		return nil
	}
	email, err := gatehouse.NormalizeEmail(id.Email)
	if err != nil {
		return nil
	}
	u, err := f.cfg.Store.UserByEmail(ctx, accountID, email)
	switch {
	case err == nil:
		cb.target = u.ID
	case !errors.Is(err, gatehouse.ErrNotFound):
		return fmt.Errorf("sso: refused answer's user: %w", err)
	}
	return nil
}

// shownIdPMessage is the IdP's own words of refusal e that the person may
// be shown (SECURITY.md P-status): only for an answer to a sign-in started
// at Gatehouse that is still open. An IdP's refusal is unsigned, so anyone can post one to a
// SAML ACS; without a sign-in of theirs to answer, a page on another site
// cannot make Gatehouse show text of its choosing. (An OIDC answer has
// passed the browser check before its error is read.)
func shownIdPMessage(cb *callback, e *gatehouse.Rejection) string {
	fl := cb.flow
	if fl == nil || fl.Purpose != gatehouse.SSOFlowSignIn || !fl.FinishedAt.IsZero() || !cb.now.Before(fl.ExpiresAt) {
		return ""
	}
	return e.IdPMessage
}

// RefuseStart audits a sign-in of email to account accountID that
// configuration c, which governs it, could not start (e says why: a
// setting the request needs, or an IdP that cannot be reached), and
// returns the *Rejected to show with its reference. The attempt is aimed
// at the account's user of that email, as a failed password is, so the
// account's admins find it in the sign-in history beside the answers
// their IdP sent.
func (f *Flow) RefuseStart(ctx context.Context, c gatehouse.SSOConfig, accountID, email string, e *gatehouse.Rejection, client login.Client) (*Rejected, error) {
	acct, err := f.cfg.Store.Account(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("sso: start: %w", err)
	}
	method := string(c.Protocol)
	if conn := f.connector(c.Protocol); conn != nil {
		method = conn.Method()
	}
	cb := &callback{config: c, client: client, now: f.cfg.Now(), owner: owner{accountID: acct.ID, partitionID: acct.PartitionID, name: acct.Name, account: &acct}}
	details := map[string]string{"reason": e.Reason, "fix_in": string(e.FixIn), "email": email, "sso_config": c.ID}
	if addr, err := gatehouse.NormalizeEmail(email); err == nil {
		u, err := f.cfg.Store.UserByEmail(ctx, acct.ID, addr)
		switch {
		case err == nil:
			cb.target = u.ID
		case !errors.Is(err, gatehouse.ErrNotFound):
			return nil, fmt.Errorf("sso: start: %w", err)
		}
	}
	ev := f.event(cb, gatehouse.SignInAction(method), "the sign-in could not be started: "+e.Message)
	if cb.target != "" {
		ev.TargetType, ev.TargetID = "user", cb.target
	}
	ev.Details = details
	if err := f.appendAudit(ctx, &ev); err != nil {
		return nil, err
	}
	f.observe(ctx, method, &ev)
	return &Rejected{Reference: ev.ID, Err: e}, nil
}
