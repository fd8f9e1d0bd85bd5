package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestRefusedInput: every kind of bad request answers the documented status
// and problem, names the fields at fault, and leaves the store as it was.
func TestRefusedInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		alice := f.user(f.a1.ID, "alice@example.com", gatehouse.RoleUser)
		f.user(f.a1.ID, "bob@example.com", gatehouse.RoleUser)
		g := f.group(f.a1.ID, "Sales")
		f.group(f.a1.ID, "Support")
		if err := s.AddMember(context.Background(), g.ID, alice.ID); err != nil {
			t.Fatal(err)
		}
		users := "/api/v1/accounts/" + f.a1.ID + "/users"
		groups := "/api/v1/accounts/" + f.a1.ID + "/groups"
		big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`

		tests := []struct {
			name         string
			method, path string
			body         string
			headers      []string
			want         int
			wantFields   []string
		}{
			{"malformed JSON", "POST", "/api/v1/partitions", `{"name":`, nil, 400, nil},
			{"not JSON at all", "POST", "/api/v1/partitions", `name=x`, nil, 400, nil},
			{"empty body", "POST", users, "", []string{"Content-Type", "application/json"}, 400, nil},
			{"array instead of object", "POST", "/api/v1/partitions", `[{"name":"x"}]`, nil, 400, nil},
			{"two objects", "POST", "/api/v1/partitions", `{"name":"a"}{"name":"b"}`, nil, 400, nil},
			{"unknown field", "POST", "/api/v1/partitions", `{"name":"x","colour":"red"}`, nil, 400, []string{"colour"}},
			{"unknown field on patch", "PATCH", users + "/" + alice.ID, `{"password_hash":"x"}`, nil, 400, []string{"password_hash"}},
			{"unknown field next to a password", "POST", users + "/" + alice.ID + "/password", `{"password":"a long enough password","user_id":"x"}`, nil, 400, []string{"user_id"}},
			{"wrong type", "POST", users, `{"email":42}`, nil, 400, []string{"email"}},
			{"body over 1 MiB", "POST", "/api/v1/partitions", big, nil, 413, nil},
			{"wrong content type", "POST", "/api/v1/partitions", `{"name":"x"}`, []string{"Content-Type", "text/plain"}, 415, nil},
			{"form content type", "POST", users, `email=x@example.com`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, nil},
			{"no content type", "PATCH", users + "/" + alice.ID, `{"role":"admin"}`, []string{"Content-Type", ""}, 415, nil},

			{"partition without name", "POST", "/api/v1/partitions", `{"name":"   "}`, nil, 422, []string{"name"}},
			{"name too long", "PATCH", "/api/v1/partitions/" + f.p1.ID, `{"name":"` + strings.Repeat("é", 201) + `"}`, nil, 422, []string{"name"}},
			{"account: every field wrong", "POST", "/api/v1/accounts", `{"name":"","plan":"gold"}`, nil, 422, []string{"name", "partition_id", "plan"}},
			{"account: missing partition", "POST", "/api/v1/accounts", `{"partition_id":"part_nope","name":"x"}`, nil, 422, []string{"partition_id"}},
			{"account: bad plan on patch", "PATCH", "/api/v1/accounts/" + f.a1.ID, `{"plan":"free","name":""}`, nil, 422, []string{"name", "plan"}},
			{"user: every field wrong", "POST", users, `{"email":"not-an-email","display_name":"` + strings.Repeat("d", 201) + `","role":"owner","status":"gone"}`, nil, 422, []string{"display_name", "email", "role", "status"}},
			{"user: no email", "POST", users, `{"display_name":"Nobody"}`, nil, 422, []string{"email"}},
			{"user: display name with a newline", "PATCH", users + "/" + alice.ID, `{"display_name":"a\nb"}`, nil, 422, []string{"display_name"}},
			{"user: bad status on patch", "PATCH", users + "/" + alice.ID, `{"status":"locked","email":"a@"}`, nil, 422, []string{"email", "status"}},
			{"password: too short", "POST", users + "/" + alice.ID + "/password", `{"password":"short"}`, nil, 422, []string{"password"}},
			{"password: missing", "POST", users + "/" + alice.ID + "/password", `{}`, nil, 422, []string{"password"}},
			{"group: empty name", "POST", groups, `{"name":""}`, nil, 422, []string{"name"}},
			{"member: no user", "POST", groups + "/" + g.ID + "/members", `{"user_id":""}`, nil, 422, []string{"user_id"}},
			{"member: unknown user", "POST", groups + "/" + g.ID + "/members", `{"user_id":"user_nope"}`, nil, 422, []string{"user_id"}},

			{"duplicate email", "POST", users, `{"email":"ALICE@example.com"}`, nil, 409, []string{"email"}},
			{"email taken on patch", "PATCH", users + "/" + alice.ID, `{"email":"bob@example.com"}`, nil, 409, []string{"email"}},
			{"duplicate group name", "POST", groups, `{"name":"Sales"}`, nil, 409, []string{"name"}},
			{"group renamed onto another", "PATCH", groups + "/" + g.ID, `{"name":"Support"}`, nil, 409, []string{"name"}},
			{"member twice", "POST", groups + "/" + g.ID + "/members", `{"user_id":"` + alice.ID + `"}`, nil, 409, []string{"user_id"}},
			{"account with users", "DELETE", "/api/v1/accounts/" + f.a1.ID, "", nil, 409, []string{"users"}},
			{"partition with accounts", "DELETE", "/api/v1/partitions/" + f.p1.ID, "", nil, 409, []string{"accounts"}},

			{"missing partition", "GET", "/api/v1/partitions/part_nope", "", nil, 404, nil},
			{"missing account", "PATCH", "/api/v1/accounts/acct_nope", `{"name":"x"}`, nil, 404, nil},
			{"missing user", "POST", users + "/user_nope/password", `{"password":"a long enough password"}`, nil, 404, nil},
			{"missing group", "DELETE", groups + "/grp_nope", "", nil, 404, nil},
			{"missing membership", "DELETE", groups + "/" + g.ID + "/members/user_nope", "", nil, 404, nil},
			{"unknown route", "GET", "/api/v1/widgets", "", nil, 404, nil},

			{"limit too large", "GET", users + "?limit=1000", "", nil, 400, []string{"limit"}},
			{"limit not a number", "GET", "/api/v1/partitions?limit=ten", "", nil, 400, []string{"limit"}},
			{"misspelt filter", "GET", "/api/v1/audit-events?acount_id=x", "", nil, 400, []string{"acount_id"}},
			{"bad audit filters", "GET", "/api/v1/audit-events?since=yesterday&until=2025-13-01&outcome=maybe", "", nil, 400, []string{"outcome", "since", "until"}},
			{"repeated parameter", "GET", "/api/v1/accounts?partition_id=a&partition_id=b", "", nil, 400, []string{"partition_id"}},

			{"method not allowed", "PUT", users + "/" + alice.ID, `{"email":"x@example.com"}`, nil, 405, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := f.snapshot()
				res := f.super.do(tt.method, tt.path, tt.body, tt.headers...)
				if res.Status != tt.want {
					t.Fatalf("status %d, want %d; body %.300s", res.Status, tt.want, res.Body)
				}
				p := problemOf(t, res)
				if !equal(p.fields(), tt.wantFields) {
					t.Errorf("problem fields %v, want %v (%+v)", p.fields(), tt.wantFields, p)
				}
				if p.Detail == "" {
					t.Errorf("problem without detail")
				}
				for _, e := range p.Errors {
					if e.Message == "" {
						t.Errorf("field %s without a message", e.Field)
					}
				}
				if after := f.snapshot(); after != before {
					t.Errorf("a refused request changed the store")
				}
			})
		}

		t.Run("405 names the allowed methods", func(t *testing.T) {
			res := f.super.do("PUT", users, "")
			if allow := res.Header.Get("Allow"); allow != "GET, POST, HEAD" {
				t.Errorf("Allow %q", allow)
			}
		})
		t.Run("the account is still there after a refused delete", func(t *testing.T) {
			p := problemOf(t, f.super.must(http.StatusConflict, "DELETE", "/api/v1/accounts/"+f.a1.ID, ""))
			if !strings.Contains(p.Detail, "2 user(s)") {
				t.Errorf("detail %q does not pass on the store's reason", p.Detail)
			}
			f.super.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID, "")
		})
		t.Run("no 5xx and nothing in the log for user mistakes", func(t *testing.T) {
			if l := f.logs.String(); strings.Contains(l, "level=ERROR") {
				t.Errorf("errors logged for user mistakes:\n%s", l)
			}
		})
	})
}

// TestUnavailable: when the database stops, the API answers 503 with a
// generic message and logs the detail, without the token.
func TestUnavailable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		storetest.Stop(t, s)
		for _, c := range []client{f.super, f.acct} {
			for _, r := range []struct{ method, path, body string }{
				{"GET", "/api/v1/partitions", ""},
				{"POST", "/api/v1/accounts/" + f.a1.ID + "/users", `{"email":"x@example.com"}`},
			} {
				res := c.do(r.method, r.path, r.body)
				p := problemOf(t, res)
				if res.Status != http.StatusServiceUnavailable || strings.Contains(p.Detail, "sql") || strings.Contains(p.Detail, "closed") {
					t.Errorf("%s %s: %d %+v, want a generic 503", r.method, r.path, res.Status, p)
				}
				if contains(f.logs.String(), c.token) {
					t.Errorf("the log holds the token")
				}
			}
		}
		if !strings.Contains(f.logs.String(), "database unavailable") {
			t.Errorf("the failure is not logged:\n%s", f.logs.String())
		}
	})
}

// TestBodyWithoutLength: a body of unknown length is cut off at 1 MiB too,
// and a JSON media type with parameters is accepted.
func TestBodyWithoutLength(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		send := func(body io.Reader, contentType string) *httptest.ResponseRecorder {
			r := httptest.NewRequest("POST", "/api/v1/partitions", body)
			r.ContentLength = -1 // as for a chunked upload
			r.Header.Set("Content-Type", contentType)
			r.Header.Set("Authorization", "Bearer "+f.super.token)
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			return w
		}
		before := f.snapshot()
		huge := io.MultiReader(strings.NewReader(`{"name":"`), strings.NewReader(strings.Repeat("x", 2<<20)), strings.NewReader(`"}`))
		if w := send(huge, "application/json"); w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB chunked body: %d, want 413", w.Code)
		}
		padded := io.MultiReader(strings.NewReader(`{"name":"x"}`), strings.NewReader(strings.Repeat(" ", 2<<20)))
		if w := send(padded, "application/json"); w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("small object followed by 2 MiB of space: %d, want 413", w.Code)
		}
		if f.snapshot() != before {
			t.Errorf("an oversized body changed the store")
		}
		if w := send(strings.NewReader(`{"name":"x"}`), "application/json; charset=utf-8"); w.Code != http.StatusCreated {
			t.Errorf("charset parameter: %d %s", w.Code, w.Body)
		}
	})
}
