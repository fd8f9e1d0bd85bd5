package sso

import (
	"context"
	"errors"
	"fmt"

	"gatehouse"
)

// Tests run through a setup link (issue 14, part 7): the person who runs
// the IdP holds a link to one configuration and has no user in Gatehouse,
// so the link itself is the Test's tester. The link's holder was checked
// by the caller (admin.OpenSetupLink); the flow checks the link again
// where it starts and records a Test (SECURITY.md A-setuplink-closed).

// StartLinkTest starts a Test of the configuration setup link linkID was
// made for, whatever its status, recorded with the link as its tester.
// The link must be active: one revoked, expired or used up is
// ErrNotAllowed.
func (f *Flow) StartLinkTest(ctx context.Context, linkID string) (Started, error) {
	if !gatehouse.IsSetupLinkID(linkID) {
		return Started{}, ErrNotAllowed
	}
	l, err := f.cfg.Store.SetupLink(ctx, linkID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return Started{}, ErrNotAllowed
	}
	if err != nil {
		return Started{}, fmt.Errorf("sso: start test: %w", err)
	}
	if l.State(f.cfg.Now()) != gatehouse.SetupLinkActive {
		return Started{}, ErrNotAllowed
	}
	c, err := f.cfg.Store.SSOConfig(ctx, l.ConfigID)
	if err != nil {
		return Started{}, fmt.Errorf("sso: start test: %w", err)
	}
	return f.startTest(ctx, c, l.ID)
}

// testLink returns the setup link the callback's Test runs through ("" for
// an admin's Test), and a refusal when that link was revoked or has
// expired since the Test started: its answer is then recorded nowhere.
// A link used up meanwhile by another passing Test still records.
func (f *Flow) testLink(ctx context.Context, cb *callback) (string, *gatehouse.Rejection, error) {
	id := cb.flow.TesterID
	if !gatehouse.IsSetupLinkID(id) {
		return "", nil, nil
	}
	l, err := f.cfg.Store.SetupLink(ctx, id)
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return "", nil, fmt.Errorf("sso: test's setup link: %w", err)
	}
	if err != nil || l.ConfigID != cb.config.ID {
		return id, &gatehouse.Rejection{Reason: "setup_link_closed", Message: "the setup link this test was started through no longer exists; the answer was not recorded",
			FixIn: gatehouse.FixInGatehouse}, nil
	}
	switch st := l.State(cb.now); st {
	case gatehouse.SetupLinkRevoked, gatehouse.SetupLinkExpired:
		return id, &gatehouse.Rejection{Reason: "setup_link_closed", Message: "the setup link this test was started through was " + string(st) + " since; the answer was not recorded",
			FixIn: gatehouse.FixInGatehouse}, nil
	}
	return id, nil, nil
}

// LinkTestResult returns the result of Test flowID to the holder of setup
// link linkID, the Test's tester; any other Test is ErrNoResult, and one
// still waiting for the IdP ErrPending.
func (f *Flow) LinkTestResult(ctx context.Context, flowID, linkID string) (TestReport, error) {
	if !gatehouse.IsSetupLinkID(linkID) {
		return TestReport{}, ErrNoResult
	}
	l, err := f.cfg.Store.SetupLink(ctx, linkID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return TestReport{}, ErrNoResult
	}
	if err != nil {
		return TestReport{}, fmt.Errorf("sso: test result: %w", err)
	}
	r, err := f.testResult(ctx, flowID, l.ID, gatehouse.User{})
	r.SetupLink = &l
	return r, err
}
