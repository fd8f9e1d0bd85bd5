package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/policy"
	"gatehouse/internal/ssoconfig"
)

// ssoOwnerOf says whose SSO configurations a request's path names: an
// account (/accounts/{account_id}/sso-configs) or a partition
// (/partitions/{partition_id}/sso-configs). One set of handlers serves both
// route sets; they differ only in the owner. admin answers as for a missing
// owner when the token does not reach it.
type ssoOwnerOf func(r *http.Request) policy.Owner

func accountOwner(r *http.Request) policy.Owner {
	return policy.Owner{AccountID: r.PathValue("account_id")}
}

func partitionOwner(r *http.Request) policy.Owner {
	return policy.Owner{PartitionID: r.PathValue("partition_id")}
}

// ownerPath is the API path of owner o, under which its configurations live.
func ownerPath(o policy.Owner) string {
	if o.AccountID == "" {
		return "/api/v1/partitions/" + o.PartitionID
	}
	return "/api/v1/accounts/" + o.AccountID
}

// ssoConfigRoutes lists the routes of one owner's configurations under
// prefix (the owner's path pattern); both owners share the handlers.
func ssoConfigRoutes(s *server, prefix string, ownerOf ssoOwnerOf) []route {
	a, once := s.authed, s.idempotent
	one := prefix + "/sso-configs/{config_id}"
	return []route{
		{"GET", prefix + "/sso-configs", a(handleSSOConfigList(s, ownerOf))},
		{"POST", prefix + "/sso-configs", a(once(handleSSOConfigCreate(s, ownerOf)))},
		{"GET", one, a(handleSSOConfigGet(s, ownerOf))},
		{"PATCH", one, a(handleSSOConfigUpdate(s, ownerOf))},
		{"DELETE", one, a(handleSSOConfigDelete(s, ownerOf))},
		{"POST", one + "/metadata", a(handleSSOConfigMetadata(s, ownerOf))},
		{"POST", one + "/sp-key", a(handleSSOConfigRotateKey(s, ownerOf))},
		{"POST", one + "/enable", a(handleSSOConfigEnable(s, ownerOf))},
		{"POST", one + "/disable", a(handleSSOConfigDisable(s, ownerOf))},
		{"POST", one + "/undo-disable", a(handleSSOConfigUndoDisable(s, ownerOf))},
		{"GET", one + "/enable-preview", a(handleSSOConfigEnablePreview(s, ownerOf))},
		{"GET", one + "/health", a(handleSSOConfigHealth(s, ownerOf))},
		{"POST", one + "/metadata/refresh", a(handleSSOConfigMetadataRefresh(s, ownerOf))},
		{"POST", one + "/pending/apply", a(handleSSOConfigPending(s, ownerOf, s.admin.ApplyPendingSSOConfig))},
		{"POST", one + "/pending/discard", a(handleSSOConfigPending(s, ownerOf, s.admin.DiscardPendingSSOConfig))},
	}
}

func handleSSOPresetList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if _, err := queryOf(r); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, list[ssoconfig.Preset]{Items: s.admin.SSOPresets()})
		return nil
	}
}

func handleSSOConfigList(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		o := ownerOf(r)
		if err := s.admin.Reach(r.Context(), who, o, ""); err != nil {
			return err
		}
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		// An owner has a handful of configurations: admin returns them
		// all, in ID order, and the page is cut here.
		all, err := s.admin.SSOConfigs(r.Context(), who, o)
		if err != nil {
			return err
		}
		var items []admin.SSOConfigView
		for _, v := range all {
			if v.ID <= page.After {
				continue
			}
			if len(items) == page.Limit {
				break
			}
			items = append(items, v)
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(v admin.SSOConfigView) string { return v.ID }))
		return nil
	}
}

func handleSSOConfigCreate(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		o := ownerOf(r)
		// Out of reach answers 404 before the body is read.
		if err := s.admin.Reach(r.Context(), who, o, ""); err != nil {
			return err
		}
		var req admin.CreateSSOConfigInput
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v, err := s.admin.CreateSSOConfig(r.Context(), who, o, req)
		if err != nil {
			return err
		}
		w.Header().Set("Location", ownerPath(o)+"/sso-configs/"+v.ID)
		writeJSON(w, http.StatusCreated, v)
		return nil
	}
}

