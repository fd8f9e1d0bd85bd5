package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"time"

	"gatehouse"
)

// ssoConfigCache keeps configurations as read, by ID, with the updated_at
// they were read at. Every change to a configuration's settings, keys,
// status or owner moves its updated_at (UpdateSSOConfig, EnableSSOConfig,
// DisableSSOConfig), on whichever process makes it.
type ssoConfigCache struct {
	mu      sync.Mutex
	configs map[string]gatehouse.SSOConfig
}

// maxCachedSSOConfigs bounds the cache; past it, it starts again empty.
const maxCachedSSOConfigs = 10000

// CurrentSSOConfig is SSOConfig for the sign-in path: it reads only the
// configuration's version (one indexed read of two columns) and decodes
// the whole row only when this process has not seen that version yet, so
// a change made on any process is seen at the next sign-in. Its last Test
// may be older than the database's (recording a Test moves no version);
// pages that show it use SSOConfig.
func (s *Store) CurrentSSOConfig(ctx context.Context, id string) (gatehouse.SSOConfig, error) {
	var updated int64
	var enabled int
	err := s.read.QueryRowContext(ctx, `SELECT updated_at, enabled FROM sso_configs WHERE id = $1`, id).Scan(&updated, &enabled)
	if err != nil {
		return gatehouse.SSOConfig{}, s.fail("sso config", err)
	}
	return s.ssoConfigAt(ctx, id, updated, enabled)
}

