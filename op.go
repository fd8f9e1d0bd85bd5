package gatehouse

import "time"

// ClientKind is what kind of application an OpenID Provider client is,
// which decides how it authenticates and which redirect URIs it may have.
type ClientKind string

// Client kinds (DESIGN rule 13).
const (
	// ClientWeb is a server-side web application (the portal): a
	// confidential client authenticating with client_secret_basic or
	// private_key_jwt, with https redirect URIs.
	ClientWeb ClientKind = "web"
	// ClientSPA is a single-page application (the UC web app): a public
	// client, PKCE only.
	ClientSPA ClientKind = "spa"
	// ClientNative is a desktop or mobile app (RFC 8252): a public client
	// with loopback (any port), claimed https or private-use scheme
	// redirect URIs.
	ClientNative ClientKind = "native"
)

// Valid reports whether k is a known kind.
func (k ClientKind) Valid() bool { return k == ClientWeb || k == ClientSPA || k == ClientNative }

// Public reports whether clients of kind k hold no secret.
func (k ClientKind) Public() bool { return k == ClientSPA || k == ClientNative }

// Client is an application registered with Gatehouse's OpenID Provider by
// the operator. Only the SHA-256 of a confidential client's secret is kept.
type Client struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Kind         ClientKind `json:"kind"`
	RedirectURIs []string   `json:"redirect_uris"`
	// PostLogoutRedirectURIs are where RP-initiated logout may send the
	// person back to.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	// BackchannelLogoutURI receives a logout token when a session ends.
	BackchannelLogoutURI string `json:"backchannel_logout_uri,omitempty"`
	// JWKS is a web client's public keys, a JSON Web Key Set, for
	// private_key_jwt client authentication; empty when it has none.
	JWKS string `json:"jwks,omitempty"`
	// IDTokenSigningAlg is the algorithm its ID tokens are signed with
	// (OpenID Connect Dynamic Client Registration's
	// id_token_signed_response_alg): ES256, the default, or RS256 for an
	// app whose library cannot verify ES256.
	IDTokenSigningAlg string    `json:"id_token_signed_response_alg"`
	SecretHash        string    `json:"-"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// AuthCode is an authorization code the provider issued: a single-use row
// keyed by the SHA-256 of the code, bound to the client, the redirect URI,
// the PKCE challenge and the session it was issued in.
type AuthCode struct {
	Hash          string
	ClientID      string
	SessionID     string
	UserID        string
	RedirectURI   string
	CodeChallenge string // S256 of the verifier, base64url
	Nonce         string
	Scope         string
	AuthTime      time.Time
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// Grant is what a person's session gave one client: the refresh token now
// current (its SHA-256), the one it replaced, and the scope. Grants live
// and die with the session (its ID), and a rotated refresh token used again
// revokes the grant.
type Grant struct {
	ID        string
	ClientID  string
	SessionID string
	UserID    string
	Scope     string
	AuthTime  time.Time
	// CodeHash is the authorization code the grant was issued for: a code
	// used again revokes it (SECURITY.md Q-code).
	CodeHash string
	// RefreshHash is the current refresh token's SHA-256 (empty when none
	// was issued), PreviousHash the one it replaced (SECURITY.md Q-refresh).
	RefreshHash   string
	PreviousHash  string
	CreatedAt     time.Time
	RefreshedAt   time.Time
	ExpiresAt     time.Time
	RevokedAt     time.Time
	RevokedReason string
}

// SigningKey is one of the provider's token signing keys: its private key
// sealed with the secret key, published in the JWKS from its creation until
// the tokens it signed have expired after it was retired.
type SigningKey struct {
	ID         string // the JWK "kid"
	Algorithm  string // "ES256" or "RS256"
	Sealed     []byte // the private key, PKCS #8, sealed
	CreatedAt  time.Time
	ActiveFrom time.Time // signs from then on; published before
	RetiredAt  time.Time // zero while it may sign
}

// DeviceStatus is where a device authorization request (RFC 8628) stands.
type DeviceStatus string

// Device request statuses: pending until a person allows or denies it,
// once; an approved one is redeemed once, by the poll that gets the tokens.
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDenied   DeviceStatus = "denied"
	DeviceRedeemed DeviceStatus = "redeemed"
)

// DeviceCode is a device authorization request: a row keyed by the SHA-256
// of the device code the device polls with, found by people through the
// user code they type, bound to the client that asked.
type DeviceCode struct {
	Hash string
	// UserCode is the code a person types, normalized (XXXX-XXXX).
	UserCode string
	ClientID string
	Scope    string
	Status   DeviceStatus
	// Interval is the least time between two polls; it grows by 5 s with
	// every poll answered slow_down (RFC 8628 3.5).
	Interval time.Duration
	// SessionID and UserID are who allowed or denied it: empty while
	// pending, and once that session or user is gone.
	SessionID    string
	UserID       string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	LastPolledAt time.Time
	DecidedAt    time.Time
}
