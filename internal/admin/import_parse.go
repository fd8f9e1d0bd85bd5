package admin

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxImportLine bounds one line of a JSON lines import; a row is far
// shorter, and the bound keeps a file without newlines from being read
// whole as one line.
const maxImportLine = 1 << 20

// parseImport reads r's rows in format, adding what is malformed to errs.
// Only a failure to read r is returned as an error.
func parseImport(r io.Reader, format ImportFormat, errs *rowErrors) ([]importRow, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// Spreadsheets save UTF-8 CSV with a byte order mark; it is not data.
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\ufeff")) {
		br.Discard(3)
	}
	var (
		rows []importRow
		err  error
	)
	if format == ImportCSV {
		rows, err = parseCSV(br, errs)
	} else {
		rows, err = parseJSONLines(br, errs)
	}
	if err == nil && len(rows) == 0 && errs.total == 0 {
		errs.add(0, "", "has no rows")
	}
	return rows, err
}

// tooManyRows records the row past MaxImportRows; reading stops there.
func tooManyRows(line int, errs *rowErrors) {
	errs.add(line, "", "is past the "+strconv.Itoa(MaxImportRows)+" rows one import takes; split the file")
}

// csvColumns are the columns a CSV import may have, by header name; "name"
// is another name for display_name, as spreadsheets head that column.
var csvColumns = map[string]string{
	"email": "email", "display_name": "display_name", "name": "display_name",
	"role": "role", "status": "status", "groups": "groups",
}

// groupSeparator separates the groups in a CSV import's groups column.
const groupSeparator = ";"

func parseCSV(r io.Reader, errs *rowErrors) ([]importRow, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, csvError(err, errs)
	}
	cols, ok := csvHeader(header, errs)
	if !ok {
		return nil, nil
	}
	var rows []importRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(err, csv.ErrFieldCount) {
				errs.add(pe.StartLine, "", "has "+strconv.Itoa(len(rec))+" fields; the header has "+strconv.Itoa(len(header)))
				continue
			}
			return rows, csvError(err, errs)
		}
		line, _ := cr.FieldPos(0)
		if len(rows) == MaxImportRows {
			tooManyRows(line, errs)
			return rows, nil
		}
		if row, ok := csvRow(line, cols, rec, errs); ok {
			rows = append(rows, row)
		}
	}
}

// csvError records a CSV syntax error, after which the file cannot be
// read on; any other error is the reader's, returned.
func csvError(err error, errs *rowErrors) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	errs.add(pe.Line, "", "is not valid CSV ("+pe.Err.Error()+"); the rows after it were not read")
	return nil
}

// csvHeader maps the header's columns to fields, or records why it
// cannot: an unknown or repeated column, or no email column.
func csvHeader(header []string, errs *rowErrors) ([]string, bool) {
	before := errs.total
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		field, ok := csvColumns[name]
		switch {
		case !ok:
			errs.add(1, "", "names column "+strconv.Quote(h)+"; the columns are email, display_name (or name), role, status and groups")
		case seen[field]:
			errs.add(1, "", "names column "+field+" twice")
		}
		seen[field], cols[i] = true, field
	}
	if !seen["email"] {
		errs.add(1, "", "has no email column")
	}
	return cols, errs.total == before
}

// csvRow is one record as a row, or false when a field is not UTF-8 text.
func csvRow(line int, cols, rec []string, errs *rowErrors) (importRow, bool) {
	row := importRow{line: line}
	for i, v := range rec {
		if !utf8.ValidString(v) {
			errs.add(line, cols[i], "is not valid UTF-8 text")
			return row, false
		}
		switch cols[i] {
		case "email":
			row.email = v
		case "display_name":
			row.name = v
		case "role":
			row.role = strings.TrimSpace(v)
		case "status":
			row.status = strings.TrimSpace(v)
		case "groups":
			row.groups = splitGroups(v)
		}
	}
	return row, true
}

// splitGroups splits a CSV groups cell; empty pieces (a trailing
// separator, an empty cell) name no group.
func splitGroups(cell string) []string {
	var out []string
	for _, g := range strings.Split(cell, groupSeparator) {
		if strings.TrimSpace(g) != "" {
			out = append(out, g)
		}
	}
	return out
}

// jsonRow is one line of a JSON lines import. Name is another name for
// DisplayName, as in CSV.
type jsonRow struct {
	Email       string   `json:"email"`
	DisplayName *string  `json:"display_name"`
	Name        *string  `json:"name"`
	Role        string   `json:"role"`
	Status      string   `json:"status"`
	Groups      []string `json:"groups"`
}

func parseJSONLines(r io.Reader, errs *rowErrors) ([]importRow, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxImportLine)
	var rows []importRow
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if len(rows) == MaxImportRows {
			tooManyRows(line, errs)
			return rows, nil
		}
		if row, ok := jsonLine(line, text, errs); ok {
			rows = append(rows, row)
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		errs.add(line+1, "", "is longer than "+strconv.Itoa(maxImportLine)+" bytes; the rows after it were not read")
		return rows, nil
	}
	return rows, sc.Err()
}

// jsonLine decodes one line, or records why it is not a row.
func jsonLine(line int, text []byte, errs *rowErrors) (importRow, bool) {
	// Checked before decoding: encoding/json would keep U+FFFD in place of
	// what the file held.
	if !utf8.Valid(text) {
		errs.add(line, "", "is not valid UTF-8 text")
		return importRow{}, false
	}
	var j jsonRow
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		field, msg := jsonLineError(err)
		errs.add(line, field, msg)
		return importRow{}, false
	}
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		errs.add(line, "", "must hold one JSON object, and nothing after it")
		return importRow{}, false
	}
	if j.Name != nil && j.DisplayName != nil {
		errs.add(line, "name", "is another name for display_name; give one of them")
		return importRow{}, false
	}
	row := importRow{line: line, email: j.Email, role: j.Role, status: j.Status, groups: j.Groups}
	for _, n := range []*string{j.DisplayName, j.Name} {
		if n != nil {
			row.name = *n
		}
	}
	return row, true
}

// jsonLineError says what is wrong with a line that did not decode.
func jsonLineError(err error) (field, msg string) {
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ) && typ.Field == "":
		return "", "must be a JSON object"
	case errors.As(err, &typ) && strings.HasPrefix(typ.Field, "groups"):
		return "groups", "must be an array of strings"
	case errors.As(err, &typ):
		return typ.Field, "must be a string"
	}
	if name, ok := unknownJSONField(err); ok {
		return "", "has field " + strconv.Quote(name) + "; the fields are email, display_name (or name), role, status and groups"
	}
	return "", "is not a JSON object"
}

// unknownJSONField extracts the field name from the decoder's error for a
// field the row does not have; encoding/json offers no typed error for it.
func unknownJSONField(err error) (string, bool) {
	_, quoted, ok := strings.Cut(err.Error(), "unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(quoted)
	return name, uerr == nil
}
