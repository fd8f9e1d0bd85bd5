package api

import (
	"net/http"
	"strings"

	"gatehouse"
	"gatehouse/internal/store"
)

// exemptionList loads an exemption list of account a (which the token can see).
func (s *server) exemptionList(r *http.Request, a gatehouse.Account) (gatehouse.ExemptionList, error) {
	l, err := s.store.ExemptionList(r.Context(), r.PathValue("list_id"))
	if err != nil {
		return l, err
	}
	if l.AccountID != a.ID {
		return gatehouse.ExemptionList{}, errHidden
	}
	return l, nil
}

// exemptionEvent is the audit event of a change to list l of account a.
func exemptionEvent(action string, a gatehouse.Account, l gatehouse.ExemptionList) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{Action: action, PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "exemption_list", TargetID: l.ID,
		Details: map[string]string{"name": l.Name, "kind": string(l.Kind), "members": strings.Join(l.Members, " ")}}
}

// checkMemberIDs refuses a members field that is missing or holds an empty ID.
func checkMemberIDs(v *gatehouse.ValidationError, ids []string) {
	for _, id := range ids {
		if strings.TrimSpace(id) == "" || strings.Contains(id, "@") {
			v.Add("members", "must be user or group IDs (never emails)")
			return
		}
	}
}

func handleExemptionList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		a, err := s.account(r.Context(), tok, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		q, err := queryOf(r, "limit", "after", "q")
		if err != nil {
			return err
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		items, err := s.store.ListExemptionLists(r.Context(), a.ID, q.Get("q"), page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(l gatehouse.ExemptionList) string { return l.ID }))
		return nil
	}
}

func handleExemptionCreate(s *server) apiHandler {
	type request struct {
		Name    string                  `json:"name"`
		Kind    gatehouse.ExemptionKind `json:"kind"`
		Members []string                `json:"members"`
	}
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		a, err := s.account(r.Context(), tok, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		l := gatehouse.ExemptionList{AccountID: a.ID, Name: cleanName(v, "name", req.Name, false), Kind: req.Kind, Members: req.Members}
		if !req.Kind.Valid() {
			v.Add("kind", `must be "users" or "groups"`)
		}
		checkMemberIDs(v, req.Members)
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.CreateExemptionList(r.Context(), &l); err != nil {
			return err
		}
		s.record(r, tok, exemptionEvent("exemption_list.create", a, l))
		w.Header().Set("Location", "/api/v1/accounts/"+a.ID+"/exemptions/"+l.ID)
		writeJSON(w, http.StatusCreated, l)
		return nil
	}
}

func handleExemptionGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		a, err := s.account(r.Context(), tok, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		l, err := s.exemptionList(r, a)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, l)
		return nil
	}
}

func handleExemptionUpdate(s *server) apiHandler {
	type request struct {
		Name    *string                  `json:"name"`
		Kind    *gatehouse.ExemptionKind `json:"kind"`
		Members *[]string                `json:"members"`
	}
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		a, err := s.account(r.Context(), tok, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		l, err := s.exemptionList(r, a)
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		next := l
		if req.Name != nil {
			next.Name = cleanName(v, "name", *req.Name, false)
		}
		if req.Kind != nil && *req.Kind != l.Kind {
			v.Add("kind", "cannot change; create a new list of the other kind")
		}
		if req.Members != nil {
			next.Members = *req.Members
			checkMemberIDs(v, next.Members)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.UpdateExemptionList(r.Context(), &next); err != nil {
			return err
		}
		e := exemptionEvent("exemption_list.update", a, next)
		e.Details["previous_members"] = strings.Join(l.Members, " ")
		if l.Name != next.Name {
			e.Details["previous_name"] = l.Name
		}
		s.record(r, tok, e)
		writeJSON(w, http.StatusOK, next)
		return nil
	}
}

func handleExemptionDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		a, err := s.account(r.Context(), tok, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		l, err := s.exemptionList(r, a)
		if err != nil {
			return err
		}
		if err := s.store.DeleteExemptionList(r.Context(), l.ID); err != nil {
			return err
		}
		s.record(r, tok, exemptionEvent("exemption_list.delete", a, l))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleExemptionCandidates(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		a, err := s.account(r.Context(), tok, r.PathValue("account_id"))
		if err != nil {
			return err
		}
		q, err := queryOf(r, "limit", "after", "q", "kind")
		if err != nil {
			return err
		}
		kind := gatehouse.ExemptionKind(q.Get("kind"))
		if !kind.Valid() {
			return badRequest(`kind must be "users" or "groups"`, gatehouse.FieldError{Field: "kind", Message: `must be "users" or "groups"`})
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		items, err := s.store.ExemptionCandidates(r.Context(), a.ID, kind, q.Get("q"), page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(c store.Candidate) string { return c.ID }))
		return nil
	}
}
