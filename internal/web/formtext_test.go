package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestFormNotTextRefused: a sign-in or admin form whose field is not UTF-8
// text is refused with 400 naming the field, and one declared in another
// charset with 415, before anything is checked or stored; text in any
// script is kept as typed (A-utf8).
func TestFormNotTextRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.User("Acme", "bob@acme.example")
		acme := e.Account("Acme")
		cfg := e.SAMLConfig("Acme", "acme", false, nil).Config
		lists := "/admin/accounts/" + acme.ID + "/exemptions"
		metadata := "/admin/accounts/" + acme.ID + "/sso/" + cfg.ID + "/metadata"
		const form = "application/x-www-form-urlencoded"

		stranger := e.Browser()
		if p := stranger.Post("/login", url.Values{"email": {ada.Email}}); p.Status != http.StatusOK {
			t.Fatalf("email step: %d", p.Status)
		}
		admin := e.Browser()
		if p := admin.SignIn(ada.Email, webtest.GoodPassword); p.Status != http.StatusOK {
			t.Fatalf("sign in: %d", p.Status)
		}

		tests := []struct {
			name  string
			send  func() webtest.Page
			want  int
			field string
		}{
			{"email", func() webtest.Page {
				return e.Browser().PostRaw("/login", form, "email=al%FFice%40acme.example")
			}, 400, "email"},
			{"password", func() webtest.Page {
				return stranger.PostRaw("/login/password", form, "password=correct+horse%FF")
			}, 400, "password"},
			{"exemption list name in Latin-1", func() webtest.Page {
				return admin.PostRaw(lists, form, "name=Contr%E9e&kind=users&members="+bob.ID)
			}, 400, "name"},
			{"exemption list member", func() webtest.Page {
				return admin.PostRaw(lists, form, "name=Contractors&kind=users&members="+bob.ID+"&members=user_%C3")
			}, 400, "members"},
			{"a field's name", func() webtest.Page {
				return admin.PostRaw(lists, form, "name=Contractors&kind=users&x%FF=1")
			}, 400, "x\uFFFD"},
			{"exemption list sent as UTF-16", func() webtest.Page {
				return admin.PostRaw(lists, form+"; charset=utf-16", "name=Contractors&kind=users&members="+bob.ID)
			}, 415, ""},
			{"sign-in sent as Latin-1", func() webtest.Page {
				return e.Browser().PostRaw("/login", form+"; charset=ISO-8859-1", "email=bob%40acme.example")
			}, 415, ""},
			{"metadata URL", func() webtest.Page {
				return admin.PostRaw(metadata, form, "url=https%3A%2F%2Fidp.example%2F%FF")
			}, 400, "url"},
			{"metadata file's entity ID", func() webtest.Page {
				return admin.PostMultipart(metadata, url.Values{"entity_id": {"https://idp.example/\xff"}}, "metadata_file", "idp.xml", []byte("<x/>"))
			}, 400, "entity_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.StoredRows()
				p := tt.send()
				if p.Status != tt.want {
					t.Fatalf("status %d, want %d:\n%s", p.Status, tt.want, p.Body)
				}
				if tt.field != "" {
					p.MustShow(t, "The field “"+tt.field+"” is not valid text (UTF-8).")
				} else {
					p.MustShow(t, "The form must be sent as UTF-8 text.")
				}
				if after := e.StoredRows(); after != before {
					t.Errorf("a refused form changed the store:\n%s\nwas\n%s", after, before)
				}
			})
		}

		// The refused password counted nowhere: the right one still signs in.
		if p := stranger.Post("/login/password", url.Values{"password": {webtest.GoodPassword}}); p.Status != http.StatusOK || p.Path != "/" {
			t.Errorf("password after the refusal: %d at %s", p.Status, p.Path)
		}
		// Text in any script, declared UTF-8 or not, is kept as typed.
		p := admin.PostRaw(lists, form+"; charset=UTF-8", url.Values{"name": {"Équipe 東京 😀"}, "kind": {"users"}, "members": {bob.ID}}.Encode())
		if p.Status != http.StatusOK {
			t.Fatalf("a list named in several scripts: %d\n%s", p.Status, p.Body)
		}
		if ls := webtest.ExemptionListsOf(e, "Acme"); len(ls) != 1 || ls[0].Name != "Équipe 東京 😀" {
			t.Errorf("lists %+v, want one named as typed", ls)
		}
	})
}
