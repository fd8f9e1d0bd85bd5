package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse"
)

const ssoConfigCols = `id, name, account_id, partition_id, protocol, preset, enabled, settings, sp_key, sp_certificate, idp_changed_at, last_test, created_at, updated_at, client_secret, pending, metadata_url, metadata_fetched_at, last_signin_at`

func scanSSOConfig(row interface{ Scan(...any) error }) (gatehouse.SSOConfig, error) {
	var (
		c                  gatehouse.SSOConfig
		protocol, settings string
		lastTest, pending  string
		enabled            int
		changed, cat, uat  int64
		fetched, signedIn  int64
	)
	err := row.Scan(&c.ID, &c.Name, &c.AccountID, &c.PartitionID, &protocol, &c.Preset, &enabled, &settings,
		&c.SPKey, &c.SPCertificate, &changed, &lastTest, &cat, &uat, &c.ClientSecret, &pending, &c.MetadataURL, &fetched, &signedIn)
	if err != nil {
		return c, err
	}
	c.Protocol, c.Enabled = gatehouse.Protocol(protocol), enabled == 1
	c.IdPChangedAt, c.CreatedAt, c.UpdatedAt = fromMicros(changed), fromMicros(cat), fromMicros(uat)
	c.MetadataFetchedAt, c.LastSignInAt = fromMicros(fetched), fromMicros(signedIn)
	if err := decodeSettings(&c, settings); err != nil {
		return c, err
	}
	if lastTest != "" {
		c.LastTest = &gatehouse.SSOTest{}
		if err := json.Unmarshal([]byte(lastTest), c.LastTest); err != nil {
			return c, fmt.Errorf("last test of %s: %w", c.ID, err)
		}
	}
	if pending != "" {
		c.Pending = &gatehouse.SSOPending{}
		if err := json.Unmarshal([]byte(pending), c.Pending); err != nil {
			return c, fmt.Errorf("pending version of %s: %w", c.ID, err)
		}
	}
	return c, nil
}

// encodePending is how a pending version is kept: JSON, or "" for none.
func encodePending(p *gatehouse.SSOPending) (string, error) {
	if p == nil {
		return "", nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

// ssoSettings is how protocol settings are kept: one JSON document.
type ssoSettings struct {
	SAML *gatehouse.SAMLSettings `json:"saml,omitempty"`
	OIDC *gatehouse.OIDCSettings `json:"oidc,omitempty"`
	JIT  *gatehouse.JITSettings  `json:"jit,omitempty"`
}

func decodeSettings(c *gatehouse.SSOConfig, raw string) error {
	var s ssoSettings
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return fmt.Errorf("settings of %s: %w", c.ID, err)
	}
	c.SAML, c.OIDC = s.SAML, s.OIDC
	if s.JIT != nil {
		c.JIT = *s.JIT
	}
	return nil
}

func encodeSettings(c *gatehouse.SSOConfig) string {
	settings := ssoSettings{SAML: c.SAML, OIDC: c.OIDC}
	if c.JIT != (gatehouse.JITSettings{}) {
		settings.JIT = &c.JIT
	}
	b, _ := json.Marshal(settings)
	return string(b)
}

// ssoNameAlphabet avoids letters that read alike (0/o, 1/l/i).
const ssoNameAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// newSSOName returns a system name such as "sso-7k2m9q".
func newSSOName() string {
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = ssoNameAlphabet[int(b[i])%len(ssoNameAlphabet)]
	}
	return "sso-" + string(b)
}

