package store

import (
	"context"
	"strings"
	"sync"
	"time"

	"gatehouse"
)

// A configuration's health (issue 14): its failed sign-ins counted by the
// hour and reason, and about when someone last signed in through it. Both
// are kept beside the sign-in's audit event, so the health view reads a few
// rows however busy the account.

// failureCountsKept is how long hourly failure counts are kept.
const failureCountsKept = 72 * time.Hour

// lastSignInEvery is how often one process records a configuration's
// latest successful sign-in: not at every sign-in.
const lastSignInEvery = time.Minute

// signInMarks remembers, per process, when each configuration's latest
// sign-in was last recorded.
type signInMarks struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// due reports whether a sign-in through configID at now should be
// recorded, and if so takes note that it is.
func (m *signInMarks) due(configID string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[string]time.Time{}
	}
	if last, ok := m.last[configID]; ok && now.Sub(last) < lastSignInEvery {
		return false
	}
	if len(m.last) > 10000 {
		clear(m.last)
	}
	m.last[configID] = now
	return true
}

// ssoSignIn is what an audit event says about a sign-in through an SSO
// configuration: its ID, and the reason when it failed; ok is false for
// any other event.
func ssoSignIn(e *gatehouse.AuditEvent) (configID, reason string, failed, ok bool) {
	if !strings.HasPrefix(string(e.Action), gatehouse.SignInActionPrefix) || e.Details["sso_config"] == "" {
		return "", "", false, false
	}
	failed = e.Outcome == gatehouse.OutcomeFailure
	if failed {
		reason = e.Details["reason"]
		if reason == "" {
			reason = "other"
		}
	}
	return e.Details["sso_config"], reason, failed, true
}

// healthWrite is what an audit event adds to its configuration's health,
// run in the event's own transaction; nil when nothing.
func (s *Store) healthWrite(e *gatehouse.AuditEvent) (statement, bool) {
	configID, reason, failed, ok := ssoSignIn(e)
	switch {
	case !ok:
		return statement{}, false
	case failed:
		return statement{op: "count sso failure", query: `INSERT INTO sso_failures(config_id, hour, reason, count) VALUES ($1, $2, $3, 1)
			ON CONFLICT (config_id, hour, reason) DO UPDATE SET count = sso_failures.count + 1`,
			args: []any{configID, micros(e.Time.Truncate(time.Hour)), reason}}, true
	case s.signIns.due(configID, e.Time):
		return statement{op: "record last sso sign-in", query: `UPDATE sso_configs SET last_signin_at = $2 WHERE id = $1 AND last_signin_at < $2`,
			args: []any{configID, micros(e.Time)}}, true
	}
	return statement{}, false
}

// SSOFailureCounts counts configuration id's failed sign-ins by reason
// since (to the hour: the hour since falls in counts whole).
func (s *Store) SSOFailureCounts(ctx context.Context, id string, since time.Time) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT reason, SUM(count) FROM sso_failures WHERE config_id = $1 AND hour >= $2 GROUP BY reason`,
		id, micros(since.Truncate(time.Hour)))
	if err != nil {
		return nil, s.fail("sso failure counts", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			reason string
			n      int
		)
		if err := rows.Scan(&reason, &n); err != nil {
			return nil, s.fail("sso failure counts", err)
		}
		out[reason] = n
	}
	return out, s.fail("sso failure counts", rows.Err())
}
