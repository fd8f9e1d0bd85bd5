package gatehouse

import "time"

// SCIM 2.0 provisioning (DESIGN rule 15, issue 15 part 1): an account's
// IdP creates, changes and removes its users and groups through
// /scim/v2/{account} with a bearer token the account's admins made. Only
// the token's SHA-256 is stored; its plaintext is shown once.

// SCIMTokenIDPrefix starts every SCIM token's ID ("scim_..."): the audit
// log names a SCIM token as an actor of type token by this ID.
const SCIMTokenIDPrefix = "scim"

// SCIMTokenPrefix starts every SCIM token's plaintext, so that secret
// scanners and people can tell it from an API token ("gh_").
const SCIMTokenPrefix = "ghscim_"

// SCIMToken is a bearer token of one account's SCIM endpoint.
type SCIMToken struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	Name      string    `json:"name"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt is when a request last carried it (to the minute).
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	RevokedBy  string    `json:"revoked_by,omitempty"`
}

// Active reports whether the token still opens its account's endpoint.
func (t SCIMToken) Active() bool { return t.RevokedAt.IsZero() }

// SCIMUser is what SCIM keeps of a user beside the user itself: the IdP's
// userName and externalId and the SCIM attributes Gatehouse has no column
// for (name parts, phone numbers, the enterprise extension), as JSON.
type SCIMUser struct {
	UserID     string
	AccountID  string
	UserName   string
	ExternalID string
	// Attributes is a JSON object of the other SCIM attributes.
	Attributes []byte
	UpdatedAt  time.Time
}

// SCIMGroup is what SCIM keeps of a group beside it: the IdP's externalId.
type SCIMGroup struct {
	GroupID    string
	AccountID  string
	ExternalID string
	UpdatedAt  time.Time
}

// SCIMRequestLog is one SCIM request an account's IdP made that failed,
// kept (the last 50 per account) for the console's "recent errors".
type SCIMRequestLog struct {
	AccountID string    `json:"account_id"`
	TokenID   string    `json:"token_id"`
	Time      time.Time `json:"time"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	Detail    string    `json:"detail"`
}

// Actions on SCIM tokens. Provisioning itself is audited as the users' and
// groups' own actions (user.create, group.member_add, ...) with the SCIM
// token as the actor.
const (
	ActionSCIMTokenCreate AuditAction = "scim_token.create"
	ActionSCIMTokenRevoke AuditAction = "scim_token.revoke"
)
