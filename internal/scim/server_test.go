package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/apitoken"
	"gatehouse/internal/app"
	"gatehouse/internal/password"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

var hasher = password.NewHasher(2)

// world is two accounts, each with an admin and a SCIM token, served by
// the whole of Gatehouse's HTTP handler.
type world struct {
	t          *testing.T
	s          *store.Store
	h          http.Handler
	admin      *admin.Service
	acme, glob gatehouse.Account
	acmeAdmin  gatehouse.User
	token      string // acme's SCIM token
	globToken  string
	tokenID    string
}

func newWorld(t *testing.T, s *store.Store) *world {
	t.Helper()
	ctx := context.Background()
	// IDs sort by millisecond: a clock that ticks on every reading keeps
	// listings in the order the test made things.
	var ticks atomic.Int64
	start := time.Now()
	s.Now = func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * time.Millisecond) }
	a := app.New(app.Config{Store: s, Passwords: hasher})
	w := &world{t: t, s: s, h: a.Handler, admin: a.Admin}
	p := gatehouse.Partition{Name: "Reseller"}
	must(t, s.CreatePartition(ctx, &p))
	w.acme = gatehouse.Account{PartitionID: p.ID, Name: "Acme", Plan: gatehouse.PlanEnterprise}
	must(t, s.CreateAccount(ctx, &w.acme))
	w.glob = gatehouse.Account{PartitionID: p.ID, Name: "Globex", Plan: gatehouse.PlanEnterprise}
	must(t, s.CreateAccount(ctx, &w.glob))
	w.acmeAdmin = gatehouse.User{AccountID: w.acme.ID, Email: "ada@acme.example", Role: gatehouse.RoleAdmin, Status: gatehouse.UserActive, PasswordHash: "x"}
	must(t, s.CreateUser(ctx, &w.acmeAdmin))
	who := admin.UserPrincipal(w.acmeAdmin, w.acme, "127.0.0.1", "test")
	made, err := w.admin.CreateSCIMToken(ctx, who, w.acme.ID, admin.SCIMTokenInput{Name: "Entra ID"})
	must(t, err)
	w.token, w.tokenID = made.Token, made.ID
	other, err := w.admin.CreateSCIMToken(ctx, admin.SystemPrincipal("test"), w.glob.ID, admin.SCIMTokenInput{Name: "Okta"})
	must(t, err)
	w.globToken = other.Token
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a SCIM request to acme's endpoint with token.
func (w *world) do(method, path, token, body string) answer {
	w.t.Helper()
	return w.doAt(method, "/scim/v2/"+w.acme.ID+path, token, body)
}

func (w *world) doAt(method, target, token, body string) answer {
	w.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	res := rec.Result()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			w.t.Fatalf("%s %s: answer is not JSON: %s", method, target, raw)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
			w.t.Errorf("%s %s: Content-Type %q", method, target, ct)
		}
	}
	return a
}

func (a answer) expect(t *testing.T, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	return a
}

