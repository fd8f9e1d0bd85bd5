package policy

import (
	"fmt"
	"testing"

	"gatehouse"
)

// ssoSetup is which SSO configurations are enabled around an account, and
// whether the account is set to use its partition's.
type ssoSetup struct {
	name         string
	own          bool // the account's own configuration is enabled
	partition    bool // the partition's configuration is enabled
	usePartition bool // the account is set to use the partition's
}

var setups = []ssoSetup{
	{"no SSO", false, false, false},
	{"no SSO, set to use partition's (none enabled)", false, false, true},
	{"own SSO", true, false, false},
	{"partition SSO, account not using it", false, true, false},
	{"partition SSO, account using it", false, true, true},
	{"own SSO, partition SSO unused", true, true, false},
	{"own SSO, partition SSO used", true, true, true},
}

type exemption struct {
	name         string
	byUser, byGr bool
}

var exemptions = []exemption{
	{"not exempt", false, false},
	{"exempt by user list", true, false},
	{"exempt by group list", false, true},
	{"exempt by both", true, true},
}

var roles = []gatehouse.Role{gatehouse.RoleUser, gatehouse.RoleAdmin, gatehouse.RolePartitionAdmin, gatehouse.RoleSuperAdmin, "owner"}

// expected is the rule as the product people wrote it (DESIGN rules 1, 9,
// 10 and the README's decisions), one question at a time, written apart
// from Decide on purpose.
func expected(s ssoSetup, role gatehouse.Role, e exemption, totp bool, plan gatehouse.Plan) Decision {
	admin := role == gatehouse.RoleAdmin || role == gatehouse.RolePartitionAdmin || role == gatehouse.RoleSuperAdmin
	exempt := e.byUser || e.byGr
	// Which configuration governs the account? Only enterprise accounts
	// have SSO; the account's own wins; the partition's only when chosen.
	governedBy := ""
	if plan == gatehouse.PlanEnterprise {
		if s.partition && s.usePartition {
			governedBy = "cfg_partition"
		}
		if s.own {
			governedBy = "cfg_account"
		}
	}
	// Where does SSO take this person?
	sendTo := governedBy
	if exempt {
		sendTo = "" // default sign-in...
		if governedBy == "cfg_account" && s.partition && s.usePartition {
			sendTo = "cfg_partition" // ...or the partition's SSO the account uses
		}
	}
	want := Decision{SSOConfigID: sendTo, Governed: governedBy != "", GoverningSSO: governedBy}
	want.Password = sendTo == "" || admin
	want.Start = MethodPassword
	if sendTo != "" {
		want.Start = MethodSSO
	}
	want.TOTP = want.Password && totp
	if governedBy != "" {
		switch {
		case e.byUser:
			want.Why = WhyExemptUserList
		case e.byGr:
			want.Why = WhyExemptGroupList
		case admin:
			want.Why = WhyAdmin
		}
	}
	return want
}

func TestDecideEveryCombination(t *testing.T) {
	n := 0
	for _, plan := range []gatehouse.Plan{gatehouse.PlanEnterprise, gatehouse.PlanStandard} {
		for _, s := range setups {
			for _, role := range roles {
				for _, e := range exemptions {
					for _, totp := range []bool{false, true} {
						f := Facts{Role: role, Plan: plan, UsePartitionSSO: s.usePartition,
							ExemptByUserList: e.byUser, ExemptByGroupList: e.byGr, TOTPEnrolled: totp}
						if s.own {
							f.AccountSSO = "cfg_account"
						}
						if s.partition {
							f.PartitionSSO = "cfg_partition"
						}
						name := fmt.Sprintf("%s/%s/%s/%s/totp=%v", plan, s.name, role, e.name, totp)
						got, want := Decide(f), expected(s, role, e, totp, plan)
						if got != want {
							t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
						}
						n++
					}
				}
			}
		}
	}
	if n != 2*len(setups)*len(roles)*len(exemptions)*2 {
		t.Fatalf("enumerated %d combinations", n)
	}
}

// TestDecideStories pins the cases a person would describe, by hand.
func TestDecideStories(t *testing.T) {
	ent := gatehouse.PlanEnterprise
	tests := []struct {
		name string
		f    Facts
		want Decision
	}{
		{"forced user", Facts{Role: gatehouse.RoleUser, Plan: ent, AccountSSO: "a"},
			Decision{SSOConfigID: "a", Start: MethodSSO, Governed: true, GoverningSSO: "a"}},
		{"admin chooses, starts with SSO, TOTP after password", Facts{Role: gatehouse.RoleAdmin, Plan: ent, AccountSSO: "a", TOTPEnrolled: true},
			Decision{SSOConfigID: "a", Password: true, Start: MethodSSO, TOTP: true, Why: WhyAdmin, Governed: true, GoverningSSO: "a"}},
		{"group-exempt user keeps password and TOTP", Facts{Role: gatehouse.RoleUser, Plan: ent, AccountSSO: "a", ExemptByGroupList: true, TOTPEnrolled: true},
			Decision{Password: true, Start: MethodPassword, TOTP: true, Why: WhyExemptGroupList, Governed: true, GoverningSSO: "a"}},
		{"exempt user goes to the partition's SSO the account uses", Facts{Role: gatehouse.RoleUser, Plan: ent, AccountSSO: "a", PartitionSSO: "p", UsePartitionSSO: true, ExemptByUserList: true},
			Decision{SSOConfigID: "p", Start: MethodSSO, Why: WhyExemptUserList, Governed: true, GoverningSSO: "a"}},
		{"account using partition SSO forces its users there", Facts{Role: gatehouse.RoleUser, Plan: ent, PartitionSSO: "p", UsePartitionSSO: true},
			Decision{SSOConfigID: "p", Start: MethodSSO, Governed: true, GoverningSSO: "p"}},
		{"standard plan is never forced", Facts{Role: gatehouse.RoleUser, Plan: gatehouse.PlanStandard, AccountSSO: "a"},
			Decision{Password: true, Start: MethodPassword}},
		{"no SSO: password and TOTP", Facts{Role: gatehouse.RoleUser, Plan: ent, TOTPEnrolled: true},
			Decision{Password: true, Start: MethodPassword, TOTP: true}},
	}
	for _, tt := range tests {
		if got := Decide(tt.f); got != tt.want {
			t.Errorf("%s: Decide = %+v, want %+v", tt.name, got, tt.want)
		}
		if got := Decide(tt.f); got.SSOOnly() != (tt.want.SSOConfigID != "" && !tt.want.Password) {
			t.Errorf("%s: SSOOnly = %v", tt.name, got.SSOOnly())
		}
	}
}

