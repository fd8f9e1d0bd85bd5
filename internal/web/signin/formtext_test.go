package signin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestIdPAnswerNotTextRefused: an IdP's answer, the SAML ACS form or the
// OIDC callback's query, whose RelayState or state is not UTF-8 text is
// refused as malformed with a 4xx and an audit event saying which field,
// never a 503 because PostgreSQL would not look it up (A-utf8).
func TestIdPAnswerNotTextRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		gus := e.User("Acme", "gus@acme.example")
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		op, k := newOP(t)
		globex := e.OIDCConfig("Globex", op, k, "generic_oidc", true)

		for name, tc := range map[string]struct {
			send   func(b *webtest.Browser) webtest.Page
			refuse func(webtest.Page) gatehouse.AuditEvent
			field  string
		}{
			"SAML RelayState": {func(b *webtest.Browser) webtest.Page {
				return b.PostACS(acme.Config.ID, acme.Response("", gus.Email, nil), "\xff\xfe")
			}, e.Refused, "RelayState"},
			"OIDC state": {func(b *webtest.Browser) webtest.Page {
				return b.Callback(globex, url.Values{"state": {"\xff"}, "code": {"x"}})
			}, e.RefusedOIDC, "state"},
		} {
			t.Run(name, func(t *testing.T) {
				b := e.Browser()
				p := tc.send(b)
				if p.Status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400:\n%s", p.Status, p.Body)
				}
				ev := tc.refuse(p)
				if !strings.Contains(ev.Reason, `field "`+tc.field+`" is not UTF-8 text`) {
					t.Errorf("audit event %+v does not say %s is not UTF-8 text", ev, tc.field)
				}
				if b.Session() != "" || e.SessionsOf(gus.ID) != 0 {
					t.Error("a session was made")
				}
			})
		}
	})
}
