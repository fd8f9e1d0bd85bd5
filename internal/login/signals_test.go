package login

import "testing"

func TestReasonCode(t *testing.T) {
	for _, tc := range []struct{ reason, want string }{
		{"", ""},
		{"unknown email", "unknown_email"},
		{"wrong password", "wrong_password"},
		{"wrong password; 5 failures, locked until 2026-03-02T09:15:00Z", "wrong_password"},
		{"wrong current password", "wrong_password"},
		{"locked: 5 failures since 2026-03-02T09:00:00Z, until 2026-03-02T09:15:00Z", "locked"},
		{"locked: attempt 6 within 15m0s", "locked"},
		{"rate limited: too many failures from this address", "rate_limited"},
		{"password sign-in refused: SSO configuration Okta is required for this user", "sso_required"},
		{"stored password hash unreadable: password: bad argon2 parameters", "hash_unreadable"},
		{"totp code reused", "totp_reused"},
		{"recovery code wrong or already used", "recovery_code_wrong"},
		{"something new someone wrote", "other"},
	} {
		if got := ReasonCode(tc.reason); got != tc.want {
			t.Errorf("ReasonCode(%q) = %q, want %q", tc.reason, got, tc.want)
		}
	}
}