// CreateSSOConfig stores a new configuration, assigning its ID, its
// system-generated name and its times. Its owner (account or partition) must
// exist. It is never created enabled.
func (s *Store) CreateSSOConfig(ctx context.Context, c *gatehouse.SSOConfig) error {
	now := s.now()
	c.ID, c.CreatedAt, c.UpdatedAt, c.IdPChangedAt, c.Enabled = newID("sso", now), now, now, now, false
	return s.inTx(ctx, func(q querier) error {
		switch {
		case c.AccountID != "" && c.PartitionID == "":
			if err := exists(ctx, s, q, "accounts", c.AccountID, "account_id"); err != nil {
				return err
			}
		case c.PartitionID != "" && c.AccountID == "":
			if err := exists(ctx, s, q, "partitions", c.PartitionID, "partition_id"); err != nil {
				return err
			}
		default:
			v := &gatehouse.ValidationError{}
			v.Add("owner", "exactly one of account_id and partition_id is required")
			return v
		}
		// A name collision is unlikely (31^6 names); try a few before giving up.
		var err error
		for range 5 {
			c.Name = newSSOName()
			_, err = q.ExecContext(ctx, `INSERT INTO sso_configs(`+ssoConfigCols+`) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, '', $10, $10, $11, '', '', 0, 0)`,
				c.ID, c.Name, c.AccountID, c.PartitionID, string(c.Protocol), c.Preset, encodeSettings(c), c.SPKey, c.SPCertificate, micros(now), c.ClientSecret)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "name") {
				break
			}
		}
		return s.fail("create sso config", err)
	})
}

// SSOConfig returns one configuration.
func (s *Store) SSOConfig(ctx context.Context, id string) (gatehouse.SSOConfig, error) {
	c, err := scanSSOConfig(s.read.QueryRowContext(ctx, `SELECT `+ssoConfigCols+` FROM sso_configs WHERE id = $1`, id))
	return c, s.fail("sso config", err)
}

// ListSSOConfigs returns every configuration of one owner: an account, or
// (with accountID empty) a partition.
func (s *Store) ListSSOConfigs(ctx context.Context, accountID, partitionID string) ([]gatehouse.SSOConfig, error) {
	return list(ctx, s, "list sso configs", scanSSOConfig,
		`SELECT `+ssoConfigCols+` FROM sso_configs WHERE account_id = $1 AND partition_id = $2 ORDER BY id LIMIT 1000`, accountID, partitionID)
}

// EnabledSSOConfig returns the enabled configuration of an owner, or
// ErrNotFound when none is.
func (s *Store) EnabledSSOConfig(ctx context.Context, accountID, partitionID string) (gatehouse.SSOConfig, error) {
	c, err := scanSSOConfig(s.read.QueryRowContext(ctx, `SELECT `+ssoConfigCols+` FROM sso_configs
		WHERE account_id = $1 AND partition_id = $2 AND enabled = 1`, accountID, partitionID))
	return c, s.fail("enabled sso config", err)
}

// EnabledSSOConfigID is the ID of EnabledSSOConfig, read alone: what the
// policy needs at every sign-in, without decoding the configuration.
func (s *Store) EnabledSSOConfigID(ctx context.Context, accountID, partitionID string) (string, error) {
	var id string
	err := s.read.QueryRowContext(ctx, `SELECT id FROM sso_configs WHERE account_id = $1 AND partition_id = $2 AND enabled = 1`, accountID, partitionID).Scan(&id)
	return id, s.fail("enabled sso config", err)
}

// UpdateSSOConfig saves a configuration's preset, settings, SP key and
// pending version. When idpChanged, its IdP settings count as changed now,
// which puts its last test out of date. The update applies only if the
// configuration still has the UpdatedAt the caller read (else a
// *ConflictError), so two admins editing at once cannot silently overwrite
// each other, and a check made on what was read still holds.
func (s *Store) UpdateSSOConfig(ctx context.Context, c *gatehouse.SSOConfig, idpChanged bool) error {
	now := s.now()
	changed := c.IdPChangedAt
	if idpChanged {
		changed = now
	}
	pending, err := encodePending(c.Pending)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, `UPDATE sso_configs SET preset = $2, settings = $3, sp_key = $4, sp_certificate = $5,
		idp_changed_at = $6, updated_at = $7, client_secret = $9, pending = $10, metadata_url = $11, metadata_fetched_at = $12
		WHERE id = $1 AND updated_at = $8`,
		c.ID, c.Preset, encodeSettings(c), c.SPKey, c.SPCertificate, micros(changed), micros(now), micros(c.UpdatedAt), c.ClientSecret, pending,
		c.MetadataURL, micros(c.MetadataFetchedAt))
	if err := s.expectOne("update sso config", res, err); err != nil {
		return s.staleOrMissing(ctx, c.ID, err)
	}
	c.IdPChangedAt, c.UpdatedAt = changed, now
	return nil
}