// expectError checks a SCIM error body of status and scimType.
func (a answer) expectError(t *testing.T, status int, scimType string) {
	t.Helper()
	a.expect(t, status)
	if a.body["schemas"].([]any)[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || a.body["status"] != http.StatusText(0)+itoa(status) {
		t.Errorf("not a SCIM error body: %s", a.raw)
	}
	if got, _ := a.body["scimType"].(string); got != scimType {
		t.Errorf("scimType %q, want %q: %s", got, scimType, a.raw)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// Entra ID's create, as its documentation shows it.
const entraCreate = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
  "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com",
  "active": true,
  "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@contoso.com"}],
  "meta": {"resourceType": "User"},
  "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
  "roles": []
}`

// TestSCIMUserLifecycle: create as Entra sends it, find it by the filters
// IdPs send, deactivate (Entra's "False"), which ends the seat's sessions
// and its apps' grants with a back-channel logout queued, reactivate,
// delete (SECURITY.md A-scim-deprovision).
func TestSCIMUserLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		created := w.do("POST", "/Users", w.token, entraCreate).expect(t, http.StatusCreated)
		id := created.body["id"].(string)
		if created.header.Get("Location") != "/scim/v2/"+w.acme.ID+"/Users/"+id && !strings.HasSuffix(created.header.Get("Location"), "/Users/"+id) {
			t.Errorf("Location %q", created.header.Get("Location"))
		}
		u, err := s.User(ctx, id)
		must(t, err)
		if u.Email != "test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@contoso.com" || u.DisplayName != "givenName familyName" || u.Role != gatehouse.RoleUser {
			t.Errorf("seat %+v", u)
		}
		if created.body["userName"] != "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com" || created.body["externalId"] != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
			t.Errorf("created %s", created.raw)
		}
		// Entra's duplicate check and Okta's lookup.
		for _, f := range []string{`userName eq "test_user_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com"`,
			`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, `emails eq "TEST_USER_fd0ea19b-0777-472c-9f96-4f70d2226f2e@contoso.com"`,
			`userName sw "test_user" and name.familyName eq "familyName"`, `displayName co "familyname" or userName eq "nobody"`} {
			list := w.do("GET", "/Users?filter="+urlq(f), w.token, "").expect(t, http.StatusOK)
			if list.body["totalResults"] != float64(1) || list.body["Resources"].([]any)[0].(map[string]any)["id"] != id {
				t.Errorf("%s: %s", f, list.raw)
			}
		}
		w.do("GET", "/Users?filter="+urlq(`userName eq "nobody@contoso.com"`), w.token, "").expect(t, http.StatusOK)
		// A second create of the same userName is a uniqueness conflict.
		w.do("POST", "/Users", w.token, entraCreate).expectError(t, http.StatusConflict, "uniqueness")

		// The seat signs in, and an app holds a grant in that session.
		sess := gatehouse.Session{ID: "scim-sess", UserID: id, AccountID: w.acme.ID, State: gatehouse.SessionAuthenticated, Method: "password",
			CreatedAt: time.Now(), LastSeenAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		must(t, s.CreateSession(ctx, &sess))
		client := gatehouse.Client{Name: "Portal", Kind: gatehouse.ClientWeb, RedirectURIs: []string{"https://portal.example/cb"},
			BackchannelLogoutURI: "https://portal.example/bcl", SecretHash: "h"}
		must(t, s.CreateClient(ctx, &client))
		grant := gatehouse.Grant{ClientID: client.ID, SessionID: sess.ID, UserID: id, Scope: "openid", AuthTime: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		must(t, s.CreateGrant(ctx, &grant))

		off := w.do("PATCH", "/Users/"+id, w.token,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`).expect(t, http.StatusOK)
		if off.body["active"] != false {
			t.Errorf("after deactivation: %s", off.raw)
		}
		if u, _ := s.User(ctx, id); u.Status != gatehouse.UserDisabled {
			t.Errorf("status %s, want disabled", u.Status)
		}
		if _, err := s.Session(ctx, sess.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("the session outlived deactivation: %v", err)
		}
		if _, err := s.LiveGrant(ctx, grant.ID, time.Now()); err == nil {
			t.Error("the app's grant outlived deactivation")
		}
		pending, err := s.ClaimLogouts(ctx, time.Now().Add(time.Minute), 10, time.Minute)
		must(t, err)
		if len(pending) != 1 || pending[0].ClientID != client.ID || pending[0].UserID != id {
			t.Errorf("back-channel logouts queued: %+v", pending)
		}

		on := w.do("PATCH", "/Users/"+id, w.token, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`).expect(t, http.StatusOK)
		if on.body["active"] != true {
			t.Errorf("after reactivation: %s", on.raw)
		}
		// The audit log names the SCIM token as the actor.
		events, err := s.ListAudit(ctx, gatehouse.AuditFilter{AccountID: w.acme.ID}, gatehouse.Page{Limit: 200})
		must(t, err)
		found := false
		for _, e := range events {
			found = found || (e.Action == gatehouse.ActionUserUpdate && e.TargetID == id && e.ActorID == w.tokenID && e.Details["status"] == "disabled")
		}
		if !found {
			t.Error("no user.update by the SCIM token in the audit log")
		}

		w.do("DELETE", "/Users/"+id, w.token, "").expect(t, http.StatusNoContent)
		w.do("GET", "/Users/"+id, w.token, "").expectError(t, http.StatusNotFound, "")
	})
}

