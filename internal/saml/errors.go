package saml

import (
	"errors"

	"gatehouse"
)

// Sentinel errors, one per kind of rejection. Every error ValidateResponse
// returns is a *gatehouse.Rejection that matches exactly one of them with
// errors.Is.
var (
	// ErrConfiguration: the SP or IdP values handed in are incomplete or out of
	// range; nothing the IdP sent was looked at.
	ErrConfiguration = errors.New("saml: configuration")
	// ErrTooLarge: the message exceeds the size bounds and was not parsed.
	ErrTooLarge = errors.New("saml: message too large")
	// ErrMalformed: not base64, not XML, a DOCTYPE, nesting too deep, input
	// that does not survive an encoding/xml round trip, or missing parts.
	ErrMalformed = errors.New("saml: malformed message")
	// ErrStructure: a shape Gatehouse never accepts because signature wrapping
	// hides in it: several or encrypted assertions, misplaced signatures,
	// duplicate IDs, References that do not name the signed element.
	ErrStructure = errors.New("saml: message structure")
	// ErrSignature: unsigned, or a signature that does not verify with the key
	// of any configured certificate (whatever its KeyInfo says).
	ErrSignature = errors.New("saml: signature")
	// ErrWeakAlgorithm: an algorithm or transform outside the allow-list
	// (SHA-1, HMAC, XSLT, XPath, inclusive c14n) or an RSA key under 2048 bits.
	ErrWeakAlgorithm = errors.New("saml: algorithm not allowed")
	// ErrStatus: the IdP answered with a status other than Success.
	ErrStatus = errors.New("saml: status")
	// ErrIssuer: Issuer missing or not the configured IdP entity ID.
	ErrIssuer = errors.New("saml: issuer")
	// ErrAudience: no audience restriction naming this SP's entity ID.
	ErrAudience = errors.New("saml: audience")
	// ErrDestination: Destination or Recipient is not this SP's ACS URL.
	ErrDestination = errors.New("saml: destination")
	// ErrTime: outside NotBefore/NotOnOrAfter, clock skew included.
	ErrTime = errors.New("saml: time")
	// ErrBearer: the subject confirmation is not a single bearer confirmation
	// with its data.
	ErrBearer = errors.New("saml: subject confirmation")
	// ErrCondition: a condition Gatehouse does not accept (OneTimeUse,
	// ProxyRestriction).
	ErrCondition = errors.New("saml: condition")
	// ErrInResponseTo: the response answers a request this browser did not
	// start, or its InResponseTo values disagree.
	ErrInResponseTo = errors.New("saml: InResponseTo")
	// ErrUnsolicited: IdP-initiated sign-in while the configuration refuses it.
	ErrUnsolicited = errors.New("saml: unsolicited response")
	// ErrSubject: no usable NameID or email address in the assertion.
	ErrSubject = errors.New("saml: subject")
)

var reasons = map[error]string{
	ErrConfiguration: "configuration",
	ErrTooLarge:      "too_large",
	ErrMalformed:     "malformed",
	ErrStructure:     "structure",
	ErrSignature:     "signature",
	ErrWeakAlgorithm: "weak_algorithm",
	ErrStatus:        "status",
	ErrIssuer:        "issuer",
	ErrAudience:      "audience",
	ErrDestination:   "destination",
	ErrTime:          "time",
	ErrBearer:        "subject_confirmation",
	ErrCondition:     "condition",
	ErrInResponseTo:  "in_response_to",
	ErrUnsolicited:   "unsolicited",
	ErrSubject:       "subject",
}

// reject and mismatch make this package's rejections.
var (
	rejections = gatehouse.Rejections{Protocol: gatehouse.ProtocolSAML, Reasons: reasons}
	reject     = rejections.Reject
	mismatch   = rejections.Mismatch
)
