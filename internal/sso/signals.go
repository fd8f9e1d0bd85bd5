package sso

import (
	"context"
	"log/slog"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
)

// Metrics is what the flow tells the operator's metrics: every sign-in
// attempt with its reason code, and how long people took at the IdP.
type Metrics interface {
	login.SignInCounter
	IdPRoundTrip(protocol string, d time.Duration)
}

// ReasonCode is the reason code of a recorded SSO sign-in attempt e: the
// rejection's stable code ("signature", "audience", "no_seat", ...) kept
// in its details, "other" for a failure without one, "" for a success.
// The codes are the protocols' and this package's constants, a bounded
// set, as the configurations' health counts them.
func ReasonCode(e *gatehouse.AuditEvent) string {
	if e.Outcome != gatehouse.OutcomeFailure {
		return ""
	}
	if r := e.Details["reason"]; r != "" {
		return r
	}
	return "other"
}

// observe counts recorded attempt e through method ("saml", "oidc") and,
// when it failed, logs it with its reason code, the audit event that says
// everything, the configuration and the account and user when known; never
// the IdP's answer itself.
func (f *Flow) observe(ctx context.Context, method string, e *gatehouse.AuditEvent) {
	code := ReasonCode(e)
	if f.cfg.Metrics != nil {
		f.cfg.Metrics.SignIn(method, string(e.Outcome), code)
	}
	if code == "" {
		return
	}
	attrs := []slog.Attr{slog.String("method", method), slog.String("reason", code), slog.String("audit_id", e.ID),
		slog.String("sso_config", e.Details["sso_config"])}
	if e.AccountID != "" {
		attrs = append(attrs, slog.String("account_id", e.AccountID))
	}
	if e.TargetType == "user" {
		attrs = append(attrs, slog.String("user_id", e.TargetID))
	}
	f.log().LogAttrs(ctx, slog.LevelInfo, "sign-in failed", attrs...)
}

// answered observes the IdP round trip of an answer tied to a flow this
// browser started: from the flow's start (sending the person to the IdP)
// to the answer's arrival.
func (f *Flow) answered(ctx context.Context, cb *callback) {
	if cb.flow == nil {
		f.log().DebugContext(ctx, "sso: unsolicited answer received", "sso_config", cb.config.ID, "protocol", string(cb.config.Protocol))
		return
	}
	d := cb.now.Sub(cb.flow.CreatedAt)
	if f.cfg.Metrics != nil {
		f.cfg.Metrics.IdPRoundTrip(string(cb.config.Protocol), d)
	}
	f.log().DebugContext(ctx, "sso: answer received", "sso_config", cb.config.ID, "protocol", string(cb.config.Protocol),
		"flow", cb.flow.ID, "purpose", string(cb.flow.Purpose), "roundtrip_ms", d.Milliseconds())
}

// debugStarted logs, at debug level, a flow sent to the IdP.
func (f *Flow) debugStarted(ctx context.Context, c gatehouse.SSOConfig, row gatehouse.SSOFlow) {
	f.log().DebugContext(ctx, "sso: sent to the IdP", "sso_config", c.ID, "protocol", string(c.Protocol),
		"flow", row.ID, "purpose", string(row.Purpose), "pending", !row.PendingChangedAt.IsZero())
}

// log is the flow's logger.
func (f *Flow) log() *slog.Logger {
	if f.cfg.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.cfg.Logger
}
