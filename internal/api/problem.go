package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
)

// problem is an RFC 9457 problem document, and an error a handler returns
// to answer with it.
type problem struct {
	Type   string                 `json:"type"`
	Title  string                 `json:"title"`
	Status int                    `json:"status"`
	Detail string                 `json:"detail,omitempty"`
	Errors []gatehouse.FieldError `json:"errors,omitempty"`
}

func (p *problem) Error() string { return fmt.Sprintf("api: %d: %s", p.Status, p.Detail) }

func forbidden(detail string) *problem {
	return &problem{Status: http.StatusForbidden, Detail: detail}
}

// badRequest is a 400 about the request itself (its body or query), naming
// the field at fault when there is one.
func badRequest(detail string, fields ...gatehouse.FieldError) *problem {
	return &problem{Status: http.StatusBadRequest, Detail: detail, Errors: fields}
}

func isNotFound(err error) bool { return errors.Is(err, gatehouse.ErrNotFound) }

// writeError answers with the problem err stands for. Database failures get
// a generic message; their detail goes to the log only.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		p       *problem
		v       *gatehouse.ValidationError
		c       *gatehouse.ConflictError
		last    *gatehouse.LastWayInError
		refused *admin.RefusalError
		denied  *admin.ForbiddenError
		e       *admin.ChooseEntityError
	)
	if errors.As(err, &e) {
		writeChoice(w, e)
		return
	}
	switch {
	case errors.As(err, &p):
	case ssoProblem(err) != nil:
		p = ssoProblem(err)
	case errors.As(err, &v):
		p = &problem{Status: http.StatusUnprocessableEntity, Detail: "the request has invalid fields", Errors: v.Fields}
	case errors.As(err, &last):
		p = &problem{Status: http.StatusConflict, Detail: last.Error(),
			Errors: []gatehouse.FieldError{{Field: "admins", Message: last.Error()}}}
	case errors.As(err, &refused):
		p = &problem{Status: http.StatusConflict, Detail: refused.Error(),
			Errors: []gatehouse.FieldError{{Field: refused.Field, Message: refused.Reason}}}
	case errors.Is(err, admin.ErrEmailTaken):
		p = &problem{Status: http.StatusConflict, Detail: "another user of this account has this email",
			Errors: []gatehouse.FieldError{{Field: "email", Message: "is already used in this account"}}}
	case errors.As(err, &c):
		p = &problem{Status: http.StatusConflict, Detail: c.Field + ": " + c.Message,
			Errors: []gatehouse.FieldError{{Field: c.Field, Message: c.Message}}}
	case isNotFound(err):
		p = &problem{Status: http.StatusNotFound, Detail: "no such resource"}
	case errors.As(err, &denied):
		p = forbidden(denied.Reason)
	case errors.Is(err, admin.ErrForbidden):
		p = forbidden("this token may not do that")
	case errors.Is(err, gatehouse.ErrUnavailable):
		s.logger.ErrorContext(r.Context(), "api: database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		p = &problem{Status: http.StatusServiceUnavailable, Detail: "the service is temporarily unavailable; try again shortly"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.logger.WarnContext(r.Context(), "api: request ended early", "method", r.Method, "path", r.URL.Path, "err", err)
		p = &problem{Status: http.StatusServiceUnavailable, Detail: "the request was cancelled or timed out; try again"}
	default:
		s.logger.ErrorContext(r.Context(), "api: unexpected error", "method", r.Method, "path", r.URL.Path, "err", err)
		p = &problem{Status: http.StatusInternalServerError, Detail: "internal error"}
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p *problem) {
	out := *p
	if out.Type == "" {
		// The status code says it all; "about:blank" is RFC 9457's way to say so.
		out.Type = "about:blank"
	}
	if out.Title == "" {
		out.Title = http.StatusText(out.Status)
	}
	if out.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSONAs(w, "application/problem+json", out.Status, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONAs(w, "application/json", status, v)
}

func writeJSONAs(w http.ResponseWriter, contentType string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are encoded; failing here is a programming error.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
