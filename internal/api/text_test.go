package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf16"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestNonTextRefused: a JSON string that is not UTF-8 text, raw or as an
// unpaired surrogate escape, is refused with 400 naming its path, and a
// body declared in another charset with 415; nothing is stored, where
// encoding/json alone would store U+FFFD in its place (A-utf8).
func TestNonTextRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s).fixture // SSO configurations need its base URL and key
		alice := f.user(f.a1.ID, "alice@example.com", gatehouse.RoleUser)
		bob := f.user(f.a1.ID, "bob@example.com", gatehouse.RoleUser)
		users := "/api/v1/accounts/" + f.a1.ID + "/users"
		exemptions := "/api/v1/accounts/" + f.a1.ID + "/exemptions"
		configs := "/api/v1/accounts/" + f.a1.ID + "/sso-configs"
		utf16Body := string(utf16le(`{"email":"zoe@example.com"}`))

		tests := []struct {
			name, method, path, body string
			contentType              string
			want                     int
			wantField                string
		}{
			{"email with a byte that is not UTF-8", "POST", users, "{\"email\":\"al\xffice@example.com\"}", "", 400, "email"},
			{"display name with a lone surrogate", "PATCH", users + "/" + alice.ID, `{"display_name":"Al\ud800ice"}`, "", 400, "display_name"},
			{"list name in Latin-1", "POST", exemptions, "{\"name\":\"Contr\xe9e\",\"kind\":\"users\",\"members\":[\"" + alice.ID + "\"]}", "", 400, "name"},
			{"third member", "POST", exemptions, "{\"name\":\"Execs\",\"kind\":\"users\",\"members\":[\"" + alice.ID + "\",\"" + bob.ID + "\",\"user_\xfe\"]}", "", 400, "members[2]"},
			{"nested scope", "POST", configs, "{\"preset\":\"okta_oidc\",\"oidc\":{\"issuer\":\"https://acme.okta.example\",\"client_id\":\"0oa1okta\",\"scopes\":[\"openid\",\"e\xffmail\"]}}", "", 400, "oidc.scopes[1]"},
			{"a key", "POST", users, "{\"email\":\"zoe@example.com\",\"display\xff_name\":\"Zoe\"}", "", 400, "display\uFFFD_name"},
			{"UTF-16 declared", "POST", users, utf16Body, "application/json; charset=utf-16", 415, ""},
			{"Latin-1 declared, ASCII sent", "POST", users, `{"email":"zoe@example.com"}`, "application/json; charset=ISO-8859-1", 415, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := storedRows(f)
				var headers []string
				if tt.contentType != "" {
					headers = []string{"Content-Type", tt.contentType}
				}
				res := f.super.do(tt.method, tt.path, tt.body, headers...)
				if res.Status != tt.want {
					t.Fatalf("status %d, want %d; body %.300s", res.Status, tt.want, res.Body)
				}
				p := problemOf(t, res)
				if tt.wantField != "" {
					if len(p.Errors) != 1 || p.Errors[0].Field != tt.wantField || p.Errors[0].Message != "is not valid UTF-8 text" {
						t.Errorf("problem errors %+v, want %q named as not UTF-8 text", p.Errors, tt.wantField)
					}
					if !strings.Contains(p.Detail, tt.wantField) {
						t.Errorf("detail %q does not name %q", p.Detail, tt.wantField)
					}
				}
				if tt.want == http.StatusUnsupportedMediaType && !strings.Contains(p.Detail, "UTF-8") {
					t.Errorf("detail %q does not say the body must be UTF-8", p.Detail)
				}
				if after := storedRows(f); after != before {
					t.Errorf("a refused request changed the store")
				}
			})
		}

		// Text in any script, raw or escaped, is stored exactly as sent.
		res := f.super.do("POST", users, `{"email":"zed@example.com","display_name":"Zoë 東京 \ud83d\ude00 \ufffd"}`,
			"Content-Type", "application/json; charset=UTF-8")
		if u := decodeAs[struct {
			DisplayName string `json:"display_name"`
		}](t, res); res.Status != http.StatusCreated || u.DisplayName != "Zoë 東京 😀 \uFFFD" {
			t.Errorf("text: %d, display name %q", res.Status, u.DisplayName)
		}
	})
}

// storedRows is every row a refused request could have written: the
// fixture's snapshot, exemption lists and SSO configurations.
func storedRows(f *fixture) string {
	f.t.Helper()
	var b strings.Builder
	b.WriteString(f.snapshot())
	for _, table := range []string{"exemption_lists", "exemption_members", "sso_configs"} {
		var n int
		if err := f.s.DB().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			f.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %d rows\n", table, n)
	}
	return b.String()
}

// utf16le encodes s as UTF-16, little-endian, as a client declaring
// charset=utf-16 would send it.
func utf16le(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}
