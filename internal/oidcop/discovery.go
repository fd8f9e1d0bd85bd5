package oidcop

// Endpoint paths, below the issuer URL.
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathAuthorize  = "/oauth2/authorize"
	PathToken      = "/oauth2/token"
	PathUserinfo   = "/oauth2/userinfo"
	PathJWKS       = "/oauth2/jwks"
	PathRevoke     = "/oauth2/revoke"
	PathIntrospect = "/oauth2/introspect"
	PathLogout     = "/oauth2/logout"
	PathDevice     = "/oauth2/device"
)

// Grant types the token endpoint accepts.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// Client authentication methods (AuthenticateClient).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthNone              = "none"
)

// ClaimsSupported are the claims the provider may return.
var ClaimsSupported = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "idp", "sid", "at_hash",
	"email", "email_verified", "name", "account_id", "account_name", "role",
}

// ProviderMetadata is the OpenID Provider Metadata (OpenID Connect
// Discovery 1.0 3, RFC 8414, RFC 9207, Back-Channel Logout 2.1,
// RP-Initiated Logout 2.1), served at PathDiscovery.
type ProviderMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	ACRValuesSupported                         []string `json:"acr_values_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	AuthorizationResponseISSParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	BackchannelLogoutSupported                 bool     `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported          bool     `json:"backchannel_logout_session_supported"`
	FrontchannelLogoutSupported                bool     `json:"frontchannel_logout_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	// RequestURIParameterSupported is false, said out loud: absent, it
	// defaults to true.
	RequestURIParameterSupported bool `json:"request_uri_parameter_supported"`
}

// Discovery is the provider metadata for issuer (the provider's base URL,
// without a trailing slash). Introspection is for confidential clients
// only (the portal's APIs); public clients may revoke their own tokens.
func Discovery(issuer string) ProviderMetadata {
	authMethods := []string{AuthClientSecretBasic, AuthPrivateKeyJWT, AuthNone}
	return ProviderMetadata{
		Issuer:                                     issuer,
		AuthorizationEndpoint:                      issuer + PathAuthorize,
		TokenEndpoint:                              issuer + PathToken,
		UserinfoEndpoint:                           issuer + PathUserinfo,
		JWKSURI:                                    issuer + PathJWKS,
		RevocationEndpoint:                         issuer + PathRevoke,
		IntrospectionEndpoint:                      issuer + PathIntrospect,
		EndSessionEndpoint:                         issuer + PathLogout,
		DeviceAuthorizationEndpoint:                issuer + PathDevice,
		ScopesSupported:                            SupportedScopes,
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{GrantAuthorizationCode, GrantRefreshToken, GrantDeviceCode},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           []string{AlgES256, AlgRS256},
		ACRValuesSupported:                         ACRValues,
		CodeChallengeMethodsSupported:              []string{ChallengeMethodS256},
		TokenEndpointAuthMethodsSupported:          authMethods,
		TokenEndpointAuthSigningAlgValuesSupported: AssertionAlgorithms,
		RevocationEndpointAuthMethodsSupported:     authMethods,
		IntrospectionEndpointAuthMethodsSupported:  []string{AuthClientSecretBasic, AuthPrivateKeyJWT},
		ClaimsSupported:                            ClaimsSupported,
		PromptValuesSupported:                      []string{"none", "login", "consent", "select_account"},
		AuthorizationResponseISSParameterSupported: true,
		BackchannelLogoutSupported:                 true,
		BackchannelLogoutSessionSupported:          true,
	}
}
