package admin_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// importFixture is an enterprise account with one user (ada) and one group
// ("Support desk"), and a second account in another partition.
type importFixture struct {
	t      *testing.T
	s      *store.Store
	svc    *admin.Service
	acct   gatehouse.Account
	other  gatehouse.Account
	ada    gatehouse.User
	group  gatehouse.Group
	before int64 // the account's policy version at the start
}

func newImportFixture(t *testing.T, s *store.Store) *importFixture {
	t.Helper()
	ctx := context.Background()
	f := &importFixture{t: t, s: s, svc: admin.New(admin.Config{Store: s})}
	for i, a := range []*gatehouse.Account{&f.acct, &f.other} {
		p := gatehouse.Partition{Name: fmt.Sprintf("P%d", i)}
		if err := s.CreatePartition(ctx, &p); err != nil {
			t.Fatal(err)
		}
		*a = gatehouse.Account{PartitionID: p.ID, Name: fmt.Sprintf("A%d", i), Plan: gatehouse.PlanEnterprise}
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	f.ada = gatehouse.User{AccountID: f.acct.ID, Email: "ada@acme.example", DisplayName: "Ada", Role: gatehouse.RoleAdmin, Status: gatehouse.UserActive}
	if err := s.CreateUser(ctx, &f.ada); err != nil {
		t.Fatal(err)
	}
	f.group = gatehouse.Group{AccountID: f.acct.ID, Name: "Support desk"}
	if err := s.CreateGroup(ctx, &f.group); err != nil {
		t.Fatal(err)
	}
	f.before = f.policyVersion()
	return f
}

func (f *importFixture) run(p admin.Principal, format admin.ImportFormat, body string, mods ...func(*admin.ImportOptions)) (admin.ImportResult, error) {
	opt := admin.ImportOptions{Format: format}
	for _, m := range mods {
		m(&opt)
	}
	return f.svc.ImportUsers(context.Background(), p, f.acct.ID, strings.NewReader(body), opt)
}

// rowErrors returns err's errors as "line N: reason" strings, failing the
// test unless err is an *admin.ImportError.
func (f *importFixture) rowErrors(err error) []string {
	f.t.Helper()
	var ie *admin.ImportError
	if !errors.As(err, &ie) {
		f.t.Fatalf("error %v, want an *admin.ImportError", err)
	}
	if !errors.Is(err, gatehouse.ErrInvalid) {
		f.t.Error("an ImportError does not match ErrInvalid")
	}
	var out []string
	for _, e := range ie.Errors {
		out = append(out, e.String())
	}
	return out
}

func (f *importFixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.s.DB().QueryRow(query, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *importFixture) policyVersion() int64 {
	f.t.Helper()
	a, err := f.s.Account(context.Background(), f.acct.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return a.PolicyVersion
}

// unchanged fails the test if anything an import writes was written.
func (f *importFixture) unchanged() {
	f.t.Helper()
	if n := f.count(`SELECT count(*) FROM users`); n != 1 {
		f.t.Errorf("%d users, want only ada", n)
	}
	if n := f.count(`SELECT count(*) FROM user_groups`); n != 1 {
		f.t.Errorf("%d groups, want only Support desk", n)
	}
	if n := f.count(`SELECT count(*) FROM group_members`); n != 0 {
		f.t.Errorf("%d memberships, want none", n)
	}
	if n := f.count(`SELECT count(*) FROM audit_events`); n != 0 {
		f.t.Errorf("%d audit events, want none", n)
	}
	if v := f.policyVersion(); v != f.before {
		f.t.Errorf("policy version %d, want %d", v, f.before)
	}
}

func (f *importFixture) user(email string) gatehouse.User {
	f.t.Helper()
	u, err := f.s.UserByEmail(context.Background(), f.acct.ID, email)
	if err != nil {
		f.t.Fatalf("user %s: %v", email, err)
	}
	return u
}

func (f *importFixture) groupsOf(email string) []string {
	f.t.Helper()
	gs, err := f.s.GroupsOfUser(context.Background(), f.user(email).ID)
	if err != nil {
		f.t.Fatal(err)
	}
	var names []string
	for _, g := range gs {
		names = append(names, g.Name)
	}
	slices.Sort(names)
	return names
}

var cli = admin.SystemPrincipal("cli")

func dryRun(o *admin.ImportOptions) { o.DryRun = true }
func skip(o *admin.ImportOptions)   { o.Existing = admin.ImportExistingSkip }

// TestImportOneBadRowImportsNothing: one bad row among good ones, in CSV
// and in JSON lines, refuses the whole file, naming the bad line and why.
func TestImportOneBadRowImportsNothing(t *testing.T) {
	for _, tt := range []struct {
		format admin.ImportFormat
		body   string
		want   []string
	}{
		{admin.ImportCSV, "email,name,role,groups\nbob@acme.example,Bob,,Sales\nnot-an-email,Carol,,\ndave@acme.example,Dave,user,Sales;Support desk\n",
			[]string{"line 3: email email is not a valid address"}},
		{admin.ImportJSONLines, `{"email":"bob@acme.example","name":"Bob","groups":["Sales"]}` + "\n" +
			`{"email":"carol@acme.example","role":"boss"}` + "\n\n" +
			`{"email":"dave@acme.example","groups":["Sales"]}` + "\n",
			[]string{"line 2: role must be user, admin, partition_admin or super_admin"}},
	} {
		storetest.Each(t, func(t *testing.T, s *store.Store) {
			f := newImportFixture(t, s)
			_, err := f.run(cli, tt.format, tt.body)
			if got := f.rowErrors(err); !slices.Equal(got, tt.want) {
				t.Errorf("%s: errors %q, want %q", tt.format, got, tt.want)
			}
			f.unchanged()
		})
	}
}

// TestImportWritesUsersGroupsAndOneEvent: a good file creates its users
// (emails normalized as CreateUser does, role and status defaulted), the
// groups the account lacks, the memberships, bumps the policy version
// once and writes one audit event with the counts.
func TestImportWritesUsersGroupsAndOneEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newImportFixture(t, s)
		body := "\ufeffEmail, Name ,Role,Status,Groups\n" +
			" Bob@Acme.Example ,Bob Builder,,,Sales; Support desk;\n" +
			"carol@acme.example,,admin,disabled,\n" +
			"\"dave@acme.example\",\"Dave, Jr.\",user,active,Sales;Sales\n"
		res, err := f.run(cli, admin.ImportCSV, body)
		if err != nil {
			t.Fatal(err)
		}
		want := admin.ImportResult{Rows: 3, UsersCreated: 3, AdminsCreated: 1, GroupsCreated: 1, MembershipsAdded: 3}
		if res != want {
			t.Errorf("result %+v, want %+v", res, want)
		}
		bob := f.user("bob@acme.example")
		if bob.DisplayName != "Bob Builder" || bob.Role != gatehouse.RoleUser || bob.Status != gatehouse.UserActive || bob.HasPassword {
			t.Errorf("bob %+v", bob)
		}
		if c := f.user("carol@acme.example"); c.Role != gatehouse.RoleAdmin || c.Status != gatehouse.UserDisabled {
			t.Errorf("carol %+v", c)
		}
		if d := f.user("dave@acme.example"); d.DisplayName != "Dave, Jr." {
			t.Errorf("dave %+v", d)
		}
		if g := f.groupsOf("bob@acme.example"); !slices.Equal(g, []string{"Sales", "Support desk"}) {
			t.Errorf("bob's groups %q", g)
		}
		if g := f.groupsOf("dave@acme.example"); !slices.Equal(g, []string{"Sales"}) {
			t.Errorf("dave's groups %q", g)
		}
		if n := f.count(`SELECT count(*) FROM user_groups WHERE name = 'Support desk'`); n != 1 {
			t.Errorf("%d groups named Support desk: the existing one must be reused", n)
		}
		if v := f.policyVersion(); v != f.before+1 {
			t.Errorf("policy version %d, want %d (one bump)", v, f.before+1)
		}
		evs, err := s.ListAudit(context.Background(), gatehouse.AuditFilter{AccountID: f.acct.ID}, gatehouse.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Action != "user.import" || evs[0].ActorType != gatehouse.ActorSystem ||
			evs[0].TargetID != f.acct.ID || evs[0].Details["users_created"] != "3" || evs[0].Details["groups_created"] != "1" ||
			evs[0].Details["admins_created"] != "1" || evs[0].Details["format"] != "csv" {
			t.Errorf("audit %+v, want one user.import event with the counts", evs)
		}
	})
}

// TestImportJSONLines: the same through JSON lines, groups as an array.
func TestImportJSONLines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newImportFixture(t, s)
		body := `{"email":"bob@acme.example","display_name":"Bob","groups":["Sales","Support desk"]}` + "\r\n" +
			`{"email":"carol@acme.example","role":"admin","status":"active","groups":[]}` + "\n" +
			"   \n" +
			`{"email":"dave@acme.example"}`
		res, err := f.run(cli, admin.ImportJSONLines, body)
		if err != nil {
			t.Fatal(err)
		}
		if res.UsersCreated != 3 || res.GroupsCreated != 1 || res.MembershipsAdded != 2 {
			t.Errorf("result %+v", res)
		}
		if g := f.groupsOf("bob@acme.example"); !slices.Equal(g, []string{"Sales", "Support desk"}) {
			t.Errorf("bob's groups %q", g)
		}
	})
}