// ApplyPendingSSOConfig makes c's pending version live: its settings, its
// client secret and its passing test take the live ones' place, and
// nothing is pending any more, in one update that applies only to the
// version the caller read (else a *ConflictError). c must hold the
// settings to make live, with Pending nil.
func (s *Store) ApplyPendingSSOConfig(ctx context.Context, c *gatehouse.SSOConfig) error {
	if c.Pending != nil || c.LastTest == nil {
		return errors.New("store: apply pending sso config: give the settings to make live, with their test, and nothing pending")
	}
	test, err := json.Marshal(c.LastTest)
	if err != nil {
		return err
	}
	now := s.now()
	res, err := s.exec(ctx, `UPDATE sso_configs SET preset = $2, settings = $3, client_secret = $4, idp_changed_at = $5,
		last_test = $6, pending = '', updated_at = $7 WHERE id = $1 AND updated_at = $8 AND pending <> ''`,
		c.ID, c.Preset, encodeSettings(c), c.ClientSecret, micros(c.IdPChangedAt), string(test), micros(now), micros(c.UpdatedAt))
	if err := s.expectOne("apply pending sso config", res, err); err != nil {
		return s.staleOrMissing(ctx, c.ID, err)
	}
	c.UpdatedAt = now
	return nil
}

// RecordPendingSSOTest keeps the outcome of a Test of configuration id's
// pending version, when the version that changed at changedAt is still the
// pending one; otherwise it records nothing and returns false. Like
// RecordSSOTest, it is not an edit.
func (s *Store) RecordPendingSSOTest(ctx context.Context, id string, changedAt time.Time, t gatehouse.SSOTest) (bool, error) {
	recorded := false
	err := s.inTx(ctx, func(q querier) error {
		var raw string
		if err := q.QueryRowContext(ctx, `SELECT pending FROM sso_configs WHERE id = $1`, id).Scan(&raw); err != nil {
			return s.fail("record pending sso test", err)
		}
		if raw == "" {
			return nil
		}
		var p gatehouse.SSOPending
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			return fmt.Errorf("pending version of %s: %w", id, err)
		}
		if !p.IsVersion(changedAt) {
			return nil
		}
		p.LastTest = &t
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		// The version is compared again in the update, as text: a change
		// staged meanwhile leaves the row unmatched.
		res, err := q.ExecContext(ctx, `UPDATE sso_configs SET pending = $2 WHERE id = $1 AND pending = $3`, id, string(b), raw)
		if err != nil {
			return s.fail("record pending sso test", err)
		}
		n, err := res.RowsAffected()
		recorded = err == nil && n == 1
		return err
	})
	return recorded, err
}

func (s *Store) staleOrMissing(ctx context.Context, id string, err error) error {
	if !errors.Is(err, gatehouse.ErrNotFound) {
		return err
	}
	if _, gerr := s.SSOConfig(ctx, id); gerr != nil {
		return gerr
	}
	return &gatehouse.ConflictError{Field: "updated_at", Message: "the configuration changed meanwhile; reload it and try again"}
}

// DeleteSSOConfig removes a configuration that is not enabled.
func (s *Store) DeleteSSOConfig(ctx context.Context, id string) error {
	return s.DeleteSSOConfigIf(ctx, id, time.Time{})
}