// ssoConfigAt returns configuration id at the version read (its
// updated_at and enabled columns), from the cache when this process has
// seen that version, else read whole and kept.
func (s *Store) ssoConfigAt(ctx context.Context, id string, updated int64, enabled int) (gatehouse.SSOConfig, error) {
	c := &s.ssoConfigs
	c.mu.Lock()
	cached, ok := c.configs[id]
	c.mu.Unlock()
	if ok && cached.UpdatedAt.Equal(fromMicros(updated)) && cached.Enabled == (enabled == 1) {
		return cached.Clone(), nil
	}
	fresh, err := s.SSOConfig(ctx, id)
	if err != nil {
		return fresh, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.configs == nil || len(c.configs) >= maxCachedSSOConfigs {
		c.configs = map[string]gatehouse.SSOConfig{}
	}
	c.configs[id] = fresh.Clone()
	return fresh, nil
}

// CurrentSSOConfigAndAccount is CurrentSSOConfig with the account that
// owns the configuration, read in the same statement as the version; the
// account is nil for a partition's configuration. An account is never
// cached: its policy version and plan are read fresh.
func (s *Store) CurrentSSOConfigAndAccount(ctx context.Context, id string) (gatehouse.SSOConfig, *gatehouse.Account, error) {
	v, err := scanConfigVersion(s.read.QueryRowContext(ctx, `SELECT `+configVersionCols+`
		FROM sso_configs c LEFT JOIN accounts a ON a.id = c.account_id WHERE c.id = $1`, id))
	if err != nil {
		return gatehouse.SSOConfig{}, nil, s.fail("sso config", err)
	}
	return s.withAccount(ctx, id, v)
}

// CurrentSSOConfigAccountAndFlow is CurrentSSOConfigAndAccount with the
// flow of key flowID, read in the same statement: the flow is nil when
// flowID is empty or names no flow of this configuration. An answer's
// callback reads them so, before it checks the answer. Without a flowID
// (an answer the IdP sent unasked) it reads no flow, and joins none.
func (s *Store) CurrentSSOConfigAccountAndFlow(ctx context.Context, id, flowID string) (gatehouse.SSOConfig, *gatehouse.Account, *gatehouse.SSOFlow, error) {
	if flowID == "" {
		c, acct, err := s.CurrentSSOConfigAndAccount(ctx, id)
		return c, acct, nil, err
	}
	var f gatehouse.SSOFlow
	row := s.read.QueryRowContext(ctx, `SELECT `+configVersionCols+`, `+ssoFlowColsOfFOrZero+`
		FROM sso_configs c LEFT JOIN accounts a ON a.id = c.account_id LEFT JOIN sso_flows f ON f.id = $2
		WHERE c.id = $1`, id, flowID)
	// One Scan: the version's and account's columns, then the flow's.
	v, err := scanConfigVersion(scanFunc(func(versionCols ...any) (err error) {
		f, err = scanSSOFlow(withColumns{prefix: versionCols, row: row})
		return err
	}))
	if err != nil {
		return gatehouse.SSOConfig{}, nil, nil, s.fail("sso config", err)
	}
	c, acct, err := s.withAccount(ctx, id, v)
	// The flow is joined by its key alone and a flow of another
	// configuration dropped here: joined on the configuration too, the
	// OIDC load's PostgreSQL used 1.4-1.9 ms of CPU a sign-in against 1.3
	// (README, Speed).
	if err != nil || f.ID == "" || f.ConfigID != id {
		return c, acct, nil, err
	}
	return c, acct, &f, nil
}

// ssoFlowColsOfFOrZero is ssoFlowCols of sso_flows f LEFT JOINed: a row
// without the flow scans as the zero SSOFlow.
const ssoFlowColsOfFOrZero = `COALESCE(f.id, ''), COALESCE(f.config_id, ''), COALESCE(f.account_id, ''), COALESCE(f.request_id, ''),
	COALESCE(f.browser_hash, ''), COALESCE(f.purpose, ''), COALESCE(f.tester_id, ''), COALESCE(f.return_to, ''), f.secret,
	COALESCE(f.created_at, 0), COALESCE(f.expires_at, 0), COALESCE(f.finished_at, 0), f.result, COALESCE(f.pending_changed_at, 0), COALESCE(f.user_id, '')`

// configVersionCols are a configuration's version and its account's
// columns (empty for a partition's configuration), of sso_configs c LEFT
// JOIN accounts a.
const configVersionCols = `c.updated_at, c.enabled, COALESCE(a.id, ''), COALESCE(a.partition_id, ''), COALESCE(a.name, ''),
	COALESCE(a.plan, ''), COALESCE(a.use_partition_sso, 0), COALESCE(a.policy_version, 0), COALESCE(a.created_at, 0), COALESCE(a.updated_at, 0)`

// configVersion is a row of configVersionCols.
type configVersion struct {
	updated int64
	enabled int
	account gatehouse.Account
}

// scanConfigVersion scans configVersionCols after the columns of the
// first destinations given.
func scanConfigVersion(row interface{ Scan(...any) error }, first ...any) (configVersion, error) {
	var v configVersion
	var err error
	v.account, err = scanAccount(withColumns{prefix: append(first, &v.updated, &v.enabled), row: row})
	return v, err
}

// withAccount returns configuration id at version v, with its account.
func (s *Store) withAccount(ctx context.Context, id string, v configVersion) (gatehouse.SSOConfig, *gatehouse.Account, error) {
	c, err := s.ssoConfigAt(ctx, id, v.updated, v.enabled)
	switch {
	case err != nil:
		return c, nil, err
	case c.AccountID == "":
		return c, nil, nil
	case v.account.ID != c.AccountID:
		return c, nil, s.fail("sso config's account", sql.ErrNoRows)
	}
	return c, &v.account, nil
}

// PeekSSOFlowAndConfig returns a finished flow's result as ConsumeSSOFlow
// would, without consuming it, with the flow's configuration as
// CurrentSSOConfigAndAccount returns it and the user the result matched,
// all in one statement: ErrNotFound when the flow is unknown, unfinished,
// expired or consumed. The sign-in's finish step reads a result this way
// before it knows whether the person must first confirm it.
//
// The seat is nil when the flow names no user (flow.UserID is empty) or
// no user of the configuration's own account by that ID, as for a
// partition's configuration: the caller reads them itself. Otherwise its
// Access is what the sign-in policy decides on, read in the statement that
// read the account's policy version, so a change committed after it moves
// that version (access.DecideInAccount's guarantee).
func (s *Store) PeekSSOFlowAndConfig(ctx context.Context, id string, at time.Time) (gatehouse.SSOFlow, gatehouse.SSOConfig, *gatehouse.Account, *Seat, error) {
	var (
		v    configVersion
		seat Seat
	)
	row := s.read.QueryRowContext(ctx, `SELECT `+ssoFlowColsOfF+`, `+configVersionCols+`, `+userColsOfUOrZero+`, `+
		accessFactsCols("a.id", "CASE WHEN a.use_partition_sso = 1 THEN a.partition_id ELSE '' END", "u.id")+`
		FROM sso_flows f JOIN sso_configs c ON c.id = f.config_id LEFT JOIN accounts a ON a.id = c.account_id
		LEFT JOIN users u ON u.id = f.user_id
		WHERE f.id = $1 AND f.consumed_at = 0 AND f.finished_at > 0 AND f.expires_at > $2`, id, micros(at))
	// One Scan of the row, its columns handed on in order: the flow's to
	// scanSSOFlow, the version's and account's to scanConfigVersion, the
	// user's to scanUserAnd, then the access facts.
	f, err := scanSSOFlow(scanFunc(func(flowCols ...any) (err error) {
		v, err = scanConfigVersion(scanFunc(func(versionCols ...any) (err error) {
			seat.User, err = scanUserAnd(withColumns{prefix: append(flowCols, versionCols...), row: row},
				&seat.Access.AccountSSO, &seat.Access.PartitionSSO, &seat.Access.ByUserList, &seat.Access.ByGroupList)
			return err
		}))
		return err
	}))
	if err != nil {
		return f, gatehouse.SSOConfig{}, nil, nil, s.fail("peek sso flow", err)
	}
	c, acct, err := s.withAccount(ctx, f.ConfigID, v)
	// The user is joined by ID alone and their account checked here: with
	// the account in the join, PostgreSQL's plan for this statement read
	// the user through the account's index, every user of the account at
	// every finish step.
	if err != nil || acct == nil || seat.User.ID == "" || seat.User.ID != f.UserID || seat.User.AccountID != acct.ID {
		return f, c, acct, nil, err
	}
	return f, c, acct, &seat, nil
}

// Seat is the user a finished flow matched, as PeekSSOFlowAndConfig reads
// them with the flow: their row, and what the sign-in policy reads about
// them beyond it.
type Seat struct {
	User   gatehouse.User
	Access UserAccess
}

// userColsOfUOrZero is userCols of users u LEFT JOINed: a row without
// the user scans as the zero User.
const userColsOfUOrZero = `COALESCE(u.id, ''), COALESCE(u.account_id, ''), COALESCE(u.email, ''), COALESCE(u.display_name, ''),
	COALESCE(u.role, ''), COALESCE(u.status, ''), COALESCE(u.password_hash, ''), u.totp_secret, COALESCE(u.created_at, 0), COALESCE(u.updated_at, 0)`

// ssoFlowColsOfF is ssoFlowCols of the table aliased f.
var ssoFlowColsOfF = "f." + strings.ReplaceAll(ssoFlowCols, ", ", ", f.")

// withColumns scans a row whose first columns go to prefix and the rest
// to the destinations its Scan is given.
type withColumns struct {
	prefix []any
	row    interface{ Scan(...any) error }
}

func (w withColumns) Scan(dest ...any) error { return w.row.Scan(append(w.prefix, dest...)...) }
