package mailtest

import (
	"strings"
	"testing"

	"gatehouse/internal/porttest"
)

// TestStartReportsAMailpitThatExits: a Mailpit that cannot bind its
// ports (here told to serve SMTP and HTTP on one) is reported with its
// own words at once, rather than waited on for 20 seconds, and Start
// serves SMTP and HTTP on two addresses.
func TestStartReportsAMailpitThatExits(t *testing.T) {
	bin := binary()
	if bin == "" {
		t.Skipf("*** SKIPPED: Mailpit is not installed; run %s", Install)
	}
	addr := porttest.Free(t, 1)[0]
	_, err := start(t, bin, addr, addr)
	t.Logf("reported: %v", err)
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("Mailpit on one port for both: %v, want that it exited", err)
	}
	m := Start(t)
	if m.SMTP == strings.TrimPrefix(m.API, "http://") {
		t.Errorf("SMTP and HTTP on one address: %s", m.SMTP)
	}
}
