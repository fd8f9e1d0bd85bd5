package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/domainverify"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

// flowPurpose binds sealed flow state to its use, so no other sealed value
// can stand in for it.
const flowPurpose = "login-flow"

// State is what the email step decided, carried sealed by the browser to the
// next steps: the server trusts it because only it can seal it, and it ends
// at Expires.
type State struct {
	Email string `json:"e"`
	// AccountID is the account being signed in to, empty while the person
	// must still choose one, or when no user has this email.
	AccountID   string `json:"a,omitempty"`
	PartitionID string `json:"p,omitempty"`
	// Choose is set when the email is in several accounts.
	Choose bool `json:"c,omitempty"`
	Way    Way  `json:"w"`
	// ReturnTo is the local path to land on after sign-in, already checked.
	ReturnTo string    `json:"r,omitempty"`
	Expires  time.Time `json:"x"`
	// SSOConfigID is the configuration the sign-in policy named when this
	// very request decided the way in for an active user of the account
	// (or for a newcomer at its verified domain), so the step that starts
	// the sign-in at once need not read the same facts again. It is never
	// sealed into the cookie: a later request decides again.
	SSOConfigID string `json:"-"`
}

// NeedsAccount reports whether the person must choose an account first.
func (s State) NeedsAccount() bool { return s.Choose && s.AccountID == "" }

// Seal returns st as an opaque, tamper-proof string for a cookie or form.
func (f *Flow) Seal(st State) string {
	b, err := json.Marshal(st)
	if err != nil {
		panic(fmt.Sprintf("login: marshal state: %v", err)) // only plain strings and a time: cannot fail
	}
	return base64.RawURLEncoding.EncodeToString(f.cfg.Secrets.Seal(flowPurpose, b))
}

// Open returns the State sealed in s, or ErrFlowExpired when s is not one
// this server sealed or has expired.
func (f *Flow) Open(s string) (State, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || s == "" {
		return State{}, ErrFlowExpired
	}
	b, err := f.cfg.Secrets.Open(flowPurpose, raw)
	if err != nil {
		return State{}, ErrFlowExpired
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil || st.Email == "" {
		return State{}, ErrFlowExpired
	}
	if !f.cfg.Now().Before(st.Expires) {
		return State{}, ErrFlowExpired
	}
	return st, nil
}

// Choice is one account an email may sign in to.
type Choice struct {
	AccountID   string
	AccountName string
	PartitionID string
}

// Begin is the email step: it normalizes the email and finds the accounts
// whose active users have it. It does not tell whether the email exists:
// an unknown email goes on to the password step like any other, and fails
// there. A user who is disabled carries their account on, so the account's
// audit log shows the attempt. An email active in several accounts needs a
// Choose step; returnTo must already be a checked local path. Once the
// account is known, the state carries the way in (access.Decide): the
// password, SSO, or, for admins, their choice.
func (f *Flow) Begin(ctx context.Context, input, returnTo string) (State, error) {
	email, err := gatehouse.NormalizeEmail(input)
	if err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrInvalidEmail, err)
	}
	found, err := f.cfg.Store.UsersAndAccountsByEmail(ctx, email)
	if err != nil {
		return State{}, fmt.Errorf("login: email step: %w", err)
	}
	st := State{Email: email, Way: WayPassword, ReturnTo: returnTo, Expires: f.cfg.Now().Add(FlowLifetime)}
	var active []store.UserAccount
	for _, ua := range found {
		if ua.User.Status == gatehouse.UserActive {
			active = append(active, ua)
		}
	}
	var seat store.UserAccount
	switch {
	case len(active) > 1:
		st.Choose = true
		return st, nil
	case len(active) == 1:
		seat = active[0]
	case len(found) > 0:
		seat = found[0]
	default:
		return f.newcomer(ctx, st)
	}
	st.AccountID, st.PartitionID = seat.Account.ID, seat.Account.PartitionID
	var configID string
	st.Way, configID, err = f.way(ctx, seat.Account, seat.User)
	if err != nil {
		return State{}, fmt.Errorf("login: email step: %w", err)
	}
	if len(active) == 1 {
		st.SSOConfigID = configID
	}
	// A disabled user's way is told as theirs; the sign-in itself is
	// decided again as the account's, when it starts.
	return st, nil
}