// DeleteSSOConfigIf is DeleteSSOConfig applied only while the
// configuration still has the updated_at version the caller read (any,
// when zero), else ErrChanged.
func (s *Store) DeleteSSOConfigIf(ctx context.Context, id string, version time.Time) error {
	return s.inTx(ctx, func(q querier) error {
		var enabled int
		var updated int64
		if err := q.QueryRowContext(ctx, `SELECT enabled, updated_at FROM sso_configs WHERE id = $1`, id).Scan(&enabled, &updated); err != nil {
			return s.fail("delete sso config", err)
		}
		if !version.IsZero() && updated != micros(version) {
			return fmt.Errorf("store: delete sso config: %w", ErrChanged)
		}
		if enabled == 1 {
			return &gatehouse.ConflictError{Field: "enabled", Message: "an enabled configuration cannot be deleted; disable it first"}
		}
		cond, args := versionClause(version, 2, []any{id})
		res, err := q.ExecContext(ctx, `DELETE FROM sso_configs WHERE id = $1`+cond, args...)
		if err := s.expectOne("delete sso config", res, err); err != nil {
			if cond != "" && errors.Is(err, gatehouse.ErrNotFound) {
				return s.changedOrMissing(ctx, q, "delete sso config", "sso_configs", id)
			}
			return err
		}
		_, err = q.ExecContext(ctx, `DELETE FROM sso_failures WHERE config_id = $1`, id)
		return s.fail("delete sso config's failure counts", err)
	})
}

// EnableSSOConfig enables a configuration and disables its owner's previous
// one in the same transaction, so there is never a moment with two enabled
// or none by accident. It applies only if the configuration still has the
// UpdatedAt the caller checked. It returns the ID of the configuration it
// disabled, if any.
func (s *Store) EnableSSOConfig(ctx context.Context, id string, checkedUpdatedAt time.Time) (disabledID string, err error) {
	now := micros(s.now())
	err = s.inTx(ctx, func(q querier) error {
		var accountID, partitionID string
		var enabled int
		var updated int64
		if err := q.QueryRowContext(ctx, `SELECT account_id, partition_id, enabled, updated_at FROM sso_configs WHERE id = $1`, id).
			Scan(&accountID, &partitionID, &enabled, &updated); err != nil {
			return s.fail("enable sso config", err)
		}
		if updated != micros(checkedUpdatedAt) {
			return &gatehouse.ConflictError{Field: "updated_at", Message: "the configuration changed meanwhile; reload it and try again"}
		}
		if enabled == 1 {
			return nil
		}
		governed, err := s.ownerPolicyChange(ctx, q, accountID, partitionID)
		if err != nil {
			return err
		}
		err = q.QueryRowContext(ctx, `SELECT id FROM sso_configs WHERE account_id = $1 AND partition_id = $2 AND enabled = 1`, accountID, partitionID).Scan(&disabledID)
		if err := s.fail("enable sso config", err); err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
			return err
		}
		if disabledID != "" {
			if _, err := q.ExecContext(ctx, `UPDATE sso_configs SET enabled = 0, updated_at = $2 WHERE id = $1`, disabledID, now); err != nil {
				return s.fail("enable sso config: disable previous", err)
			}
		}
		if _, err = q.ExecContext(ctx, `UPDATE sso_configs SET enabled = 1, updated_at = $2 WHERE id = $1`, id, now); err != nil {
			return s.fail("enable sso config", err)
		}
		for _, acct := range governed {
			w, err := s.wayIn(ctx, q, acct)
			if err != nil {
				return err
			}
			// A partition's configuration governs only the accounts set to
			// use it that have none of their own enabled.
			if (accountID != "" || (w.Account.UsePartitionSSO && w.AccountSSO == "")) && !w.Kept() {
				return &gatehouse.LastWayInError{AccountID: w.Account.ID, AccountName: w.Account.Name}
			}
		}
		return nil
	})
	return disabledID, err
}

// ownerPolicyChange is policyChange for every account a configuration of
// this owner can govern: the account, or every account of the partition. It
// returns their IDs.
func (s *Store) ownerPolicyChange(ctx context.Context, q querier, accountID, partitionID string) ([]string, error) {
	if accountID != "" {
		return []string{accountID}, s.policyChange(ctx, q, accountID)
	}
	return s.partitionPolicyChange(ctx, q, partitionID)
}

