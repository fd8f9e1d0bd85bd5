package oidcconnector

import "testing"

func TestMFAAsserted(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]any
		want   bool
	}{
		{"amr pwd and mfa", map[string]any{"amr": []any{"pwd", "mfa"}}, true},
		{"amr pwd", map[string]any{"amr": []any{"pwd"}}, false},
		{"amr pwd and otp without mfa", map[string]any{"amr": []any{"pwd", "otp"}}, false},
		{"amr as a string", map[string]any{"amr": "mfa"}, false},
		{"no amr, no acr", map[string]any{"sub": "s"}, false},
		{"PAPE multi-factor acr", map[string]any{"acr": "http://schemas.openid.net/pape/policies/2007/06/multi-factor"}, true},
		{"REFEDS acr", map[string]any{"acr": "https://refeds.org/profile/mfa"}, true},
		{"other acr", map[string]any{"acr": "1"}, false},
	}
	for _, tt := range tests {
		if got := mfaAsserted(tt.claims); got != tt.want {
			t.Errorf("%s: mfaAsserted = %v, want %v", tt.name, got, tt.want)
		}
	}
}
