package store

import (
	"context"
	"fmt"
	"time"

	"gatehouse"
)

// DevicePoll is what one poll of a device code (RFC 8628 3.4) found, decided
// in the same atomic statement that records the poll.
type DevicePoll string

// Answers to a poll.
const (
	// DevicePollPending: nobody has allowed or denied the request yet.
	DevicePollPending DevicePoll = "pending"
	// DevicePollSlowDown: the poll came sooner than the interval after the
	// previous one; the interval has grown by DeviceSlowDownStep.
	DevicePollSlowDown DevicePoll = "slow_down"
	// DevicePollDenied: the person denied the request.
	DevicePollDenied DevicePoll = "denied"
	// DevicePollExpired: the request expired before it was redeemed.
	DevicePollExpired DevicePoll = "expired"
	// DevicePollIssue: the request was approved, and this poll redeemed
	// it; exactly one poll of a code, across every process, gets it.
	DevicePollIssue DevicePoll = "issue"
	// DevicePollUsed: the request was redeemed by an earlier poll.
	DevicePollUsed DevicePoll = "used"
)

// DeviceSlowDownStep is how much a poll answered slow_down adds to the
// interval of its code, for it and every later poll (RFC 8628 3.5).
const DeviceSlowDownStep = 5 * time.Second

const opDeviceCols = `hash, user_code, client_id, scope, status, interval_seconds, COALESCE(session_id, ''), COALESCE(user_id, ''),
	created_at, expires_at, last_polled_at, decided_at`

func scanOPDevice(row interface{ Scan(...any) error }, extra ...any) (gatehouse.DeviceCode, error) {
	var (
		d                                    gatehouse.DeviceCode
		status                               string
		interval, cat, expires, polled, decd int64
	)
	err := row.Scan(append([]any{&d.Hash, &d.UserCode, &d.ClientID, &d.Scope, &status, &interval, &d.SessionID, &d.UserID,
		&cat, &expires, &polled, &decd}, extra...)...)
	d.Status, d.Interval = gatehouse.DeviceStatus(status), time.Duration(interval)*time.Second
	d.CreatedAt, d.ExpiresAt, d.LastPolledAt, d.DecidedAt = fromMicros(cat), fromMicros(expires), fromMicros(polled), fromMicros(decd)
	return d, err
}

