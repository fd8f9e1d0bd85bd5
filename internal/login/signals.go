package login

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"gatehouse"
)

// reasonCodes map the audit log's reasons, by their opening words, to the
// bounded codes the metrics and the log lines carry. The audit reason says
// more (counts, times, a configuration's name); the code never carries
// anything a person typed.
var reasonCodes = []struct{ prefix, code string }{
	{"unknown email", "unknown_email"},
	{"user disabled", "user_disabled"},
	{"no password set", "no_password"},
	{"wrong password", "wrong_password"},
	{"wrong current password", "wrong_password"},
	{"stored password hash unreadable", "hash_unreadable"},
	{"rate limited", "rate_limited"},
	{"locked", "locked"},
	{"password sign-in refused: SSO", "sso_required"},
	{"no password way in", "no_password_way_in"},
	{"totp not enrolled", "totp_not_enrolled"},
	{"totp already enrolled", "totp_already_enrolled"},
	{"totp code wrong", "totp_wrong"},
	{"totp code malformed", "totp_malformed"},
	{"totp code reused", "totp_reused"},
	{"recovery code malformed", "recovery_code_malformed"},
	{"recovery code wrong", "recovery_code_wrong"},
}

// ReasonCode is the code of an audit reason of this package: "" for
// success, "other" for a reason without a code (so the metric's label set
// stays bounded whatever a reason says).
func ReasonCode(reason string) string {
	if reason == "" {
		return ""
	}
	for _, c := range reasonCodes {
		if strings.HasPrefix(reason, c.prefix) {
			return c.code
		}
	}
	return "other"
}

// observe counts a recorded sign-in attempt e of a and, when it failed,
// logs it: the method, the reason code, the audit event (where the whole
// reason is), and the account and user when known; never what the person
// typed, not even the email (a password typed into the email field would
// otherwise land in the log).
func (f *Flow) observe(ctx context.Context, a attempt, e gatehouse.AuditEvent) {
	code := ReasonCode(e.Reason)
	if f.cfg.Metrics != nil {
		f.cfg.Metrics.SignIn(a.method, string(e.Outcome), code)
	}
	if code == "" {
		return
	}
	attrs := []slog.Attr{slog.String("method", a.method), slog.String("reason", code), slog.String("audit_id", e.ID)}
	if a.user != nil {
		attrs = append(attrs, slog.String("account_id", a.user.AccountID), slog.String("user_id", a.user.ID))
	}
	f.log().LogAttrs(ctx, slog.LevelInfo, "sign-in failed", attrs...)
}

// log is the flow's logger.
func (f *Flow) log() *slog.Logger {
	if f.cfg.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.cfg.Logger
}

// debugStep logs, at debug level, that step took d for user (empty when
// unknown): where the time of a sign-in goes.
func (f *Flow) debugStep(ctx context.Context, step string, d time.Duration, userID string) {
	f.log().DebugContext(ctx, "sign-in step", "step", step, "duration_ms", float64(d.Microseconds())/1000, "user_id", userID)
}

// idOf is u's ID, or "" for nobody.
func idOf(u *gatehouse.User) string {
	if u == nil {
		return ""
	}
	return u.ID
}
