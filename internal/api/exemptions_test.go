package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

type exemptionList struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Members []string `json:"members"`
}

func TestExemptionsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		path := "/api/v1/accounts/" + f.a1.ID + "/exemptions"
		ann := f.user(f.a1.ID, "ann@acme.example", gatehouse.RoleUser)
		stranger := f.user(f.a2.ID, "sam@globex.example", gatehouse.RoleUser)
		g := f.group(f.a1.ID, "Contractors")

		l := decodeAs[exemptionList](t, f.acct.must(http.StatusCreated, "POST", path, `{"name":"Execs","kind":"users","members":["`+ann.ID+`"]}`))
		if l.Kind != "users" || !equal(l.Members, []string{ann.ID}) {
			t.Fatalf("created %+v", l)
		}
		gl := decodeAs[exemptionList](t, f.part.must(http.StatusCreated, "POST", path, `{"name":"Groups","kind":"groups","members":["`+g.ID+`"]}`))

		// Refusals: duplicate name, foreign member, wrong kind, emails, unknown kind.
		f.acct.must(http.StatusConflict, "POST", path, `{"name":"Execs","kind":"users"}`)
		for _, body := range []string{
			`{"name":"x","kind":"users","members":["` + stranger.ID + `"]}`,
			`{"name":"x","kind":"groups","members":["` + ann.ID + `"]}`,
			`{"name":"x","kind":"users","members":["ann@acme.example"]}`,
			`{"name":"x","kind":"everyone"}`,
		} {
			if res := f.acct.do("POST", path, body); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("POST %s: %d", body, res.Status)
			}
		}
		f.acct.must(http.StatusUnprocessableEntity, "PATCH", path+"/"+l.ID, `{"kind":"groups"}`)

		// Out of reach is not found: another account's token, and no token.
		bPath := "/api/v1/accounts/" + f.b1.ID + "/exemptions"
		f.acct.must(http.StatusNotFound, "POST", bPath, `{"name":"n","kind":"users"}`)
		f.part.must(http.StatusNotFound, "GET", bPath, "")
		if res := f.anonymous.do("GET", path, ""); res.Status != http.StatusUnauthorized {
			t.Errorf("anonymous: %d", res.Status)
		}

		// Search lists and candidates.
		type page[T any] struct{ Items []T }
		lists := decodeAs[page[exemptionList]](t, f.acct.must(http.StatusOK, "GET", path+"?q=ex", ""))
		if len(lists.Items) != 1 || lists.Items[0].ID != l.ID {
			t.Errorf("search lists: %+v", lists)
		}
		type cand struct{ ID, Name, Email string }
		cands := decodeAs[page[cand]](t, f.acct.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID+"/exemption-candidates?kind=users&q=ANN", ""))
		if len(cands.Items) != 1 || cands.Items[0].ID != ann.ID {
			t.Errorf("candidates: %+v", cands)
		}
		f.acct.must(http.StatusBadRequest, "GET", "/api/v1/accounts/"+f.a1.ID+"/exemption-candidates?kind=all", "")

		// Edit and delete, every change audited.
		up := decodeAs[exemptionList](t, f.acct.must(http.StatusOK, "PATCH", path+"/"+l.ID, `{"name":"Board","members":[]}`))
		if up.Name != "Board" || len(up.Members) != 0 {
			t.Errorf("updated %+v", up)
		}
		f.acct.must(http.StatusNoContent, "DELETE", path+"/"+gl.ID, "")
		f.acct.must(http.StatusNotFound, "GET", path+"/"+gl.ID, "")
		var actions []string
		for _, e := range f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID}) {
			actions = append(actions, string(e.Action))
		}
		want := []string{"exemption_list.delete", "exemption_list.update", "exemption_list.create", "exemption_list.create"}
		if !equal(actions[:4], want) {
			t.Errorf("audit %v, want %v first", actions, want)
		}
	})
}

type preview struct {
	ForcedToSSO  []struct{ ID string } `json:"forced_to_sso"`
	KeepPassword []struct {
		User struct{ ID string } `json:"user"`
		Why  string              `json:"why"`
	} `json:"keep_password"`
	EmailProblems   []json.RawMessage `json:"email_problems"`
	AdminsWithWayIn int               `json:"admins_with_way_in"`
}

// TestEnablePreviewAndLockout: the preview says who is forced and who keeps
// a password and why; enabling is refused while no admin keeps a way in
// (SECURITY.md A-lockout), and allowed once one does.
func TestEnablePreviewAndLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		ctx := context.Background()
		acct := f.account(f.p1.ID, "Initech")
		tok := f.super
		forced := f.user(acct.ID, "pat@initech.example", gatehouse.RoleUser)
		exemptU := f.user(acct.ID, "una@initech.example", gatehouse.RoleUser)
		exemptG := f.user(acct.ID, "gil@initech.example", gatehouse.RoleUser)
		admin := f.user(acct.ID, "ada@initech.example", gatehouse.RoleAdmin)
		g := f.group(acct.ID, "Ops")
		if err := s.AddMember(ctx, g.ID, exemptG.ID); err != nil {
			t.Fatal(err)
		}
		base := "/api/v1/accounts/" + acct.ID
		tok.must(http.StatusCreated, "POST", base+"/exemptions", `{"name":"U","kind":"users","members":["`+exemptU.ID+`"]}`)
		tok.must(http.StatusCreated, "POST", base+"/exemptions", `{"name":"G","kind":"groups","members":["`+g.ID+`"]}`)
		c := f.create(tok, acct.ID, completeBody(t, 0))
		f.passTest(c.ID)

		p := decodeAs[preview](t, tok.must(http.StatusOK, "GET", base+"/sso-configs/"+c.ID+"/enable-preview", ""))
		if len(p.ForcedToSSO) != 1 || p.ForcedToSSO[0].ID != forced.ID {
			t.Errorf("forced %+v", p.ForcedToSSO)
		}
		why := map[string]string{}
		for _, k := range p.KeepPassword {
			why[k.User.ID] = k.Why
		}
		if why[admin.ID] != "admin" || why[exemptU.ID] != "exempt_user_list" || why[exemptG.ID] != "exempt_group_list" || len(why) != 3 {
			t.Errorf("keep_password %v", why)
		}
		if p.AdminsWithWayIn != 0 {
			t.Errorf("admins with a way in: %d", p.AdminsWithWayIn)
		}

		// The only admin has no password: enabling would lock everyone out.
		pr := problemOf(t, tok.must(http.StatusConflict, "POST", base+"/sso-configs/"+c.ID+"/enable", ""))
		if !equal(pr.fields(), []string{"admins"}) || !contains(pr.Detail, "admin") {
			t.Errorf("lockout refusal %+v", pr)
		}
		if got := f.get(tok, acct.ID, c.ID); got.Enabled {
			t.Fatalf("enabled despite the refusal")
		}
		if err := s.SetPassword(ctx, admin.ID, "$argon2id$placeholder"); err != nil {
			t.Fatal(err)
		}
		if got := decodeAs[ssoConfig](t, tok.must(http.StatusOK, "POST", base+"/sso-configs/"+c.ID+"/enable", "")); !got.Enabled {
			t.Errorf("not enabled once an admin has a password")
		}
	})
}
