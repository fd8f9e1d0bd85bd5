package sso

import (
	"strings"
	"testing"

	"gatehouse"
)

// TestSeatOfALink: the user a link names signs in only while they are an
// active user of the account the sign-in is for; a link whose user is gone,
// is in another account (a partition's configuration used by two of its
// accounts) or is disabled matches no one, and says which.
func TestSeatOfALink(t *testing.T) {
	o := owner{accountID: "acct_a", name: "Acme"}
	active := gatehouse.User{ID: "user_1", AccountID: "acct_a", Email: "ann@acme.example", Status: gatehouse.UserActive}
	disabled, elsewhere := active, active
	disabled.Status, elsewhere.AccountID = gatehouse.UserDisabled, "acct_b"
	for _, c := range []struct {
		name string
		user gatehouse.User
		want string // in the reason; empty when the user matches
	}{
		{"active in the account", active, ""},
		{"gone", gatehouse.User{}, "no longer exists"},
		{"in another account", elsewhere, "not in account Acme"},
		{"disabled", disabled, "ann@acme.example this person is linked to in account Acme is disabled"},
	} {
		m := seatOf(c.user, "acct_a", o, MatchLink)
		switch {
		case c.want == "" && (m.user == nil || m.user.ID != active.ID || m.by != MatchLink || m.none != ""):
			t.Errorf("%s: %+v, want %s matched by link", c.name, m, active.ID)
		case c.want != "" && (m.user != nil || !strings.Contains(m.none, c.want)):
			t.Errorf("%s: %+v, want no one, because %q", c.name, m, c.want)
		}
	}
}
