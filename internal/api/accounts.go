package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/admin"
)

func handleAccountList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		q, err := queryOf(r, "limit", "after", "partition_id")
		if err != nil {
			return err
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		items, err := s.admin.Accounts(r.Context(), who, q.Get("partition_id"), page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(a gatehouse.Account) string { return a.ID }))
		return nil
	}
}

// checkPlan validates a plan on v; only partition and super tokens may
// change one, since the plan is what the customer pays for.
func checkPlan(v *gatehouse.ValidationError, who admin.Principal, plan, was gatehouse.Plan) {
	switch {
	case !plan.Valid():
		v.Add("plan", "must be standard or enterprise")
	case plan != was && who.Scope == gatehouse.ScopeAccount:
		v.Add("plan", "an account token cannot change the plan")
	}
}

func handleAccountCreate(s *server) apiHandler {
	type request struct {
		PartitionID string         `json:"partition_id"`
		Name        string         `json:"name"`
		Plan        gatehouse.Plan `json:"plan"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if who.Scope == gatehouse.ScopeAccount {
			return forbidden("an account token cannot create accounts")
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		a := gatehouse.Account{PartitionID: strings.TrimSpace(req.PartitionID), Name: admin.CleanName(v, "name", req.Name, false), Plan: req.Plan}
		if a.PartitionID == "" && who.Scope == gatehouse.ScopePartition {
			a.PartitionID = who.ScopeID
		}
		switch {
		case a.PartitionID == "":
			v.Add("partition_id", "must not be empty")
		case !admin.SeesPartition(who, a.PartitionID):
			// The same words as the store's for a missing partition: another
			// reseller's partition is not revealed.
			v.Add("partition_id", "does not exist")
		}
		if a.Plan == "" {
			a.Plan = gatehouse.PlanStandard
		}
		checkPlan(v, who, a.Plan, a.Plan)
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.CreateAccount(r.Context(), &a); err != nil {
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "account.create", PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "account", TargetID: a.ID})
		w.Header().Set("Location", "/api/v1/accounts/"+a.ID)
		writeJSON(w, http.StatusCreated, a)
		return nil
	}
}

func handleAccountGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, a)
		return nil
	}
}

func handleAccountUpdate(s *server) apiHandler {
	type request struct {
		Name *string         `json:"name"`
		Plan *gatehouse.Plan `json:"plan"`
		// UsePartitionSSO sends the account to its partition's enabled SSO
		// configuration (see usePartitionSSORefusal).
		UsePartitionSSO *bool `json:"use_partition_sso"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		next := a
		if req.Name != nil {
			next.Name = admin.CleanName(v, "name", *req.Name, false)
		}
		if req.Plan != nil {
			next.Plan = *req.Plan
			checkPlan(v, who, next.Plan, a.Plan)
		}
		if req.UsePartitionSSO != nil {
			next.UsePartitionSSO = *req.UsePartitionSSO
			if next.UsePartitionSSO != a.UsePartitionSSO && who.Scope == gatehouse.ScopeAccount {
				return forbidden("an account token cannot change use_partition_sso: the partition decides which of its accounts use its SSO")
			}
			if next.UsePartitionSSO && !a.UsePartitionSSO && next.Plan != gatehouse.PlanEnterprise {
				v.Add("use_partition_sso", "SSO needs the enterprise plan")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if next.UsePartitionSSO && !a.UsePartitionSSO {
			if refusal, err := s.usePartitionSSORefusal(r.Context(), next); err != nil || refusal != "" {
				if err != nil {
					return err
				}
				s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "account.update", Outcome: gatehouse.OutcomeFailure, Reason: refusal,
					PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "account", TargetID: a.ID,
					Details: map[string]string{"use_partition_sso": "true"}})
				return &problem{Status: http.StatusConflict, Detail: "cannot use the partition's SSO: " + refusal,
					Errors: []gatehouse.FieldError{{Field: "admins", Message: refusal}}}
			}
		}
		if next.Plan != a.Plan && next.Plan != gatehouse.PlanEnterprise {
			// Judged on next: turning use_partition_sso off in the same
			// request lets the plan go.
			if refusal, err := s.planDowngradeRefusal(r.Context(), next); err != nil || refusal != "" {
				if err != nil {
					return err
				}
				s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "account.update", Outcome: gatehouse.OutcomeFailure, Reason: refusal,
					PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "account", TargetID: a.ID,
					Details: map[string]string{"plan": string(next.Plan)}})
				return &problem{Status: http.StatusConflict, Detail: "cannot change the plan to " + string(next.Plan) + ": " + refusal,
					Errors: []gatehouse.FieldError{{Field: "plan", Message: refusal}}}
			}
		}
		var changed []string
		details := map[string]string{}
		if next.Name != a.Name {
			changed = append(changed, "name")
		}
		if next.Plan != a.Plan {
			changed = append(changed, "plan")
			details["plan"] = string(next.Plan)
		}
		if next.UsePartitionSSO != a.UsePartitionSSO {
			changed = append(changed, "use_partition_sso")
			details["use_partition_sso"] = strconv.FormatBool(next.UsePartitionSSO)
		}
		if len(changed) > 0 {
			if err := s.store.UpdateAccount(r.Context(), &next); err != nil {
				return err
			}
			details["changed"] = strings.Join(changed, ",")
			if next.Plan != a.Plan || next.UsePartitionSSO != a.UsePartitionSSO {
				details[admin.DetailSessionsEnded] = s.admin.EndForbiddenSessions(r.Context(), a.ID)
			}
			s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "account.update", PartitionID: a.PartitionID, AccountID: a.ID,
				TargetType: "account", TargetID: a.ID, Details: details})
		}
		writeJSON(w, http.StatusOK, next)
		return nil
	}
}