func handleSSOConfigGet(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		v, err := s.admin.SSOConfig(r.Context(), who, ownerOf(r), r.PathValue("config_id"))
		if err != nil {
			return err
		}
		setETag(w, v.ID, v.UpdatedAt)
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// handleSSOConfigEdit serves an edit of a configuration whose body is a
// JSON In, which op applies.
func handleSSOConfigEdit[In any](ownerOf ssoOwnerOf, reach reachFunc,
	op func(context.Context, admin.Principal, policy.Owner, string, In) (admin.SSOConfigView, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		o, id := ownerOf(r), r.PathValue("config_id")
		// Out of reach answers 404 before the body is read.
		if err := reach(r.Context(), who, o, id); err != nil {
			return err
		}
		var req In
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v, err := op(r.Context(), who, o, id, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

type reachFunc func(context.Context, admin.Principal, policy.Owner, string) error

func handleSSOConfigUpdate(s *server, ownerOf ssoOwnerOf) apiHandler {
	return handleSSOConfigVersioned(s, ownerOf, false, func(in *admin.UpdateSSOConfigInput) **time.Time { return &in.UpdatedAt },
		s.admin.UpdateSSOConfig)
}

func handleSSOConfigMetadata(s *server, ownerOf ssoOwnerOf) apiHandler {
	return handleSSOConfigEdit(ownerOf, s.admin.Reach, s.admin.ImportSSOMetadata)
}

// handleSSOConfigAction serves a bodiless action on a configuration.
func handleSSOConfigAction(ownerOf ssoOwnerOf,
	op func(context.Context, admin.Principal, policy.Owner, string) (admin.SSOConfigView, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		v, err := op(r.Context(), who, ownerOf(r), r.PathValue("config_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

func handleSSOConfigRotateKey(s *server, ownerOf ssoOwnerOf) apiHandler {
	return handleSSOConfigAction(ownerOf, s.admin.RotateSPKey)
}

func handleSSOConfigEnable(s *server, ownerOf ssoOwnerOf) apiHandler {
	return handleSSOConfigAction(ownerOf, s.admin.EnableSSOConfig)
}

// handleSSOConfigEnablePreview answers who a configuration would govern
// how: for an account's, the access.Preview of its users; for a
// partition's, an access.PartitionPreview of every account it would reach.
func handleSSOConfigEnablePreview(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		p, err := s.admin.PreviewEnable(r.Context(), who, ownerOf(r), r.PathValue("config_id"))
		if err != nil {
			return err
		}
		if p.Partition != nil {
			writeJSON(w, http.StatusOK, p.Partition)
			return nil
		}
		writeJSON(w, http.StatusOK, p.Account)
		return nil
	}
}

// ssoProblem is the problem document of admin's refusals about SSO
// configurations, or nil when err is none of them.
func ssoProblem(err error) *problem {
	var (
		stays   *admin.StaysEnabledError
		refused *ssoconfig.EnableError
		lockout *admin.LockoutError
	)
	switch {
	case errors.As(err, &stays):
		return &problem{Status: http.StatusUnprocessableEntity, Errors: stays.Problems, Detail: stays.Error()}
	case errors.As(err, &refused):
		return enableRefusal(refused)
	case errors.As(err, &lockout):
		return &problem{Status: http.StatusConflict, Detail: lockout.Error(),
			Errors: []gatehouse.FieldError{{Field: "admins", Message: lockout.Message}}}
	}
	return nil
}

// writeChoice answers a metadata import that must choose among several
// IdPs with a 422 whose choices lists their entity IDs.
func writeChoice(w http.ResponseWriter, err *admin.ChooseEntityError) {
	p := choiceProblem{Choices: err.Choices, problem: problem{
		Type: "about:blank", Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
		Detail: err.Error(),
		Errors: []gatehouse.FieldError{{Field: "entity_id", Message: "choose one of: " + strings.Join(err.Choices, ", ")}},
	}}
	writeJSONAs(w, "application/problem+json", p.Status, p)
}

// choiceProblem is the 422 of a metadata import that must choose among
// several IdPs: choices lists their entity IDs.
type choiceProblem struct {
	problem
	Choices []string `json:"choices"`
}

// enableRefusal turns why a configuration cannot be enabled into a 409 that
// names the fields to fix.
func enableRefusal(err *ssoconfig.EnableError) *problem {
	p := &problem{Status: http.StatusConflict, Detail: "cannot enable: " + err.Error()}
	switch {
	case errors.Is(err, ssoconfig.ErrIncomplete):
		p.Errors = err.Problems
	case errors.Is(err, ssoconfig.ErrTestNotCurrent):
		p.Errors = []gatehouse.FieldError{{Field: "last_test", Message: "no passing test since the IdP settings last changed; run Test first"}}
	case errors.Is(err, ssoconfig.ErrNotEnterprise):
		p.Errors = []gatehouse.FieldError{{Field: "plan", Message: "SSO needs the enterprise plan"}}
	}
	return p
}
