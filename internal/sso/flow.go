package sso

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/login"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

// Lifetime bounds a flow from the redirect to the IdP until the browser
// collects the result: long enough for a password and an MFA prompt at the
// IdP, short enough that a stray RelayState is soon worth nothing.
const Lifetime = 10 * time.Minute

// maxFlowKey bounds a RelayState or state looked up in the database; the
// keys Gatehouse issues are 26 characters.
const maxFlowKey = 64

// Errors the flow returns besides *Rejected, *NoSeat and *gatehouse.Rejection.
// Database failures match gatehouse.ErrUnavailable.
var (
	// ErrUnknownConfig: no configuration with this ID speaks this protocol.
	ErrUnknownConfig = fmt.Errorf("sso: unknown configuration: %w", gatehouse.ErrNotFound)
	// ErrNoSSO: the account has no enabled configuration (any more).
	ErrNoSSO = errors.New("sso: the account has no enabled SSO configuration")
	// ErrFlowGone: the flow is unknown, expired, or was finished before.
	ErrFlowGone = errors.New("sso: sign-in expired or already finished")
	// ErrNotAllowed: the person does not administer the configuration.
	ErrNotAllowed = errors.New("sso: only an administrator of the configuration's owner may test it")
	// ErrNoResult: no test result of this tester under this ID.
	ErrNoResult = fmt.Errorf("sso: no such test result: %w", gatehouse.ErrNotFound)
	// ErrPending: the IdP has not answered the test yet.
	ErrPending = errors.New("sso: the IdP has not answered yet")
)

// Rejected is a refused answer or finish. The person is shown a generic
// message with Reference, the ID of the audit event that holds Err's
// precise reason.
type Rejected struct {
	Reference string
	Err       *gatehouse.Rejection
	// IdPMessage is what the IdP said when it refused the person itself,
	// set only when the answer belongs to a sign-in started at Gatehouse
	// and still open (see shownIdPMessage); the person's page quotes it.
	IdPMessage string
}

func (r *Rejected) Error() string { return "sso: rejected (" + r.Reference + "): " + r.Err.Message }

// NoSeat means the IdP vouched for a person who has no active user in the
// configuration's account. It is not the person's fault, so they are told
// plainly, and the audit event (Reference) says exactly why.
type NoSeat struct {
	Email       string
	AccountName string
	Reference   string
	// EmailUnverified means the IdP did not vouch for the email and no link
	// names the person yet, so no one could be matched (SECURITY.md
	// E-noauth); the person is told that their email could not be verified.
	EmailUnverified bool
}

func (n *NoSeat) Error() string { return "sso: no seat for " + n.Email + " at " + n.AccountName }

// Config holds what the flow needs; every field but Now (nil is time.Now),
// Metrics (nil counts nothing) and Logger (nil logs nothing) is required.
type Config struct {
	Store   *store.Store
	Login   *login.Flow
	Metrics Metrics
	// Logger logs refused sign-ins (with the request's ID, from the
	// context) and, at debug level, each step with its configuration.
	Logger *slog.Logger
	// Connectors serve each protocol; a configuration whose protocol has
	// none cannot be started or answered.
	Connectors map[gatehouse.Protocol]Connector
	Now        func() time.Time
}

// Flow runs SSO sign-ins and Tests. One Flow serves a process; any process
// sharing the database can finish what another started.
type Flow struct {
	cfg Config
}

// New returns a Flow for cfg.
func New(cfg Config) *Flow {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Flow{cfg: cfg}
}

// Started is a flow on its way to the IdP. BrowserToken goes into a cookie
// on the browser that started it; only its SHA-256 is stored, and only that
// browser can collect a sign-in's result.
type Started struct {
	FlowID       string
	BrowserToken string
	Redirect     Redirect
	Config       gatehouse.SSOConfig
}

// Result is what the callback decided, kept on the flow for the finish step
// or the Test result page.
type Result struct {
	Outcome  gatehouse.Outcome `json:"outcome"`
	UserID   string            `json:"user_id,omitempty"`
	Identity *Identity         `json:"identity,omitempty"`
	// MatchedBy is the rule that found UserID (MatchLink,
	// MatchVerifiedEmail or MatchEmail); empty when no user matched.
	MatchedBy string `json:"matched_by,omitempty"`
	// NoMatch says why no user matched, when none did.
	NoMatch string               `json:"no_match,omitempty"`
	Error   *gatehouse.Rejection `json:"error,omitempty"`
}

// Rules that match a person to a user, as Result.MatchedBy names them.
const (
	// MatchLink: the IdP's immutable key (Identity.LinkKey) was linked to
	// the user at an earlier sign-in; the email claim no longer matters.
	MatchLink = "link"
	// MatchVerifiedEmail: no link yet, and the IdP verified an email that
	// belongs to an active user of the configuration's account. A sign-in
	// links the key to that user; a Test only reports it.
	MatchVerifiedEmail = "verified_email"
	// MatchEmail: the answer has no link key (SAML), so the signed email
	// alone names the user.
	MatchEmail = "email"
)

// BrowserHash returns what is stored for a browser token.
func BrowserHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (f *Flow) connector(p gatehouse.Protocol) Connector { return f.cfg.Connectors[p] }

// StartSignIn sends the person of email to the configuration access.Decide
// names for them in account accountID: the account's own enabled one, or
// its partition's when the account uses it (or the person is exempt from
// the account's own and the account uses the partition's). A person with
// no active seat in the account is sent where the account's users are.
// returnTo must be a checked local path.
func (f *Flow) StartSignIn(ctx context.Context, accountID, email, returnTo string) (Started, error) {
	d, err := f.decide(ctx, accountID, email)
	if err != nil {
		return Started{}, fmt.Errorf("sso: start: %w", err)
	}
	if !d.SSO() {
		return Started{}, ErrNoSSO
	}
	return f.StartDecided(ctx, accountID, d.SSOConfigID, email, returnTo)
}

// StartDecided is StartSignIn for a caller that decided, in this very
// request and from the facts access.Decide reads, that the person of
// email signs in to account accountID through configuration configID (the
// email step, login.State.SSOConfigID): it does not read them again.
func (f *Flow) StartDecided(ctx context.Context, accountID, configID, email, returnTo string) (Started, error) {
	c, err := f.cfg.Store.CurrentSSOConfig(ctx, configID)
	if err != nil {
		return Started{}, fmt.Errorf("sso: start: %w", err)
	}
	row := gatehouse.SSOFlow{Purpose: gatehouse.SSOFlowSignIn, ReturnTo: returnTo}
	if c.AccountID == "" {
		row.AccountID = accountID
	}
	return f.start(ctx, c, row, email)
}

