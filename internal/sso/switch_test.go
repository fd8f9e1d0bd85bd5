package sso

import (
	"testing"

	"gatehouse"
	"gatehouse/internal/login"
)

// TestSwitchesPerson: which browsers a sign-in result may not take over
// without the person's confirmation (SECURITY.md A-switch).
func TestSwitchesPerson(t *testing.T) {
	signedIn := func(userID string, state gatehouse.SessionState) login.Current {
		return login.Current{Session: gatehouse.Session{ID: "s", UserID: userID, State: state}, User: gatehouse.User{ID: userID}}
	}
	for _, c := range []struct {
		name string
		cur  login.Current
		want bool
	}{
		{"no session", login.Current{}, false},
		{"the same person", signedIn("usr_y", gatehouse.SessionAuthenticated), false},
		{"someone else", signedIn("usr_x", gatehouse.SessionAuthenticated), true},
		{"someone else waiting for a TOTP code", signedIn("usr_x", gatehouse.SessionPendingTOTP), false},
	} {
		if got := switchesPerson(c.cur, "usr_y"); got != c.want {
			t.Errorf("%s: switchesPerson = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestAuditName: an audit event names the browser's other person only
// inside their own account.
func TestAuditName(t *testing.T) {
	x := gatehouse.User{ID: "usr_x", AccountID: "acc_a", Email: "x@a.example"}
	for _, c := range []struct {
		account, want string
	}{
		{"acc_a", "x@a.example"},
		{"acc_b", otherAccount},
		{"", otherAccount},
	} {
		if got := auditName(x, c.account); got != c.want {
			t.Errorf("auditName(x, %q) = %q, want %q", c.account, got, c.want)
		}
	}
}