// DisableSSOConfig disables a configuration; disabling a disabled one does
// nothing. Disabling is a policy change of every account the configuration
// could govern: sessions opened through it end.
func (s *Store) DisableSSOConfig(ctx context.Context, id string) error {
	return s.inTx(ctx, func(q querier) error {
		var accountID, partitionID string
		var enabled int
		if err := q.QueryRowContext(ctx, `SELECT account_id, partition_id, enabled FROM sso_configs WHERE id = $1`, id).
			Scan(&accountID, &partitionID, &enabled); err != nil {
			return s.fail("disable sso config", err)
		}
		if enabled == 0 {
			return nil
		}
		if _, err := s.ownerPolicyChange(ctx, q, accountID, partitionID); err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, `UPDATE sso_configs SET enabled = 0, updated_at = $2 WHERE id = $1`, id, micros(s.now()))
		return s.expectOne("disable sso config", res, err)
	})
}

// RecordSSOTest keeps the outcome of a configuration's latest test. It does
// not change the configuration's last-updated time: a test is not an edit.
func (s *Store) RecordSSOTest(ctx context.Context, id string, t gatehouse.SSOTest) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, `UPDATE sso_configs SET last_test = $2 WHERE id = $1`, id, string(b))
	return s.expectOne("record sso test", res, err)
}

const ssoFlowCols = `id, config_id, account_id, request_id, browser_hash, purpose, tester_id, return_to, secret, created_at, expires_at, finished_at, result, pending_changed_at, user_id`

func scanSSOFlow(row interface{ Scan(...any) error }) (gatehouse.SSOFlow, error) {
	var (
		f             gatehouse.SSOFlow
		cat, exp, fin int64
		pend          int64
	)
	err := row.Scan(&f.ID, &f.ConfigID, &f.AccountID, &f.RequestID, &f.BrowserHash, &f.Purpose, &f.TesterID, &f.ReturnTo, &f.Secret, &cat, &exp, &fin, &f.Result, &pend, &f.UserID)
	f.CreatedAt, f.ExpiresAt, f.FinishedAt, f.PendingChangedAt = fromMicros(cat), fromMicros(exp), fromMicros(fin), fromMicros(pend)
	return f, err
}

// CreateSSOFlow stores a flow that is starting.
func (s *Store) CreateSSOFlow(ctx context.Context, f *gatehouse.SSOFlow) error {
	return s.Apply(ctx, CreateSSOFlowWrite(f))
}

// SSOFlow returns a flow by its key.
func (s *Store) SSOFlow(ctx context.Context, id string) (gatehouse.SSOFlow, error) {
	f, err := scanSSOFlow(s.read.QueryRowContext(ctx, `SELECT `+ssoFlowCols+` FROM sso_flows WHERE id = $1`, id))
	return f, s.fail("sso flow", err)
}

// SSOFlowByRequest returns a configuration's flow by the request ID the
// IdP's answer refers to (for IdPs that drop RelayState).
func (s *Store) SSOFlowByRequest(ctx context.Context, configID, requestID string) (gatehouse.SSOFlow, error) {
	if requestID == "" {
		return gatehouse.SSOFlow{}, fmt.Errorf("store: sso flow: %w", gatehouse.ErrNotFound)
	}
	f, err := scanSSOFlow(s.read.QueryRowContext(ctx, `SELECT `+ssoFlowCols+` FROM sso_flows WHERE config_id = $1 AND request_id = $2`, configID, requestID))
	return f, s.fail("sso flow", err)
}

// FinishSSOFlow writes a flow's checked result, once: it returns false when
// the flow was finished before (its request was answered already) or has
// expired. This is what makes every request ID single-use across processes.
func (s *Store) FinishSSOFlow(ctx context.Context, id string, result []byte, at time.Time) (bool, error) {
	err := s.Apply(ctx, FinishSSOFlowWrite(id, result, "", at))
	if errors.Is(err, ErrAnsweredBefore) {
		return false, nil
	}
	return err == nil, err
}