// decide returns how the person of email signs in to account accountID.
func (f *Flow) decide(ctx context.Context, accountID, email string) (policy.Decision, error) {
	u, err := f.cfg.Store.UserByEmail(ctx, accountID, email)
	switch {
	case err == nil && u.Status == gatehouse.UserActive:
		return access.Decide(ctx, f.cfg.Store, u)
	case err != nil && !errors.Is(err, gatehouse.ErrNotFound):
		return policy.Decision{}, err
	}
	acct, err := f.cfg.Store.Account(ctx, accountID)
	if err != nil {
		return policy.Decision{}, err
	}
	facts, err := access.AccountFacts(ctx, f.cfg.Store, acct)
	if err != nil {
		return policy.Decision{}, err
	}
	facts.Role = gatehouse.RoleUser
	return policy.Decide(facts), nil
}

// StartTest starts a Test of configuration configID, which must speak
// protocol, by tester, whatever the configuration's status. Only an administrator of its owner may (see
// policy.Reaches); others get ErrNotAllowed. A configuration that
// cannot build a request yet returns a *gatehouse.Rejection saying what is missing.
func (f *Flow) StartTest(ctx context.Context, protocol gatehouse.Protocol, configID string, tester gatehouse.User) (Started, error) {
	c, err := f.cfg.Store.SSOConfig(ctx, configID)
	if errors.Is(err, gatehouse.ErrNotFound) || (err == nil && c.Protocol != protocol) {
		return Started{}, ErrUnknownConfig
	}
	if err != nil {
		return Started{}, fmt.Errorf("sso: start test: %w", err)
	}
	if err := f.mayAdminister(ctx, tester, c); err != nil {
		return Started{Config: c}, err
	}
	return f.startTest(ctx, c, tester.ID)
}

// startTest starts a Test of c run by testerID, a user or a setup link.
func (f *Flow) startTest(ctx context.Context, c gatehouse.SSOConfig, testerID string) (Started, error) {
	row := gatehouse.SSOFlow{Purpose: gatehouse.SSOFlowTest, TesterID: testerID}
	if c.Pending != nil {
		// A Test runs the pending settings: sign-ins keep the live ones
		// until a tested pending version is applied.
		row.PendingChangedAt = c.Pending.ChangedAt
		c = c.WithPending()
	}
	return f.start(ctx, c, row, "")
}

// mayAdminister returns nil when u administers c's owner, ErrNotAllowed
// when not.
func (f *Flow) mayAdminister(ctx context.Context, u gatehouse.User, c gatehouse.SSOConfig) error {
	own, err := f.cfg.Store.Account(ctx, u.AccountID)
	if err != nil {
		return fmt.Errorf("sso: tester's account: %w", err)
	}
	owner := policy.PartitionOwner(c.PartitionID)
	if c.AccountID != "" {
		acct, err := f.cfg.Store.Account(ctx, c.AccountID)
		if err != nil {
			return fmt.Errorf("sso: configuration's account: %w", err)
		}
		owner = policy.AccountOwner(acct)
	}
	if !policy.Reaches(policy.UserReach(u, own), owner) {
		return ErrNotAllowed
	}
	return nil
}

func (f *Flow) start(ctx context.Context, c gatehouse.SSOConfig, row gatehouse.SSOFlow, hint string) (Started, error) {
	conn := f.connector(c.Protocol)
	if conn == nil {
		return Started{Config: c}, &gatehouse.Rejection{Reason: "configuration", Message: fmt.Sprintf("Gatehouse cannot speak %q to IdPs yet", c.Protocol), FixIn: gatehouse.FixInGatehouse}
	}
	now := f.cfg.Now()
	row.ID = rand.Text()
	redirect, err := conn.Start(ctx, &c, StartRequest{FlowKey: row.ID, LoginHint: hint, Now: now})
	if err != nil {
		return Started{Config: c}, err
	}
	token := rand.Text()
	row.ConfigID, row.RequestID, row.Secret = c.ID, redirect.RequestID, redirect.Secret
	row.BrowserHash = BrowserHash(token)
	row.CreatedAt, row.ExpiresAt = now, now.Add(Lifetime)
	if err := f.cfg.Store.CreateSSOFlow(ctx, &row); err != nil {
		return Started{}, fmt.Errorf("sso: start: %w", err)
	}
	f.debugStarted(ctx, c, row)
	return Started{FlowID: row.ID, BrowserToken: token, Redirect: redirect, Config: c}, nil
}

// Next is where the browser goes after the callback: the finish step of a
// sign-in, or the result page of a Test.
type Next struct {
	FlowID string
	Test   bool
	// SetupLinkID is the setup link a Test ran through; its result page
	// is the link's.
	SetupLinkID string
}

// owner is what the audit log and the person's pages name for a
// configuration's owner.
type owner struct {
	accountID, partitionID, name string
	// account is the owner when it is an account, as read in this request.
	account *gatehouse.Account
}

func (f *Flow) ownerOf(ctx context.Context, c gatehouse.SSOConfig) (owner, error) {
	return f.ownerWith(ctx, c, nil)
}

// ownerWith is ownerOf when the owning account, acct, was read with the
// configuration in this request (nil: read it now).
func (f *Flow) ownerWith(ctx context.Context, c gatehouse.SSOConfig, acct *gatehouse.Account) (owner, error) {
	if acct != nil {
		return owner{accountID: acct.ID, partitionID: acct.PartitionID, name: acct.Name, account: acct}, nil
	}
	if c.AccountID == "" {
		p, err := f.cfg.Store.Partition(ctx, c.PartitionID)
		if err != nil {
			return owner{}, fmt.Errorf("sso: configuration's partition: %w", err)
		}
		return owner{partitionID: p.ID, name: p.Name}, nil
	}
	a, err := f.cfg.Store.Account(ctx, c.AccountID)
	if err != nil {
		return owner{}, fmt.Errorf("sso: configuration's account: %w", err)
	}
	return owner{accountID: a.ID, partitionID: a.PartitionID, name: a.Name, account: &a}, nil
}

// callback is one answer being handled.
type callback struct {
	config gatehouse.SSOConfig
	conn   Connector
	owner  owner
	client login.Client
	now    time.Time
	// flow is the flow the answer belongs to; nil when none was found.
	flow *gatehouse.SSOFlow
	// target is the ID of the user a failed attempt was aimed at, when
	// the answer named one of the account's users (see nameTarget): its
	// audit event names them, so their sign-in history lists it.
	target string
}

// Callback handles the IdP's answer posted to configuration configID's
// callback (SAML's ACS). It finds the flow by the echoed key, or by the
// request the answer claims to answer (for IdPs that drop RelayState); a
// key that names no flow of this configuration is ignored, never followed.
// It checks the answer with the connector, refuses a message seen before,
// answers each request once, and matches the person only among the active
// users of the configuration's own account.
//
// A sign-in goes on to Next's finish step; a Test to its result page,
// failures included, with the outcome recorded on the configuration and no
// session for anyone. Other failures are *Rejected or *NoSeat, audited.
func (f *Flow) Callback(ctx context.Context, protocol gatehouse.Protocol, configID string, answer url.Values, client login.Client) (Next, error) {
	return f.callback(ctx, protocol, configID, answer, client, nil)
}