// CreateDeviceCode stores a pending device authorization request, keyed by
// the hash of its device code; its creation time is now unless set. A user
// code another pending request holds is a *gatehouse.ConflictError (the
// caller draws another).
func (s *Store) CreateDeviceCode(ctx context.Context, d *gatehouse.DeviceCode) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.now()
	}
	d.Status, d.SessionID, d.UserID, d.LastPolledAt, d.DecidedAt = gatehouse.DevicePending, "", "", time.Time{}, time.Time{}
	_, err := s.exec(ctx, `INSERT INTO op_device_codes(hash, user_code, client_id, scope, status, interval_seconds, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.Hash, d.UserCode, d.ClientID, d.Scope, string(gatehouse.DevicePending), int64(d.Interval/time.Second), micros(d.CreatedAt), micros(d.ExpiresAt))
	return s.fail("create device code", err)
}

// PendingDeviceCode returns the pending request whose normalized user code
// is userCode and that has not expired at now; ErrNotFound otherwise.
func (s *Store) PendingDeviceCode(ctx context.Context, userCode string, now time.Time) (gatehouse.DeviceCode, error) {
	d, err := scanOPDevice(s.read.QueryRowContext(ctx, `SELECT `+opDeviceCols+` FROM op_device_codes
		WHERE user_code = $1 AND status = 'pending' AND expires_at > $2`, userCode, micros(now)))
	return d, s.fail("pending device code", err)
}

// DecideDeviceCode allows (status DeviceApproved) or denies (DeviceDenied)
// the request whose device code hashes to hash, for the person of session
// sessionID, once across every process: only a request still pending and
// not expired at now changes, and it is returned as it now is. Anything
// else is ErrNotFound.
func (s *Store) DecideDeviceCode(ctx context.Context, hash string, status gatehouse.DeviceStatus, sessionID, userID string, now time.Time) (gatehouse.DeviceCode, error) {
	if status != gatehouse.DeviceApproved && status != gatehouse.DeviceDenied {
		return gatehouse.DeviceCode{}, fmt.Errorf("store: decide device code: status %q: %w", status, gatehouse.ErrInvalid)
	}
	d, err := scanOPDevice(s.read.QueryRowContext(ctx, `UPDATE op_device_codes SET status = $2, session_id = $3, user_id = $4, decided_at = $5
		WHERE hash = $1 AND status = 'pending' AND expires_at > $5
		RETURNING `+opDeviceCols, hash, string(status), sessionID, userID, micros(now)))
	return d, s.fail("decide device code", err)
}

// PollDeviceCode records a poll at now by client clientID of the device
// code hashing to hash, and answers it, in one atomic statement (so every
// process sees every poll): a redeemed code is DevicePollUsed; an expired
// one DevicePollExpired; a poll sooner than the interval after the
// previous one DevicePollSlowDown, and the interval grows by
// DeviceSlowDownStep; then an approved code is DevicePollIssue and becomes
// redeemed, a denied one DevicePollDenied, a pending one
// DevicePollPending. Of parallel polls of an approved code exactly one is
// answered DevicePollIssue. The code is returned as it now is. A code that
// is unknown or was issued to another client is ErrNotFound, and that poll
// changes nothing.
func (s *Store) PollDeviceCode(ctx context.Context, hash, clientID string, now time.Time) (gatehouse.DeviceCode, DevicePoll, error) {
	// Every SET expression reads the row as it was before this statement,
	// on both databases. In PostgreSQL a poll racing another waits for it
	// and is then evaluated against the row it left.
	const tooSoon = `(last_polled_at > 0 AND $2 < last_polled_at + interval_seconds * 1000000)`
	const live = `(status <> 'redeemed' AND expires_at > $2)`
	var answer string
	d, err := scanOPDevice(s.read.QueryRowContext(ctx, `UPDATE op_device_codes SET
		  last_answer = CASE
		    WHEN status = 'redeemed' THEN 'used'
		    WHEN expires_at <= $2 THEN 'expired'
		    WHEN `+tooSoon+` THEN 'slow_down'
		    WHEN status = 'approved' THEN 'issue'
		    WHEN status = 'denied' THEN 'denied'
		    ELSE 'pending' END,
		  interval_seconds = CASE WHEN `+live+` AND `+tooSoon+` THEN interval_seconds + $4 ELSE interval_seconds END,
		  status = CASE WHEN status = 'approved' AND expires_at > $2 AND NOT `+tooSoon+` THEN 'redeemed' ELSE status END,
		  last_polled_at = $2
		WHERE hash = $1 AND client_id = $3
		RETURNING `+opDeviceCols+`, last_answer`, hash, micros(now), clientID, int64(DeviceSlowDownStep/time.Second)), &answer)
	if err != nil {
		return gatehouse.DeviceCode{}, "", s.fail("poll device code", err)
	}
	return d, DevicePoll(answer), nil
}

// DeleteExpiredDeviceCodes removes device codes expired for longer than
// UsedCodeRetention: until then a late poll is answered expired_token.
func (s *Store) DeleteExpiredDeviceCodes(ctx context.Context, now time.Time) error {
	_, err := s.exec(ctx, `DELETE FROM op_device_codes WHERE expires_at < $1`, micros(now.Add(-UsedCodeRetention)))
	return s.fail("delete expired device codes", err)
}

// ForgiveLoginFailure takes back one failure counted for key by
// RecordLoginFailure: an attempt counted before it was checked, that
// turned out right. Unlike ClearLoginFailures it leaves the attempts that
// failed counted, so a right answer now and then does not reset the
// bound on wrong ones (the device flow's user codes: anyone can get a
// right one by asking for a device code).
func (s *Store) ForgiveLoginFailure(ctx context.Context, key string) error {
	_, err := s.exec(ctx, `UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0`, key)
	return s.fail("forgive login failure", err)
}
