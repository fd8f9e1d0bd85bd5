package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
)

// Idempotency keys (issue 16, part 3): a create sent with an
// Idempotency-Key runs once per key and API token. Sent again with the
// same key, method, path and body within idempotencyTTL, it gets the first
// answer again, marked Idempotent-Replayed: true, without running; with
// another body it is a 422; while the first still runs, a 409. Kept are
// the answers a retry would get again: successes and the 400 and 415 that
// are about the request's own form. Any other answer (403, 404, 409, 422,
// 5xx...) depends on the state of the moment, changed nothing, and frees
// the key, so a retry runs again. Answers are kept sealed with the secret
// key: some hold a secret shown once (a client secret, a SCIM token, a
// setup link), which a replay must show again.

const (
	// idempotencyTTL is how long a key's answer is kept.
	idempotencyTTL = 24 * time.Hour
	// idempotencyLease is how long a claim without an answer holds the
	// key: past it, the process that ran the request is taken to have
	// stopped (requests are cut long before), and the key is free again.
	idempotencyLease = 10 * time.Minute
	// maxIdempotencyKey bounds a key, in bytes.
	maxIdempotencyKey = 255
)

// keptHeaders are the headers of an answer a replay gives again.
var keptHeaders = []string{"Content-Type", "Location", "ETag", "X-Content-Type-Options"}

// keptAnswer is an answer as kept for replays, before sealing.
type keptAnswer struct {
	Status int               `json:"status"`
	Header map[string]string `json:"header"`
	Body   []byte            `json:"body"`
}