// BrowserCallback is Callback for protocols whose IdP answers by sending
// the browser that started the flow back with a top-level GET (OIDC's
// redirect URI), so the browser's flow cookie arrives with the answer.
// browserToken returns that cookie for a flow ID ("" when the browser has
// none). Before the connector sees the answer, and so before an OIDC code
// is redeemed (SECURITY.md O-state, O-mixup), the answer must name an
// unexpired, unanswered flow of this configuration started by this very
// browser; anything else is *Rejected. There is no unsolicited answer.
func (f *Flow) BrowserCallback(ctx context.Context, protocol gatehouse.Protocol, configID string, answer url.Values, browserToken func(flowID string) string, client login.Client) (Next, error) {
	if browserToken == nil {
		return Next{}, errors.New("sso: browser callback without the browser's token")
	}
	return f.callback(ctx, protocol, configID, answer, client, browserToken)
}

// callback handles an answer; browserToken is nil when the answer does not
// come from the browser (a cross-site POST), whose binding is then checked
// at the finish step alone.
func (f *Flow) callback(ctx context.Context, protocol gatehouse.Protocol, configID string, answer url.Values, client login.Client, browserToken func(string) string) (Next, error) {
	conn := f.connector(protocol)
	if conn == nil {
		return Next{}, ErrUnknownConfig
	}
	// What ties the answer to a flow is read, untrusted, first, so that
	// the flow of its key is read with the configuration.
	key, requestID := conn.Correlate(answer)
	lookup := key
	if len(lookup) > maxFlowKey {
		lookup = ""
	}
	c, acct, fl, err := f.cfg.Store.CurrentSSOConfigAccountAndFlow(ctx, configID, lookup)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return Next{}, ErrUnknownConfig
	}
	if err != nil {
		return Next{}, fmt.Errorf("sso: callback: %w", err)
	}
	cb := &callback{config: c, conn: conn, client: client, now: f.cfg.Now(), flow: fl}
	if c.Protocol != protocol {
		return Next{}, ErrUnknownConfig
	}
	if cb.owner, err = f.ownerWith(ctx, c, acct); err != nil {
		return Next{}, err
	}
	if err := f.findFlowByRequest(ctx, cb, requestID); err != nil {
		return Next{}, err
	}
	if browserToken != nil {
		if e := cb.strangeAnswer(key, browserToken); e != nil {
			// Audited, never recorded on a Test: whoever holds a state must
			// not be able to decide an admin's test result.
			return f.auditRefusal(ctx, cb, e, nil)
		}
	}
	f.answered(ctx, cb)

	if cb.flow != nil && !cb.flow.PendingChangedAt.IsZero() {
		// A Test of a pending version is checked against that version, and
		// only while it is still the pending one.
		if c.Pending == nil || !c.Pending.IsVersion(cb.flow.PendingChangedAt) {
			return f.refuse(ctx, cb, &gatehouse.Rejection{Reason: "pending_changed",
				Message: "the pending changes this test was started for were changed, applied or discarded since; start the test again",
				FixIn:   gatehouse.FixInGatehouse}, nil)
		}
		c = c.WithPending()
		cb.config = c
	}

	pending := Pending{Now: cb.now}
	if cb.flow != nil {
		pending.Secret = cb.flow.Secret
		if cb.flow.RequestID != "" {
			pending.RequestIDs = []string{cb.flow.RequestID}
		}
	}
	id, err := cb.conn.Finish(ctx, &c, answer, pending)
	var cerr *gatehouse.Rejection
	if errors.As(err, &cerr) {
		return f.refuse(ctx, cb, cerr, nil)
	}
	if err != nil {
		return Next{}, fmt.Errorf("sso: callback: %w", err)
	}

	if cb.flow != nil && !cb.now.Before(cb.flow.ExpiresAt) {
		if refused, next, err := f.markSeen(ctx, cb, id); refused || err != nil {
			return next, err
		}
		return f.refuse(ctx, cb, &gatehouse.Rejection{Reason: "flow_expired", Message: fmt.Sprintf("the sign-in started at %s and expired after %s; start again",
			cb.flow.CreatedAt.UTC().Format(time.RFC3339), Lifetime), FixIn: gatehouse.FixInIdP}, &id)
	}
	if cb.flow != nil && cb.flow.Purpose == gatehouse.SSOFlowTest {
		if refused, next, err := f.markSeen(ctx, cb, id); refused || err != nil {
			return next, err
		}
		// A Test must not change who signs in, so it never creates a link.
		m, err := f.match(ctx, c, cb.owner, cb.flow.AccountID, id, false)
		if err != nil {
			return Next{}, err
		}
		return f.finishTest(ctx, cb, id, m)
	}
	return f.answerSignIn(ctx, cb, id)
}

// markSeen records the answer's message as accepted, for the paths that
// refuse or test it outside answerSignIn. When the message was accepted
// before, it refuses the answer: refused is true, with what to return.
func (f *Flow) markSeen(ctx context.Context, cb *callback, id Identity) (refused bool, next Next, err error) {
	fresh, err := f.cfg.Store.MarkMessageSeen(ctx, cb.config.ID, id.MessageID, id.ReplayUntil)
	if err != nil {
		return true, Next{}, fmt.Errorf("sso: replay check: %w", err)
	}
	if !fresh {
		next, err := f.refuse(ctx, cb, replayRejection(id), &id)
		return true, next, err
	}
	return false, Next{}, nil
}

func replayRejection(id Identity) *gatehouse.Rejection {
	return &gatehouse.Rejection{Reason: "replay", Message: fmt.Sprintf("message %q was accepted before; a copy of it is refused", id.MessageID),
		Received: id.MessageID, FixIn: gatehouse.FixInIdP}
}

