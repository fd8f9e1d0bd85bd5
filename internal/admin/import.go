package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"gatehouse"
	"gatehouse/internal/store"
)

// Bounds of one import. An import is one transaction, which on SQLite
// holds the database's write lock while it runs; 100,000 rows keep that
// to about a second (README, Speed), and a larger customer imports
// several files, each all or nothing.
const (
	MaxImportRows   = 100_000
	MaxImportErrors = 1000
	// maxRowGroups bounds the groups one row may name.
	maxRowGroups = 100
)

// ImportFormat is how an import's rows are written.
type ImportFormat string

// Import formats: CSV with a header row, or one JSON object a line.
const (
	ImportCSV       ImportFormat = "csv"
	ImportJSONLines ImportFormat = "jsonl"
)

// ImportExisting says what an import does with a row whose email already
// belongs to a user of the account.
type ImportExisting string

// Choices of ImportExisting. ImportExistingError (the default) makes such a
// row a bad row, so the whole import is refused; ImportExistingSkip leaves
// that user exactly as they are (no change of name, role, status or
// groups) and imports the other rows, so a file can be run again after it
// grew. There is deliberately no "update": changing roles and memberships
// of existing people in bulk is a policy change of each of them, with the
// last-way-in rule and sessions to end, and belongs to the single-user
// operations that audit each change.
const (
	ImportExistingError ImportExisting = "error"
	ImportExistingSkip  ImportExisting = "skip"
)

// ImportOptions says how to read and apply an import.
type ImportOptions struct {
	Format ImportFormat
	// Existing is empty for ImportExistingError.
	Existing ImportExisting
	// DryRun validates every row and counts what would be written, and
	// writes nothing.
	DryRun bool
}

// ImportResult counts what an import wrote (or, in a dry run, would write).
type ImportResult struct {
	DryRun           bool `json:"dry_run"`
	Rows             int  `json:"rows"`
	UsersCreated     int  `json:"users_created"`
	AdminsCreated    int  `json:"admins_created"`
	UsersSkipped     int  `json:"users_skipped"`
	GroupsCreated    int  `json:"groups_created"`
	MembershipsAdded int  `json:"memberships_added"`
}

// ImportRowError is one thing wrong with an import: the line it is on (1
// is a CSV file's header, 0 the file as a whole), the field (a column;
// empty for the row itself) and the reason, worded to follow the field's
// name.
type ImportRowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// String is the error as a person reads it: "line 3: email is not a
// valid address".
func (e ImportRowError) String() string {
	where := "line " + strconv.Itoa(e.Line)
	if e.Line == 0 {
		where = "file"
	}
	if e.Field == "" {
		return where + ": " + e.Message
	}
	return where + ": " + e.Field + " " + e.Message
}

// ImportError refuses an import with at least one bad row: nothing was
// written. Errors holds the first MaxImportErrors, in line order; Total
// counts them all. It matches gatehouse.ErrInvalid.
type ImportError struct {
	Errors []ImportRowError
	Total  int
}

func (e *ImportError) Error() string {
	return fmt.Sprintf("import refused, nothing imported: %d errors, the first: %s", e.Total, e.Errors[0])
}

// Is makes errors.Is(err, gatehouse.ErrInvalid) true for an *ImportError.
func (e *ImportError) Is(target error) bool { return target == gatehouse.ErrInvalid }

// rowErrors collects an import's errors, keeping the first MaxImportErrors.
type rowErrors struct {
	list  []ImportRowError
	total int
}

func (r *rowErrors) add(line int, field, msg string) {
	r.total++
	if len(r.list) < MaxImportErrors {
		r.list = append(r.list, ImportRowError{Line: line, Field: field, Message: msg})
	}
}

// addFields adds a row's field errors, as cleanName and checkUser word them.
func (r *rowErrors) addFields(line int, v *gatehouse.ValidationError) {
	for _, f := range v.Fields {
		r.add(line, f.Field, f.Message)
	}
}

