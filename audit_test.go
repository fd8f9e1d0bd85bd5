package gatehouse_test

import (
	"testing"

	"gatehouse"
)

// TestAuditVocabularyOnTheWire: the audit log and its API show these
// strings, and sessions and SSO flows are stored with them; renaming a
// constant must not change any of them.
func TestAuditVocabularyOnTheWire(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{string(gatehouse.SignInAction("password")), "signin.password"},
		{string(gatehouse.SignInAction(string(gatehouse.ProtocolSAML))), "signin.saml"},
		{string(gatehouse.ActionSignInPassword), "signin.password"},
		{string(gatehouse.ActionSignInRecoveryCode), "signin.recovery_code"},
		{string(gatehouse.ActionSignInSAML), "signin.saml"},
		{string(gatehouse.ActionSignInOIDC), "signin.oidc"},
		{string(gatehouse.ActionSignOut), "signout"},
		{string(gatehouse.ActionSSOConfigTest), "sso_config.test"},
		{string(gatehouse.ActionBreakGlass), "sso.break_glass"},
		{string(gatehouse.ActionUserPasswordSet), "user.password_set"},
		{string(gatehouse.ActionUserImport), "user.import"},
		{string(gatehouse.ActionGroupMemberRemove), "group.member_remove"},
		{string(gatehouse.ActionAPITokenCreate), "api_token.create"},
		{string(gatehouse.ActionClientCreate), "client.create"},
		{string(gatehouse.ActionClientUpdate), "client.update"},
		{string(gatehouse.ActionClientSecretRotate), "client.secret_rotate"},
		{string(gatehouse.ActionClientDelete), "client.delete"},
		{string(gatehouse.ActionDeviceApprove), "op.device_approve"},
		{string(gatehouse.ActionDeviceDeny), "op.device_deny"},
		{string(gatehouse.ActionDeviceCodeWrong), "op.device_code_wrong"},
		{string(gatehouse.ActorAnonymous), "anonymous"},
		{string(gatehouse.ActorSystem), "system"},
		{string(gatehouse.ActorSetupLink), "setup_link"},
		{string(gatehouse.ActionSetupLinkCreate), "setup_link.create"},
		{string(gatehouse.ActionSetupLinkRevoke), "setup_link.revoke"},
		{string(gatehouse.ActionSetupLinkOpen), "setup_link.open"},
		{string(gatehouse.SessionPasswordTOTP), "password+totp"},
		{string(gatehouse.SessionPasswordRecoveryCode), "password+recovery_code"},
		{string(gatehouse.SSOFlowSignIn), "signin"},
		{string(gatehouse.SSOFlowTest), "test"},
	} {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}
