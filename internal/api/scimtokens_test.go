package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSCIMTokensThroughTheAPI: an account's admins (here tokens reaching
// it) make a SCIM token, shown once and audited, see it listed without its
// plaintext, and revoke it; a token not reaching the account sees nothing
// (SECURITY.md A-scim-token-secret).
func TestSCIMTokensThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		base := "/api/v1/accounts/" + f.a1.ID
		made := decodeAs[map[string]any](t, f.acct.must(http.StatusCreated, "POST", base+"/scim-tokens", `{"name":"Entra ID"}`))
		token, _ := made["token"].(string)
		id, _ := made["id"].(string)
		if !strings.HasPrefix(token, gatehouse.SCIMTokenPrefix) || len(token) < len(gatehouse.SCIMTokenPrefix)+26 {
			t.Fatalf("token %q", token)
		}
		if !strings.HasSuffix(made["base_url"].(string), "/scim/v2/"+f.a1.ID) {
			t.Errorf("base_url %v", made["base_url"])
		}
		st := f.part.must(http.StatusOK, "GET", base+"/scim", "")
		if strings.Contains(string(st.Body), token) || !strings.Contains(string(st.Body), id) {
			t.Errorf("status shows the plaintext or lacks the token: %s", st.Body)
		}
		f.acct.must(http.StatusUnprocessableEntity, "POST", base+"/scim-tokens", `{"name":""}`)
		other := "/api/v1/accounts/" + f.b1.ID
		f.part.must(http.StatusNotFound, "GET", other+"/scim", "")
		f.part.must(http.StatusNotFound, "DELETE", other+"/scim-tokens/"+id, "")
		f.acct.must(http.StatusNoContent, "DELETE", base+"/scim-tokens/"+id, "")
		f.acct.must(http.StatusNoContent, "DELETE", base+"/scim-tokens/"+id, "")
		f.acct.must(http.StatusNotFound, "DELETE", base+"/scim-tokens/scim_nosuch", "")
		toks, err := s.SCIMTokens(context.Background(), f.a1.ID)
		if err != nil || len(toks) != 1 || toks[0].Active() {
			t.Errorf("tokens %+v %v", toks, err)
		}
		events, err := s.ListAudit(context.Background(), gatehouse.AuditFilter{AccountID: f.a1.ID}, gatehouse.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range events {
			if e.TargetID == id {
				actions = append(actions, string(e.Action))
				if strings.Contains(strings.Join(scimDetailValues(e.Details), " "), token) {
					t.Error("the audit log holds the plaintext")
				}
			}
		}
		if strings.Join(actions, ",") != "scim_token.create,scim_token.revoke" && strings.Join(actions, ",") != "scim_token.revoke,scim_token.create" {
			t.Errorf("audited %v", actions)
		}
	})
}

func scimDetailValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