func urlq(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "&", "%26", "+", "%2B")
	return r.Replace(s)
}

// TestSCIMTokenReachesOnlyItsAccount: no token, a malformed, unknown,
// revoked or API token, and another account's token are all 401s; a
// user of another account is a 404 (SECURITY.md A-scim-account).
func TestSCIMTokenReachesOnlyItsAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		apiTok, _, err := apitoken.Mint(ctx, s, "ci", gatehouse.ScopeAccount, w.acme.ID)
		must(t, err)
		for name, tok := range map[string]string{"none": "", "malformed": "x", "unknown": gatehouse.SCIMTokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAA",
			"api token": apiTok, "other account's": w.globToken} {
			a := w.do("GET", "/Users", tok, "")
			a.expectError(t, http.StatusUnauthorized, "")
			if a.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: no WWW-Authenticate", name)
			}
		}
		// A Globex user is not found through Acme's endpoint, nor with Globex's token at Acme's.
		gu := gatehouse.User{AccountID: w.glob.ID, Email: "gina@globex.example", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		must(t, s.CreateUser(ctx, &gu))
		w.do("GET", "/Users/"+gu.ID, w.token, "").expectError(t, http.StatusNotFound, "")
		w.do("DELETE", "/Users/"+gu.ID, w.token, "").expectError(t, http.StatusNotFound, "")
		w.doAt("GET", "/scim/v2/"+w.glob.ID+"/Users/"+gu.ID, w.token, "").expectError(t, http.StatusUnauthorized, "")
		w.doAt("GET", "/scim/v2/"+w.glob.ID+"/Users/"+gu.ID, w.globToken, "").expect(t, http.StatusOK)
		// Revoked, it stops at once.
		who := admin.UserPrincipal(w.acmeAdmin, w.acme, "", "")
		must(t, w.admin.RevokeSCIMToken(ctx, who, w.acme.ID, w.tokenID))
		w.do("GET", "/Users", w.token, "").expectError(t, http.StatusUnauthorized, "")
		// A SCIM token never manages SCIM tokens.
		scimWho, err := w.admin.SCIMPrincipal(ctx, w.glob.ID, w.globToken, "", "")
		must(t, err)
		if _, err := w.admin.CreateSCIMToken(ctx, scimWho, w.glob.ID, admin.SCIMTokenInput{Name: "x"}); !errors.Is(err, admin.ErrForbidden) {
			t.Errorf("a SCIM token made a SCIM token: %v", err)
		}
		// Only the hash is stored.
		var stored string
		toks, err := s.SCIMTokens(ctx, w.acme.ID)
		must(t, err)
		_, stored, err = s.SCIMTokenByHash(ctx, admin.SCIMTokenHash(w.token))
		must(t, err)
		if len(toks) != 1 || stored == w.token || strings.Contains(stored, w.token) {
			t.Errorf("tokens %+v, stored %q", toks, stored)
		}
	})
}

