package oidcop_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"gatehouse/internal/oidcop"
)

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		err    *oidcop.Error
		code   string
		status int
	}{
		{oidcop.ErrInvalidRequest("x"), "invalid_request", http.StatusBadRequest},
		{oidcop.ErrInvalidClient("x"), "invalid_client", http.StatusUnauthorized},
		{oidcop.ErrInvalidGrant("x"), "invalid_grant", http.StatusBadRequest},
		{oidcop.ErrUnauthorizedClient("x"), "unauthorized_client", http.StatusBadRequest},
		{oidcop.ErrUnsupportedGrantType("x"), "unsupported_grant_type", http.StatusBadRequest},
		{oidcop.ErrUnsupportedResponseType("x"), "unsupported_response_type", http.StatusBadRequest},
		{oidcop.ErrInvalidScope("x"), "invalid_scope", http.StatusBadRequest},
		{oidcop.ErrLoginRequired("x"), "login_required", http.StatusBadRequest},
		{oidcop.ErrAccessDenied("x"), "access_denied", http.StatusForbidden},
		{oidcop.ErrServerError("x"), "server_error", http.StatusInternalServerError},
		{oidcop.ErrSlowDown("x"), "slow_down", http.StatusBadRequest},
		{oidcop.ErrAuthorizationPending("x"), "authorization_pending", http.StatusBadRequest},
		{oidcop.ErrExpiredToken("x"), "expired_token", http.StatusBadRequest},
		{oidcop.ErrInvalidToken("x"), "invalid_token", http.StatusUnauthorized},
		{oidcop.NewError(oidcop.CodeTemporarilyUnavailable, "x"), "temporarily_unavailable", http.StatusServiceUnavailable},
	} {
		if tc.err.Code != tc.code || tc.err.Status != tc.status || tc.err.Error() != tc.code+": x" {
			t.Errorf("%+v: want code %s, status %d", tc.err, tc.code, tc.status)
		}
	}
}

// TestErrorJSON: the JSON form of an Error is the body RFC 6749 5.2
// prescribes, and its description keeps to the characters allowed there.
func TestErrorJSON(t *testing.T) {
	b, err := json.Marshal(oidcop.ErrInvalidGrant("code \"reused\" \\ é\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"error":"invalid_grant","error_description":"code ?reused? ? ??"}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	if b, _ := json.Marshal(oidcop.NewError(oidcop.CodeSlowDown, "")); string(b) != `{"error":"slow_down"}` {
		t.Errorf("JSON without description = %s", b)
	}
}
