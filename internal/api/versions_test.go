package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// Every kind of resource with versioned edits: a read gives its ETag; an
// edit or delete with a stale If-Match is refused with 412 and changes
// nothing; with the current one it applies and gives the new ETag.
func TestIfMatchGuardsEditsAndDeletes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		acct := "/api/v1/accounts/" + f.a1.ID
		made := func(path, body string) string {
			return path + "/" + decodeAs[struct {
				ID string `json:"id"`
			}](t, f.acct.must(http.StatusCreated, "POST", path, body)).ID
		}
		cases := []struct {
			name          string
			path          func() string
			edit, another string
		}{
			{"user", func() string { return acct + "/users/" + f.user(f.a1.ID, "gina@acme.example", gatehouse.RoleUser).ID },
				`{"display_name":"Gina G."}`, `{"display_name":"Gina H."}`},
			{"group", func() string { return acct + "/groups/" + f.group(f.a1.ID, "Support").ID },
				`{"name":"Support desk"}`, `{"name":"Helpdesk"}`},
			{"exemption list", func() string { return made(acct+"/exemptions", `{"name":"Board","kind":"users","members":[]}`) },
				`{"name":"Board members"}`, `{"name":"Directors"}`},
			{"sso configuration", func() string { return made(acct+"/sso-configs", `{"protocol":"saml","preset":"generic_saml"}`) },
				`{"saml":{"sso_url":"https://idp.acme.example/sso"}}`, `{"saml":{"sso_url":"https://idp.acme.example/other"}}`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := f.acct
				path := tc.path()
				read := c.must(http.StatusOK, "GET", path, "")
				first := read.Header.Get("ETag")
				if !strings.HasPrefix(first, `"`) || !strings.HasSuffix(first, `"`) || len(first) < 3 {
					t.Fatalf("ETag %q is not a strong entity tag", first)
				}

				edited := c.do("PATCH", path, tc.edit, "If-Match", first)
				second := edited.Header.Get("ETag")
				if edited.Status != http.StatusOK || second == "" || second == first {
					t.Fatalf("edit with the current ETag: %d, ETag %q after %q; %s", edited.Status, second, first, edited.Body)
				}
				now := c.must(http.StatusOK, "GET", path, "")
				if got := now.Header.Get("ETag"); got != second {
					t.Errorf("read after the edit: ETag %q, the edit gave %q", got, second)
				}

				// Someone else's edit came first: the stale version is refused.
				stale := c.do("PATCH", path, tc.another, "If-Match", first)
				if p := problemOf(t, stale); stale.Status != http.StatusPreconditionFailed || !contains(p.Detail, "GET it again") {
					t.Errorf("edit with a stale ETag: %d %+v", stale.Status, p)
				}
				if del := c.do("DELETE", path, "", "If-Match", first); del.Status != http.StatusPreconditionFailed {
					t.Errorf("delete with a stale ETag: %d %s", del.Status, del.Body)
				}
				after := c.must(http.StatusOK, "GET", path, "")
				if !bytes.Equal(after.Body, now.Body) || after.Header.Get("ETag") != second {
					t.Errorf("changed by refused requests:\n%s\n%s", now.Body, after.Body)
				}

				// A list of tags matches any of them; a weak tag never does.
				if res := c.do("PATCH", path, tc.edit, "If-Match", first+", "+second); res.Status != http.StatusOK {
					t.Errorf("If-Match listing the current ETag: %d %s", res.Status, res.Body)
				}
				if res := c.do("PATCH", path, tc.edit, "If-Match", "W/"+second); res.Status != http.StatusPreconditionFailed {
					t.Errorf("weak If-Match: %d %s", res.Status, res.Body)
				}
				if res := c.do("PATCH", path, tc.edit, "If-Match", "not-quoted"); res.Status != http.StatusBadRequest {
					t.Errorf("malformed If-Match: %d %s", res.Status, res.Body)
				}
				// "*" matches whatever version there is; no If-Match edits as before.
				if res := c.do("PATCH", path, tc.another, "If-Match", "*"); res.Status != http.StatusOK {
					t.Errorf("If-Match *: %d %s", res.Status, res.Body)
				}
				if res := c.do("PATCH", path, tc.edit); res.Status != http.StatusOK {
					t.Errorf("no If-Match: %d %s", res.Status, res.Body)
				}

				current := c.must(http.StatusOK, "GET", path, "").Header.Get("ETag")
				if del := c.do("DELETE", path, "", "If-Match", current); del.Status != http.StatusNoContent {
					t.Fatalf("delete with the current ETag: %d %s", del.Status, del.Body)
				}
				c.must(http.StatusNotFound, "GET", path, "")
				if res := c.do("PATCH", path, tc.edit, "If-Match", "*"); res.Status != http.StatusNotFound {
					t.Errorf("If-Match * of a deleted resource: %d %s", res.Status, res.Body)
				}
			})
		}
	})
}

// Apply and Discard of a configuration's pending changes honour If-Match
// too, beside the updated_at the body may name (409 when stale, as before).
func TestIfMatchGuardsPendingChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := f.configsPath(f.a1.ID) + "/" + f.create(f.acct, f.a1.ID, `{"protocol":"saml","preset":"generic_saml"}`).ID
		first := f.acct.must(http.StatusOK, "GET", path, "").Header.Get("ETag")
		f.acct.must(http.StatusOK, "PATCH", path, `{"saml":{"sso_url":"https://idp.acme.example/sso"}}`)
		for _, action := range []string{"/pending/apply", "/pending/discard"} {
			if res := f.acct.do("POST", path+action, "", "If-Match", first); res.Status != http.StatusPreconditionFailed {
				t.Errorf("%s with a stale ETag: %d %s", action, res.Status, res.Body)
			}
			// The current version passes the check, and meets the usual
			// refusal: nothing is pending.
			current := f.acct.must(http.StatusOK, "GET", path, "").Header.Get("ETag")
			if res := f.acct.do("POST", path+action, "", "If-Match", current); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s with the current ETag: %d %s", action, res.Status, res.Body)
			}
		}
	})
}
