// Package gatehouse holds the domain types shared by every part of Gatehouse:
// tenants, people, sessions, tokens and audit events. It has no dependencies
// beyond the standard library, so every other package can point inward to it.
package gatehouse

import (
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Sentinel errors that callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
	// ErrUnavailable means a dependency (the database) did not answer; callers
	// must fail closed and answer 503.
	ErrUnavailable = errors.New("unavailable")
)

// FieldError names one field of an input and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every field that failed validation. It matches
// ErrInvalid with errors.Is.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true for a *ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Add records a problem with a field.
func (e *ValidationError) Add(field, message string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: message})
}

// Err returns e when it holds at least one field error, nil otherwise.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// ConflictError says which field collides with an existing record. It matches
// ErrConflict with errors.Is.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return fmt.Sprintf("conflict: %s: %s", e.Field, e.Message) }

// Is makes errors.Is(err, ErrConflict) true for a *ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// LastWayInError refuses a change after which an account that SSO governs
// would have no active admin with a password way in, so a broken IdP would
// lock everyone out (SECURITY.md A-last-admin). It matches ErrConflict.
type LastWayInError struct {
	AccountID   string
	AccountName string
}

func (e *LastWayInError) Error() string {
	return "last way in: while SSO governs account " + e.AccountName +
		", at least one active admin must keep a password; give another admin a password first"
}

// Is makes errors.Is(err, ErrConflict) true for a *LastWayInError.
func (e *LastWayInError) Is(target error) bool { return target == ErrConflict }

// Plan is an account's commercial plan; SSO needs PlanEnterprise.
type Plan string

// Plans an account can have.
const (
	PlanStandard   Plan = "standard"
	PlanEnterprise Plan = "enterprise"
)

// Valid reports whether p is a known plan.
func (p Plan) Valid() bool { return p == PlanStandard || p == PlanEnterprise }

// Role is what a user may do. Partition and super admins are users of an
// account too (a reseller's or the provider's own), with a wider reach.
type Role string

// Roles, from the least to the most powerful.
const (
	RoleUser           Role = "user"
	RoleAdmin          Role = "admin"
	RolePartitionAdmin Role = "partition_admin"
	RoleSuperAdmin     Role = "super_admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleUser, RoleAdmin, RolePartitionAdmin, RoleSuperAdmin:
		return true
	}
	return false
}

// IsAdmin reports whether the role administers at least its own account.
func (r Role) IsAdmin() bool { return r != RoleUser && r.Valid() }

// UserStatus says whether a user may sign in.
type UserStatus string

// User statuses.
const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
)

// Valid reports whether s is a known status.
func (s UserStatus) Valid() bool { return s == UserActive || s == UserDisabled }

