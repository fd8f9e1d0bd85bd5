// Package webhook holds the decisions of Gatehouse's webhooks as functions
// over values: which audit events are events and of which type, which
// webhook receives which event, the payload, the Standard Webhooks
// signature, the retry schedule and when a failing endpoint is turned off.
// Sending is internal/webhook/dispatch's; storing is the store's.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatehouse"
)

// Event types: the names a webhook subscribes to and a payload's "type".
// They are stable: a name never changes once released.
const (
	// SignInFailed: a sign-in attempt that failed (any way in), with the
	// reason.
	SignInFailed = "signin.failed"
	// SSOConfigChanged: an SSO configuration created, edited (or an edit
	// staged as pending), its metadata imported, its SP key rotated, a
	// pending version applied or discarded, or the configuration deleted.
	SSOConfigChanged = "sso_config.changed"
	// SSOConfigEnabled and SSOConfigDisabled: a configuration began or
	// stopped governing sign-in.
	SSOConfigEnabled  = "sso_config.enabled"
	SSOConfigDisabled = "sso_config.disabled"
	// BreakGlass: a super admin turned an account's SSO off in an
	// emergency.
	BreakGlass = "sso.break_glass"
	// CertificateExpiring: an enabled configuration's IdP signing
	// certificate expires soon.
	CertificateExpiring = "sso_config.certificate_expiring"
	// MetadataRefreshFailed: the scheduled refresh of a metadata URL failed.
	MetadataRefreshFailed = "sso_config.metadata_refresh_failed"
	// UserDeprovisioned: a user disabled or deleted, by SCIM or by an
	// admin (data.source says which).
	UserDeprovisioned = "user.deprovisioned"
)

// EventTypes lists every event type, in the order the README does.
var EventTypes = []string{SignInFailed, SSOConfigChanged, SSOConfigEnabled, SSOConfigDisabled, BreakGlass,
	CertificateExpiring, MetadataRefreshFailed, UserDeprovisioned}

// changeActions are the audit actions of SSOConfigChanged.
var changeActions = []gatehouse.AuditAction{
	gatehouse.ActionSSOConfigCreate, gatehouse.ActionSSOConfigUpdate, gatehouse.ActionSSOConfigMetadataImport,
	gatehouse.ActionSSOConfigSPKeyRotate, gatehouse.ActionSSOConfigPendingApply, gatehouse.ActionSSOConfigPendingDiscard,
	gatehouse.ActionSSOConfigDelete,
}

// Actions lists the audit actions that can be events besides sign-ins
// (every failed sign-in is one): the outbox reads only these.
func Actions() []string {
	out := []string{}
	for _, a := range changeActions {
		out = append(out, string(a))
	}
	return append(out, string(gatehouse.ActionSSOConfigEnable), string(gatehouse.ActionSSOConfigDisable),
		string(gatehouse.ActionBreakGlass), string(gatehouse.ActionSSOConfigCertificateExpiring),
		string(gatehouse.ActionSSOConfigMetadataRefresh), string(gatehouse.ActionUserUpdate), string(gatehouse.ActionUserDelete))
}

// Classify says which event type audit event e is, or false when it is
// none. Refused changes (outcome failure) are not events, but for failed
// sign-ins and failed metadata refreshes, which are the point.
func Classify(e gatehouse.AuditEvent) (string, bool) {
	failed := e.Outcome == gatehouse.OutcomeFailure
	switch {
	case strings.HasPrefix(string(e.Action), gatehouse.SignInActionPrefix):
		return SignInFailed, failed
	case e.Action == gatehouse.ActionSSOConfigMetadataRefresh:
		return MetadataRefreshFailed, failed
	case failed:
		return "", false
	case slices.Contains(changeActions, e.Action):
		return SSOConfigChanged, true
	case e.Action == gatehouse.ActionSSOConfigEnable:
		return SSOConfigEnabled, true
	case e.Action == gatehouse.ActionSSOConfigDisable:
		return SSOConfigDisabled, true
	case e.Action == gatehouse.ActionBreakGlass:
		return BreakGlass, true
	case e.Action == gatehouse.ActionSSOConfigCertificateExpiring:
		return CertificateExpiring, true
	case e.Action == gatehouse.ActionUserDelete:
		return UserDeprovisioned, true
	case e.Action == gatehouse.ActionUserUpdate:
		// SCIM's "active": false and an admin's disable both set the status.
		return UserDeprovisioned, e.Details["status"] == string(gatehouse.UserDisabled)
	}
	return "", false
}

