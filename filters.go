package gatehouse

import "time"

// AuditFilter narrows an audit listing; zero fields do not filter.
type AuditFilter struct {
	// ID matches the one event with this ID: the reference people quote
	// from an error page is its audit event's ID.
	ID          string
	PartitionID string
	AccountID   string
	ActorID     string
	TargetID    string
	// ActionPrefix matches actions that start with it ("signin." for every sign-in).
	ActionPrefix string
	// ActionPrefixes matches actions that start with any of them, for a
	// category of several kinds of change ("user." and "group."); empty
	// strings in it are ignored.
	ActionPrefixes []string
	Outcome        Outcome
	Since, Until   time.Time
}

// SignInFilter narrows an account's sign-in history; zero fields other than
// AccountID do not filter.
type SignInFilter struct {
	// AccountID is the account whose history is listed (required).
	AccountID string
	// UserID matches attempts the user made (actor) or that were aimed at
	// them (target): a failed attempt has no actor, only its target.
	UserID string
	// Method is the way in: "password", "totp", "recovery_code", "saml", "oidc".
	Method  string
	Outcome Outcome
	// Since is inclusive, Until exclusive.
	Since, Until time.Time
}
