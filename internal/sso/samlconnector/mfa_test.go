package samlconnector

import "testing"

func TestMFAAsserted(t *testing.T) {
	const authn = AuthnMethodsAttribute
	tests := []struct {
		name     string
		classRef string
		attrs    map[string][]string
		want     bool
	}{
		{"REFEDS MFA", "https://refeds.org/profile/mfa", nil, true},
		{"AD FS multipleauthn", "http://schemas.microsoft.com/claims/multipleauthn", nil, true},
		{"two-factor class", "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract", nil, true},
		{"password", "urn:oasis:names:tc:SAML:2.0:ac:classes:Password", nil, false},
		{"password over TLS", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", nil, false},
		{"none", "", nil, false},
		{"compared exactly", "https://refeds.org/profile/MFA", nil, false},
		{"Entra ID attribute", "urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
			map[string][]string{authn: {"http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password", "http://schemas.microsoft.com/claims/multipleauthn"}}, true},
		{"Entra ID attribute without MFA", "", map[string][]string{authn: {"http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"}}, false},
		{"value under another attribute", "", map[string][]string{"amr": {"http://schemas.microsoft.com/claims/multipleauthn"}}, false},
	}
	for _, tt := range tests {
		if got := mfaAsserted(tt.classRef, tt.attrs); got != tt.want {
			t.Errorf("%s: mfaAsserted = %v, want %v", tt.name, got, tt.want)
		}
	}
}
