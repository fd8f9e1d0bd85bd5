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
