package oidcop_test

import (
	"encoding/json"
	"slices"
	"testing"

	"gatehouse/internal/oidcop"
)

func TestDiscovery(t *testing.T) {
	b, err := json.Marshal(oidcop.Discovery(issuer))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]any{
		"issuer":                        issuer,
		"authorization_endpoint":        issuer + "/oauth2/authorize",
		"token_endpoint":                issuer + "/oauth2/token",
		"userinfo_endpoint":             issuer + "/oauth2/userinfo",
		"jwks_uri":                      issuer + "/oauth2/jwks",
		"revocation_endpoint":           issuer + "/oauth2/revoke",
		"introspection_endpoint":        issuer + "/oauth2/introspect",
		"end_session_endpoint":          issuer + "/oauth2/logout",
		"device_authorization_endpoint": issuer + "/oauth2/device",
		"authorization_response_iss_parameter_supported": true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false, // absent would mean true
		"claims_parameter_supported":                     false,
	} {
		if m[field] != want {
			t.Errorf("%s = %v, want %v", field, m[field], want)
		}
	}
	for field, want := range map[string][]string{
		"response_types_supported":                      {"code"},
		"response_modes_supported":                      {"query"},
		"grant_types_supported":                         {"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
		"subject_types_supported":                       {"public"},
		"id_token_signing_alg_values_supported":         {"ES256", "RS256"},
		"code_challenge_methods_supported":              {"S256"},
		"token_endpoint_auth_methods_supported":         {"client_secret_basic", "private_key_jwt", "none"},
		"introspection_endpoint_auth_methods_supported": {"client_secret_basic", "private_key_jwt"},
		"scopes_supported":                              {"openid", "profile", "email", "offline_access"},
	} {
		var got []string
		for _, v := range m[field].([]any) {
			got = append(got, v.(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
	for _, c := range []string{"sub", "email", "email_verified", "name", "account_id", "role", "auth_time", "sid", "amr", "acr"} {
		if !slices.Contains(oidcop.ClaimsSupported, c) {
			t.Errorf("claims_supported lacks %s", c)
		}
	}
}