// usePartitionSSORefusal says why account a (as it would be, set to use
// its partition's SSO) cannot start using it now, or "" when it can: when
// the partition has a configuration enabled that would govern a (a has
// none of its own enabled), an active admin of a must keep a password way
// in (SECURITY.md A-lockout), as when enabling a configuration.
func (s *server) usePartitionSSORefusal(ctx context.Context, a gatehouse.Account) (string, error) {
	if _, err := s.store.EnabledSSOConfig(ctx, a.ID, ""); err == nil || !isNotFound(err) {
		return "", err
	}
	c, err := s.store.EnabledSSOConfig(ctx, "", a.PartitionID)
	switch {
	case isNotFound(err):
		return "", nil
	case err != nil:
		return "", err
	}
	p, err := access.EnablePreview(ctx, s.store, a, c)
	if err != nil || p.AdminsWithWayIn > 0 {
		return "", err
	}
	return "no active admin of the account would keep a way in under the partition's SSO configuration " + c.Name + ": give an admin a password first", nil
}

// planDowngradeRefusal says why account a cannot leave the enterprise plan
// now, or "" when it can: SSO is for enterprise accounts only, and a
// downgrade must not silently turn off the SSO its users are forced to.
func (s *server) planDowngradeRefusal(ctx context.Context, a gatehouse.Account) (string, error) {
	c, err := s.store.EnabledSSOConfig(ctx, a.ID, "")
	switch {
	case err == nil:
		return "SSO configuration " + c.Name + " is enabled; disable SSO configuration " + c.Name + " first", nil
	case !isNotFound(err):
		return "", err
	case !a.UsePartitionSSO:
		return "", nil
	}
	c, err = s.store.EnabledSSOConfig(ctx, "", a.PartitionID)
	switch {
	case err == nil:
		return "the account uses its partition's SSO configuration " + c.Name + "; turn off use_partition_sso first", nil
	case isNotFound(err):
		return "", nil
	}
	return "", err
}

func handleAccountDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		a, err := s.admin.Account(r.Context(), who, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		if who.Scope == gatehouse.ScopeAccount {
			return forbidden("an account token cannot delete its account")
		}
		if err := s.store.DeleteAccount(r.Context(), a.ID); err != nil {
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "account.delete", PartitionID: a.PartitionID, AccountID: a.ID,
			TargetType: "account", TargetID: a.ID, Details: map[string]string{"name": a.Name}})
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