// idempotent makes h, a create, honour Idempotency-Key. A route opts in by
// wrapping its handler: a(once(handleXCreate(s))).
func (s *server) idempotent(h apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		values := r.Header.Values("Idempotency-Key")
		if len(values) == 0 {
			return h(w, r, who)
		}
		key, err := idempotencyKeyOf(values)
		if err != nil {
			return err
		}
		if s.secrets == nil {
			return &problem{Status: http.StatusNotImplemented, Detail: "this server keeps no idempotent answers: it has no secret key"}
		}
		body, err := readBody(w, r)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		principal := string(who.Kind) + ":" + who.ID
		fp := requestFingerprint(r.Method, r.URL.RequestURI(), body)
		claim, err := s.store.ClaimIdempotencyKey(r.Context(), principal, key, fp, idempotencyTTL, idempotencyLease)
		if err != nil {
			return err
		}
		if !claim.Owned {
			return s.replay(w, claim, fp, store.IdempotentAnswerPurpose(principal, key))
		}
		// The claim ends however the request does: a client that goes
		// away, or a panic, must not leave the key held.
		ctx := context.WithoutCancel(r.Context())
		kept := false
		defer func() {
			if !kept {
				if err := s.store.ReleaseIdempotencyKey(ctx, principal, key, claim.ClaimedAt); err != nil {
					s.logger.Warn("api: idempotency key not released", "err", err)
				}
			}
		}()
		rec := &recorder{header: http.Header{}}
		if err := h(rec, r, who); err != nil {
			s.writeError(rec, r, err)
		}
		if keepsAnswer(rec.statusCode()) {
			sealed, err := s.seal(rec, store.IdempotentAnswerPurpose(principal, key))
			if err == nil {
				err = s.store.KeepIdempotentAnswer(ctx, principal, key, claim.ClaimedAt, sealed)
			}
			if err != nil {
				// The answer still goes out; a retry finds the key held
				// until the lease ends.
				s.logger.Error("api: idempotent answer not kept", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			kept = err == nil
		}
		rec.copyTo(w)
		return nil
	}
}

// replay answers a request whose key was used before: with the first
// answer, if it was to this very request and is known.
func (s *server) replay(w http.ResponseWriter, claim store.IdempotencyClaim, fp, purpose string) error {
	switch {
	case claim.Fingerprint != fp:
		return &problem{Status: http.StatusUnprocessableEntity,
			Detail: "this Idempotency-Key was used for another request (a different method, path or body) within the last 24 hours: use a new key for a new request",
			Errors: []gatehouse.FieldError{{Field: "Idempotency-Key", Message: "was used for another request"}}}
	case claim.Answer == nil:
		w.Header().Set("Retry-After", "1")
		return &problem{Status: http.StatusConflict,
			Detail: "a request with this Idempotency-Key is still running: retry shortly to get its answer",
			Errors: []gatehouse.FieldError{{Field: "Idempotency-Key", Message: "is in use by a request still running"}}}
	}
	plain, err := s.secrets.Open(purpose, claim.Answer)
	var a keptAnswer
	if err == nil {
		err = json.Unmarshal(plain, &a)
	}
	if err != nil {
		s.logger.Error("api: idempotent answer cannot be read", "err", err)
		return &problem{Status: http.StatusConflict,
			Detail: "the first answer to this Idempotency-Key can no longer be read (the secret key changed): check whether the first request took effect, then use a new key",
			Errors: []gatehouse.FieldError{{Field: "Idempotency-Key", Message: "has an answer that cannot be read"}}}
	}
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(a.Status)
	w.Write(a.Body)
	return nil
}

func (s *server) seal(rec *recorder, purpose string) ([]byte, error) {
	a := keptAnswer{Status: rec.statusCode(), Header: map[string]string{}, Body: rec.body.Bytes()}
	for _, k := range keptHeaders {
		if v := rec.header.Get(k); v != "" {
			a.Header[k] = v
		}
	}
	plain, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	return s.secrets.Seal(purpose, plain), nil
}

// keepsAnswer says whether an answer of status is kept for replays: a
// success, or a refusal of the request's own form (400, 415), which the
// same request gets again whatever changes meanwhile.
func keepsAnswer(status int) bool {
	return status >= 200 && status < 300 || status == http.StatusBadRequest || status == http.StatusUnsupportedMediaType
}

// idempotencyKeyOf reads the Idempotency-Key header: one value of 1 to
// maxIdempotencyKey printable ASCII characters, bare or as a quoted
// structured-field string (the IETF draft's form), which stands for the
// same key.
func idempotencyKeyOf(values []string) (string, error) {
	refuse := func(msg string) error {
		return badRequest("Idempotency-Key "+msg, gatehouse.FieldError{Field: "Idempotency-Key", Message: msg})
	}
	if len(values) != 1 {
		return "", refuse("must be given once")
	}
	key := values[0]
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	if key == "" || len(key) > maxIdempotencyKey {
		return "", refuse("must be 1 to " + strconv.Itoa(maxIdempotencyKey) + " characters")
	}
	for i := range len(key) {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "", refuse("must be printable ASCII")
		}
	}
	return key, nil
}

// requestFingerprint identifies a request by its method, path (with its
// query) and body.
func requestFingerprint(method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method + "\x00" + uri + "\x00"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// maxIdempotentBody bounds the body read to fingerprint a request: the
// largest any create takes (an import); each handler still applies its own
// bound to what it is given.
const maxIdempotentBody = maxImportBody

// readBody reads the request body, at most maxIdempotentBody bytes (else a
// 413).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	refuse := &problem{Status: http.StatusRequestEntityTooLarge, Detail: "the request body is larger than any request this route takes"}
	if r.ContentLength > maxIdempotentBody {
		return nil, refuse
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxIdempotentBody))
	switch {
	case isTooLarge(err):
		return nil, refuse
	case err != nil:
		return nil, badRequest("the request body could not be read")
	}
	return body, nil
}

// recorder keeps an answer, to be kept for replays before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

func (rec *recorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return rec.body.Write(b)
}

func (rec *recorder) statusCode() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// copyTo sends the kept answer to w.
func (rec *recorder) copyTo(w http.ResponseWriter) {
	for k, vs := range rec.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.statusCode())
	w.Write(rec.body.Bytes())
}