// ConsumeSSOFlow hands a finished flow's result out once: it returns
// ErrNotFound when the flow is unknown, unfinished, expired or was consumed
// before.
func (s *Store) ConsumeSSOFlow(ctx context.Context, id string, at time.Time) (gatehouse.SSOFlow, error) {
	var f gatehouse.SSOFlow
	read := Write{apply: func(ctx context.Context, s *Store, q querier) error {
		var err error
		f, err = scanSSOFlow(q.QueryRowContext(ctx, `SELECT `+ssoFlowCols+` FROM sso_flows WHERE id = $1`, id))
		return s.fail("consume sso flow", err)
	}}
	err := s.Apply(ctx, ConsumeSSOFlowWrite(id, at), read)
	return f, err
}

// MarkMessageSeen records that a configuration accepted a message (assertion
// or ID token) until it expires. It returns false when the message was seen
// before: the replay check, atomic across processes.
func (s *Store) MarkMessageSeen(ctx context.Context, configID, messageID string, expires time.Time) (bool, error) {
	err := s.Apply(ctx, MarkMessageSeenWrite(configID, messageID, expires))
	if errors.Is(err, ErrReplayed) {
		return false, nil
	}
	return err == nil, err
}

// DeleteExpiredSSOState removes flows and replay entries past their expiry.
// Replay entries are kept until the message itself expires, so a message can
// never be replayed while it would still be valid.
func (s *Store) DeleteExpiredSSOState(ctx context.Context, now time.Time) error {
	if _, err := s.exec(ctx, `DELETE FROM sso_flows WHERE expires_at < $1`, micros(now)); err != nil {
		return s.fail("delete expired sso flows", err)
	}
	if _, err := s.exec(ctx, `DELETE FROM sso_replay WHERE expires_at < $1`, micros(now)); err != nil {
		return s.fail("delete expired replay entries", err)
	}
	_, err := s.exec(ctx, `DELETE FROM sso_failures WHERE hour < $1`, micros(now.Add(-failureCountsKept)))
	return s.fail("delete old failure counts", err)
}

// LinkIdentity ties a person at a configuration's IdP (key) to a user. A key
// already linked keeps its user: the call returns the existing link, so two
// first sign-ins racing cannot link one person to two users.
func (s *Store) LinkIdentity(ctx context.Context, l *gatehouse.IdentityLink) (gatehouse.IdentityLink, error) {
	l.CreatedAt = s.now()
	if _, err := s.exec(ctx, `INSERT INTO identity_links(config_id, key, user_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, l.ConfigID, l.Key, l.UserID, micros(l.CreatedAt)); err != nil {
		return gatehouse.IdentityLink{}, s.fail("link identity", err)
	}
	return s.IdentityLink(ctx, l.ConfigID, l.Key)
}

// LinkedUser returns the user linked to a key at a configuration, read
// with the link in one statement (a sign-in's answer with a link key is
// matched by its link first): ErrNotFound when the key has no link, the
// zero User when the link names a user that no longer exists.
func (s *Store) LinkedUser(ctx context.Context, configID, key string) (gatehouse.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColsOfUOrZero+`
		FROM identity_links l LEFT JOIN users u ON u.id = l.user_id WHERE l.config_id = $1 AND l.key = $2`, configID, key))
	return u, s.fail("linked user", err)
}

// IdentityLink returns the user linked to a key at a configuration, or
// ErrNotFound.
func (s *Store) IdentityLink(ctx context.Context, configID, key string) (gatehouse.IdentityLink, error) {
	var (
		l   gatehouse.IdentityLink
		cat int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT config_id, key, user_id, created_at FROM identity_links WHERE config_id = $1 AND key = $2`, configID, key).
		Scan(&l.ConfigID, &l.Key, &l.UserID, &cat)
	l.CreatedAt = fromMicros(cat)
	return l, s.fail("identity link", err)
}