// answerSignIn records a sign-in's checked answer: the person it matched,
// or why none, on the flow for the finish step (a flow of its own when the
// IdP sent the answer unasked). The message is marked seen, the flow
// created and answered, and a failure audited in one transaction, so
// a copy of the message, a second answer to the request and a crash
// between them all leave nothing half-done.
//
// The person is matched before the message is marked seen: matching reads,
// and writes only the first link of an IdP's key to the seat its verified
// email names, which a copy of the same message would name again; the copy
// itself is refused by the mark.
func (f *Flow) answerSignIn(ctx context.Context, cb *callback, id Identity) (Next, error) {
	writes := []store.Write{store.MarkMessageSeenWrite(cb.config.ID, id.MessageID, id.ReplayUntil)}
	created := cb.flow == nil
	if created {
		// Connector.Finish accepts an answer to no request only when the
		// configuration allows IdP-initiated sign-in: give it a flow of its
		// own, bound to no browser.
		row := gatehouse.SSOFlow{ID: rand.Text(), ConfigID: cb.config.ID, Purpose: gatehouse.SSOFlowSignIn, CreatedAt: cb.now, ExpiresAt: cb.now.Add(Lifetime)}
		cb.flow = &row
	}
	m, err := f.match(ctx, cb.config, cb.owner, cb.flow.AccountID, id, true)
	if err != nil {
		return Next{}, err
	}
	res := Result{Outcome: gatehouse.OutcomeSuccess, Identity: &Identity{Subject: id.Subject, Email: id.Email, MessageID: id.MessageID, LinkKey: id.LinkKey, MFA: id.MFA}}
	if m.user != nil {
		res.UserID, res.MatchedBy = m.user.ID, m.by
	} else {
		res.Outcome, res.NoMatch = gatehouse.OutcomeFailure, m.none
	}
	b, err := json.Marshal(res)
	if err != nil {
		return Next{}, fmt.Errorf("sso: result: %w", err)
	}
	if created {
		// The flow made for this answer is stored answered.
		cb.flow.Result, cb.flow.UserID, cb.flow.FinishedAt = b, res.UserID, cb.now
		writes = append(writes, store.CreateSSOFlowWrite(cb.flow))
	} else {
		writes = append(writes, store.FinishSSOFlowWrite(cb.flow.ID, b, res.UserID, cb.now))
	}
	var (
		noSeat  *NoSeat
		failure *gatehouse.AuditEvent
	)
	if m.user == nil {
		reason, code := "no seat: "+m.none, "no_seat"
		if m.unverified {
			reason, code = "email not verified: "+m.none, "email_unverified"
		}
		e := f.signInEvent(cb, nil, reason, map[string]string{"email": id.Email, "subject": id.Subject, "link_key": id.LinkKey, "reason": code})
		writes = append(writes, f.cfg.Store.AppendAuditWrite(e))
		noSeat = &NoSeat{Email: id.Email, AccountName: cb.owner.name, Reference: e.ID, EmailUnverified: m.unverified}
		failure = e
	}
	err = f.cfg.Store.Apply(ctx, writes...)
	switch {
	case errors.Is(err, store.ErrReplayed):
		if created {
			cb.flow = nil // the flow made for it was not kept
		}
		return f.refuse(ctx, cb, replayRejection(id), &id)
	case errors.Is(err, store.ErrAnsweredBefore):
		// The message is spent all the same, as it was checked.
		if refused, next, err := f.markSeen(ctx, cb, id); refused || err != nil {
			return next, err
		}
		return f.refuse(ctx, cb, &gatehouse.Rejection{Reason: "request_used", Message: "the request this answers was answered before; each request is accepted once",
			Received: cb.flow.RequestID, FixIn: gatehouse.FixInIdP}, &id)
	case err != nil:
		return Next{}, fmt.Errorf("sso: callback: %w", err)
	case noSeat != nil:
		f.count(ctx, cb, failure)
		return Next{}, noSeat
	}
	return Next{FlowID: cb.flow.ID}, nil
}

// RejectUnread audits an answer refused before it could be read (too
// large, not a form) at configuration configID's callback, and returns the
// *Rejected to show, or ErrUnknownConfig.
func (f *Flow) RejectUnread(ctx context.Context, protocol gatehouse.Protocol, configID string, e *gatehouse.Rejection, client login.Client) error {
	c, err := f.cfg.Store.SSOConfig(ctx, configID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return ErrUnknownConfig
	}
	if err != nil {
		return fmt.Errorf("sso: callback: %w", err)
	}
	cb := &callback{config: c, conn: f.connector(c.Protocol), client: client, now: f.cfg.Now()}
	if c.Protocol != protocol || cb.conn == nil {
		return ErrUnknownConfig
	}
	if cb.owner, err = f.ownerOf(ctx, c); err != nil {
		return err
	}
	_, err = f.refuse(ctx, cb, e, nil)
	return err
}

// findFlowByRequest sets cb.flow, when the answer's key named no flow of
// this configuration, to the configuration's flow of the request the
// answer refers to, if any (for IdPs that drop RelayState). A flow of
// another configuration is none: an answer cannot cross tenants.
func (f *Flow) findFlowByRequest(ctx context.Context, cb *callback, requestID string) error {
	if cb.flow != nil || requestID == "" || len(requestID) > 256 {
		return nil
	}
	fl, err := f.cfg.Store.SSOFlowByRequest(ctx, cb.config.ID, requestID)
	switch {
	case err == nil:
		cb.flow = &fl
	case !errors.Is(err, gatehouse.ErrNotFound):
		return fmt.Errorf("sso: callback: %w", err)
	}
	return nil
}

// strangeAnswer returns why an answer that came with the browser cannot be
// this browser's answer to a flow of this configuration, or nil. key is
// the flow key the answer carried.
func (cb *callback) strangeAnswer(key string, browserToken func(string) string) *gatehouse.Rejection {
	fl := cb.flow
	switch {
	case fl == nil && key == "":
		return &gatehouse.Rejection{Reason: "state", Message: "the answer carries no state, so it belongs to no sign-in started here; it was not redeemed", FixIn: gatehouse.FixInIdP}
	case fl == nil:
		return &gatehouse.Rejection{Reason: "state", Message: "the answer's state names no sign-in of this configuration (unknown, or started for another configuration); it was not redeemed",
			Received: clipKey(key), FixIn: gatehouse.FixInIdP}
	case !fl.FinishedAt.IsZero():
		return &gatehouse.Rejection{Reason: "state_used", Message: "the sign-in this state names was answered before; a state is accepted once and this answer was not redeemed",
			Received: fl.ID, FixIn: gatehouse.FixInIdP}
	case !cb.now.Before(fl.ExpiresAt):
		return &gatehouse.Rejection{Reason: "flow_expired", Message: fmt.Sprintf("the sign-in started at %s and expired after %s; start again",
			fl.CreatedAt.UTC().Format(time.RFC3339), Lifetime), FixIn: gatehouse.FixInIdP}
	case fl.BrowserHash != "" && subtle.ConstantTimeCompare([]byte(BrowserHash(browserToken(fl.ID))), []byte(fl.BrowserHash)) != 1:
		return &gatehouse.Rejection{Reason: "browser_mismatch", Message: "the answer arrived in another browser than the one that started the sign-in; it was not redeemed",
			FixIn: gatehouse.FixInIdP}
	}
	return nil
}

// clipKey shows a flow key from the answer in an audit event, bounded.
func clipKey(key string) string {
	if len(key) > maxFlowKey {
		return key[:maxFlowKey] + "..."
	}
	return strings.ToValidUTF8(key, "?")
}

// refuse records a rejected answer: for a Test flow that has not been
// answered, as the Test's outcome, shown on its result page; otherwise as a
// failed sign-in, audited with the precise reason.
func (f *Flow) refuse(ctx context.Context, cb *callback, e *gatehouse.Rejection, id *Identity) (Next, error) {
	if id == nil {
		id = namedBy(e)
	}
	if cb.flow != nil && cb.flow.Purpose == gatehouse.SSOFlowTest && cb.flow.FinishedAt.IsZero() && cb.now.Before(cb.flow.ExpiresAt) {
		res := Result{Outcome: gatehouse.OutcomeFailure, Error: e, Identity: id}
		return f.recordTest(ctx, cb, res, nil)
	}
	return f.auditRefusal(ctx, cb, e, id)
}

