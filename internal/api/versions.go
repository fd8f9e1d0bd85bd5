package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

// Versioned edits (issue 16, part 3): a read of an SSO configuration, an
// exemption list, a user or a group answers with a strong ETag, which
// changes with every edit of it (its updated_at) and says nothing else; a
// PATCH or DELETE of it (and Apply or Discard of a configuration's pending
// changes) sent with If-Match applies only to that version, checked again
// in the write itself, or answers 412 and changes nothing. Without
// If-Match the write applies to whatever is there, as before; If-Match: *
// matches any version.

// etagOf is the strong ETag of the version of resource id last changed at
// updated: a digest, so clients compare it and never read into it.
func etagOf(id string, updated time.Time) string {
	sum := sha256.Sum256([]byte(id + "\x00" + strconv.FormatInt(updated.UnixMicro(), 10)))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:15]) + `"`
}

// setETag sets the answer's ETag to the version of resource id last
// changed at updated.
func setETag(w http.ResponseWriter, id string, updated time.Time) {
	w.Header().Set("ETag", etagOf(id, updated))
}

// precondition is what a request's If-Match asks: nothing (given false),
// any version (any), or one of tags.
type precondition struct {
	given, any bool
	tags       []string
}

// ifMatchOf parses the request's If-Match (RFC 9110 13.1.1): "*" or a
// list of entity tags. Weak tags are kept, but never match: an edit needs
// the strong comparison.
func ifMatchOf(r *http.Request) (precondition, error) {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return precondition{}, nil
	}
	return parseIfMatch(strings.Join(values, ","))
}

func parseIfMatch(v string) (precondition, error) {
	p := precondition{given: true}
	if strings.TrimSpace(v) == "*" {
		p.any = true
		return p, nil
	}
	for part := range strings.SplitSeq(v, ",") {
		tag := strings.TrimSpace(part)
		if tag == "" {
			continue
		}
		if !validETag(strings.TrimPrefix(tag, "W/")) {
			return precondition{}, badRequest(`If-Match must be "*" or entity tags as the ETag header gave them, in double quotes`,
				gatehouse.FieldError{Field: "If-Match", Message: "is not a list of entity tags"})
		}
		p.tags = append(p.tags, tag)
	}
	if len(p.tags) == 0 {
		return precondition{}, badRequest("If-Match is empty", gatehouse.FieldError{Field: "If-Match", Message: "is empty"})
	}
	return p, nil
}

// validETag says whether tag is a quoted entity tag of RFC 9110 8.8.3.
func validETag(tag string) bool {
	if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return false
	}
	for _, c := range []byte(tag[1 : len(tag)-1]) {
		if c != 0x21 && (c < 0x23 || c == 0x7f) {
			return false
		}
	}
	return true
}

// allows says whether the version whose ETag is current meets p.
func (p precondition) allows(current string) bool {
	if !p.given || p.any {
		return true
	}
	for _, t := range p.tags {
		if t == current {
			return true
		}
	}
	return false
}

// check refuses, with a 412, a request whose If-Match the version of
// resource id last changed at updated does not meet.
func (p precondition) check(id string, updated time.Time) error {
	if p.allows(etagOf(id, updated)) {
		return nil
	}
	return preconditionFailed()
}

// version is the version the write must find, the one read at updated
// when If-Match named it; zero (any) without If-Match or with "*".
func (p precondition) version(updated time.Time) time.Time {
	if !p.given || p.any {
		return time.Time{}
	}
	return updated
}

// refusal turns a write's refusal because the resource changed since it
// was read into the 412 a request with If-Match expects: the store's
// ErrChanged, or an SSO configuration's conflict on updated_at.
func (p precondition) refusal(err error) error {
	if !p.given || p.any {
		return err
	}
	var c *gatehouse.ConflictError
	if errors.Is(err, store.ErrChanged) || (errors.As(err, &c) && c.Field == "updated_at") {
		return preconditionFailed()
	}
	return err
}

func preconditionFailed() *problem {
	return &problem{Status: http.StatusPreconditionFailed,
		Detail: "the resource changed since the version If-Match names: GET it again, make the change to what it is now, and send its new ETag"}
}

// handleSSOConfigVersioned serves an edit of a configuration whose body is
// a JSON In (optional when bodyOptional), which op applies. With If-Match
// the edit applies only to the version named, through the input's
// updated_at (at), which the store compares in its update.
func handleSSOConfigVersioned[In any](s *server, ownerOf ssoOwnerOf, bodyOptional bool, at func(*In) **time.Time,
	op func(context.Context, admin.Principal, policy.Owner, string, In) (admin.SSOConfigView, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		o, id := ownerOf(r), r.PathValue("config_id")
		cond, err := ifMatchOf(r)
		if err != nil {
			return err
		}
		// Out of reach answers 404 before the body is read.
		version, err := s.ssoConfigVersion(r, who, o, id, cond)
		if err != nil {
			return err
		}
		if !cond.given {
			if err := s.admin.Reach(r.Context(), who, o, id); err != nil {
				return err
			}
		}
		var req In
		if !bodyOptional || r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
			if err := decode(w, r, &req); err != nil {
				return err
			}
		}
		if !version.IsZero() {
			readAt := at(&req)
			if *readAt != nil && !(*readAt).Equal(version) {
				return preconditionFailed()
			}
			*readAt = &version
		}
		v, err := op(r.Context(), who, o, id, req)
		if err != nil {
			return cond.refusal(err)
		}
		setETag(w, v.ID, v.UpdatedAt)
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// ssoConfigVersion is the version of configuration id that If-Match (cond)
// names, zero when it names none; a stale If-Match is 412.
func (s *server) ssoConfigVersion(r *http.Request, who admin.Principal, o policy.Owner, id string, cond precondition) (time.Time, error) {
	if !cond.given {
		return time.Time{}, nil
	}
	read, err := s.admin.SSOConfig(r.Context(), who, o, id)
	if err != nil {
		return time.Time{}, err
	}
	if err := cond.check(read.ID, read.UpdatedAt); err != nil {
		return time.Time{}, err
	}
	return cond.version(read.UpdatedAt), nil
}

func handleSSOConfigDelete(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		o, id := ownerOf(r), r.PathValue("config_id")
		cond, err := ifMatchOf(r)
		if err != nil {
			return err
		}
		version, err := s.ssoConfigVersion(r, who, o, id, cond)
		if err != nil {
			return err
		}
		if err := s.admin.DeleteSSOConfigIf(r.Context(), who, o, id, version); err != nil {
			return cond.refusal(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
