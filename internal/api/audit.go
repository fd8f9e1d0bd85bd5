package api

import (
	"net/http"
	"net/url"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
)

// auditFilterOf reads the audit listing's filters from q, listing every bad
// one in a single answer.
func auditFilterOf(q url.Values) (store.AuditFilter, error) {
	f := store.AuditFilter{
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

var auditParams = []string{"limit", "after", "actor_id", "target_id", "action", "outcome", "since", "until"}

func handleAuditList(s *server) apiHandler {
	params := append([]string{"account_id", "partition_id"}, auditParams...)
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
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
		// Narrow the filter to the token's reach; a filter outside it matches
		// nothing rather than revealing whether the partition or account exists.
		outside := false
		switch tok.Scope {
		case gatehouse.ScopeSuper:
		case gatehouse.ScopePartition:
			outside = f.PartitionID != "" && f.PartitionID != tok.ScopeID
			f.PartitionID = tok.ScopeID
		case gatehouse.ScopeAccount:
			outside = f.AccountID != "" && f.AccountID != tok.ScopeID
			f.AccountID = tok.ScopeID
		default:
			outside = true
		}
		var items []gatehouse.AuditEvent
		if !outside {
			if items, err = s.store.ListAudit(r.Context(), f, page); err != nil {
				return err
			}
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(e gatehouse.AuditEvent) string { return e.ID }))
		return nil
	}
}

func handleAccountAuditList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		a, err := s.account(r.Context(), tok, r.PathValue("account_id"))
		if err != nil {
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
		f.AccountID = a.ID
		items, err := s.store.ListAudit(r.Context(), f, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(e gatehouse.AuditEvent) string { return e.ID }))
		return nil
	}
}
