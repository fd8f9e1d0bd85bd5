package api

import (
	"net/http"
	"net/url"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
)

// auditFilterOf reads the audit listing's filters from q, listing every bad
// one in a single answer.
func auditFilterOf(q url.Values) (gatehouse.AuditFilter, error) {
	f := gatehouse.AuditFilter{
		ID:           q.Get("id"),
		PartitionID:  q.Get("partition_id"),
		AccountID:    q.Get("account_id"),
		ActorID:      q.Get("actor_id"),
		TargetID:     q.Get("target_id"),
		ActionPrefix: q.Get("action"),
		Outcome:      gatehouse.Outcome(q.Get("outcome")),
	}
	var fields []gatehouse.FieldError
	if f.Outcome != "" && f.Outcome != gatehouse.OutcomeSuccess && f.Outcome != gatehouse.OutcomeFailure {
		fields = append(fields, gatehouse.FieldError{Field: "outcome", Message: "must be success or failure"})
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if s := q.Get(t.name); s != "" {
			v, err := time.Parse(time.RFC3339, s)
			if err != nil {
				fields = append(fields, gatehouse.FieldError{Field: t.name, Message: "must be an RFC 3339 time, like 2025-01-31T15:04:05Z"})
				continue
			}
			*t.dst = v
		}
	}
	if len(fields) > 0 {
		return f, badRequest("the query string has invalid filters", fields...)
	}
	return f, nil
}

var auditParams = []string{"limit", "after", "id", "actor_id", "target_id", "action", "outcome", "since", "until"}

func handleAuditList(s *server) apiHandler {
	params := append([]string{"account_id", "partition_id"}, auditParams...)
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		q, err := queryOf(r, params...)
		if err != nil {
			return err
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		f, err := auditFilterOf(q)
		if err != nil {
			return err
		}
		items, err := s.admin.AuditEvents(r.Context(), who, f, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(e gatehouse.AuditEvent) string { return e.ID }))
		return nil
	}
}

func handleAccountAuditList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		q, err := queryOf(r, auditParams...)
		if err != nil {
			return err
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		f, err := auditFilterOf(q)
		if err != nil {
			return err
		}
		items, err := s.admin.AccountAuditEvents(r.Context(), who, accountID, f, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(e gatehouse.AuditEvent) string { return e.ID }))
		return nil
	}
}