// Partition is a reseller's slice of the provider: it holds accounts.
type Partition struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Account is one customer company.
type Account struct {
	ID          string `json:"id"`
	PartitionID string `json:"partition_id"`
	Name        string `json:"name"`
	Plan        Plan   `json:"plan"`
	// UsePartitionSSO says the account signs in through its partition's
	// enabled SSO configuration when it has none of its own enabled, and
	// sends its exempt users there when it has.
	UsePartitionSSO bool `json:"use_partition_sso"`
	// PolicyVersion goes up with every change that can alter how one of the
	// account's people may sign in (sessions follow it).
	PolicyVersion int64     `json:"-"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// User is a person (a seat) in one account, identified by email.
type User struct {
	ID          string     `json:"id"`
	AccountID   string     `json:"account_id"`
	Email       string     `json:"email"`
	DisplayName string     `json:"display_name"`
	Role        Role       `json:"role"`
	Status      UserStatus `json:"status"`
	// PasswordHash is an argon2id PHC string, empty when no password is set.
	PasswordHash string `json:"-"`
	// TOTPSecret is the sealed (encrypted) TOTP seed, nil until enrolled.
	TOTPSecret   []byte    `json:"-"`
	TOTPEnrolled bool      `json:"totp_enrolled"`
	HasPassword  bool      `json:"has_password"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Group is a named set of users in an account.
type Group struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ExemptionKind says what an exemption list holds.
type ExemptionKind string

// Exemption list kinds.
const (
	ExemptUsers  ExemptionKind = "users"
	ExemptGroups ExemptionKind = "groups"
)

// Valid reports whether k is a known kind.
func (k ExemptionKind) Valid() bool { return k == ExemptUsers || k == ExemptGroups }

// ExemptionList is a named list of an account's users, or of its groups,
// exempt from the account's enabled SSO configuration. Members are user or
// group IDs, never emails, so a person whose email changes stays exempt.
type ExemptionList struct {
	ID        string        `json:"id"`
	AccountID string        `json:"account_id"`
	Name      string        `json:"name"`
	Kind      ExemptionKind `json:"kind"`
	Members   []string      `json:"members"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// ExemptionCandidate is a user or group as an exemption list names it: one
// an admin may put on a list, or a member already on one.
type ExemptionCandidate struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// SessionState is how far a browser has come through sign-in.
type SessionState string

// Session states.
const (
	// SessionPendingTOTP: the password was right, a TOTP or recovery code is due.
	SessionPendingTOTP SessionState = "pending_totp"
	// SessionAuthenticated: signed in.
	SessionAuthenticated SessionState = "authenticated"
)

// SessionMethod is how a session's person authenticated, as stored with the
// session.
type SessionMethod string

// Session methods of a password sign-in. An SSO session's method is its
// protocol: SessionMethod(ProtocolSAML) is "saml".
const (
	// SessionPassword: a password alone, or a password whose TOTP step is
	// still due (SessionPendingTOTP).
	SessionPassword SessionMethod = "password"
	// SessionPasswordTOTP: a password and a TOTP code.
	SessionPasswordTOTP SessionMethod = "password+totp"
	// SessionPasswordRecoveryCode: a password and a recovery code.
	SessionPasswordRecoveryCode SessionMethod = "password+recovery_code"
)

// Session is one browser's sign-in. Only the SHA-256 of its cookie token is
// stored, as ID.
type Session struct {
	ID        string
	UserID    string
	AccountID string
	State     SessionState
	Method    SessionMethod // how the person authenticated
	// SSOConfigID is the configuration an SSO session was opened through
	// (the account's or its partition's); empty for a password session.
	SSOConfigID string
	// IdPMFA says the identity provider of an SSO session asserted
	// multi-factor authentication (each connector documents the rule it
	// reads that by); false for a password session.
	IdPMFA bool
	// PolicyVersion is the account's policy version at which this session's
	// way in was last found allowed; AccountPolicyVersion is the account's
	// version now, as read with the session. A session behind its account
	// is decided again before it is used (SECURITY.md A-policy-session).
	PolicyVersion        int64
	AccountPolicyVersion int64
	CreatedAt            time.Time
	LastSeenAt           time.Time
	ExpiresAt            time.Time // absolute end of life
}

// TokenScope is how far an API token reaches.
type TokenScope string

// Token scopes.
const (
	ScopeSuper     TokenScope = "super"
	ScopePartition TokenScope = "partition"
	ScopeAccount   TokenScope = "account"
)

// APIToken is a bearer token for automation. Only the SHA-256 of the secret
// is stored.
type APIToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scope      TokenScope `json:"scope"`
	ScopeID    string     `json:"scope_id,omitempty"` // partition or account ID
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt time.Time  `json:"last_used_at,omitzero"` // to the minute
	ExpiresAt  time.Time  `json:"expires_at,omitzero"`   // zero: never
	RevokedAt  time.Time  `json:"revoked_at,omitzero"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
}

// Outcome of an audited action.
type Outcome string

// Outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
)