// TestImportReportsEveryBadRow: every bad row is found in one pass, with
// its line, in line order: malformed lines, bad fields, duplicates in the
// file and emails the account already has.
func TestImportReportsEveryBadRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newImportFixture(t, s)
		csvBody := "email,display_name,groups\n" +
			"bob@acme.example,Bob,\n" +
			"BOB@acme.example,Bob again,\n" +
			"ADA@acme.example,Ada,\n" +
			"erin@acme.example,Erin\n" +
			",Nobody,\n" +
			"frank@acme.example,Frank,\"Sales;" + strings.Repeat("x", 201) + "\"\n" +
			"gina@acme.example,\"Gina\x01\",\n"
		_, err := f.run(cli, admin.ImportCSV, csvBody)
		want := []string{
			"line 3: email is on line 2 already",
			"line 4: email is already a user of this account (import with existing=skip to leave them as they are)",
			"line 5: has 2 fields; the header has 3",
			"line 6: email email is required",
			`line 7: groups "` + strings.Repeat("x", 201) + `": a group name must be at most 200 characters`,
			"line 8: display_name must not contain control characters",
		}
		if got := f.rowErrors(err); !slices.Equal(got, want) {
			t.Errorf("CSV errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		jsonBody := `{"email":"bob@acme.example"}` + "\n" +
			`{"email":"bob@acme.example"}` + "\n" +
			`{"email":"carol@acme.example","groups":"Sales"}` + "\n" +
			`{"email":"dave@acme.example","team":"x"}` + "\n" +
			`["erin@acme.example"]` + "\n" +
			`{"email":"frank@acme.example"} {}` + "\n" +
			`{"email":"gina@acme.example",` + "\n" +
			`{"email":"hal@acme.example","name":"Hal","display_name":"Hal"}` + "\n" +
			"{\"email\":\"ivy@acme.example\",\"name\":\"Ivy\xff\"}\n" +
			`{"email":"jo@acme.example","groups":[""]}` + "\n"
		_, err = f.run(cli, admin.ImportJSONLines, jsonBody)
		want = []string{
			"line 2: email is on line 1 already",
			"line 3: groups must be an array of strings",
			`line 4: has field "team"; the fields are email, display_name (or name), role, status and groups`,
			"line 5: must be a JSON object",
			"line 6: must hold one JSON object, and nothing after it",
			"line 7: is not a JSON object",
			"line 8: name is another name for display_name; give one of them",
			"line 9: is not valid UTF-8 text",
			`line 10: groups "": a group name must not be empty`,
		}
		if got := f.rowErrors(err); !slices.Equal(got, want) {
			t.Errorf("JSON lines errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		f.unchanged()
	})
}

// TestImportHeaderAndEmptyFile: a CSV header must name known columns,
// once each, including email; an empty file is refused.
func TestImportHeaderAndEmptyFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newImportFixture(t, s)
		for _, tt := range []struct {
			format admin.ImportFormat
			body   string
			want   []string
		}{
			{admin.ImportCSV, "mail,name,name\nbob@acme.example,Bob,Bob\n", []string{
				`line 1: names column "mail"; the columns are email, display_name (or name), role, status and groups`,
				"line 1: names column display_name twice",
				"line 1: has no email column"}},
			{admin.ImportCSV, "", []string{"file: has no rows"}},
			{admin.ImportCSV, "email\n", []string{"file: has no rows"}},
			{admin.ImportJSONLines, "\n\n", []string{"file: has no rows"}},
			{admin.ImportCSV, "email\n\"bob@acme.example\n", []string{`line 2: is not valid CSV (extraneous or missing " in quoted-field); the rows after it were not read`}},
		} {
			_, err := f.run(cli, tt.format, tt.body)
			if got := f.rowErrors(err); !slices.Equal(got, tt.want) {
				t.Errorf("%q: errors %q, want %q", tt.body, got, tt.want)
			}
		}
		f.unchanged()
	})
}

