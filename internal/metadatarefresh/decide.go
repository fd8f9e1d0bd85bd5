package metadatarefresh

import (
	"time"

	"gatehouse/internal/ssoconfig"
)

// The scheduler's decisions, as functions over values: when the next
// refresh is due, how long a failure waits, and whether an enabled
// configuration's certificates call for the expiry notice.

// FirstBackoff is how long the first failure in a row waits before the
// next attempt; each further failure doubles it, up to the interval.
const FirstBackoff = time.Hour

// jitterShare is how far a backoff is spread either way (a tenth), so
// that configurations that failed together (an IdP's outage) are not
// retried together.
const jitterShare = 0.1

// Backoff is how long the next attempt waits after failures failed
// refreshes in a row (at least 1): FirstBackoff, doubled for each further
// failure, spread by jitter (in [0, 1): from 10% shorter to 10% longer),
// and never longer than interval, so a failing configuration is tried at
// least as often as a healthy one.
func Backoff(failures int, interval time.Duration, jitter float64) time.Duration {
	d := FirstBackoff
	for i := 1; i < failures && d < interval; i++ {
		d *= 2
	}
	d = time.Duration(float64(d) * (1 - jitterShare + 2*jitterShare*jitter))
	return min(d, interval)
}

// NextRefresh is when the refresh after one at now is due: interval later
// after a success (failures 0), Backoff later after a failure.
func NextRefresh(now time.Time, interval time.Duration, failures int, jitter float64) time.Time {
	if failures <= 0 {
		return now.Add(interval)
	}
	return now.Add(Backoff(failures, interval, jitter))
}

// Soonest is the certificate of certs that expires first; false when
// there is none.
func Soonest(certs []ssoconfig.Certificate) (ssoconfig.Certificate, bool) {
	var soonest ssoconfig.Certificate
	for i, c := range certs {
		if i == 0 || c.NotAfter.Before(soonest.NotAfter) {
			soonest = c
		}
	}
	return soonest, len(certs) > 0
}

// NoticeDue reports whether an enabled configuration whose soonest
// certificate is cert calls for the expiry notice: the certificate expires
// within ssoconfig.ExpiryWarning (30 days), the warning the admin pages
// show, or has expired (Gatehouse still accepts its signatures, so the
// notice goes on until it is replaced).
func NoticeDue(cert ssoconfig.Certificate) bool { return cert.Expired || cert.Expiring }

// Day numbers now's day (UTC) from 1970-01-01: the notice is written at
// most once per configuration and day.
func Day(now time.Time) int64 {
	return now.UTC().Unix() / 86400
}