// Receives reports whether webhook h receives event e of type eventType:
// it is enabled, existed when the event happened, wants the type, and is
// the provider's or the event's account's. An event without an account (a
// partition's configuration) reaches only the provider's webhooks.
func Receives(h gatehouse.Webhook, eventType string, e gatehouse.AuditEvent) bool {
	switch {
	case !h.Enabled, e.Time.Before(h.CreatedAt):
		return false
	case h.AccountID != "" && h.AccountID != e.AccountID:
		return false
	}
	return len(h.EventTypes) == 0 || slices.Contains(h.EventTypes, eventType)
}

// Payload is the JSON body of a delivery.
type Payload struct {
	// ID is the audit event's ID, the same in every delivery and retry of
	// the event (and the webhook-id header): receivers deduplicate on it.
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Timestamp   time.Time `json:"timestamp"`
	PartitionID string    `json:"partition_id,omitempty"`
	AccountID   string    `json:"account_id,omitempty"`
	Data        Data      `json:"data"`
}

// Data is what the audit event says, without secrets.
type Data struct {
	Action     string `json:"action"`
	Outcome    string `json:"outcome"`
	Reason     string `json:"reason,omitempty"`
	ActorType  string `json:"actor_type"`
	ActorID    string `json:"actor_id,omitempty"`
	TargetType string `json:"target_type,omitempty"`
	TargetID   string `json:"target_id,omitempty"`
	Address    string `json:"address,omitempty"`
	// Source, for UserDeprovisioned, is "scim" when the account's IdP did
	// it through SCIM, or "admin".
	Source  string            `json:"source,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

// NewPayload is the payload of event e of type eventType. Details whose
// name speaks of a secret, password or token value are left out, should an
// audit event ever carry one.
func NewPayload(eventType string, e gatehouse.AuditEvent) Payload {
	p := Payload{ID: e.ID, Type: eventType, Timestamp: e.Time.UTC(), PartitionID: e.PartitionID, AccountID: e.AccountID,
		Data: Data{Action: string(e.Action), Outcome: string(e.Outcome), Reason: e.Reason, ActorType: string(e.ActorType),
			ActorID: e.ActorID, TargetType: e.TargetType, TargetID: e.TargetID, Address: e.Address}}
	for k, v := range e.Details {
		if secretName(k) {
			continue
		}
		if p.Data.Details == nil {
			p.Data.Details = map[string]string{}
		}
		p.Data.Details[k] = v
	}
	if eventType == UserDeprovisioned {
		p.Data.Source = "admin"
		if e.ActorType == gatehouse.ActorToken && strings.HasPrefix(e.ActorID, gatehouse.SCIMTokenIDPrefix+"_") {
			p.Data.Source = "scim"
		}
	}
	return p
}

// secretName reports whether a detail's name says it holds a secret.
func secretName(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"secret", "password", "private_key"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return k == "token" || strings.HasSuffix(k, "_token")
}

// Body is the payload's JSON, as sent and signed.
func (p Payload) Body() []byte {
	b, _ := json.Marshal(p) // strings and a time only: it cannot fail
	return b
}

// SecretPrefix starts a signing secret as Standard Webhooks writes it.
const SecretPrefix = "whsec_"

// secretBytes is a new secret's length: 32 bytes, the HMAC-SHA256 key size.
const secretBytes = 32

// NewSecret returns a new signing secret: the key, and how it is shown
// once to the admin ("whsec_" and the key in standard base64), which is the
// form Standard Webhooks verifiers take.
func NewSecret() (key []byte, shown string) {
	key = make([]byte, secretBytes)
	rand.Read(key)
	return key, SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Sign returns the webhook-signature header's value for message msgID sent
// at ts with body: "v1," and the base64 HMAC-SHA256, keyed with key, of
// "msgID.unix-seconds.body" (Standard Webhooks).
func Sign(key []byte, msgID string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Retry schedule: a delivery is tried at most MaxAttempts times; after the
// nth failed attempt the next waits FirstRetry·4^(n-1), at most MaxRetryWait,
// give or take a fifth (jitter, so that endpoints coming back are not hit
// by every delivery at once): about 30 s, 2 min, 8 min, 32 min, 2 h, 8 h,
// 8 h, in all about 19 hours from the first attempt to the last.
const (
	MaxAttempts  = 8
	FirstRetry   = 30 * time.Second
	MaxRetryWait = 8 * time.Hour
)

// RetryAfter is how long to wait after failed attempt n (counted from 1)
// before the next, or false when n was the last. jitter, in [0, 1), moves
// the wait by up to a fifth either way.
func RetryAfter(n int, jitter float64) (time.Duration, bool) {
	if n < 1 || n >= MaxAttempts {
		return 0, false
	}
	d := FirstRetry
	for i := 1; i < n && d < MaxRetryWait; i++ {
		d *= 4
	}
	d = min(d, MaxRetryWait)
	jitter = min(max(jitter, 0), 1)
	return d + time.Duration((jitter-0.5)*0.4*float64(d)), true
}

// DisableAfter is how long an endpoint may keep failing, with no attempt
// answered 2xx, before Gatehouse turns its webhook off.
const DisableAfter = 5 * 24 * time.Hour

// ShouldDisable reports whether a webhook whose run of failures began at
// failingSince (zero: none) is to be turned off after another failure at
// now.
func ShouldDisable(failingSince, now time.Time) bool {
	return !failingSince.IsZero() && now.Sub(failingSince) >= DisableAfter
}

// MaxURLLength bounds an endpoint URL.
const MaxURLLength = 2048

// ErrURL is an endpoint URL refused; the error's text says why.
var ErrURL = errors.New("webhook URL refused")

// CheckURL reads an endpoint URL an admin typed: absolute https, without
// credentials or fragment; plain http only to a loopback host (for local
// receivers) and only when allowLoopbackHTTP (the operator's
// --allow-private-metadata-urls). Whether the host's addresses may be
// reached is checked apart, on the address (metadatafetch's guard).
func CheckURL(raw string, allowLoopbackHTTP bool) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("%w: longer than %d characters", ErrURL, MaxURLLength)
	}
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return nil, fmt.Errorf("%w: a URL is required", ErrURL)
	case err != nil || !u.IsAbs():
		return nil, fmt.Errorf("%w: not an absolute URL", ErrURL)
	case u.Hostname() == "":
		return nil, fmt.Errorf("%w: the URL has no host", ErrURL)
	case u.User != nil:
		return nil, fmt.Errorf("%w: the URL must not carry a user name or password", ErrURL)
	case u.Fragment != "":
		return nil, fmt.Errorf("%w: the URL must not have a fragment", ErrURL)
	case u.Scheme == "https":
		return u, nil
	case u.Scheme == "http" && allowLoopbackHTTP && loopbackHost(u.Hostname()):
		return u, nil
	case u.Scheme == "http":
		return nil, fmt.Errorf("%w: must be https (plain http only to a loopback address, when the server allows private addresses)", ErrURL)
	}
	return nil, fmt.Errorf("%w: must be https, not %q", ErrURL, u.Scheme)
}

// loopbackHost reports whether host names this machine.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// CleanEventTypes checks an admin's list of event types: each known, none
// twice; empty or nil means all.
func CleanEventTypes(types []string) ([]string, error) {
	out := []string{}
	for _, t := range types {
		t = strings.TrimSpace(t)
		if !slices.Contains(EventTypes, t) {
			return nil, fmt.Errorf("%q is not an event type; the types are %s", t, strings.Join(EventTypes, ", "))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// SealPurpose binds a webhook's signing secret, sealed at rest, to its use.
const SealPurpose = "webhook signing secret"