// auditRefusal records a rejected answer as a failed sign-in and returns
// the *Rejected to show.
func (f *Flow) auditRefusal(ctx context.Context, cb *callback, e *gatehouse.Rejection, id *Identity) (Next, error) {
	details := map[string]string{"reason": e.Reason, "fix_in": string(e.FixIn), "expected": e.Expected, "received": e.Received}
	if id != nil {
		details["subject"], details["email"] = id.Subject, id.Email
		if err := f.nameTarget(ctx, cb, id); err != nil {
			return Next{}, err
		}
	}
	ref, err := f.auditSignIn(ctx, cb, nil, e.Message, details)
	if err != nil {
		return Next{}, err
	}
	return Next{}, &Rejected{Reference: ref, Err: e, IdPMessage: shownIdPMessage(cb, e)}
}

// finishTest records a Test whose answer passed every check. The person is
// never signed in: the result only tells the tester who they would be.
func (f *Flow) finishTest(ctx context.Context, cb *callback, id Identity, m matched) (Next, error) {
	res := Result{Outcome: gatehouse.OutcomeSuccess, Identity: &id, NoMatch: m.none}
	if m.user != nil {
		res.MatchedBy = m.by
	}
	return f.recordTest(ctx, cb, res, m.user)
}

func (f *Flow) recordTest(ctx context.Context, cb *callback, res Result, user *gatehouse.User) (Next, error) {
	link, refusal, err := f.testLink(ctx, cb)
	if err != nil {
		return Next{}, err
	}
	if refusal != nil {
		return f.auditRefusal(ctx, cb, refusal, res.Identity)
	}
	t := gatehouse.SSOTest{At: cb.now.UTC(), By: cb.flow.TesterID, Outcome: res.Outcome, Details: map[string]string{}}
	if user != nil {
		res.UserID, t.UserID = user.ID, user.ID
		t.Details["user"] = user.Email
		t.Details["matched_by"] = res.MatchedBy
	}
	if res.NoMatch != "" {
		t.Details["user"] = "no user matches: " + res.NoMatch
	}
	if e := res.Error; e != nil {
		t.Reason, t.FixIn = e.Message, e.FixIn
		t.Details["reason"] = e.Reason
		if e.Expected != "" || e.Received != "" {
			t.Details["expected"], t.Details["received"] = e.Expected, e.Received
		}
	}
	if id := res.Identity; id != nil {
		t.Subject = id.Subject
		t.Details["subject_format"] = id.SubjectFormat
		t.Details["email"] = id.Email
		t.Details["link_key"] = id.LinkKey
		if id.Email != "" && !id.EmailVerified {
			t.Details["email_verified"] = "false"
		}
		for name, values := range id.Attributes {
			b, _ := json.Marshal(values)
			t.Details["attribute:"+name] = string(b)
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		return Next{}, fmt.Errorf("sso: result: %w", err)
	}
	ok, err := f.cfg.Store.FinishSSOFlow(ctx, cb.flow.ID, b, cb.now)
	if err != nil {
		return Next{}, fmt.Errorf("sso: finish test: %w", err)
	}
	if !ok {
		// Answered meanwhile: the first answer stands, this one is refused.
		cb.flow.FinishedAt = cb.now
		return f.refuse(ctx, cb, &gatehouse.Rejection{Reason: "request_used", Message: "the test's request was answered before; each request is accepted once",
			Received: cb.flow.RequestID, FixIn: gatehouse.FixInIdP}, res.Identity)
	}
	ev := f.event(cb, gatehouse.ActionSSOConfigTest, t.Reason)
	ev.ActorType, ev.ActorID = gatehouse.ActorUser, cb.flow.TesterID
	if link != "" {
		ev.ActorType = gatehouse.ActorSetupLink
	}
	ev.Details = map[string]string{"sso_config": cb.config.Name, "flow": cb.flow.ID, "subject": t.Subject, "user": t.Details["user"],
		"matched_by": t.Details["matched_by"], "reason": t.Details["reason"], "fix_in": string(t.FixIn)}
	if !cb.flow.PendingChangedAt.IsZero() {
		ev.Details["version"] = "pending"
	}
	if err := f.appendAudit(ctx, &ev); err != nil {
		return Next{}, err
	}
	if cb.flow.PendingChangedAt.IsZero() {
		err = f.cfg.Store.RecordSSOTest(ctx, cb.config.ID, t)
	} else {
		// Recorded only on the version it tested: one changed, applied or
		// discarded meanwhile keeps its own (or no) result.
		_, err = f.cfg.Store.RecordPendingSSOTest(ctx, cb.config.ID, cb.flow.PendingChangedAt, t)
	}
	if err != nil {
		return Next{}, fmt.Errorf("sso: record test: %w", err)
	}
	if link != "" && t.Outcome == gatehouse.OutcomeSuccess {
		if err := f.cfg.Store.UseUpSetupLink(ctx, link, cb.now); err != nil {
			return Next{}, fmt.Errorf("sso: record test: %w", err)
		}
	}
	return Next{FlowID: cb.flow.ID, Test: true, SetupLinkID: link}, nil
}

// matched is who an answer names in the configuration's account.
type matched struct {
	// user is nil when no one matched; by is the rule that found user.
	user *gatehouse.User
	by   string
	// none says why no one matched; unverified when it is because the IdP
	// did not verify the email of a person with no link.
	none       string
	unverified bool
}

// match finds the person's seat, only among the users of the
// configuration's own account (SECURITY.md A-crosstenant). An answer with
// a link key is found by its link first, so a linked person keeps their
// seat when their email claim changes, and a changed claim cannot move
// them to someone else's. Without a link, only an email the IdP verified
// matches (E-noauth); link says whether to link the key to that user, as
// a sign-in does and a Test does not. The store keeps the first link of a
// key, so two first sign-ins racing end on the same user.
//
// A partition's configuration matches only inside the account the sign-in
// was started for (flowAccount), which must be in that partition, on the
// enterprise plan and set to use the partition's SSO; an IdP-initiated
// answer or a Test of a partition's configuration names no account, so it
// matches no one.
func (f *Flow) match(ctx context.Context, c gatehouse.SSOConfig, o owner, flowAccount string, id Identity, link bool) (matched, error) {
	target := c.AccountID
	if target == "" {
		if flowAccount == "" {
			return matched{none: "a partition's configuration signs in only to an account that started the sign-in at Gatehouse and is set to use the partition's SSO"}, nil
		}
		acct, err := f.cfg.Store.Account(ctx, flowAccount)
		if err != nil {
			return matched{}, fmt.Errorf("sso: sign-in's account: %w", err)
		}
		if acct.PartitionID != c.PartitionID || !acct.UsePartitionSSO || acct.Plan != gatehouse.PlanEnterprise {
			return matched{none: fmt.Sprintf("account %s is not set to use the SSO of partition %s", acct.Name, o.name)}, nil
		}
		o = owner{accountID: acct.ID, partitionID: acct.PartitionID, name: acct.Name}
		target = acct.ID
	}
	if id.LinkKey != "" {
		u, err := f.cfg.Store.LinkedUser(ctx, c.ID, id.LinkKey)
		switch {
		case err == nil:
			return seatOf(u, target, o, MatchLink), nil
		case !errors.Is(err, gatehouse.ErrNotFound):
			return matched{}, fmt.Errorf("sso: identity link: %w", err)
		}
	}
	if strings.TrimSpace(id.Email) == "" {
		return matched{none: "the IdP sent no email address, and no earlier sign-in linked this person to a user"}, nil
	}
	if !id.EmailVerified {
		return matched{unverified: true, none: fmt.Sprintf("the IdP did not mark the email address %q as verified, and no earlier sign-in linked this person to a user; "+
			"an unverified email never names a user", id.Email)}, nil
	}
	email, err := gatehouse.NormalizeEmail(id.Email)
	if err != nil {
		return matched{none: fmt.Sprintf("%q is not a usable email address: %v", id.Email, err)}, nil
	}
	u, err := f.cfg.Store.UserByEmail(ctx, target, email)
	byEmail, byVerifiedEmail := MatchEmail, MatchVerifiedEmail
	if errors.Is(err, gatehouse.ErrNotFound) && link && c.JIT.Enabled {
		m, why, perr := f.provision(ctx, c, o, email, id)
		if perr != nil {
			return matched{}, perr
		}
		if m.user == nil {
			return matched{none: fmt.Sprintf("no user has the email %s in account %s, and no seat was made: %s", email, o.name, why)}, nil
		}
		u, err, byEmail, byVerifiedEmail = *m.user, nil, m.by, m.by
	}
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return matched{none: fmt.Sprintf("no user has the email %s in account %s", email, o.name)}, nil
	case err != nil:
		return matched{}, fmt.Errorf("sso: match user: %w", err)
	case u.Status != gatehouse.UserActive:
		return matched{none: fmt.Sprintf("the user %s in account %s is disabled", email, o.name)}, nil
	case id.LinkKey == "":
		return matched{user: &u, by: byEmail}, nil
	case !link:
		return matched{user: &u, by: byVerifiedEmail}, nil
	}
	l, err := f.cfg.Store.LinkIdentity(ctx, &gatehouse.IdentityLink{ConfigID: c.ID, Key: id.LinkKey, UserID: u.ID})
	if err != nil {
		return matched{}, fmt.Errorf("sso: link identity: %w", err)
	}
	if l.UserID != u.ID {
		// Another sign-in of this person linked first: the store's link
		// is the one that counts.
		return f.seat(ctx, target, o, l.UserID, MatchLink)
	}
	return matched{user: &u, by: byVerifiedEmail}, nil
}