// TestImportExistingSkip: with existing=skip a row whose email the
// account has leaves that user exactly as they were.
func TestImportExistingSkip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newImportFixture(t, s)
		body := "email,name,role,groups\nada@acme.example,Someone Else,user,Sales\nbob@acme.example,Bob,,Sales\n"
		res, err := f.run(cli, admin.ImportCSV, body, skip)
		if err != nil {
			t.Fatal(err)
		}
		if res.UsersCreated != 1 || res.UsersSkipped != 1 || res.MembershipsAdded != 1 {
			t.Errorf("result %+v", res)
		}
		if a := f.user("ada@acme.example"); a.DisplayName != "Ada" || a.Role != gatehouse.RoleAdmin || len(f.groupsOf(a.Email)) != 0 {
			t.Errorf("ada changed: %+v, groups %q", a, f.groupsOf(a.Email))
		}
		// Everything skipped: nothing written, nothing audited.
		before := f.count(`SELECT count(*) FROM audit_events`)
		res, err = f.run(cli, admin.ImportCSV, body, skip)
		if err != nil || res.UsersCreated != 0 || res.UsersSkipped != 2 {
			t.Errorf("second run: %+v, %v", res, err)
		}
		if n := f.count(`SELECT count(*) FROM audit_events`); n != before {
			t.Errorf("an import that wrote nothing was audited")
		}
	})
}

