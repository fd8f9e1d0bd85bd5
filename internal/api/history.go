package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"gatehouse"
	"gatehouse/internal/admin"
)

// handleSignInList serves an account's sign-in history (DESIGN rule 14):
// every sign-in attempt, successful or not with its reason, filtered by
// person, outcome, method and time.
func handleSignInList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		q, err := queryOf(r, "limit", "after", "user_id", "outcome", "method", "since", "until")
		if err != nil {
			return err
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		// The audit listing's rules for outcome and times, and their words.
		af, err := auditFilterOf(q)
		var (
			fields []gatehouse.FieldError
			bad    *problem
		)
		if errors.As(err, &bad) {
			fields = bad.Errors
		}
		f := gatehouse.SignInFilter{UserID: strings.TrimSpace(q.Get("user_id")), Method: q.Get("method"),
			Outcome: af.Outcome, Since: af.Since, Until: af.Until}
		if f.Method != "" && !slices.Contains(admin.SignInMethods, f.Method) {
			fields = append(fields, gatehouse.FieldError{Field: "method", Message: "must be one of " + strings.Join(admin.SignInMethods, ", ")})
		}
		if len(fields) > 0 {
			return badRequest("the query string has invalid filters", fields...)
		}
		items, err := s.admin.SignIns(r.Context(), who, accountID, f, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(e gatehouse.AuditEvent) string { return e.ID }))
		return nil
	}
}