// seat returns user userID as rule by found them, if they are still an
// active user of account accountID.
func (f *Flow) seat(ctx context.Context, accountID string, o owner, userID, by string) (matched, error) {
	u, err := f.cfg.Store.User(ctx, userID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		u = gatehouse.User{}
	case err != nil:
		return matched{}, fmt.Errorf("sso: linked user: %w", err)
	}
	return seatOf(u, accountID, o, by), nil
}

// seatOf is user u, as rule by found them, if they are still an active
// user of account accountID; u is the zero User when the user a link
// named no longer exists.
func seatOf(u gatehouse.User, accountID string, o owner, by string) matched {
	switch {
	case u.ID == "":
		return matched{none: "the user this person is linked to no longer exists"}
	case u.AccountID != accountID:
		return matched{none: fmt.Sprintf("the user this person is linked to is not in account %s", o.name)}
	case u.Status != gatehouse.UserActive:
		return matched{none: fmt.Sprintf("the user %s this person is linked to in account %s is disabled", u.Email, o.name)}
	}
	return matched{user: &u, by: by}
}

// Finished is a sign-in completed in the browser that started it.
type Finished struct {
	Session login.Result
	User    gatehouse.User
	// ReturnTo is the local path the person asked for, as stored; the
	// caller checks it again.
	ReturnTo string
}

// Switching is Finish's answer when the result names another person than
// the one signed in in this browser (SECURITY.md A-switch: an attacker's
// page may have posted its own valid answer). Nothing changed: the browser
// keeps From's session and the result is unspent until the person takes
// it with Switch or leaves it with Decline, before it expires.
type Switching struct {
	From, To gatehouse.User
	// FromAccount and ToAccount are the names of their accounts.
	FromAccount, ToAccount string
}

func (s *Switching) Error() string {
	return "sso: the browser is signed in as " + s.From.Email + " and the sign-in is for " + s.To.Email
}

// switchesPerson reports whether a result for user userID would replace
// the browser's session cur with someone else's, which only the person's
// confirmation may do. No session (the zero Current), a session still
// waiting for its TOTP step, or the same person: it would not.
func switchesPerson(cur login.Current, userID string) bool {
	return cur.Session.State == gatehouse.SessionAuthenticated && cur.User.ID != "" && cur.User.ID != userID
}

// otherAccount is how an audit event names a person of another account.
const otherAccount = "a user of another account"

// auditName names user u in an audit event of account accountID: by email
// inside it, and outside only as otherAccount, so a configuration's admins
// never learn who else was signed in in the browser.
func auditName(u gatehouse.User, accountID string) string {
	if accountID != "" && u.AccountID == accountID {
		return u.Email
	}
	return otherAccount
}

// finishStep is what the person asked of the finish step.
type finishStep int

const (
	// stepAsk takes the result unless it switches the person (Finish).
	stepAsk finishStep = iota
	// stepSwitch takes it, whoever is signed in (Switch).
	stepSwitch
	// stepDecline spends it and keeps the browser's session (Decline).
	stepDecline
)

// Finish hands a checked sign-in to the browser that started it, once: it
// consumes the flow, requires the browser's token to match the one the flow
// was started with (unless it was IdP-initiated, which no browser started),
// and starts a new session, replacing the browser's session oldToken.
// When oldToken is another person's authenticated session it changes
// nothing and returns *Switching: the person must confirm first.
func (f *Flow) Finish(ctx context.Context, flowID, browserToken, oldToken string, client login.Client) (Finished, error) {
	return f.finish(ctx, flowID, browserToken, oldToken, client, stepAsk)
}

// Switch is Finish once the person confirmed they want to continue as the
// result's user although another person is signed in in the browser. It
// checks all that Finish checks; the sign-in's audit event says whom the
// browser switched from.
func (f *Flow) Switch(ctx context.Context, flowID, browserToken, oldToken string, client login.Client) (Finished, error) {
	return f.finish(ctx, flowID, browserToken, oldToken, client, stepSwitch)
}