func (r *rowErrors) err() error {
	if r.total == 0 {
		return nil
	}
	slices.SortStableFunc(r.list, func(a, b ImportRowError) int { return a.Line - b.Line })
	return &ImportError{Errors: r.list, Total: r.total}
}

// importRow is one parsed row, before validation: the fields as written.
type importRow struct {
	line                      int
	email, name, role, status string
	groups                    []string
}

// ImportUsers creates users, with their groups, in account accountID from
// the rows r holds. It is CreateUser in bulk, with the same checks: p must
// reach the account and may grant each row's role, and emails are
// normalized as CreateUser does. Every row is validated before anything is
// written, including duplicates within the file and emails already in the
// account (see ImportExisting); with any bad row the answer is an
// *ImportError and nothing is written. Otherwise the users, the groups the
// account lacks and the memberships are written in one transaction (a
// policy change of the account, guarded as AddGroupMember's is), audited
// as one gatehouse.ActionUserImport event with the counts.
func (s *Service) ImportUsers(ctx context.Context, p Principal, accountID string, r io.Reader, opt ImportOptions) (ImportResult, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return ImportResult{}, err
	}
	if err := checkImportOptions(opt); err != nil {
		return ImportResult{}, err
	}
	errs := &rowErrors{}
	rows, err := parseImport(r, opt.Format, errs)
	if err != nil {
		return ImportResult{}, err
	}
	users, lines := validateRows(p, rows, errs)
	users, skipped, err := s.checkExisting(ctx, a.ID, users, lines, opt.Existing, errs)
	if err != nil {
		return ImportResult{}, err
	}
	if err := errs.err(); err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{DryRun: opt.DryRun, Rows: len(rows), UsersCreated: len(users), UsersSkipped: skipped}
	for _, u := range users {
		res.MembershipsAdded += len(u.Groups)
		if u.User.Role.IsAdmin() {
			res.AdminsCreated++
		}
	}
	if opt.DryRun {
		res.GroupsCreated, err = s.newGroups(ctx, a.ID, users)
		return res, err
	}
	return s.applyImport(ctx, p, a, users, opt, res)
}

// checkImportOptions refuses an unknown format or choice for existing
// users, naming the option.
func checkImportOptions(opt ImportOptions) error {
	v := &gatehouse.ValidationError{}
	if opt.Format != ImportCSV && opt.Format != ImportJSONLines {
		v.Add("format", "must be csv or jsonl")
	}
	if opt.Existing != "" && opt.Existing != ImportExistingError && opt.Existing != ImportExistingSkip {
		v.Add("existing", "must be error or skip")
	}
	return v.Err()
}

// validateRows checks each row as CreateUser checks its input, and that no
// email comes twice, returning the rows that passed as users to create,
// and their lines.
func validateRows(p Principal, rows []importRow, errs *rowErrors) ([]store.ImportedUser, []int) {
	users := make([]store.ImportedUser, 0, len(rows))
	lines := make([]int, 0, len(rows))
	firstLine := make(map[string]int, len(rows))
	for _, row := range rows {
		u, ok := validateRow(p, row, errs)
		if !ok {
			continue
		}
		if first, dup := firstLine[u.User.Email]; dup {
			errs.add(row.line, "email", "is on line "+strconv.Itoa(first)+" already")
			continue
		}
		firstLine[u.User.Email] = row.line
		users = append(users, u)
		lines = append(lines, row.line)
	}
	return users, lines
}

// validateRow is one row's checks; false when it has errors (added to errs).
func validateRow(p Principal, row importRow, errs *rowErrors) (store.ImportedUser, bool) {
	v := &gatehouse.ValidationError{}
	u := gatehouse.User{
		Email:       cleanEmail(v, row.email),
		DisplayName: cleanName(v, "display_name", row.name, true),
		Role:        gatehouse.Role(row.role),
		Status:      gatehouse.UserStatus(row.status),
	}
	if u.Role == "" {
		u.Role = gatehouse.RoleUser
	}
	if u.Status == "" {
		u.Status = gatehouse.UserActive
	}
	checkUser(v, p, u)
	groups := cleanGroups(v, row.groups)
	if len(v.Fields) > 0 {
		errs.addFields(row.line, v)
		return store.ImportedUser{}, false
	}
	return store.ImportedUser{User: u, Groups: groups}, true
}

