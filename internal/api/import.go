package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"gatehouse"
	"gatehouse/internal/admin"
)

// maxImportBody bounds an import's body: 100,000 rows (admin.MaxImportRows)
// of a long email, name and a few groups fit with room to spare. The body
// is read whole before the first row is checked, since nothing is written
// unless every row is good.
const maxImportBody = 32 << 20

// importFormats are the media types an import is sent as.
var importFormats = map[string]admin.ImportFormat{
	"text/csv":             admin.ImportCSV,
	"application/x-ndjson": admin.ImportJSONLines,
}

// importProblem is the 422 of an import with bad rows: a problem document
// whose errors name each row's line, and error_count how many there are
// when errors holds only the first admin.MaxImportErrors.
type importProblem struct {
	Type       string                 `json:"type"`
	Title      string                 `json:"title"`
	Status     int                    `json:"status"`
	Detail     string                 `json:"detail"`
	Errors     []admin.ImportRowError `json:"errors"`
	ErrorCount int                    `json:"error_count"`
}

// handleUserImport is POST /api/v1/accounts/{account_id}/user-imports: a
// CSV or JSON lines file of users, applied whole or not at all
// (admin.ImportUsers). Query: dry_run=true validates only; existing=skip
// leaves users already in the account as they are instead of refusing.
//
// The path is a collection of its own rather than users/import: that
// would collide, in the router, with users/{user_id}.
func handleUserImport(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		accountID := r.PathValue("account_id")
		if _, err := s.admin.Account(r.Context(), who, accountID); err != nil {
			return err
		}
		opt, err := importOptions(r)
		if err != nil {
			return err
		}
		body, err := readImportBody(w, r)
		if err != nil {
			return err
		}
		res, err := s.admin.ImportUsers(r.Context(), who, accountID, bytes.NewReader(body), opt)
		var ie *admin.ImportError
		if errors.As(err, &ie) {
			writeImportProblem(w, ie)
			return nil
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	}
}

// importOptions reads the format from Content-Type and the query's
// dry_run and existing.
func importOptions(r *http.Request) (admin.ImportOptions, error) {
	var opt admin.ImportOptions
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	format, known := importFormats[mt]
	if err != nil || !known {
		return opt, &problem{Status: http.StatusUnsupportedMediaType,
			Detail: "an import is sent as text/csv (with a header row) or application/x-ndjson (one JSON object a line)"}
	}
	if cs := params["charset"]; !gatehouse.IsUTF8Charset(cs) {
		return opt, &problem{Status: http.StatusUnsupportedMediaType, Detail: fmt.Sprintf("an import must be UTF-8; charset %q is not accepted", cs)}
	}
	opt.Format = format
	q, err := queryOf(r, "dry_run", "existing")
	if err != nil {
		return opt, err
	}
	switch q.Get("dry_run") {
	case "", "false":
	case "true":
		opt.DryRun = true
	default:
		return opt, badRequest("dry_run must be true or false", gatehouse.FieldError{Field: "dry_run", Message: "must be true or false"})
	}
	switch e := admin.ImportExisting(q.Get("existing")); e {
	case "", admin.ImportExistingError, admin.ImportExistingSkip:
		opt.Existing = e
	default:
		return opt, badRequest("existing must be error or skip", gatehouse.FieldError{Field: "existing", Message: "must be error or skip"})
	}
	return opt, nil
}

// readImportBody reads the whole body, refusing one over maxImportBody.
func readImportBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooBig := &problem{Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("an import is at most %d bytes (32 MiB); split the file", maxImportBody)}
	if r.ContentLength > maxImportBody {
		return nil, tooBig
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImportBody))
	switch {
	case isTooLarge(err):
		return nil, tooBig
	case err != nil:
		return nil, badRequest("the request body could not be read")
	}
	return body, nil
}

func writeImportProblem(w http.ResponseWriter, e *admin.ImportError) {
	detail := fmt.Sprintf("%d rows or fields are bad; nothing was imported", e.Total)
	if e.Total > len(e.Errors) {
		detail += fmt.Sprintf(" (errors lists the first %d)", len(e.Errors))
	}
	if e.Total == 1 {
		detail = strings.Replace(detail, "rows or fields are", "row or field is", 1)
	}
	writeJSONAs(w, "application/problem+json", http.StatusUnprocessableEntity, importProblem{Type: "about:blank",
		Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
		Detail: detail, Errors: e.Errors, ErrorCount: e.Total})
}