// Decline spends a result the person chose not to take, leaving the
// browser's session as it is, and audits it as a sign-in not completed.
// Only the browser a result belongs to can decline it.
func (f *Flow) Decline(ctx context.Context, flowID, browserToken, oldToken string, client login.Client) error {
	_, err := f.finish(ctx, flowID, browserToken, oldToken, client, stepDecline)
	return err
}

func (f *Flow) finish(ctx context.Context, flowID, browserToken, oldToken string, client login.Client, step finishStep) (Finished, error) {
	if flowID == "" || len(flowID) > maxFlowKey {
		return Finished{}, ErrFlowGone
	}
	now := f.cfg.Now()
	// Read, not consumed yet: a result that must be confirmed stays usable.
	// The user it matched comes with it, when of the configuration's own
	// account (seat).
	fl, c, acct, seat, err := f.cfg.Store.PeekSSOFlowAndConfig(ctx, flowID, now)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return Finished{}, ErrFlowGone
	}
	if err != nil {
		return Finished{}, fmt.Errorf("sso: finish: %w", err)
	}
	var res Result
	if err := json.Unmarshal(fl.Result, &res); err != nil || fl.Purpose != gatehouse.SSOFlowSignIn || res.Outcome != gatehouse.OutcomeSuccess || res.UserID == "" {
		return Finished{}, ErrFlowGone
	}
	cb := &callback{config: c, conn: f.connector(c.Protocol), client: client, now: now, flow: &fl}
	if cb.conn == nil {
		return Finished{}, ErrFlowGone
	}
	if cb.owner, err = f.ownerWith(ctx, c, acct); err != nil {
		return Finished{}, err
	}
	details := map[string]string{}
	if res.Identity != nil {
		details["subject"], details["email"] = res.Identity.Subject, res.Identity.Email
	}
	// Whatever fails from here was aimed at the user the answer matched.
	cb.target = res.UserID
	if fl.BrowserHash != "" && subtle.ConstantTimeCompare([]byte(BrowserHash(browserToken)), []byte(fl.BrowserHash)) != 1 {
		// Spent all the same: a result another browser reached for is
		// nobody's any more.
		if err := f.consume(ctx, fl.ID, now); err != nil && !errors.Is(err, ErrFlowGone) {
			return Finished{}, err
		}
		details["reason"] = "browser_mismatch"
		ref, err := f.auditSignIn(ctx, cb, nil, "the sign-in was collected by another browser than the one that started it", details)
		if err != nil {
			return Finished{}, err
		}
		return Finished{}, &Rejected{Reference: ref, Err: &gatehouse.Rejection{Reason: "browser_mismatch", Message: "another browser started this sign-in", FixIn: gatehouse.FixInIdP}}
	}
	user, seen, err := f.seatOf(ctx, seat, res.UserID)
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return Finished{}, fmt.Errorf("sso: finish: %w", err)
	}
	// A partition's configuration signs in to the account the flow was for.
	if c.AccountID == "" && fl.AccountID != "" {
		cb.owner.accountID = fl.AccountID
	}
	seated := err == nil && user.AccountID == cmp.Or(c.AccountID, fl.AccountID) && user.Status == gatehouse.UserActive
	cur, err := f.cfg.Login.Session(ctx, oldToken)
	if err != nil && !errors.Is(err, login.ErrNoSession) {
		return Finished{}, fmt.Errorf("sso: finish: %w", err)
	}
	switching := switchesPerson(cur, res.UserID)
	if step == stepAsk && switching && seated {
		return Finished{}, f.switching(ctx, cur.User, user)
	}
	// The flow is spent, the session started and the sign-in audited in
	// one transaction: a result is taken once, and no sign-in goes
	// unrecorded.
	consumed := store.ConsumeSSOFlowWrite(fl.ID, now)
	if step == stepDecline {
		details["reason"], details["user"] = "switch_declined", user.Email
		if switching {
			details["stayed_as"] = auditName(cur.User, cb.owner.accountID)
		}
		_, err := f.auditSpent(ctx, cb, nil, "the person chose to stay signed in as who they were in this browser", details, consumed)
		return Finished{}, err
	}
	if !seated {
		details["reason"] = "no_seat"
		ref, err := f.auditSpent(ctx, cb, nil, "the matched user was removed or disabled during the sign-in", details, consumed)
		if err != nil {
			return Finished{}, err
		}
		return Finished{}, &NoSeat{Email: details["email"], AccountName: cb.owner.name, Reference: ref}
	}
	if switching {
		details["switched_from"] = auditName(cur.User, cb.owner.accountID)
	}
	idpMFA := res.Identity != nil && res.Identity.MFA
	sess, started, err := f.cfg.Login.NewFederatedSession(ctx, oldToken, user, cb.owner.account, seen, cb.conn.Method(), c.ID, idpMFA)
	if errors.Is(err, login.ErrPolicyForbids) {
		details["reason"] = "policy"
		ref, err := f.auditSpent(ctx, cb, nil, "configuration "+c.Name+" no longer governs this person's sign-in (it was disabled or switched during the sign-in)", details, consumed)
		if err != nil {
			return Finished{}, err
		}
		return Finished{}, &Rejected{Reference: ref, Err: &gatehouse.Rejection{Reason: "policy", Message: "this SSO configuration no longer signs this person in", FixIn: gatehouse.FixInGatehouse}}
	}
	if err != nil {
		return Finished{}, fmt.Errorf("sso: finish: %w", err)
	}
	if _, err := f.auditSpent(ctx, cb, &user, "", details, consumed, started); err != nil {
		return Finished{}, err
	}
	return Finished{Session: sess, User: user, ReturnTo: fl.ReturnTo}, nil
}

// seatOf returns the user a result matched, userID, with what the policy
// reads about them when the flow's peek read it (seat, when it names that
// user), else read now, without those facts; gatehouse.ErrNotFound when
// the user is gone.
func (f *Flow) seatOf(ctx context.Context, seat *store.Seat, userID string) (gatehouse.User, *store.UserAccess, error) {
	if seat != nil && seat.User.ID == userID {
		return seat.User, &seat.Access, nil
	}
	user, err := f.cfg.Store.User(ctx, userID)
	return user, nil, err
}

// auditSpent audits a sign-in attempt as auditSignIn does, in one
// transaction with writes (the flow's result spent, and on success the new
// session). ErrFlowGone when the result was spent meanwhile: then nothing
// is written.
func (f *Flow) auditSpent(ctx context.Context, cb *callback, user *gatehouse.User, reason string, details map[string]string, writes ...store.Write) (string, error) {
	e := f.signInEvent(cb, user, reason, details)
	err := f.cfg.Store.Apply(ctx, append(writes, f.cfg.Store.AppendAuditWrite(e))...)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return "", ErrFlowGone
	}
	if err != nil {
		return "", fmt.Errorf("sso: finish: %w", err)
	}
	f.count(ctx, cb, e)
	return e.ID, nil
}

