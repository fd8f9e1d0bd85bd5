package api_test

import (
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// importResult and importProblemDoc are what an API user reads from an
// import's answers.
type importResult struct {
	DryRun           bool `json:"dry_run"`
	Rows             int  `json:"rows"`
	UsersCreated     int  `json:"users_created"`
	AdminsCreated    int  `json:"admins_created"`
	UsersSkipped     int  `json:"users_skipped"`
	GroupsCreated    int  `json:"groups_created"`
	MembershipsAdded int  `json:"memberships_added"`
}

type importProblemDoc struct {
	Status     int `json:"status"`
	ErrorCount int `json:"error_count"`
	Errors     []struct {
		Line    int    `json:"line"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

const csvType, jsonlType = "text/csv", "application/x-ndjson"

// TestUserImport: POST /accounts/{id}/user-imports takes CSV and JSON
// lines, applies a good file whole (one audit event), refuses a file with
// a bad row with 422 naming its line and writes nothing, and checks
// rights, media type, query and size. Every answer is checked against
// openapi.json by the harness.
func TestUserImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		path := "/api/v1/accounts/" + f.a1.ID + "/user-imports"
		good := "email,name,role,groups\nbob@acme.example,Bob,,Sales;Support\ncarol@acme.example,Carol,admin,Sales\n"

		// One bad row among good ones: 422, its line, nothing written.
		before := f.snapshot()
		res := f.super.do("POST", path, good+"not-an-email,Dave,,\n", "Content-Type", csvType)
		if res.Status != 422 {
			t.Fatalf("bad row: status %d, body %s", res.Status, res.Body)
		}
		problemOf(t, res)
		p := decodeAs[importProblemDoc](t, res)
		if p.ErrorCount != 1 || len(p.Errors) != 1 || p.Errors[0].Line != 4 || p.Errors[0].Field != "email" {
			t.Errorf("problem %+v, want line 4's email", p)
		}
		if f.snapshot() != before {
			t.Error("a refused import changed the database")
		}

		// Another account's token, a dry run, a wrong media type, an
		// unknown parameter, a body over the limit: nothing written.
		for _, tt := range []struct {
			c       client
			path    string
			ct      string
			body    string
			status  int
			contain string
		}{
			{f.acct, "/api/v1/accounts/" + f.a2.ID + "/user-imports", csvType, good, 404, ""},
			{f.part, "/api/v1/accounts/" + f.b1.ID + "/user-imports", csvType, good, 404, ""},
			{f.super, path + "?dry_run=true", csvType, good, 200, `"dry_run":true`},
			{f.super, path, "application/json", good, 415, ""},
			{f.super, path, "text/csv; charset=latin1", good, 415, ""},
			{f.super, path + "?existing=update", csvType, good, 400, "existing"},
			{f.super, path + "?limit=3", csvType, good, 400, "limit"},
			{f.super, path, csvType, strings.Repeat("a", 32<<20+1), 413, "32 MiB"},
		} {
			res := tt.c.do("POST", tt.path, tt.body, "Content-Type", tt.ct)
			if res.Status != tt.status || !strings.Contains(string(res.Body), tt.contain) {
				t.Errorf("%s as %s: %d %.300s, want %d with %q", tt.path, tt.ct, res.Status, res.Body, tt.status, tt.contain)
			}
		}
		if f.snapshot() != before {
			t.Error("a refused import or a dry run changed the database")
		}

		// The account's own token imports CSV, then JSON lines.
		res = f.acct.do("POST", path, good, "Content-Type", csvType+"; charset=utf-8")
		if res.Status != 200 {
			t.Fatalf("import: %d %s", res.Status, res.Body)
		}
		if got := decodeAs[importResult](t, res); got != (importResult{Rows: 2, UsersCreated: 2, AdminsCreated: 1, GroupsCreated: 2, MembershipsAdded: 3}) {
			t.Errorf("result %+v", got)
		}
		jsonl := `{"email":"bob@acme.example"}` + "\n" + `{"email":"dave@acme.example","display_name":"Dave","groups":["Support"]}` + "\n"
		res = f.acct.do("POST", path, jsonl, "Content-Type", jsonlType)
		if p := decodeAs[importProblemDoc](t, res); res.Status != 422 || p.Errors[0].Line != 1 || !contains(p.Errors[0].Message, "already a user") {
			t.Errorf("existing email: %d %s", res.Status, res.Body)
		}
		res = f.acct.do("POST", path+"?existing=skip", jsonl, "Content-Type", jsonlType)
		if got := decodeAs[importResult](t, res); res.Status != 200 || got.UsersCreated != 1 || got.UsersSkipped != 1 || got.GroupsCreated != 0 {
			t.Errorf("skip existing: %d %s", res.Status, res.Body)
		}
		evs := f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: string(gatehouse.ActionUserImport)})
		if len(evs) != 2 || evs[1].ActorID != f.acct.tok.ID || evs[1].Details["users_created"] != "2" {
			t.Errorf("audit %+v, want one user.import event per import", evs)
		}
	})
}
