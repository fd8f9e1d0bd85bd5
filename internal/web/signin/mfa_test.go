package signin_test

import (
	"context"
	"net/url"
	"testing"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/sso/samlconnector"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

const multipleAuthn = "http://schemas.microsoft.com/claims/multipleauthn"

// sessionMFA returns whether the browser's session records that its IdP
// asserted MFA.
func sessionMFA(t *testing.T, s *store.Store, b *webtest.Browser) bool {
	t.Helper()
	sess, err := s.Session(context.Background(), login.SessionID(b.Session()))
	if err != nil || sess.State != gatehouse.SessionAuthenticated || sess.SSOConfigID == "" {
		t.Fatalf("session = %+v, %v", sess, err)
	}
	return sess.IdPMFA
}

// TestFederatedSessionRecordsIdPMFA: what the IdP asserted about MFA, by
// the connectors' rules, goes from the answer through the finish step to
// the session, for SAML (Entra ID's authnmethodsreferences) and OIDC (amr).
func TestFederatedSessionRecordsIdPMFA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())

		t.Run("saml", func(t *testing.T) {
			acme := e.SAMLConfig("Acme", "acme", true, nil)
			e.User("Acme", "bob@acme.example")
			for _, mfa := range []bool{true, false} {
				b := e.Browser()
				req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
				resp := acme.Response(req.ID, "bob@acme.example", func(r *samltest.Response) {
					if mfa {
						r.Attributes[samlconnector.AuthnMethodsAttribute] = []string{multipleAuthn}
					}
				})
				if p := b.PostACS(acme.Config.ID, resp, req.RelayState); p.Path != "/" {
					t.Fatalf("sign-in: %d at %s:\n%s", p.Status, p.Path, p.Body)
				}
				if got := sessionMFA(t, s, b); got != mfa {
					t.Errorf("IdP asserted MFA %v: session IdPMFA = %v", mfa, got)
				}
			}
		})

		t.Run("oidc", func(t *testing.T) {
			op, k := newOP(t)
			globex := e.OIDCConfig("Globex", op, k, oidcrp.PresetGeneric, true)
			e.User("Globex", "gil@globex.example")
			for _, tt := range []struct {
				amr  []any
				want bool
			}{{[]any{"pwd", "mfa"}, true}, {[]any{"pwd"}, false}} {
				b := e.Browser()
				p := b.SignInWith(globex, "gil@globex.example", "sub-gil", func(c map[string]any) { c["amr"] = tt.amr })
				if p.Path != "/" {
					t.Fatalf("sign-in: %d at %s:\n%s", p.Status, p.Path, p.Body)
				}
				if got := sessionMFA(t, s, b); got != tt.want {
					t.Errorf("amr %v: session IdPMFA = %v, want %v", tt.amr, got, tt.want)
				}
			}
		})
	})
}

// TestSAMLTestShowsIdPMFA: the Test result page says whether the IdP
// asserted MFA, and the authentication context it sent.
func TestSAMLTestShowsIdPMFA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		draft := e.SAMLConfig("Acme", "acme", false, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		b := e.Browser()
		if p := b.SignIn("ada@acme.example", webtest.GoodPassword); p.Path != "/" {
			t.Fatalf("admin sign-in landed on %s", p.Path)
		}
		for _, mfa := range []bool{true, false} {
			req := webtest.IdPRequest(t, b.Get("/sso/saml/"+draft.Config.ID+"/test"))
			resp := draft.Response(req.ID, "bob@acme.example", func(r *samltest.Response) {
				if mfa {
					r.Attributes[samlconnector.AuthnMethodsAttribute] = []string{multipleAuthn}
				}
			})
			p := b.PostACS(draft.Config.ID, resp, req.RelayState)
			want := "<dt>MFA asserted by the IdP</dt><dd>no</dd>"
			if mfa {
				want = "<dt>MFA asserted by the IdP</dt><dd>yes</dd>"
			}
			p.MustShow(t, want, "<dt>Authentication context</dt><dd><code>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</code></dd>")
		}
	})
}
