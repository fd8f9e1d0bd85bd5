package gatehouse

// Actions of password recovery, change and unlock (issue 15, part 3). A
// reset request is audited whether or not the email is anyone's (the
// reason says which); its event never holds the link.
const (
	ActionPasswordResetRequest AuditAction = "password.reset_request"
	ActionPasswordReset        AuditAction = "password.reset"
	ActionPasswordChange       AuditAction = "password.change"
	ActionRecoveryCodesRenew   AuditAction = "totp.recovery_codes_renew"
	ActionUserUnlock           AuditAction = "user.unlock"
	ActionUserResetLinkSend    AuditAction = "user.password_reset_link"
)
