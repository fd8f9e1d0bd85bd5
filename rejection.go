package gatehouse

import (
	"strconv"
	"strings"
	"unicode"
)

// Side says who has to act to fix a rejected sign-in.
type Side string

// The sides of a federation.
const (
	FixInIdP       Side = "idp"
	FixInGatehouse Side = "gatehouse"
)

// Rejection is a precise rejection of a federated sign-in (or of the
// configuration it needs), meant for the audit log and a Test's result page;
// the person signing in sees a generic message. It never holds a token or a
// secret.
type Rejection struct {
	// Reason is a stable machine code ("signature", "audience", "state", ...).
	Reason string `json:"reason"`
	// Message is precise and safe to show to administrators.
	Message string `json:"message"`
	// Expected and Received hold the compared values when there are two.
	Expected string `json:"expected,omitempty"`
	Received string `json:"received,omitempty"`
	// FixIn says which side's settings must change.
	FixIn Side `json:"fix_in"`
	// IdPMessage is what the IdP said when it refused the sign-in itself
	// (SAML StatusMessage, OIDC error_description), cleaned by
	// IdPMessageText; empty when it said nothing. The person may be shown
	// it, as the IdP's words.
	IdPMessage string `json:"idp_message,omitempty"`
	// Subject and Email name the person a refused answer is about, when
	// what names them is the IdP's verified word (a SAML assertion whose
	// signature verified) and a later check refused the answer; empty
	// otherwise. They go to the audit log and the Test page only: nobody
	// is signed in by them.
	Subject string `json:"subject,omitempty"`
	Email   string `json:"email,omitempty"`

	protocol Protocol
	kind     error
	cause    error
}

// Error reads "saml: <message>" for a rejection a protocol's Rejections
// made, and "sso: <reason>: <message>" for one written out as a literal.
func (r *Rejection) Error() string {
	if r.protocol == "" {
		return "sso: " + r.Reason + ": " + r.Message
	}
	return string(r.protocol) + ": " + r.Message
}

// Unwrap returns the protocol's sentinel error and, when there is one, the
// underlying error, so both errors.Is(err, saml.ErrAudience) and inspection
// of the cause work.
func (r *Rejection) Unwrap() []error {
	var errs []error
	for _, err := range []error{r.kind, r.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Wrap records cause as the underlying error and returns r.
func (r *Rejection) Wrap(cause error) *Rejection {
	r.cause = cause
	return r
}

// Rejections makes one protocol's rejections, each matching exactly one of
// the protocol's sentinel errors with errors.Is.
type Rejections struct {
	// Protocol starts the Error text of each rejection.
	Protocol Protocol
	// Reasons gives each sentinel error its Reason code.
	Reasons map[error]string
}

// Reject returns a rejection of kind, one of the protocol's sentinel errors.
func (rs Rejections) Reject(kind error, fix Side, message string) *Rejection {
	return &Rejection{Reason: rs.Reasons[kind], Message: message, FixIn: fix, protocol: rs.Protocol, kind: kind}
}

// Mismatch returns a rejection of kind for a value that differs from the
// expected one, naming both.
func (rs Rejections) Mismatch(kind error, fix Side, what, received, expected string) *Rejection {
	r := rs.Reject(kind, fix, what+" is "+Quote(received)+", expected "+Quote(expected))
	r.Expected, r.Received = expected, received
	return r
}

// Quote shows a value an IdP sent safely in a Rejection's message: escaped,
// cut to a readable length, and (missing) rather than "".
func Quote(s string) string {
	if s == "" {
		return "(missing)"
	}
	const maxLen = 200
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return strconv.Quote(s)
}

// MaxIdPMessage bounds Rejection.IdPMessage, in characters: a sentence or
// two, enough for "AADSTS50105: the user is not assigned to a role for the
// application", too little for a page of someone else's text.
const MaxIdPMessage = 200

// IdPMessageText makes what an IdP said readable as one line of plain
// text: invalid UTF-8 and control characters become spaces, runs of
// spaces one, invisible formatting characters (bidirectional overrides
// that could reorder what is read) are dropped, and it is cut to
// MaxIdPMessage characters. Pages escape it like any other text.
func IdPMessageText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > MaxIdPMessage {
		s = strings.TrimSpace(string(r[:MaxIdPMessage])) + "…"
	}
	return s
}
