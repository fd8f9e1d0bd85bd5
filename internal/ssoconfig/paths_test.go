package ssoconfig_test

import (
	"testing"

	"gatehouse"
	"gatehouse/internal/ssoconfig"
)

// TestPaths: the endpoints' paths are pasted into customers' IdPs and must
// never move; with wildcards for the ID they are the routes' patterns.
func TestPaths(t *testing.T) {
	cases := []struct{ got, want string }{
		{ssoconfig.MetadataPath("sso_1"), "/sso/saml/sso_1/metadata"},
		{ssoconfig.ACSPath("sso_1"), "/sso/saml/sso_1/acs"},
		{ssoconfig.CallbackPath("sso_2"), "/sso/oidc/sso_2/callback"},
		{ssoconfig.TestPath(gatehouse.ProtocolSAML, "sso_1"), "/sso/saml/sso_1/test"},
		{ssoconfig.TestPath(gatehouse.ProtocolOIDC, "sso_2"), "/sso/oidc/sso_2/test"},
		{ssoconfig.MetadataPath("{config_id}"), "/sso/saml/{config_id}/metadata"},
		{ssoconfig.ACSPath("{config_id}"), "/sso/saml/{config_id}/acs"},
		{ssoconfig.CallbackPath("{config_id}"), "/sso/oidc/{config_id}/callback"},
		{ssoconfig.TestPath("{protocol}", "{config_id}"), "/sso/{protocol}/{config_id}/test"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
