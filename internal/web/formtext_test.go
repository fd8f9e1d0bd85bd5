package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// postRaw posts body as it is, with this Content-Type.
func (b *browser) postRaw(path, contentType, body string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return b.do(req)
}

// storedRows counts the rows a refused form could have written.
func (e *env) storedRows() string {
	e.t.Helper()
	var b strings.Builder
	for _, table := range []string{"users", "sessions", "login_throttle", "audit_events", "exemption_lists", "exemption_members", "sso_configs"} {
		var n int
		if err := e.store.DB().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %d rows\n", table, n)
	}
	return b.String()
}

// TestFormNotTextRefused: a sign-in or admin form whose field is not UTF-8
// text is refused with 400 naming the field, and one declared in another
// charset with 415, before anything is checked or stored; text in any
// script is kept as typed (A-utf8).
func TestFormNotTextRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		ada := e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.user("Acme", "bob@acme.example")
		acme := e.account("Acme")
		cfg := e.samlConfig("Acme", "acme", false, nil).config
		lists := "/admin/accounts/" + acme.ID + "/exemptions"
		metadata := "/admin/accounts/" + acme.ID + "/sso/" + cfg.ID + "/metadata"
		const form = "application/x-www-form-urlencoded"

		stranger := e.browser()
		if p := stranger.post("/login", url.Values{"email": {ada.Email}}); p.status != http.StatusOK {
			t.Fatalf("email step: %d", p.status)
		}
		admin := e.browser()
		if p := admin.signIn(ada.Email, goodPassword); p.status != http.StatusOK {
			t.Fatalf("sign in: %d", p.status)
		}

		tests := []struct {
			name  string
			send  func() page
			want  int
			field string
		}{
			{"email", func() page {
				return e.browser().postRaw("/login", form, "email=al%FFice%40acme.example")
			}, 400, "email"},
			{"password", func() page {
				return stranger.postRaw("/login/password", form, "password=correct+horse%FF")
			}, 400, "password"},
			{"exemption list name in Latin-1", func() page {
				return admin.postRaw(lists, form, "name=Contr%E9e&kind=users&members="+bob.ID)
			}, 400, "name"},
			{"exemption list member", func() page {
				return admin.postRaw(lists, form, "name=Contractors&kind=users&members="+bob.ID+"&members=user_%C3")
			}, 400, "members"},
			{"a field's name", func() page {
				return admin.postRaw(lists, form, "name=Contractors&kind=users&x%FF=1")
			}, 400, "x\uFFFD"},
			{"exemption list sent as UTF-16", func() page {
				return admin.postRaw(lists, form+"; charset=utf-16", "name=Contractors&kind=users&members="+bob.ID)
			}, 415, ""},
			{"sign-in sent as Latin-1", func() page {
				return e.browser().postRaw("/login", form+"; charset=ISO-8859-1", "email=bob%40acme.example")
			}, 415, ""},
			{"metadata URL", func() page {
				return admin.postRaw(metadata, form, "url=https%3A%2F%2Fidp.example%2F%FF")
			}, 400, "url"},
			{"metadata file's entity ID", func() page {
				return admin.postMultipart(metadata, url.Values{"entity_id": {"https://idp.example/\xff"}}, "metadata_file", "idp.xml", []byte("<x/>"))
			}, 400, "entity_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.storedRows()
				p := tt.send()
				if p.status != tt.want {
					t.Fatalf("status %d, want %d:\n%s", p.status, tt.want, p.body)
				}
				if tt.field != "" {
					p.mustShow(t, "The field “"+tt.field+"” is not valid text (UTF-8).")
				} else {
					p.mustShow(t, "The form must be sent as UTF-8 text.")
				}
				if after := e.storedRows(); after != before {
					t.Errorf("a refused form changed the store:\n%s\nwas\n%s", after, before)
				}
			})
		}

		// The refused password counted nowhere: the right one still signs in.
		if p := stranger.post("/login/password", url.Values{"password": {goodPassword}}); p.status != http.StatusOK || p.path != "/" {
			t.Errorf("password after the refusal: %d at %s", p.status, p.path)
		}
		// Text in any script, declared UTF-8 or not, is kept as typed.
		p := admin.postRaw(lists, form+"; charset=UTF-8", url.Values{"name": {"Équipe 東京 😀"}, "kind": {"users"}, "members": {bob.ID}}.Encode())
		if p.status != http.StatusOK {
			t.Fatalf("a list named in several scripts: %d\n%s", p.status, p.body)
		}
		if ls := exemptionListsOf(e, "Acme"); len(ls) != 1 || ls[0].Name != "Équipe 東京 😀" {
			t.Errorf("lists %+v, want one named as typed", ls)
		}
	})
}

// TestIdPAnswerNotTextRefused: an IdP's answer, the SAML ACS form or the
// OIDC callback's query, whose RelayState or state is not UTF-8 text is
// refused as malformed with a 4xx and an audit event saying which field,
// never a 503 because PostgreSQL would not look it up (A-utf8).
func TestIdPAnswerNotTextRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		gus := e.user("Acme", "gus@acme.example")
		acme := e.samlConfig("Acme", "acme", true, nil)
		op, k := newOP(t)
		globex := e.oidcConfig("Globex", op, k, "generic_oidc", true)

		for name, tc := range map[string]struct {
			send   func(b *browser) page
			refuse func(page) gatehouse.AuditEvent
			field  string
		}{
			"SAML RelayState": {func(b *browser) page {
				return b.postACS(acme.config.ID, acme.response("", gus.Email, nil), "\xff\xfe")
			}, e.refused, "RelayState"},
			"OIDC state": {func(b *browser) page {
				return b.callback(globex, url.Values{"state": {"\xff"}, "code": {"x"}})
			}, e.refusedOIDC, "state"},
		} {
			t.Run(name, func(t *testing.T) {
				b := e.browser()
				p := tc.send(b)
				if p.status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400:\n%s", p.status, p.body)
				}
				ev := tc.refuse(p)
				if !strings.Contains(ev.Reason, `field "`+tc.field+`" is not UTF-8 text`) {
					t.Errorf("audit event %+v does not say %s is not UTF-8 text", ev, tc.field)
				}
				if b.session() != "" || e.sessionsOf(gus.ID) != 0 {
					t.Error("a session was made")
				}
			})
		}
	})
}