// cleanGroups checks a row's group names as CreateGroup checks one, and
// drops repeats.
func cleanGroups(v *gatehouse.ValidationError, names []string) []string {
	if len(names) > maxRowGroups {
		v.Add("groups", "must name at most "+strconv.Itoa(maxRowGroups)+" groups")
		return nil
	}
	var out []string
	for _, n := range names {
		gv := &gatehouse.ValidationError{}
		name := cleanName(gv, "groups", n, false)
		if len(gv.Fields) > 0 {
			// Say which group, since a row may name several.
			v.Add("groups", strconv.Quote(n)+": a group name "+gv.Fields[0].Message)
			continue
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// checkExisting finds the rows whose email is already a user of the
// account: bad rows, or rows to skip, as existing says. It returns the
// users left to create and how many were skipped.
func (s *Service) checkExisting(ctx context.Context, accountID string, users []store.ImportedUser, lines []int,
	existing ImportExisting, errs *rowErrors) ([]store.ImportedUser, int, error) {
	emails := make([]string, len(users))
	for i, u := range users {
		emails[i] = u.User.Email
	}
	seated, err := s.store.ExistingEmails(ctx, accountID, emails)
	if err != nil || len(seated) == 0 {
		return users, 0, err
	}
	if existing == ImportExistingSkip {
		kept := users[:0]
		for _, u := range users {
			if !seated[u.User.Email] {
				kept = append(kept, u)
			}
		}
		return kept, len(users) - len(kept), nil
	}
	for i, u := range users {
		if seated[u.User.Email] {
			errs.add(lines[i], "email", "is already a user of this account (import with existing=skip to leave them as they are)")
		}
	}
	return users, 0, nil
}

// newGroups counts the groups users name that the account lacks.
func (s *Service) newGroups(ctx context.Context, accountID string, users []store.ImportedUser) (int, error) {
	names := store.ImportGroupNames(users)
	have, err := s.store.ExistingGroups(ctx, accountID, names)
	return len(names) - len(have), err
}

// applyImport writes a validated import and audits it.
func (s *Service) applyImport(ctx context.Context, p Principal, a gatehouse.Account, users []store.ImportedUser,
	opt ImportOptions, res ImportResult) (ImportResult, error) {
	if len(users) == 0 {
		// Every row skipped: nothing to write, nothing to audit.
		return res, nil
	}
	counts, err := s.store.ImportUsers(ctx, a.ID, users)
	var last *gatehouse.LastWayInError
	switch {
	case errors.As(err, &last):
		e := importEvent(a, opt, res)
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, last.Error()
		s.Record(ctx, p, e)
		return ImportResult{}, err
	case err != nil:
		return ImportResult{}, emailTaken(err)
	}
	res.GroupsCreated, res.MembershipsAdded = counts.GroupsCreated, counts.Memberships
	s.Record(ctx, p, importEvent(a, opt, res))
	return res, nil
}

// importEvent is the one audit event of an import into account a, with
// its counts: the users it created are found by their creation time, and
// one event keeps the log readable where 100,000 would bury everything
// else.
func importEvent(a gatehouse.Account, opt ImportOptions, res ImportResult) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{Action: gatehouse.ActionUserImport, PartitionID: a.PartitionID, AccountID: a.ID,
		TargetType: "account", TargetID: a.ID, Details: map[string]string{
			"format":            string(opt.Format),
			"rows":              strconv.Itoa(res.Rows),
			"users_created":     strconv.Itoa(res.UsersCreated),
			"admins_created":    strconv.Itoa(res.AdminsCreated),
			"users_skipped":     strconv.Itoa(res.UsersSkipped),
			"groups_created":    strconv.Itoa(res.GroupsCreated),
			"memberships_added": strconv.Itoa(res.MembershipsAdded),
		}}
}