// consume spends flow id's result, once across processes; ErrFlowGone
// when it was spent meanwhile or has expired.
func (f *Flow) consume(ctx context.Context, id string, now time.Time) error {
	_, err := f.cfg.Store.ConsumeSSOFlow(ctx, id, now)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return ErrFlowGone
	}
	if err != nil {
		return fmt.Errorf("sso: finish: %w", err)
	}
	return nil
}

// switching returns the *Switching that asks whether the person signed in
// as from continues as to.
func (f *Flow) switching(ctx context.Context, from, to gatehouse.User) error {
	fromAcct, err := f.cfg.Store.Account(ctx, from.AccountID)
	if err != nil {
		return fmt.Errorf("sso: finish: %w", err)
	}
	toAcct, err := f.cfg.Store.Account(ctx, to.AccountID)
	if err != nil {
		return fmt.Errorf("sso: finish: %w", err)
	}
	return &Switching{From: from, To: to, FromAccount: fromAcct.Name, ToAccount: toAcct.Name}
}

// event is an audit event about configuration c of the callback.
func (f *Flow) event(cb *callback, action gatehouse.AuditAction, reason string) gatehouse.AuditEvent {
	e := gatehouse.AuditEvent{
		Time:        f.cfg.Now().UTC(),
		ActorType:   gatehouse.ActorAnonymous,
		AccountID:   cb.owner.accountID,
		PartitionID: cb.owner.partitionID,
		Action:      action,
		Outcome:     gatehouse.OutcomeSuccess,
		Reason:      reason,
		TargetType:  "sso_config",
		TargetID:    cb.config.ID,
		Address:     cb.client.Address,
		UserAgent:   cb.client.UserAgent,
	}
	if reason != "" {
		e.Outcome = gatehouse.OutcomeFailure
	}
	return e
}

// auditSignIn records a sign-in attempt through the configuration, counts
// it in the metrics, and returns the event's ID (the reference a person
// quotes). user is the signed-in person on success; reason is empty then.
func (f *Flow) auditSignIn(ctx context.Context, cb *callback, user *gatehouse.User, reason string, details map[string]string) (string, error) {
	e := f.signInEvent(cb, user, reason, details)
	if err := f.appendAudit(ctx, e); err != nil {
		return "", err
	}
	f.count(ctx, cb, e)
	return e.ID, nil
}

// signInEvent is the audit event of a sign-in attempt through the
// configuration, counted in the metrics; see auditSignIn. Its empty
// details are left out.
func (f *Flow) signInEvent(cb *callback, user *gatehouse.User, reason string, details map[string]string) *gatehouse.AuditEvent {
	e := f.event(cb, gatehouse.SignInAction(cb.conn.Method()), reason)
	if user != nil {
		e.ActorType, e.ActorID = gatehouse.ActorUser, user.ID
		e.TargetType, e.TargetID = "user", user.ID
		details["email"] = user.Email
	} else if cb.target != "" {
		e.TargetType, e.TargetID = "user", cb.target
	}
	details["sso_config"] = cb.config.ID
	if cb.flow != nil {
		details["flow"] = cb.flow.ID
	}
	for k, v := range details {
		if v == "" {
			delete(details, k)
		}
	}
	e.Details = details
	return &e
}

// count counts sign-in attempt e, once it is recorded, in the metrics,
// and logs it when it failed (see observe).
func (f *Flow) count(ctx context.Context, cb *callback, e *gatehouse.AuditEvent) {
	f.observe(ctx, cb.conn.Method(), e)
}

// appendAudit writes e without its empty details.
func (f *Flow) appendAudit(ctx context.Context, e *gatehouse.AuditEvent) error {
	for k, v := range e.Details {
		if v == "" {
			delete(e.Details, k)
		}
	}
	if err := f.cfg.Store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("sso: audit %s: %w", e.Action, err)
	}
	return nil
}

// TestReport is a finished Test as its result page shows it.
type TestReport struct {
	Config gatehouse.SSOConfig
	Tester gatehouse.User
	At     time.Time
	Result Result
	// User is the matched user, nil when none matched.
	User *gatehouse.User
	// Attributes lists Result.Identity's attributes sorted by name.
	Attributes []Attribute
	// SetupLink is the link the Test ran through, Tester then being none.
	SetupLink *gatehouse.SetupLink
}

// Attribute is one attribute received, with every value.
type Attribute struct {
	Name   string
	Values []string
}

// TestResult returns the result of Test flowID to the tester who ran it;
// anyone else gets ErrNoResult, as if there were none. A Test still waiting
// for the IdP is ErrPending.
func (f *Flow) TestResult(ctx context.Context, flowID string, tester gatehouse.User) (TestReport, error) {
	if tester.ID == "" {
		return TestReport{}, ErrNoResult
	}
	return f.testResult(ctx, flowID, tester.ID, tester)
}

func (f *Flow) testResult(ctx context.Context, flowID, testerID string, tester gatehouse.User) (TestReport, error) {
	if flowID == "" || len(flowID) > maxFlowKey {
		return TestReport{}, ErrNoResult
	}
	fl, err := f.cfg.Store.SSOFlow(ctx, flowID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return TestReport{}, ErrNoResult
	}
	if err != nil {
		return TestReport{}, fmt.Errorf("sso: test result: %w", err)
	}
	if fl.Purpose != gatehouse.SSOFlowTest || fl.TesterID == "" || fl.TesterID != testerID {
		return TestReport{}, ErrNoResult
	}
	c, err := f.cfg.Store.SSOConfig(ctx, fl.ConfigID)
	if err != nil {
		return TestReport{}, fmt.Errorf("sso: test result: %w", err)
	}
	if fl.FinishedAt.IsZero() {
		return TestReport{Config: c, Tester: tester}, ErrPending
	}
	r := TestReport{Config: c, Tester: tester, At: fl.FinishedAt}
	if err := json.Unmarshal(fl.Result, &r.Result); err != nil {
		return TestReport{}, fmt.Errorf("sso: test result of %s: %w", fl.ID, err)
	}
	if r.Result.UserID != "" {
		u, err := f.cfg.Store.User(ctx, r.Result.UserID)
		switch {
		case err == nil:
			r.User = &u
		case !errors.Is(err, gatehouse.ErrNotFound):
			return TestReport{}, fmt.Errorf("sso: test result: %w", err)
		}
	}
	if id := r.Result.Identity; id != nil {
		for name, values := range id.Attributes {
			r.Attributes = append(r.Attributes, Attribute{Name: name, Values: values})
		}
		sort.Slice(r.Attributes, func(i, j int) bool {
			return strings.ToLower(r.Attributes[i].Name) < strings.ToLower(r.Attributes[j].Name)
		})
	}
	return r, nil
}