// TestImportDryRun validates and counts, and writes nothing.
func TestImportDryRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newImportFixture(t, s)
		res, err := f.run(cli, admin.ImportCSV, "email,groups\nbob@acme.example,Sales;Support desk\ncarol@acme.example,Sales\n", dryRun)
		if err != nil {
			t.Fatal(err)
		}
		want := admin.ImportResult{DryRun: true, Rows: 2, UsersCreated: 2, GroupsCreated: 1, MembershipsAdded: 3}
		if res != want {
			t.Errorf("result %+v, want %+v", res, want)
		}
		f.unchanged()
		_, err = f.run(cli, admin.ImportCSV, "email\nbad\n", dryRun)
		if got := f.rowErrors(err); !slices.Equal(got, []string{"line 2: email email is not a valid address"}) {
			t.Errorf("dry run errors %q", got)
		}
	})
}

// TestImportRights: an import is refused to whoever could not create the
// same user one by one: another account's admin or token (as if the
// account did not exist), a plain user, and a role above the importer's
// reach (a bad row).
func TestImportRights(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newImportFixture(t, s)
		otherAdmin := admin.UserPrincipal(gatehouse.User{ID: "usr_x", AccountID: f.other.ID, Role: gatehouse.RoleAdmin, Status: gatehouse.UserActive}, f.other, "", "")
		otherToken := admin.TokenPrincipal(gatehouse.APIToken{ID: "tok_x", Scope: gatehouse.ScopeAccount, ScopeID: f.other.ID}, "", "")
		plain := admin.UserPrincipal(gatehouse.User{ID: "usr_y", AccountID: f.acct.ID, Role: gatehouse.RoleUser, Status: gatehouse.UserActive}, f.acct, "", "")
		body := "email\nbob@acme.example\n"
		for name, p := range map[string]admin.Principal{"other account's admin": otherAdmin, "other account's token": otherToken} {
			if _, err := f.run(p, admin.ImportCSV, body); !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}
		if _, err := f.run(plain, admin.ImportCSV, body); !errors.Is(err, admin.ErrForbidden) {
			t.Errorf("plain user: %v, want forbidden", err)
		}
		accountAdmin := admin.UserPrincipal(f.ada, f.acct, "", "")
		_, err := f.run(accountAdmin, admin.ImportCSV, "email,role\nbob@acme.example,partition_admin\n")
		if got := f.rowErrors(err); !slices.Equal(got, []string{"line 2: role this admin can grant at most admin"}) {
			t.Errorf("role above reach: %q", got)
		}
		f.unchanged()
		if _, err := f.run(accountAdmin, admin.ImportCSV, "email,role\nbob@acme.example,admin\n"); err != nil {
			t.Errorf("the account's admin importing into it: %v", err)
		}
	})
}

