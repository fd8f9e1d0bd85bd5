package gatehouse

import (
	"strings"
	"time"
)

// A setup link hands the setup of one SSO configuration to the person who
// runs the customer's IdP but has no admin role in Gatehouse (issue 14,
// part 7): the wizard's values to copy, Connect and Test of that one
// configuration, never Enable, Apply, Delete or any other page. Its secret
// is shown once, when it is made; only its SHA-256 is stored.

// SetupLinkLifetime is how long a setup link works at most.
const SetupLinkLifetime = 7 * 24 * time.Hour

// SetupLinkIDPrefix starts every setup link's ID ("sln_..."), so a Test's
// tester (a user or a link) is told apart by its ID alone.
const SetupLinkIDPrefix = "sln"

// IsSetupLinkID reports whether id names a setup link rather than a user.
func IsSetupLinkID(id string) bool { return strings.HasPrefix(id, SetupLinkIDPrefix+"_") }

// ActorSetupLink is the holder of a setup link: what they change or test
// through it is audited with the link's ID as the actor's.
const ActorSetupLink ActorType = "setup_link"

// Actions on setup links: made, revoked, and opened (a browser given its
// secret), or refused when opened after it was revoked, expired or used up.
const (
	ActionSetupLinkCreate AuditAction = "setup_link.create"
	ActionSetupLinkRevoke AuditAction = "setup_link.revoke"
	ActionSetupLinkOpen   AuditAction = "setup_link.open"
)

// SetupLinkState is where a setup link stands.
type SetupLinkState string

// Setup link states. Only an active link opens the wizard; a used-up link
// still shows the result of the Test that used it up, until it expires.
const (
	SetupLinkActive  SetupLinkState = "active"
	SetupLinkUsed    SetupLinkState = "used"
	SetupLinkRevoked SetupLinkState = "revoked"
	SetupLinkExpired SetupLinkState = "expired"
)

// SetupLink is a link to one SSO configuration's setup.
type SetupLink struct {
	ID        string
	ConfigID  string
	AccountID string
	// Label is the admin's note of whom the link is for; it may be empty.
	Label string
	// SecretHash is the hex SHA-256 of the link's secret.
	SecretHash string
	// CreatedBy is the ID of the admin or token that made it.
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when a Test run through the link passed, which uses it up.
	UsedAt    time.Time
	RevokedAt time.Time
	RevokedBy string
}

// State is where l stands at now: revoked before expired before used up.
func (l SetupLink) State(now time.Time) SetupLinkState {
	switch {
	case !l.RevokedAt.IsZero():
		return SetupLinkRevoked
	case !now.Before(l.ExpiresAt):
		return SetupLinkExpired
	case !l.UsedAt.IsZero():
		return SetupLinkUsed
	}
	return SetupLinkActive
}