// TestSCIMGroups: groups as Okta and Entra manage them; membership is
// ordinary membership, so an exemption list by group follows it.
func TestSCIMGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		var ids []string
		for _, n := range []string{"ann", "ben", "cat"} {
			a := w.do("POST", "/Users", w.token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+n+`@acme.example",
				"name":{"givenName":"`+n+`","familyName":"X"},"emails":[{"primary":true,"value":"`+n+`@acme.example","type":"work"}],"displayName":"`+n+` X","locale":"en-US","externalId":"`+n+`","groups":[],"password":"1mC@ntRememb3r","active":true}`).expect(t, http.StatusCreated)
			ids = append(ids, a.body["id"].(string))
		}
		g := w.do("POST", "/Groups", w.token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Contractors","members":[{"value":"`+ids[0]+`"}]}`).expect(t, http.StatusCreated)
		gid := g.body["id"].(string)
		list := &gatehouse.ExemptionList{AccountID: w.acme.ID, Name: "Contractors", Kind: gatehouse.ExemptGroups, Members: []string{gid}}
		must(t, s.CreateExemptionList(ctx, list))
		patch := func(body string) answer {
			return w.do("PATCH", "/Groups/"+gid, w.token, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+body+`}`).expect(t, http.StatusOK)
		}
		patch(`[{"op":"Add","path":"members","value":[{"value":"` + ids[1] + `"},{"value":"` + ids[2] + `"}]}]`)
		patch(`[{"op":"remove","path":"members[value eq \"` + ids[0] + `\"]"}]`)
		got := patch(`[{"op":"Remove","path":"members","value":[{"value":"` + ids[2] + `"}]},{"op":"replace","value":{"id":"` + gid + `","displayName":"Contractors EMEA"}}]`)
		members, err := s.AllMembers(ctx, gid)
		must(t, err)
		if len(members) != 1 || members[0].UserID != ids[1] || got.body["displayName"] != "Contractors EMEA" {
			t.Fatalf("members %+v, answer %s", members, got.raw)
		}
		for i, wantExempt := range []bool{false, true, false} {
			e, err := s.UserExemption(ctx, ids[i])
			must(t, err)
			if e.ByGroupList != wantExempt {
				t.Errorf("user %d exempt through the group: %v, want %v", i, e.ByGroupList, wantExempt)
			}
		}
		// The user shows the group; the filter finds the group.
		u := w.do("GET", "/Users/"+ids[1], w.token, "").expect(t, http.StatusOK)
		if gs, _ := u.body["groups"].([]any); len(gs) != 1 || gs[0].(map[string]any)["value"] != gid {
			t.Errorf("user's groups: %s", u.raw)
		}
		l := w.do("GET", "/Groups?excludedAttributes=members&filter="+urlq(`displayName eq "contractors emea"`), w.token, "").expect(t, http.StatusOK)
		if l.body["totalResults"] != float64(1) || l.body["Resources"].([]any)[0].(map[string]any)["members"] != nil {
			t.Errorf("group list: %s", l.raw)
		}
		// A member of another account, or a nested group, is refused.
		w.do("PATCH", "/Groups/"+gid, w.token, `{"Operations":[{"op":"add","path":"members","value":[{"value":"user_nosuch"}]}]}`).expectError(t, 400, "invalidValue")
		w.do("PUT", "/Groups/"+gid, w.token, `{"displayName":"X","members":[{"value":"`+gid+`","type":"Group"}]}`).expectError(t, 400, "invalidValue")
		w.do("PUT", "/Groups/"+gid, w.token, `{"displayName":"Everyone","members":[{"value":"`+ids[0]+`"},{"value":"`+ids[2]+`"}]}`).expect(t, http.StatusOK)
		if m, _ := s.AllMembers(ctx, gid); len(m) != 2 {
			t.Errorf("after PUT: %+v", m)
		}
		w.do("DELETE", "/Groups/"+gid, w.token, "").expect(t, http.StatusNoContent)
		w.do("GET", "/Groups/"+gid, w.token, "").expectError(t, http.StatusNotFound, "")
	})
}

