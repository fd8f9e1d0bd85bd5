package ssoconfig

import "gatehouse"

// The paths of a configuration's endpoints, relative to the base URL. IdP
// admins paste the SP values built from them into their IdPs, so they never
// move. Given a ServeMux wildcard such as "{config_id}" for the ID (and
// "{protocol}" for the protocol), each returns its route's pattern.

// MetadataPath is where SAML configuration configID publishes its SP
// metadata; the same URL is its SP entity ID.
func MetadataPath(configID string) string { return "/sso/saml/" + configID + "/metadata" }

// ACSPath is SAML configuration configID's Assertion Consumer Service.
func ACSPath(configID string) string { return "/sso/saml/" + configID + "/acs" }

// CallbackPath is OIDC configuration configID's redirect URI.
func CallbackPath(configID string) string { return "/sso/oidc/" + configID + "/callback" }

// TestPath starts a Test of configuration configID of the given protocol.
func TestPath(protocol gatehouse.Protocol, configID string) string {
	return "/sso/" + string(protocol) + "/" + configID + "/test"
}
