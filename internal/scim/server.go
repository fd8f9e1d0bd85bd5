package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/admin"
)

// Config is what the SCIM endpoint is built from.
type Config struct {
	Admin *admin.Service
	// Logger receives failures worth an operator's look; nil discards them.
	Logger *slog.Logger
}

type server struct {
	admin  *admin.Service
	logger *slog.Logger
}

// maxBody bounds a request body (a group of many members is the largest).
const maxBody = 4 << 20

// Pagination bounds (RFC 7644 section 3.4.2.4).
const (
	defaultCount = 100
	maxCount     = 1000
)

// ContentType is SCIM's media type.
const ContentType = "application/scim+json"

type handler func(w http.ResponseWriter, r *http.Request, who admin.Principal, accountID string) error

// New returns the SCIM handler, to be mounted at /scim/v2/.
func New(cfg Config) http.Handler {
	s := &server{admin: cfg.Admin, logger: cfg.Logger}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	base := "/scim/v2/{account}"
	for _, rt := range []struct {
		pattern string
		h       handler
	}{
		{"GET " + base + "/ServiceProviderConfig", s.spConfig},
		{"GET " + base + "/ResourceTypes", s.resourceTypes},
		{"GET " + base + "/ResourceTypes/{id}", s.resourceType},
		{"GET " + base + "/Schemas", s.schemas},
		{"GET " + base + "/Schemas/{id}", s.schema},
		{"GET " + base + "/Users", s.listUsers},
		{"POST " + base + "/Users", s.createUser},
		{"GET " + base + "/Users/{id}", s.getUser},
		{"PUT " + base + "/Users/{id}", s.putUser},
		{"PATCH " + base + "/Users/{id}", s.patchUser},
		{"DELETE " + base + "/Users/{id}", s.deleteUser},
		{"GET " + base + "/Groups", s.listGroups},
		{"POST " + base + "/Groups", s.createGroup},
		{"GET " + base + "/Groups/{id}", s.getGroup},
		{"PUT " + base + "/Groups/{id}", s.putGroup},
		{"PATCH " + base + "/Groups/{id}", s.patchGroup},
		{"DELETE " + base + "/Groups/{id}", s.deleteGroup},
	} {
		mux.Handle(rt.pattern, s.authed(rt.h))
	}
	mux.Handle("/scim/v2/", s.authed(func(w http.ResponseWriter, r *http.Request, _ admin.Principal, _ string) error {
		return &Error{Status: http.StatusNotFound, Detail: "no such SCIM endpoint or method"}
	}))
	return mux
}

// authed checks the bearer token against the account named in the path
// before running h; its failures become SCIM error bodies, and those of an
// authenticated request are kept for the account's admins.
func (s *server) authed(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		accountID := r.PathValue("account")
		if accountID == "" {
			accountID, _, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/scim/v2/"), "/")
		}
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-scim"`)
			writeError(w, &Error{Status: http.StatusUnauthorized, Detail: "a SCIM token is required: Authorization: Bearer <token>"})
			return
		}
		who, err := s.admin.SCIMPrincipal(r.Context(), accountID, strings.TrimSpace(token), remoteHost(r.RemoteAddr), r.UserAgent())
		if err != nil {
			if errors.Is(err, gatehouse.ErrNotFound) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-scim", error="invalid_token"`)
				writeError(w, &Error{Status: http.StatusUnauthorized, Detail: "the SCIM token is not valid for this account"})
				return
			}
			writeError(w, s.toSCIM(r, err))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := h(w, r, who, accountID); err != nil {
			e := s.toSCIM(r, err)
			s.admin.RecordSCIMError(r.Context(), who, accountID, r.Method, r.URL.Path, e.Status, e.Detail)
			writeError(w, e)
		}
	})
}

func remoteHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// toSCIM gives an error its SCIM answer.
func (s *server) toSCIM(r *http.Request, err error) *Error {
	var (
		se       *Error
		v        *gatehouse.ValidationError
		conflict *gatehouse.ConflictError
		last     *gatehouse.LastWayInError
		forbid   *admin.ForbiddenError
		tooBig   *http.MaxBytesError
	)
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Detail: "the request body is larger than " + strconv.Itoa(maxBody) + " bytes"}
	case errors.As(err, &v):
		parts := make([]string, len(v.Fields))
		for i, f := range v.Fields {
			parts[i] = scimField(f.Field) + ": " + f.Message
		}
		return badRequest(TypeInvalidValue, "%s", strings.Join(parts, "; "))
	case errors.As(err, &last):
		return &Error{Status: http.StatusConflict, Detail: last.Error()}
	case errors.Is(err, admin.ErrEmailTaken):
		return &Error{Status: http.StatusConflict, ScimType: TypeUniqueness, Detail: "another user of this account has this email"}
	case errors.As(err, &conflict):
		return &Error{Status: http.StatusConflict, ScimType: TypeUniqueness, Detail: scimField(conflict.Field) + ": " + conflict.Message}
	case errors.Is(err, gatehouse.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Detail: "no such resource"}
	case errors.As(err, &forbid):
		return &Error{Status: http.StatusForbidden, Detail: forbid.Reason}
	case errors.Is(err, admin.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Detail: "this SCIM token may not do this"}
	case errors.Is(err, gatehouse.ErrUnavailable):
		s.logger.ErrorContext(r.Context(), "scim: database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		return &Error{Status: http.StatusServiceUnavailable, Detail: "Gatehouse's database is unavailable; retry later"}
	}
	s.logger.ErrorContext(r.Context(), "scim: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return &Error{Status: http.StatusInternalServerError, Detail: "internal error"}
}