// TestSCIMBadInput: bad input is a SCIM 400 with its scimType (or 413 for
// a body too large), never a 500 (SECURITY.md A-scim-input); an admin's
// email is not SCIM's to change (A-scim-admin-email).
func TestSCIMBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		id := w.do("POST", "/Users", w.token, `{"userName":"dan@acme.example"}`).expect(t, http.StatusCreated).body["id"].(string)
		for _, tc := range []struct{ method, path, body, scimType string }{
			{"POST", "/Users", `{`, "invalidSyntax"},
			{"POST", "/Users", `[]`, "invalidSyntax"},
			{"POST", "/Users", `{"userName":"a@b.example"} {}`, "invalidSyntax"},
			{"POST", "/Users", "{\"userName\":\"\xff@b.example\"}", "invalidSyntax"},
			{"POST", "/Users", `{"userName":"\ud800@b.example"}`, "invalidSyntax"},
			{"POST", "/Users", `{"emails":[{"value":"x@y.example"}]}`, "invalidValue"},
			{"POST", "/Users", `{"userName":"not an email"}`, "invalidValue"},
			{"POST", "/Users", `{"userName":"e@acme.example","active":"perhaps"}`, "invalidValue"},
			{"POST", "/Users", `{"userName":7}`, "invalidValue"},
			{"GET", "/Users?filter=" + urlq(`userName eq`), "", "invalidFilter"},
			{"GET", "/Users?count=x", "", "invalidValue"},
			{"GET", "/Users?sortBy=userName", "", "invalidValue"},
			{"PATCH", "/Users/" + id, `{"Operations":[{"op":"add","path":"nosuch","value":1}]}`, "invalidPath"},
			{"PATCH", "/Users/" + id, `{"Operations":[{"op":"remove"}]}`, "noTarget"},
			{"PATCH", "/Users/" + id, `{"Operations":"x"}`, "invalidSyntax"},
			{"PATCH", "/Users/" + id, `{"schemas":["urn:other"],"Operations":[]}`, "invalidSyntax"},
			{"PATCH", "/Users/" + id, `{"Operations":[{"op":"replace","path":"userName","value":""}]}`, "invalidValue"},
			{"PUT", "/Users/" + id, `{"userName":"ada@acme.example"}`, "uniqueness"},
		} {
			a := w.do(tc.method, tc.path, w.token, tc.body)
			status := http.StatusBadRequest
			if tc.scimType == "uniqueness" {
				status = http.StatusConflict
			}
			a.expectError(t, status, tc.scimType)
		}
		big := `{"userName":"big@acme.example","title":"` + strings.Repeat("x", 5<<20) + `"}`
		w.do("POST", "/Users", w.token, big).expectError(t, http.StatusRequestEntityTooLarge, "")
		req := httptest.NewRequest("POST", "/scim/v2/"+w.acme.ID+"/Users", bytes.NewBufferString(`{"userName":"f@acme.example"}`))
		req.Header.Set("Authorization", "Bearer "+w.token)
		req.Header.Set("Content-Type", "text/plain")
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		if rec.Code != 400 {
			t.Errorf("text/plain body: %d", rec.Code)
		}
		// An admin's email stays the admin's to change.
		w.do("PATCH", "/Users/"+w.acmeAdmin.ID, w.token, `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"mallory@evil.example"}]}`).expectError(t, http.StatusForbidden, "")
		// The failures are kept for the account's admins.
		st, err := w.admin.SCIMStatus(context.Background(), admin.UserPrincipal(w.acmeAdmin, w.acme, "", ""), w.acme.ID)
		must(t, err)
		if len(st.Errors) == 0 || st.LastSync.IsZero() || !st.Enabled {
			t.Errorf("status %+v", st)
		}
	})
}

// TestSCIMDiscovery: the discovery endpoints answer, and a page of users
// is the one asked for.
func TestSCIMDiscovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas",
			"/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"} {
			w.do("GET", p, w.token, "").expect(t, http.StatusOK)
		}
		w.do("GET", "/Schemas/urn:nosuch", w.token, "").expectError(t, http.StatusNotFound, "")
		w.do("GET", "/Nothing", w.token, "").expectError(t, http.StatusNotFound, "")
		for i := range 5 {
			w.do("POST", "/Users", w.token, `{"userName":"p`+itoa(i)+`@acme.example"}`).expect(t, http.StatusCreated)
		}
		page := w.do("GET", "/Users?startIndex=2&count=2&filter="+urlq(`userName sw "p"`), w.token, "").expect(t, http.StatusOK)
		rs := page.body["Resources"].([]any)
		if page.body["totalResults"] != float64(5) || page.body["startIndex"] != float64(2) || len(rs) != 2 ||
			rs[0].(map[string]any)["userName"] != "p1@acme.example" {
			t.Errorf("page: %s", page.raw)
		}
	})
}
