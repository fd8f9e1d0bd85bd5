package op

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcop"
)

// TestMustSignIn: when authorize sends a person through sign-in first.
func TestMustSignIn(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	session := func(created time.Time) login.Current {
		return login.Current{Session: gatehouse.Session{CreatedAt: created, State: gatehouse.SessionAuthenticated}}
	}
	marker := func(t time.Time) url.Values {
		return url.Values{signedInAfter: {strconv.FormatInt(t.UnixMilli(), 10)}}
	}
	tests := []struct {
		name     string
		req      oidcop.AuthorizeRequest
		q        url.Values
		cur      login.Current
		signedIn bool
		again    bool
	}{
		{"signed in", oidcop.AuthorizeRequest{}, nil, session(now.Add(-time.Hour)), true, false},
		{"not signed in", oidcop.AuthorizeRequest{}, nil, login.Current{}, false, true},
		{"prompt=login", oidcop.AuthorizeRequest{Prompt: "login"}, nil, session(now.Add(-time.Second)), true, true},
		{"back from a fresh sign-in", oidcop.AuthorizeRequest{Prompt: "login"}, marker(now.Add(-time.Minute)), session(now.Add(-time.Second)), true, false},
		{"the old session came back", oidcop.AuthorizeRequest{}, marker(now.Add(-time.Minute)), session(now.Add(-time.Hour)), true, true},
		{"a session of the same millisecond is not fresh", oidcop.AuthorizeRequest{}, marker(now.Add(-time.Minute)), session(now.Add(-time.Minute)), true, true},
		{"a marker in the future is ignored", oidcop.AuthorizeRequest{}, marker(now.Add(time.Hour)), session(now.Add(-time.Second)), true, false},
		{"max_age passed", oidcop.AuthorizeRequest{HasMaxAge: true, MaxAge: 60}, nil, session(now.Add(-2 * time.Minute)), true, true},
		{"max_age not passed", oidcop.AuthorizeRequest{HasMaxAge: true, MaxAge: 600}, nil, session(now.Add(-2 * time.Minute)), true, false},
	}
	for _, tt := range tests {
		if _, again := mustSignIn(tt.req, tt.q, tt.cur, tt.signedIn, now); again != tt.again {
			t.Errorf("%s: again = %v, want %v", tt.name, again, tt.again)
		}
	}
}