// TestSessionAllowed: a password session lives while a password is a way
// in; an SSO session while its configuration is where the person is sent
// or what governs the account (SECURITY.md A-policy-session).
func TestSessionAllowed(t *testing.T) {
	ent := gatehouse.PlanEnterprise
	tests := []struct {
		name   string
		f      Facts
		config string
		want   bool
	}{
		{"password, no SSO", Facts{Role: gatehouse.RoleUser, Plan: ent}, "", true},
		{"password, forced to SSO", Facts{Role: gatehouse.RoleUser, Plan: ent, AccountSSO: "a"}, "", false},
		{"password, admin under SSO", Facts{Role: gatehouse.RoleAdmin, Plan: ent, AccountSSO: "a"}, "", true},
		{"password, exempt under SSO", Facts{Role: gatehouse.RoleUser, Plan: ent, AccountSSO: "a", ExemptByUserList: true}, "", true},
		{"password, standard plan with a configuration on", Facts{Role: gatehouse.RoleUser, Plan: gatehouse.PlanStandard, AccountSSO: "a"}, "", true},
		{"SSO through the governing configuration", Facts{Role: gatehouse.RoleUser, Plan: ent, AccountSSO: "a"}, "a", true},
		{"SSO through a configuration switched off", Facts{Role: gatehouse.RoleUser, Plan: ent, AccountSSO: "b"}, "a", false},
		{"SSO after SSO was turned off", Facts{Role: gatehouse.RoleUser, Plan: ent}, "a", false},
		{"SSO, admin through the governing configuration", Facts{Role: gatehouse.RoleAdmin, Plan: ent, AccountSSO: "a"}, "a", true},
		{"SSO, exempt, through the account's own", Facts{Role: gatehouse.RoleUser, Plan: ent, AccountSSO: "a", ExemptByGroupList: true}, "a", true},
		{"SSO, exempt, through the partition's the account uses", Facts{Role: gatehouse.RoleUser, Plan: ent, AccountSSO: "a", PartitionSSO: "p", UsePartitionSSO: true, ExemptByUserList: true}, "p", true},
		{"SSO through the partition's once the account stops using it", Facts{Role: gatehouse.RoleUser, Plan: ent, PartitionSSO: "p"}, "p", false},
	}
	for _, tt := range tests {
		if got := SessionAllowed(Decide(tt.f), tt.config); got != tt.want {
			t.Errorf("%s: SessionAllowed = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestWayInKept: while SSO governs an account, one active admin with a
// password must remain; without SSO there is nothing to guard (SECURITY.md
// A-last-admin).
func TestWayInKept(t *testing.T) {
	ent := gatehouse.PlanEnterprise
	good := AccountAdmin{Role: gatehouse.RoleAdmin, Status: gatehouse.UserActive, HasPassword: true}
	noPassword, disabled, demoted := good, good, good
	noPassword.HasPassword, disabled.Status, demoted.Role = false, gatehouse.UserDisabled, gatehouse.RoleUser
	tests := []struct {
		name    string
		account Facts
		admins  []AccountAdmin
		want    bool
	}{
		{"no SSO, no admin", Facts{Plan: ent}, nil, true},
		{"standard plan, configuration on, no admin", Facts{Plan: gatehouse.PlanStandard, AccountSSO: "a"}, nil, true},
		{"SSO, one admin with a password", Facts{Plan: ent, AccountSSO: "a"}, []AccountAdmin{good}, true},
		{"SSO, no admin", Facts{Plan: ent, AccountSSO: "a"}, nil, false},
		{"SSO, admin without a password", Facts{Plan: ent, AccountSSO: "a"}, []AccountAdmin{noPassword}, false},
		{"SSO, disabled admin", Facts{Plan: ent, AccountSSO: "a"}, []AccountAdmin{disabled}, false},
		{"SSO, the admin demoted", Facts{Plan: ent, AccountSSO: "a"}, []AccountAdmin{demoted}, false},
		{"SSO, one of several keeps it", Facts{Plan: ent, AccountSSO: "a"}, []AccountAdmin{noPassword, disabled, good}, true},
		{"partition's SSO used, no admin", Facts{Plan: ent, PartitionSSO: "p", UsePartitionSSO: true}, nil, false},
		{"partition's SSO not used, no admin", Facts{Plan: ent, PartitionSSO: "p"}, nil, true},
		{"the person's fields are ignored", Facts{Plan: ent, AccountSSO: "a", Role: gatehouse.RoleSuperAdmin, ExemptByUserList: true}, nil, false},
	}
	for _, tt := range tests {
		if got := WayInKept(tt.account, tt.admins); got != tt.want {
			t.Errorf("%s: WayInKept = %v, want %v", tt.name, got, tt.want)
		}
	}
}