// scimField names a field of admin's input by its SCIM attribute.
func scimField(f string) string {
	switch f {
	case "email":
		return "emails"
	case "display_name", "name":
		return "displayName"
	case "user_id":
		return "members"
	}
	return f
}

func writeError(w http.ResponseWriter, e *Error) {
	body := map[string]any{"schemas": []string{URNError}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.ScimType != "" {
		body["scimType"] = e.ScimType
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"schemas":["`+URNError+`"],"status":"500","detail":"internal error"}`)
	}
	w.Header().Set("Content-Type", ContentType+"; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// readObject reads a request's JSON object body: SCIM's or JSON's media
// type, UTF-8, one object.
func readObject(r *http.Request) (map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || (mt != ContentType && mt != "application/json") {
			return nil, badRequest(TypeInvalidSyntax, "the body must be application/scim+json")
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return nil, badRequest(TypeInvalidSyntax, "the body must be UTF-8")
		}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	return decodeObject(b)
}

// decodeObject decodes one JSON object that is UTF-8 throughout (no
// invalid bytes, no escaped half of a surrogate pair).
func decodeObject(b []byte) (map[string]any, error) {
	if !utf8.Valid(b) {
		return nil, badRequest(TypeInvalidSyntax, "the body is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, badRequest(TypeInvalidSyntax, "the body is not a JSON object")
	}
	if dec.More() {
		return nil, badRequest(TypeInvalidSyntax, "the body has more than one JSON value")
	}
	if !bytes.ContainsRune(b, utf8.RuneError) && !bytes.Contains(bytes.ToLower(b), []byte(`\ufffd`)) && holdsRuneError(obj) {
		return nil, badRequest(TypeInvalidSyntax, "the body escapes half of a surrogate pair")
	}
	return obj, nil
}

func holdsRuneError(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, utf8.RuneError)
	case []any:
		return slices.ContainsFunc(v, holdsRuneError)
	case map[string]any:
		for k, x := range v {
			if strings.ContainsRune(k, utf8.RuneError) || holdsRuneError(x) {
				return true
			}
		}
	}
	return false
}

// baseURL is the account's SCIM base URL, which resources' locations are
// built on.
func (s *server) baseURL(accountID string) string { return s.admin.SCIMBaseURL(accountID) }

// listParams are a list request's filter and page.
type listParams struct {
	Filter     Expr
	StartIndex int
	Count      int
	Attributes []string
	Excluded   []string
}

func readListParams(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	p := listParams{StartIndex: 1, Count: defaultCount}
	if f := q.Get("filter"); f != "" {
		e, err := ParseFilter(f)
		if err != nil {
			return p, err
		}
		p.Filter = e
	}
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest(TypeInvalidValue, "startIndex must be an integer")
		}
		p.StartIndex = max(n, 1)
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest(TypeInvalidValue, "count must be an integer")
		}
		p.Count = min(max(n, 0), maxCount)
	}
	if q.Get("sortBy") != "" {
		return p, badRequest(TypeInvalidValue, "sorting is not supported (ServiceProviderConfig says so)")
	}
	p.Attributes = splitList(q.Get("attributes"))
	p.Excluded = splitList(q.Get("excludedAttributes"))
	return p, nil
}

func splitList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// project applies attributes and excludedAttributes to a resource: id,
// schemas and meta are always returned.
func project(res map[string]any, p listParams) map[string]any {
	if len(p.Attributes) > 0 {
		keep := map[string]any{}
		for k, v := range res {
			if k == "id" || k == "schemas" || k == "meta" || slices.ContainsFunc(p.Attributes, func(a string) bool {
				a, _, _ = strings.Cut(a, ".")
				return strings.EqualFold(a, k) || strings.HasSuffix(strings.ToLower(a), ":"+strings.ToLower(k)) || strings.EqualFold(a, k)
			}) {
				keep[k] = v
			}
		}
		return keep
	}
	for _, a := range p.Excluded {
		if !strings.EqualFold(a, "id") && !strings.EqualFold(a, "schemas") {
			takeFold(res, a)
		}
	}
	return res
}

// listResponse is a page of matches.
func listResponse(matches []map[string]any, p listParams) map[string]any {
	from := min(p.StartIndex-1, len(matches))
	to := min(from+p.Count, len(matches))
	page := make([]any, 0, to-from)
	for _, m := range matches[from:to] {
		page = append(page, project(m, p))
	}
	return map[string]any{"schemas": []string{URNListResponse}, "totalResults": len(matches), "startIndex": p.StartIndex,
		"itemsPerPage": len(page), "Resources": page}
}

// eqKey recognises the filters IdPs send before a create (userName,
// externalId or emails eq a value, alone), which are answered from an
// index rather than by reading every user.
func eqKey(e Expr) (attr, value string, ok bool) {
	c, isCmp := e.(Compare)
	if !isCmp || c.Op != "eq" || (c.Path.URN != "" && !strings.EqualFold(c.Path.URN, URNUser)) {
		return "", "", false
	}
	v, isStr := c.Value.(string)
	if !isStr {
		return "", "", false
	}
	switch {
	case strings.EqualFold(c.Path.Attr, "userName") && c.Path.Sub == "":
		return "userName", v, true
	case strings.EqualFold(c.Path.Attr, "externalId") && c.Path.Sub == "":
		return "externalId", v, true
	case strings.EqualFold(c.Path.Attr, "emails") && (c.Path.Sub == "" || strings.EqualFold(c.Path.Sub, "value")):
		return "emails", v, true
	}
	return "", "", false
}

// background is ctx for work that must finish once begun.
func background(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