// TestImportErrorsAreBounded: a file of bad rows lists the first
// MaxImportErrors and counts them all.
func TestImportErrorsAreBounded(t *testing.T) {
	s := storetest.SQLite(t)
	f := newImportFixture(t, s)
	var b strings.Builder
	b.WriteString("email\n")
	for range admin.MaxImportErrors + 5 {
		b.WriteString("nope\n")
	}
	_, err := f.run(cli, admin.ImportCSV, b.String())
	var ie *admin.ImportError
	if !errors.As(err, &ie) || len(ie.Errors) != admin.MaxImportErrors || ie.Total != admin.MaxImportErrors+5 || ie.Errors[0].Line != 2 {
		t.Fatalf("%v: want the first %d errors of %d", err, admin.MaxImportErrors, admin.MaxImportErrors+5)
	}
}

// TestImportRowLimit: one import takes at most MaxImportRows rows.
func TestImportRowLimit(t *testing.T) {
	s := storetest.SQLite(t)
	f := newImportFixture(t, s)
	var b strings.Builder
	b.WriteString("email\n")
	for i := range admin.MaxImportRows + 1 {
		fmt.Fprintf(&b, "u%d@acme.example\n", i)
	}
	_, err := f.run(cli, admin.ImportCSV, b.String())
	want := fmt.Sprintf("line %d: is past the %d rows one import takes; split the file", admin.MaxImportRows+2, admin.MaxImportRows)
	if got := f.rowErrors(err); !slices.Equal(got, []string{want}) {
		t.Errorf("errors %q, want %q", got, want)
	}
	f.unchanged()
}

// TestImportOptionsChecked: an unknown format or choice for existing
// users is a field error naming the option.
func TestImportOptionsChecked(t *testing.T) {
	s := storetest.SQLite(t)
	f := newImportFixture(t, s)
	_, err := f.svc.ImportUsers(context.Background(), cli, f.acct.ID, strings.NewReader("email\nbob@acme.example\n"),
		admin.ImportOptions{Format: "xml", Existing: "update"})
	var v *gatehouse.ValidationError
	if !errors.As(err, &v) || len(v.Fields) != 2 {
		t.Errorf("%v, want format and existing refused", err)
	}
}
