package gatehouse

// AuditAction names what an audit event records. The values are stored and
// shown by the API and the console as they are, so a constant's value never
// changes once released; a new action is a new constant.
type AuditAction string

// SignInActionPrefix starts the action of every sign-in attempt; the rest is
// the way in ("password", "totp", "recovery_code", or an SSO protocol). It is
// untyped so that audit filters, which match prefixes, can use it too.
const SignInActionPrefix = "signin."

// SignInAction is the action of a sign-in attempt by method: the SSO flow
// audits a sign-in as SignInAction of its connector's protocol.
func SignInAction(method string) AuditAction { return AuditAction(SignInActionPrefix + method) }

// Actions of signing in and out, and of a person's own authenticator app.
const (
	ActionSignInPassword     AuditAction = SignInActionPrefix + "password"
	ActionSignInTOTP         AuditAction = SignInActionPrefix + "totp"
	ActionSignInRecoveryCode AuditAction = SignInActionPrefix + "recovery_code"
	ActionSignInSAML         AuditAction = SignInActionPrefix + AuditAction(ProtocolSAML)
	ActionSignInOIDC         AuditAction = SignInActionPrefix + AuditAction(ProtocolOIDC)
	ActionSignOut            AuditAction = "signout"
	ActionTOTPEnroll         AuditAction = "totp.enroll"
	ActionTOTPRemove         AuditAction = "totp.remove"
)

// Actions on SSO configurations. ActionSSOConfigTest is a configuration's
// Test, which signs nobody in; ActionBreakGlass turns SSO off for an account
// in an emergency (DESIGN rule 12).
const (
	ActionSSOConfigCreate         AuditAction = "sso_config.create"
	ActionSSOConfigUpdate         AuditAction = "sso_config.update"
	ActionSSOConfigMetadataImport AuditAction = "sso_config.metadata_import"
	ActionSSOConfigSPKeyRotate    AuditAction = "sso_config.sp_key_rotate"
	ActionSSOConfigTest           AuditAction = "sso_config.test"
	ActionSSOConfigEnable         AuditAction = "sso_config.enable"
	ActionSSOConfigDisable        AuditAction = "sso_config.disable"
	ActionSSOConfigDelete         AuditAction = "sso_config.delete"
	// An edit of an enabled configuration's IdP settings is staged as a
	// pending version (audited as an update with version=pending); these
	// make a tested pending version live, or drop it.
	ActionSSOConfigPendingApply   AuditAction = "sso_config.pending_apply"
	ActionSSOConfigPendingDiscard AuditAction = "sso_config.pending_discard"
	ActionBreakGlass              AuditAction = "sso.break_glass"
	// The scheduled refresh of a configuration's metadata URL (outcome
	// failure when it could not be fetched or read), and the daily notice
	// that an enabled configuration's IdP certificate expires soon.
	ActionSSOConfigMetadataRefresh     AuditAction = "sso_config.metadata_refresh"
	ActionSSOConfigCertificateExpiring AuditAction = "sso_config.certificate_expiring"
)

// Actions on webhooks (issue 16): an account's or the provider's endpoints
// that receive events.
const (
	ActionWebhookCreate AuditAction = "webhook.create"
	ActionWebhookUpdate AuditAction = "webhook.update"
	ActionWebhookDelete AuditAction = "webhook.delete"
)

// Actions on exemption lists.
const (
	ActionExemptionListCreate AuditAction = "exemption_list.create"
	ActionExemptionListUpdate AuditAction = "exemption_list.update"
	ActionExemptionListDelete AuditAction = "exemption_list.delete"
)

// Actions on users and groups. ActionUserImport is one bulk import of users
// and groups, its counts in the details: one event however many rows, so
// the log stays readable (the users it creates are not audited one by one).
const (
	ActionUserCreate        AuditAction = "user.create"
	ActionUserUpdate        AuditAction = "user.update"
	ActionUserDelete        AuditAction = "user.delete"
	ActionUserPasswordSet   AuditAction = "user.password_set"
	ActionUserImport        AuditAction = "user.import"
	ActionGroupCreate       AuditAction = "group.create"
	ActionGroupUpdate       AuditAction = "group.update"
	ActionGroupDelete       AuditAction = "group.delete"
	ActionGroupMemberAdd    AuditAction = "group.member_add"
	ActionGroupMemberRemove AuditAction = "group.member_remove"
)

// Actions on tenants and API tokens.
const (
	ActionAccountCreate   AuditAction = "account.create"
	ActionAccountUpdate   AuditAction = "account.update"
	ActionAccountDelete   AuditAction = "account.delete"
	ActionPartitionCreate AuditAction = "partition.create"
	ActionPartitionUpdate AuditAction = "partition.update"
	ActionPartitionDelete AuditAction = "partition.delete"
	ActionAPITokenCreate  AuditAction = "api_token.create"
	ActionAPITokenRevoke  AuditAction = "api_token.revoke"
	// An account's email domains: claimed, verified by DNS, dropped.
	ActionDomainClaim  AuditAction = "domain.claim"
	ActionDomainVerify AuditAction = "domain.verify"
	ActionDomainDelete AuditAction = "domain.delete"
)

// Actions on the OpenID Provider's clients (DESIGN rule 13), which only
// super admins register. Their events name the client, its kind and its
// redirect URIs, never its secret.
const (
	ActionClientCreate       AuditAction = "client.create"
	ActionClientUpdate       AuditAction = "client.update"
	ActionClientSecretRotate AuditAction = "client.secret_rotate"
	ActionClientDelete       AuditAction = "client.delete"
)

// Actions of the OpenID Provider's device authorization grant (RFC 8628):
// a signed-in person allowing or denying a device's request, and a user
// code that matched no pending request, or was refused after too many
// such (SECURITY.md Q-device). Their events name the client and the user
// code (normalized), never the device code.
const (
	ActionDeviceApprove   AuditAction = "op.device_approve"
	ActionDeviceDeny      AuditAction = "op.device_deny"
	ActionDeviceCodeWrong AuditAction = "op.device_code_wrong"
)

// ActionSigningKeyRotate is the operator rotating the OpenID Provider's
// token signing key (gatehouse admin keys rotate).
const ActionSigningKeyRotate AuditAction = "op.signing_key_rotate"

// ActionSecretKeyRotate records `gatehouse admin secret-key rotate`: every
// stored secret re-sealed under a new secret key.
const ActionSecretKeyRotate AuditAction = "secret_key.rotate"

// ActorType says who performed an audited action; AuditEvent.ActorID says
// which one.
type ActorType string

// Actor types.
const (
	// ActorUser is a signed-in person, or one whose sign-in just succeeded.
	ActorUser ActorType = "user"
	// ActorToken is an API token.
	ActorToken ActorType = "token"
	// ActorSystem is Gatehouse itself, such as the command line ("cli").
	ActorSystem ActorType = "system"
	// ActorAnonymous is a browser whose identity is not proven: a failed
	// sign-in names the user it was aimed at as the target instead.
	ActorAnonymous ActorType = "anonymous"
)
