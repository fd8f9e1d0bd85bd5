package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"gatehouse"
)

// maxBody bounds a request body; nothing the API takes comes near it.
const maxBody = 1 << 20

// decode reads the request's JSON object into dst, refusing a wrong
// Content-Type or a charset other than UTF-8 (415), a body over maxBody
// (413), and malformed JSON, a string that is not UTF-8 text, unknown fields
// or trailing data (400). Messages never quote the body, which may hold a
// password.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &problem{Status: http.StatusUnsupportedMediaType, Detail: "the request body must be JSON, sent with Content-Type: application/json"}
	}
	if cs := params["charset"]; !gatehouse.IsUTF8Charset(cs) {
		return &problem{Status: http.StatusUnsupportedMediaType, Detail: fmt.Sprintf("the request body must be UTF-8 JSON; charset %q is not accepted", cs)}
	}
	if r.ContentLength > maxBody {
		return tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	switch {
	case isTooLarge(err):
		return tooLarge()
	case err != nil:
		return badRequest("the request body could not be read")
	}
	// Checked before decoding: encoding/json would store U+FFFD in place of
	// what the client sent (A-utf8).
	if path, found := invalidText(body); found {
		return notText(path)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return bodyError(err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return badRequest("the request body must hold exactly one JSON object")
	}
	return nil
}

// notText is the problem of a body whose string at path is not UTF-8 text.
func notText(path string) *problem {
	const msg = "is not valid UTF-8 text"
	if path == "" {
		return badRequest("the request body " + msg)
	}
	return badRequest(path+" "+msg, gatehouse.FieldError{Field: path, Message: msg})
}

func tooLarge() *problem {
	return &problem{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the request body is larger than %d bytes", maxBody)}
}

func isTooLarge(err error) bool {
	var m *http.MaxBytesError
	return errors.As(err, &m)
}

func bodyError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case isTooLarge(err):
		return tooLarge()
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; it must be a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body ends before its JSON does")
	case errors.As(err, &syn):
		return badRequest(fmt.Sprintf("the request body is not valid JSON (at byte %d)", syn.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("the request body must be a JSON object")
		}
		msg := "must be " + jsonKind(typ.Type)
		return badRequest(typ.Field+" "+msg, gatehouse.FieldError{Field: typ.Field, Message: msg})
	}
	if field, ok := unknownField(err); ok {
		return badRequest("unknown field "+strconv.Quote(field), gatehouse.FieldError{Field: field, Message: "is not a field of this request"})
	}
	return badRequest("the request body could not be read as JSON")
}

// unknownField extracts the field name from the decoder's error for a field
// the target does not have; encoding/json offers no typed error for it.
func unknownField(err error) (string, bool) {
	_, quoted, ok := strings.Cut(err.Error(), "unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(quoted)
	if uerr != nil {
		return "", false
	}
	return name, true
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}