// AuditEvent is one append-only line of the audit log.
type AuditEvent struct {
	ID          string            `json:"id"`
	Time        time.Time         `json:"time"`
	ActorType   ActorType         `json:"actor_type"`
	ActorID     string            `json:"actor_id,omitempty"`
	PartitionID string            `json:"partition_id,omitempty"`
	AccountID   string            `json:"account_id,omitempty"`
	Action      AuditAction       `json:"action"`
	Outcome     Outcome           `json:"outcome"`
	Reason      string            `json:"reason,omitempty"` // the precise reason, for admins
	TargetType  string            `json:"target_type,omitempty"`
	TargetID    string            `json:"target_id,omitempty"`
	Address     string            `json:"address,omitempty"`
	UserAgent   string            `json:"user_agent,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
}

// Page asks for one page of a listing: at most Limit items whose ID sorts
// after After.
type Page struct {
	Limit int
	After string
}

// NormalizeEmail returns the canonical (trimmed, lower-case) form of an email
// address, or an error when it is not a plain address.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("email is required")
	}
	if len(s) > 254 {
		return "", errors.New("email is longer than 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", errors.New("email is not a valid address")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || !strings.Contains(s[at+1:], ".") {
		return "", errors.New("email is not a valid address")
	}
	return strings.ToLower(s), nil
}

// Protocol is how an SSO configuration talks to the customer's IdP.
type Protocol string

// Protocols.
const (
	ProtocolSAML Protocol = "saml"
	ProtocolOIDC Protocol = "oidc"
)

// SSOStatus is where an SSO configuration stands: draft while a required
// field is missing or invalid, complete when every field validates, enabled
// when it governs sign-in.
type SSOStatus string

// SSO statuses.
const (
	SSODraft    SSOStatus = "draft"
	SSOComplete SSOStatus = "complete"
	SSOEnabled  SSOStatus = "enabled"
)

// SAMLSettings are the IdP's side of a SAML configuration, as the admin gave
// them. They may be incomplete while the configuration is a draft.
type SAMLSettings struct {
	IdPEntityID string `json:"idp_entity_id"`
	SSOURL      string `json:"sso_url"`
	// SSOBinding is "redirect" (HTTP-Redirect) or "post" (HTTP-POST).
	SSOBinding string `json:"sso_binding"`
	// Certificates are the IdP's signing certificates, PEM; several at once
	// is how a rollover works.
	Certificates []string `json:"certificates"`
	NameIDFormat string   `json:"name_id_format"`
	// EmailAttribute names the attribute holding the email when the NameID
	// is not one.
	EmailAttribute    string `json:"email_attribute,omitempty"`
	SignRequests      bool   `json:"sign_requests"`
	AllowIdPInitiated bool   `json:"allow_idp_initiated"`
	ClockSkewSeconds  int    `json:"clock_skew_seconds"`
}

// OIDCSettings are the IdP's side of an OpenID Connect configuration. The
// client secret is not here: it is sealed at rest and never returned.
type OIDCSettings struct {
	// Issuer is the IdP's issuer URL; discovery is Issuer +
	// "/.well-known/openid-configuration".
	Issuer   string   `json:"issuer"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
	// EmailClaim names the ID token claim holding the email ("email").
	EmailClaim string `json:"email_claim"`
	// AllowedAlgorithms is the allow-list of ID token signing algorithms.
	AllowedAlgorithms []string `json:"allowed_algorithms"`
	// EntraTenants lists the Entra ID tenant IDs accepted by a multi-tenant
	// configuration; empty otherwise.
	EntraTenants []string `json:"entra_tenants,omitempty"`
	// HostedDomain is the Google Workspace domain (the hd claim) required.
	HostedDomain string `json:"hosted_domain,omitempty"`
	// TrustedAudiences are the audiences besides ClientID an ID token may
	// name (OpenID Connect Core 3.1.3.7); empty, a token naming any other
	// audience is refused.
	TrustedAudiences []string `json:"trusted_audiences,omitempty"`
}

// SSOTest is the outcome of the last Test of a configuration.
type SSOTest struct {
	At      time.Time `json:"at"`
	By      string    `json:"by"` // the admin's user ID, or the setup link's ID (IsSetupLinkID)
	Outcome Outcome   `json:"outcome"`
	// Reason is the precise failure, for the admin; empty on success.
	Reason string `json:"reason,omitempty"`
	// FixIn says which side must fix a failure.
	FixIn   Side              `json:"fix_in,omitempty"`
	Subject string            `json:"subject,omitempty"`
	UserID  string            `json:"user_id,omitempty"` // the user the subject matched
	Details map[string]string `json:"details,omitempty"`
}

