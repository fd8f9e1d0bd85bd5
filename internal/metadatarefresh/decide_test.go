package metadatarefresh_test

import (
	"testing"
	"time"

	"gatehouse/internal/metadatarefresh"
	"gatehouse/internal/ssoconfig"
)

// TestBackoffDoublesUpToTheInterval: a failing metadata URL is tried again
// after an hour, then two, four..., never later than a healthy one would
// be, spread by a tenth either way.
func TestBackoffDoublesUpToTheInterval(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		failures int
		interval time.Duration
		jitter   float64
		want     time.Duration
	}{
		{1, day, 0.5, time.Hour},
		{2, day, 0.5, 2 * time.Hour},
		{3, day, 0.5, 4 * time.Hour},
		{5, day, 0.5, 16 * time.Hour},
		{6, day, 0.5, day},
		{60, day, 0.5, day},
		{1, day, 0, 54 * time.Minute},
		{1, day, 0.999999, 66 * time.Minute},
		{6, day, 0, day},
		{5, day, 0.999999, 17*time.Hour + 36*time.Minute},
		{1, 30 * time.Minute, 0.5, 30 * time.Minute},
	} {
		got := metadatarefresh.Backoff(tc.failures, tc.interval, tc.jitter)
		if got.Round(time.Second) != tc.want.Round(time.Second) {
			t.Errorf("Backoff(%d, %s, %v) = %s, want %s", tc.failures, tc.interval, tc.jitter, got, tc.want)
		}
	}
}

// TestNextRefresh: after a success the next refresh is an interval later;
// after a failure, its backoff later.
func TestNextRefresh(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		failures int
		want     time.Time
	}{
		{0, now.Add(24 * time.Hour)},
		{1, now.Add(time.Hour)},
		{3, now.Add(4 * time.Hour)},
	} {
		if got := metadatarefresh.NextRefresh(now, 24*time.Hour, tc.failures, 0.5); !got.Equal(tc.want) {
			t.Errorf("NextRefresh after %d failures = %s, want %s", tc.failures, got, tc.want)
		}
	}
}

// TestExpiryNoticeDecisions: the notice is about the soonest-expiring
// certificate, due within 30 days of its end and after it, and written
// once per UTC day.
func TestExpiryNoticeDecisions(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cert := func(name string, left time.Duration) ssoconfig.Certificate {
		c, err := ssoconfig.DescribeCertificates(certPEM(t, now.Add(-time.Hour), now.Add(left)), now)
		if err != nil {
			t.Fatal(err)
		}
		c[0].Subject = name
		return c[0]
	}
	in10, in40, expired := cert("in10", 10*24*time.Hour+time.Hour), cert("in40", 40*24*time.Hour), cert("expired", -2*time.Hour)
	for _, tc := range []struct {
		name    string
		certs   []ssoconfig.Certificate
		soonest string
		due     bool
		days    int
	}{
		{"none", nil, "", false, 0},
		{"healthy", []ssoconfig.Certificate{in40}, "in40", false, 40},
		{"expiring", []ssoconfig.Certificate{in10}, "in10", true, 10},
		{"rollover begun", []ssoconfig.Certificate{in40, in10}, "in10", true, 10},
		{"expired", []ssoconfig.Certificate{in40, expired}, "expired", true, -1},
	} {
		got, ok := metadatarefresh.Soonest(tc.certs)
		if ok != (tc.soonest != "") || got.Subject != tc.soonest {
			t.Errorf("%s: soonest = %q (%v), want %q", tc.name, got.Subject, ok, tc.soonest)
			continue
		}
		if !ok {
			continue
		}
		if metadatarefresh.NoticeDue(got) != tc.due || got.DaysLeft != tc.days {
			t.Errorf("%s: notice due %v, %d days left; want %v, %d", tc.name, metadatarefresh.NoticeDue(got), got.DaysLeft, tc.due, tc.days)
		}
	}
	for _, tc := range []struct {
		a, b time.Time
		same bool
	}{
		{now, now.Add(14 * time.Hour), true},
		{now, now.Add(15 * time.Hour), false},
		{time.Date(2026, 3, 3, 0, 30, 0, 0, time.FixedZone("CET", 3600)), time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC), true},
	} {
		if got := metadatarefresh.Day(tc.a) == metadatarefresh.Day(tc.b); got != tc.same {
			t.Errorf("Day(%s) == Day(%s): %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}
