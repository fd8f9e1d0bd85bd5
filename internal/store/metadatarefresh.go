package store

import (
	"context"
	"errors"
	"time"

	"gatehouse"
)

// Metadata URLs refreshed on a schedule (issue 16, migration 0020): a row
// per configuration with a metadata URL says when its next refresh is due
// and how the last ones went. Every process runs the scheduler; a due
// refresh is claimed with one conditional UPDATE, so only one of them
// fetches it.

// MetadataRefresh is where the scheduled refresh of one configuration's
// metadata URL stands.
type MetadataRefresh struct {
	ConfigID string
	// NextAt is when the next refresh is due (while one runs, the end of
	// its lease).
	NextAt        time.Time
	LastAttemptAt time.Time
	LastSuccessAt time.Time
	LastFailureAt time.Time
	// Failures counts the failed refreshes since the last success;
	// LastError says why the latest of them failed.
	Failures  int
	LastError string
}

// ErrNotDue refuses a scheduled refresh or notice that is not due, or that
// another process has just taken.
var ErrNotDue = errors.New("store: not due, or taken by another process")

const metadataRefreshCols = `config_id, next_refresh_at, last_attempt_at, last_success_at, last_failure_at, failures, last_error`

func scanMetadataRefresh(row interface{ Scan(...any) error }) (MetadataRefresh, error) {
	var (
		r                           MetadataRefresh
		next, attempt, ok, failedAt int64
	)
	err := row.Scan(&r.ConfigID, &next, &attempt, &ok, &failedAt, &r.Failures, &r.LastError)
	r.NextAt, r.LastAttemptAt, r.LastSuccessAt, r.LastFailureAt = fromMicros(next), fromMicros(attempt), fromMicros(ok), fromMicros(failedAt)
	return r, err
}

// ScheduleMetadataRefreshes gives every configuration with a metadata URL
// and no schedule yet its first refresh, due interval after its metadata
// was last fetched (at once when that is long ago).
func (s *Store) ScheduleMetadataRefreshes(ctx context.Context, interval time.Duration) error {
	_, err := s.exec(ctx, `INSERT INTO sso_metadata_refresh(config_id, next_refresh_at)
		SELECT c.id, c.metadata_fetched_at + $1 FROM sso_configs c
		WHERE c.metadata_url <> '' AND NOT EXISTS (SELECT 1 FROM sso_metadata_refresh r WHERE r.config_id = c.id)
		ON CONFLICT (config_id) DO NOTHING`, interval.Microseconds())
	return s.fail("schedule metadata refreshes", err)
}

// DueMetadataRefreshes lists up to limit configurations whose metadata
// refresh is due at now, longest due first.
func (s *Store) DueMetadataRefreshes(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return list(ctx, s, "due metadata refreshes", func(row interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, row.Scan(&id)
	}, `SELECT r.config_id FROM sso_metadata_refresh r JOIN sso_configs c ON c.id = r.config_id
		WHERE r.next_refresh_at <= $1 AND c.metadata_url <> '' ORDER BY r.next_refresh_at, r.config_id LIMIT $2`, micros(now), limit)
}

// ClaimMetadataRefresh takes configuration id's refresh, due at now, for
// the caller until leaseUntil (when another process may take it again,
// should the caller never finish), in one conditional update. It returns
// the refresh as it stood, or ErrNotDue when it is not due or another
// process took it first.
func (s *Store) ClaimMetadataRefresh(ctx context.Context, id string, now, leaseUntil time.Time) (MetadataRefresh, error) {
	res, err := s.exec(ctx, `UPDATE sso_metadata_refresh SET next_refresh_at = $3, last_attempt_at = $2
		WHERE config_id = $1 AND next_refresh_at <= $2`, id, micros(now), micros(leaseUntil))
	if err := s.expectOneOr("claim metadata refresh", res, err, ErrNotDue); err != nil {
		return MetadataRefresh{}, err
	}
	return s.MetadataRefreshState(ctx, id)
}

// MetadataRefreshState is where configuration id's scheduled refresh
// stands; gatehouse.ErrNotFound when it has none.
func (s *Store) MetadataRefreshState(ctx context.Context, id string) (MetadataRefresh, error) {
	r, err := scanMetadataRefresh(s.read.QueryRowContext(ctx, `SELECT `+metadataRefreshCols+` FROM sso_metadata_refresh WHERE config_id = $1`, id))
	return r, s.fail("metadata refresh", err)
}

// MetadataRefreshDoneWrite records the outcome of a refresh claimed until
// lease: r's next time, last success and failure, failures and last error
// (its last attempt stays the claim's). It fails with ErrNotDue when the
// lease was lost meanwhile, so that the audit event written with it is not
// written twice.
func (s *Store) MetadataRefreshDoneWrite(lease time.Time, r MetadataRefresh) Write {
	return Write{stmts: []statement{{op: "finish metadata refresh", refusal: ErrNotDue,
		query: `UPDATE sso_metadata_refresh SET next_refresh_at = $3, last_success_at = $4, last_failure_at = $5,
			failures = $6, last_error = $7 WHERE config_id = $1 AND next_refresh_at = $2`,
		args: []any{r.ConfigID, micros(lease), micros(r.NextAt), micros(r.LastSuccessAt), micros(r.LastFailureAt), r.Failures, r.LastError}}}}
}

// CertificateNoticeWrite records that configuration id's notice of an
// expiring certificate was written on day (days since 1970-01-01, UTC),
// or fails with ErrNotDue when it already was that day (by any process):
// applied with the notice's audit event, it makes one event a day.
func (s *Store) CertificateNoticeWrite(id string, day int64) Write {
	return Write{stmts: []statement{{op: "certificate notice", refusal: ErrNotDue,
		query: `INSERT INTO sso_certificate_notices(config_id, notified_day) VALUES ($1, $2)
			ON CONFLICT (config_id) DO UPDATE SET notified_day = excluded.notified_day
			WHERE sso_certificate_notices.notified_day < excluded.notified_day`,
		args: []any{id, day}}}}
}

// EnabledSAMLConfigs lists every enabled SAML configuration, of accounts
// and partitions: at most one per owner.
func (s *Store) EnabledSAMLConfigs(ctx context.Context) ([]gatehouse.SSOConfig, error) {
	return list(ctx, s, "enabled saml configs", scanSSOConfig,
		`SELECT `+ssoConfigCols+` FROM sso_configs WHERE enabled = 1 AND protocol = $1 ORDER BY id`, string(gatehouse.ProtocolSAML))
}