// SSOConfig is one SSO configuration of an account or a partition (exactly
// one of AccountID and PartitionID is set).
type SSOConfig struct {
	ID string `json:"id"`
	// Name is system-generated and never changes, e.g. "sso-7k2m9q".
	Name        string        `json:"name"`
	AccountID   string        `json:"account_id,omitempty"`
	PartitionID string        `json:"partition_id,omitempty"`
	Protocol    Protocol      `json:"protocol"`
	Preset      string        `json:"preset"`
	Enabled     bool          `json:"enabled"`
	SAML        *SAMLSettings `json:"saml,omitempty"`
	OIDC        *OIDCSettings `json:"oidc,omitempty"`
	// ClientSecret is the sealed OIDC client secret; never returned.
	ClientSecret []byte `json:"-"`
	// SPKey is the sealed private key this configuration signs AuthnRequests
	// with; SPCertificate its PEM certificate, published in SP metadata.
	SPKey         []byte `json:"-"`
	SPCertificate string `json:"-"`
	// IdPChangedAt is when the IdP settings last changed: a test older than
	// this is out of date.
	IdPChangedAt time.Time `json:"idp_changed_at"`
	LastTest     *SSOTest  `json:"last_test,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Pending is an edit of the IdP settings staged beside the live ones:
	// sign-ins keep using the live settings, a Test runs the pending ones,
	// and only a tested pending version is applied (issue 14). Nil when
	// nothing is pending.
	Pending *SSOPending `json:"-"`
	// PendingView marks a configuration made by WithPending: the pending
	// settings in the live ones' place, for a Test. It is never stored.
	PendingView bool `json:"-"`
	// MetadataURL is where the IdP settings were last imported from, when
	// they came from a URL, and MetadataFetchedAt when.
	MetadataURL       string    `json:"-"`
	MetadataFetchedAt time.Time `json:"-"`
	// LastSignInAt is about when someone last signed in through this
	// configuration (written at most once a minute per process).
	LastSignInAt time.Time `json:"-"`
	// JIT makes seats at first sign-in (issue 15); off by default. It is
	// not an IdP setting: it applies at once, never waits as pending.
	JIT JITSettings `json:"jit"`
}

// JITSettings is just-in-time provisioning: when Enabled, a person the IdP
// vouches for, with a verified email at a domain the configuration's
// account verified and no seat yet, gets one (role user) at their first
// sign-in, joining the account's existing groups named in the attribute
// (or claim) GroupsAttribute.
type JITSettings struct {
	Enabled         bool   `json:"enabled"`
	GroupsAttribute string `json:"groups_attribute"`
}

// SettingsKey names the settings c holds, for caches of what is derived
// from them (parsed certificates, an IdP's discovery): the live and the
// pending settings of one configuration get different keys. Each edit
// moves UpdatedAt, which such caches compare as well.
func (c *SSOConfig) SettingsKey() string {
	if c.PendingView {
		return c.ID + "#pending"
	}
	return c.ID
}

// AccountDomain is an email domain an account claims: verified once the
// DNS TXT record Gatehouse asked for was found (VerifiedAt set). A domain
// is verified for one account at most.
type AccountDomain struct {
	AccountID string `json:"account_id"`
	Domain    string `json:"domain"`
	// Challenge is the random value the TXT record must hold.
	Challenge  string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	VerifiedAt time.Time `json:"verified_at"`
}

// Verified reports whether the domain was verified.
func (d AccountDomain) Verified() bool { return !d.VerifiedAt.IsZero() }

// SSOPending is a staged version of a configuration's settings: what
// Apply would make live.
type SSOPending struct {
	Preset string        `json:"preset"`
	SAML   *SAMLSettings `json:"saml,omitempty"`
	OIDC   *OIDCSettings `json:"oidc,omitempty"`
	// ClientSecret is the sealed OIDC client secret the pending version
	// would use.
	ClientSecret []byte `json:"client_secret,omitempty"`
	// CreatedAt is when the first change was staged; ChangedAt when the
	// pending version last changed: a test older than it is out of date,
	// and a Test started on an older version is not recorded.
	CreatedAt time.Time `json:"created_at"`
	ChangedAt time.Time `json:"changed_at"`
	// CreatedBy is the user who staged the first change.
	CreatedBy string   `json:"created_by,omitempty"`
	LastTest  *SSOTest `json:"last_test,omitempty"`
}

// TestIsCurrent reports whether the pending version passed a test since
// it last changed.
func (p *SSOPending) TestIsCurrent() bool {
	return p.LastTest != nil && p.LastTest.Outcome == OutcomeSuccess && !p.LastTest.At.Before(p.ChangedAt)
}

// IsVersion reports whether the pending version is the one that changed
// at changedAt, to the microsecond (the precision a flow stores).
func (p *SSOPending) IsVersion(changedAt time.Time) bool {
	return p.ChangedAt.UnixMicro() == changedAt.UnixMicro()
}

// WithPending is c with its pending settings in place of the live ones, as
// a Test of the pending version uses it; c itself when nothing is pending.
func (c SSOConfig) WithPending() SSOConfig {
	if c.Pending == nil {
		return c
	}
	p := c.Clone()
	pend := p.Pending
	p.Preset, p.SAML, p.OIDC, p.ClientSecret = pend.Preset, pend.SAML, pend.OIDC, pend.ClientSecret
	p.IdPChangedAt, p.LastTest = pend.ChangedAt, pend.LastTest
	p.Pending, p.PendingView = nil, true
	return p
}

// Clone copies c deeply: changing the copy's settings, keys or last test
// leaves c as it was.
func (c SSOConfig) Clone() SSOConfig {
	if c.SAML != nil {
		s := *c.SAML
		s.Certificates = slices.Clone(s.Certificates)
		c.SAML = &s
	}
	if c.OIDC != nil {
		o := *c.OIDC
		o.Scopes = slices.Clone(o.Scopes)
		o.AllowedAlgorithms = slices.Clone(o.AllowedAlgorithms)
		o.EntraTenants = slices.Clone(o.EntraTenants)
		o.TrustedAudiences = slices.Clone(o.TrustedAudiences)
		c.OIDC = &o
	}
	if c.LastTest != nil {
		t := *c.LastTest
		t.Details = maps.Clone(t.Details)
		c.LastTest = &t
	}
	c.SPKey, c.ClientSecret = slices.Clone(c.SPKey), slices.Clone(c.ClientSecret)
	if c.Pending != nil {
		staged := SSOConfig{SAML: c.Pending.SAML, OIDC: c.Pending.OIDC, LastTest: c.Pending.LastTest, ClientSecret: c.Pending.ClientSecret}.Clone()
		p := *c.Pending
		p.SAML, p.OIDC, p.LastTest, p.ClientSecret = staged.SAML, staged.OIDC, staged.LastTest, staged.ClientSecret
		c.Pending = &p
	}
	return c
}

// TestIsCurrent reports whether the configuration passed a test since its
// IdP settings last changed.
func (c *SSOConfig) TestIsCurrent() bool {
	return c.LastTest != nil && c.LastTest.Outcome == OutcomeSuccess && !c.LastTest.At.Before(c.IdPChangedAt)
}

// SSOFlowPurpose is what an SSO flow is for, as stored with the flow.
type SSOFlowPurpose string

// SSO flow purposes.
const (
	// SSOFlowSignIn signs the person in when the IdP vouches for them.
	SSOFlowSignIn SSOFlowPurpose = "signin"
	// SSOFlowTest is a configuration's Test: the admin who started it sees
	// the result, and nobody is signed in.
	SSOFlowTest SSOFlowPurpose = "test"
)

// SSOFlow is one SSO sign-in (or Test) under way: created when Gatehouse
// sends the person to the IdP, finished when the IdP's answer has been
// checked, consumed when the browser that started it collects the result.
type SSOFlow struct {
	// ID is the opaque key sent as RelayState (SAML) or state (OIDC).
	ID       string
	ConfigID string
	// AccountID is the account a sign-in through a partition's configuration
	// is for: the person is matched only inside it. Empty otherwise.
	AccountID string
	// RequestID is the AuthnRequest ID (SAML) or nonce (OIDC) the answer
	// must refer to; empty for an IdP-initiated sign-in.
	RequestID string
	// BrowserHash is the SHA-256 of a cookie set on the browser that started
	// the flow; the result is only handed to that browser.
	BrowserHash string
	Purpose     SSOFlowPurpose
	TesterID    string // the admin running a Test, or the setup link it runs through
	ReturnTo    string
	// Secret is sealed flow material, such as an OIDC PKCE verifier.
	Secret     []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	FinishedAt time.Time
	// Result is the checked outcome, as JSON, written once by the ACS or
	// callback.
	Result []byte
	// UserID is the user a sign-in's answer matched, written with Result;
	// empty when no one matched, on a Test, and before the answer.
	UserID string
	// PendingChangedAt, on a Test, is the ChangedAt of the pending version
	// it tests (zero when it tests the live settings): the answer is
	// checked against that version, and recorded only while it is still
	// the pending one.
	PendingChangedAt time.Time
}

// IdentityLink ties a person at an IdP to a user, once they have been
// matched: from then on they are found by Key, whatever their email claim
// says. For Entra ID the key is the tenant and object IDs; otherwise the
// issuer and subject.
type IdentityLink struct {
	ConfigID  string
	Key       string
	UserID    string
	CreatedAt time.Time
}