// newcomer is the email step of an email with no seat anywhere. At a
// domain an account verified, whose sign-in SSO governs, the person is
// sent to that account's IdP (issue 15): a new employee reaches the
// company's sign-in, where a seat may be made for them or they are told to
// ask their admin. Any other unknown email is answered like a password
// user's, so the page never tells whether an email has a seat.
func (f *Flow) newcomer(ctx context.Context, st State) (State, error) {
	accountID, err := f.cfg.Store.VerifiedDomainAccount(ctx, domainverify.DomainOf(st.Email))
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return st, nil
	case err != nil:
		return State{}, fmt.Errorf("login: email step: verified domain: %w", err)
	}
	acct, err := f.cfg.Store.Account(ctx, accountID)
	if err != nil {
		return State{}, fmt.Errorf("login: email step: account: %w", err)
	}
	facts, err := access.AccountFacts(ctx, f.cfg.Store, acct)
	if err != nil {
		return State{}, fmt.Errorf("login: email step: %w", err)
	}
	facts.Role = gatehouse.RoleUser
	d := policy.Decide(facts)
	if !d.SSO() {
		return st, nil
	}
	st.AccountID, st.PartitionID, st.Way, st.SSOConfigID = acct.ID, acct.PartitionID, WaySSO, d.SSOConfigID
	return st, nil
}

// way decides how user signs in to their account, from the facts as the
// database has them now (access.Decide), and names the SSO configuration
// the decision sends them to (empty for the password).
func (f *Flow) way(ctx context.Context, acct gatehouse.Account, user gatehouse.User) (Way, string, error) {
	d, _, err := access.DecideInAccount(ctx, f.cfg.Store, acct, user)
	if err != nil {
		return "", "", err
	}
	way, configID := wayOf(d)
	return way, configID, nil
}

// wayOf is the way in decision d gives, and the SSO configuration it
// names (empty for the password).
func wayOf(d policy.Decision) (Way, string) {
	switch {
	case d.SSOOnly():
		return WaySSO, d.SSOConfigID
	case d.SSO():
		return WaySSOOrPassword, d.SSOConfigID
	}
	return WayPassword, ""
}

// Choices lists the accounts the person of st may choose from, by name
// (at most store.MaxEmailAccounts).
func (f *Flow) Choices(ctx context.Context, st State) ([]Choice, error) {
	accounts, err := f.cfg.Store.AccountsOfActiveEmail(ctx, st.Email)
	if err != nil {
		return nil, fmt.Errorf("login: account choices: %w", err)
	}
	choices := make([]Choice, len(accounts))
	for i, a := range accounts {
		choices[i] = Choice{AccountID: a.AccountID, AccountName: a.AccountName, PartitionID: a.PartitionID}
	}
	return choices, nil
}

// Choose records the account the person picked, or returns ErrNotAChoice
// unless the email is an active user's there. It renews the state's
// lifetime.
func (f *Flow) Choose(ctx context.Context, st State, accountID string) (State, error) {
	if !st.Choose {
		return State{}, ErrFlowExpired
	}
	u, err := f.cfg.Store.UserByEmail(ctx, accountID, st.Email)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound), err == nil && u.Status != gatehouse.UserActive:
		return State{}, ErrNotAChoice
	case err != nil:
		return State{}, fmt.Errorf("login: account choice: %w", err)
	}
	acct, err := f.cfg.Store.Account(ctx, u.AccountID)
	if err != nil {
		return State{}, fmt.Errorf("login: account choice: %w", err)
	}
	if st.Way, st.SSOConfigID, err = f.way(ctx, acct, u); err != nil {
		return State{}, fmt.Errorf("login: account choice: %w", err)
	}
	st.AccountID, st.PartitionID = acct.ID, acct.PartitionID
	st.Expires = f.cfg.Now().Add(FlowLifetime)
	return st, nil
}
