package e2esaml

// Gatehouse, the real binary, as the SP of a real SimpleSAMLphp 1.19 IdP
// (idp.sh): configured over its REST API from the IdP's metadata URL, the
// IdP set up from the SP metadata Gatehouse publishes, and alice signed in
// through Gatehouse's own pages without a browser (idpclient plays the
// person at the IdP). One Gatehouse and one IdP serve every step; each step
// uses fresh cookie jars.

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/test/e2e/saml/idpclient"
)

const (
	adaEmail    = "ada@example.com"
	adaPassword = "e2e-ada-password-0123"
	aliceEmail  = "alice@example.com"
	aliceName   = "Alice Example"
	accountName = "Example"
)

func TestGatehouseWithSimpleSAMLphp(t *testing.T) {
	needSimpleSAMLphp(t, "Gatehouse against a real SimpleSAMLphp IdP")
	began := time.Now()
	h := startIdP(t)
	g := startGatehouse(t)
	ex := g.seed(t, accountName)
	t.Logf("IdP at %s, Gatehouse at %s, ready after %s", h.idp.BaseURL, g.Base, time.Since(began).Round(time.Millisecond))

	// Each step builds on the ones before it: the first failure ends the test.
	step := stepper(t)

	var a, b *spConfig          // configuration A (email NameID), B (persistent NameID, email attribute)
	var accepted idpclient.Post // a response Gatehouse accepted, for xmlsec1 and the replay

	step("A: configure from the IdP metadata URL, register Gatehouse's SP metadata at the IdP", func(t *testing.T) {
		a = g.createSAMLConfig(t, ex, nil)
		v := g.importMetadata(t, ex, a, h.idp.MetadataURL())
		if v.Status != "complete" || len(v.Problems) != 0 || v.Enabled {
			t.Fatalf("after the import: status %q, enabled %v, problems %+v", v.Status, v.Enabled, v.Problems)
		}
		if v.SAML.IdPEntityID != h.idp.EntityID() || v.SAML.SSOURL != h.idp.SSOURL() || v.SAML.NameIDFormat != fmtEmail {
			t.Errorf("imported entity ID %q, SSO URL %q, NameID format %q; want %q, %q, %q",
				v.SAML.IdPEntityID, v.SAML.SSOURL, v.SAML.NameIDFormat, h.idp.EntityID(), h.idp.SSOURL(), fmtEmail)
		}
		if got, want := certsOf(t, v.SAML.Certificates), []string{h.certBase64(t, 1)}; !slices.Equal(got, want) {
			t.Errorf("imported %d certificate(s), want exactly the IdP's certificate 1 (its metadata names it for signing and encryption)", len(got))
		}
		// SimpleSAMLphp lists HTTP-Redirect first; the POST binding gets a step of its own.
		if v.SAML.SSOBinding != "redirect" {
			t.Errorf("imported binding %q, want redirect", v.SAML.SSOBinding)
		}
		h.sh(t, "sp", h.dir, a.entityID, a.acsURL)
	})

	step("A: Test mode as the admin; the result shows alice", func(t *testing.T) {
		ada := g.browser(t)
		ada.signInWithPassword(adaEmail, adaPassword, false)
		p := ada.get(g.Base + "/sso/saml/" + a.id + "/test")
		if p.Title() != "Testing "+a.name+"…" {
			t.Fatalf("test start: %d %q at %s", p.Status, p.Title(), p.URL)
		}
		post, _ := ada.throughIdP(p, h.idp, a, "alice", "alicepass")
		p = ada.acs(post, h.idp)
		if !strings.HasPrefix(p.URL.Path, "/sso/test-result/") || p.Title() != "Test of "+a.name+" passed" {
			t.Fatalf("result: %d %q at %s:\n%.3000s", p.Status, p.Title(), p.URL, p.Body)
		}
		p.mustShow(t, "<dt>Subject (NameID)</dt><dd><code>alice@example.com</code></dd>",
			"<dt>NameID format</dt><dd><code>"+fmtEmail+"</code></dd>",
			"<dt>Email</dt><dd>alice@example.com</dd>",
			"Matches "+aliceName+" (alice@example.com).", "No one was signed in.")
		ada.get(g.Base+"/").mustShow(t, "Signed in as ada@example.com to Example.")
		v := g.config(t, ex, a.id)
		if lt := v.LastTest; lt == nil || lt.Outcome != "success" || lt.Subject != aliceEmail || lt.UserID != ex.AliceID || lt.By != ex.AdaID || !v.TestCurrent {
			t.Errorf("API last_test %+v, test_current %v: want a current success for alice by ada", v.LastTest, v.TestCurrent)
		}
	})

	step("A: enable; alice signs in SP-initiated", func(t *testing.T) {
		v := g.enable(t, ex, a.id)
		if !v.Enabled || v.Status != "enabled" {
			t.Fatalf("after enable: enabled %v, status %q", v.Enabled, v.Status)
		}
		alice := g.browser(t)
		post, _ := alice.signInSPInitiated(h.idp, a, "alice", "alicepass", func(r *samlResponse) {
			if r.Signature == nil || r.Assertion.Signature == nil {
				t.Errorf("SimpleSAMLphp's default: want Response and Assertion signed, got %v and %v", r.Signature != nil, r.Assertion.Signature != nil)
			}
		})
		accepted = post
		if ev := g.lastSignIn(t, ex, "success"); ev.ActorID != ex.AliceID || ev.Details["sso_config"] != a.id || ev.Details["email"] != aliceEmail {
			t.Errorf("audit signin.saml success = %+v, want alice through %s", ev, a.id)
		}
	})

	step("xmlsec1 verifies the response Gatehouse accepted", func(t *testing.T) {
		raw, err := accepted.XML()
		if err != nil {
			t.Fatal(err)
		}
		file := writeTemp(t, "accepted.xml", raw)
		h.verify(t, 1, file, "/*[local-name()='Response']/*[local-name()='Signature']")
		h.verify(t, 1, file, "//*[local-name()='Assertion']/*[local-name()='Signature']")
		h.verifyFails(t, 2, file)
	})

	step("replay: the accepted response posted again signs no one in", func(t *testing.T) {
		for _, relay := range []string{accepted.RelayState, ""} {
			again := accepted
			again.RelayState = relay
			br := g.browser(t)
			p := br.acs(again, h.idp)
			if ev := g.refused(t, ex, p); ev.Details["reason"] != "replay" || ev.Details["sso_config"] != a.id {
				t.Errorf("replay (RelayState %q): audit %+v, want reason replay", relay, ev)
			}
			br.NoSession()
		}
	})

	step("A: IdP-initiated is refused while allow_idp_initiated is off", func(t *testing.T) {
		br := g.browser(t)
		post := br.idpInitiated(h.idp, a)
		p := br.acs(post, h.idp)
		if ev := g.refused(t, ex, p); ev.Details["reason"] != "unsolicited" {
			t.Errorf("audit %+v, want reason unsolicited", ev)
		}
		for _, secret := range []string{"unsolicited", "IdP-initiated", "alice@example.com"} {
			if strings.Contains(p.Text(), secret) {
				t.Errorf("the refusal page tells %q; it should stay generic", secret)
			}
		}
		br.NoSession()
	})

	step("A: allow IdP-initiated: staged, tested, applied; alice signs in IdP-initiated", func(t *testing.T) {
		v := g.stage(t, ex, a.id, map[string]any{"saml": map[string]any{"allow_idp_initiated": true}})
		if v.SAML.AllowIdPInitiated || !v.Pending.SAML.AllowIdPInitiated || !v.TestCurrent {
			t.Fatalf("after the edit: live allow_idp_initiated %v, pending %v, live test_current %v; want false, true, true",
				v.SAML.AllowIdPInitiated, v.Pending.SAML.AllowIdPInitiated, v.TestCurrent)
		}
		// Not applied yet: an IdP-initiated answer is still refused.
		br := g.browser(t)
		if ev := g.refused(t, ex, br.acs(br.idpInitiated(h.idp, a), h.idp)); ev.Details["reason"] != "unsolicited" {
			t.Errorf("IdP-initiated before apply: audit %+v, want reason unsolicited", ev)
		}
		if p := g.testPending(t, h, a); p.Title() != "Test of "+a.name+" passed" {
			t.Fatalf("test of the pending version: %q:\n%.3000s", p.Title(), p.Body)
		}
		if v = g.applyPending(t, ex, a.id); !v.SAML.AllowIdPInitiated || !v.Enabled {
			t.Fatalf("after apply: allow_idp_initiated %v, enabled %v", v.SAML.AllowIdPInitiated, v.Enabled)
		}
		br = g.browser(t)
		br.acs(br.idpInitiated(h.idp, a), h.idp).signedInAs(t, br, aliceEmail)
	})

	step("A: assertion-only signing", func(t *testing.T) {
		h.sh(t, "sp", h.dir, a.entityID, a.acsURL, "sign=assertion")
		_, raw := g.browser(t).signInSPInitiated(h.idp, a, "alice", "alicepass", func(r *samlResponse) {
			if r.Signature != nil || r.Assertion.Signature == nil {
				t.Errorf("want only the Assertion signed, got Response signed %v, Assertion signed %v", r.Signature != nil, r.Assertion.Signature != nil)
			}
		})
		h.verify(t, 1, writeTemp(t, "assertion-only.xml", raw), "")
	})

	step("A: AuthnRequest by the HTTP-POST binding: staged, tested, applied", func(t *testing.T) {
		h.sh(t, "sp", h.dir, a.entityID, a.acsURL) // both signed again
		g.stage(t, ex, a.id, map[string]any{"saml": map[string]any{"sso_binding": "post"}})
		if p := g.testPending(t, h, a); p.Title() != "Test of "+a.name+" passed" {
			t.Fatalf("test of the pending version: %q:\n%.3000s", p.Title(), p.Body)
		}
		if v := g.applyPending(t, ex, a.id); v.SAML.SSOBinding != "post" || !v.Enabled {
			t.Fatalf("after apply: binding %q, enabled %v", v.SAML.SSOBinding, v.Enabled)
		}
		br := g.browser(t)
		p := br.post(g.Base+"/login", url.Values{"email": {aliceEmail}})
		post, req := br.throughIdP(p, h.idp, a, "alice", "alicepass")
		if req.binding != "post" {
			t.Errorf("the AuthnRequest went by %s, want post", req.binding)
		}
		br.acs(post, h.idp).signedInAs(t, br, aliceEmail)
	})

	step("B: persistent NameID and email as an attribute; test, enable (switches A off), alice signs in", func(t *testing.T) {
		b = g.createSAMLConfig(t, ex, map[string]any{"saml": map[string]any{"name_id_format": "persistent", "email_attribute": "email"}})
		v := g.importMetadata(t, ex, b, h.idp.MetadataURL())
		if v.Status != "complete" || v.SAML.NameIDFormat != fmtPersist || v.SAML.EmailAttribute != "email" {
			t.Fatalf("after the import: status %q (problems %+v), NameID format %q, email attribute %q",
				v.Status, v.Problems, v.SAML.NameIDFormat, v.SAML.EmailAttribute)
		}
		h.sh(t, "sp", h.dir, b.entityID, b.acsURL, "nameid=persistent")

		// SSO is on for Example now: the admin chooses her password.
		ada := g.browser(t)
		ada.signInWithPassword(adaEmail, adaPassword, true)
		p := ada.get(g.Base + "/sso/saml/" + b.id + "/test")
		post, _ := ada.throughIdP(p, h.idp, b, "alice", "alicepass")
		p = ada.acs(post, h.idp)
		if p.Title() != "Test of "+b.name+" passed" {
			t.Fatalf("result: %d %q at %s:\n%.3000s", p.Status, p.Title(), p.URL, p.Body)
		}
		m := regexp.MustCompile(`<dt>Subject \(NameID\)</dt><dd><code>([0-9a-f]{40})</code></dd>`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("the result shows no persistent NameID:\n%.3000s", p.Body)
		}
		persistentID := m[1]
		p.mustShow(t, "<dt>NameID format</dt><dd><code>"+fmtPersist+"</code></dd>", "<dt>Email</dt><dd>alice@example.com</dd>",
			"Matches "+aliceName+" (alice@example.com).")

		v = g.enable(t, ex, b.id)
		if !v.Enabled || v.DisabledConfigID != a.id {
			t.Fatalf("enable B: enabled %v, disabled_config_id %q; want true and A (%s)", v.Enabled, v.DisabledConfigID, a.id)
		}
		if va := g.config(t, ex, a.id); va.Enabled {
			t.Errorf("A is still enabled after B was")
		}
		g.browser(t).signInSPInitiatedAs(h.idp, b, "alice", "alicepass", aliceEmail, func(r *samlResponse) {
			if f, id := r.Assertion.Subject.NameID.Format, r.Assertion.Subject.NameID.Value; f != fmtPersist || id != persistentID {
				t.Errorf("NameID %q (%s), want the persistent %q seen in the test", id, f, persistentID)
			}
		})
		if ev := g.lastSignIn(t, ex, "success"); ev.ActorID != ex.AliceID || ev.Details["sso_config"] != b.id || ev.Details["subject"] != persistentID {
			t.Errorf("audit signin.saml success = %+v, want alice through %s with subject %s", ev, b.id, persistentID)
		}
	})

	step("B: certificate rollover", func(t *testing.T) {
		pem1, pem2 := h.certPEM(t, 1), h.certPEM(t, 2)
		v := g.patch(t, ex, b.id, map[string]any{"saml": map[string]any{"certificates": []string{pem1, pem2}}})
		if len(v.SAML.Certificates) != 2 || !v.Enabled || v.Status != "enabled" {
			t.Fatalf("after adding certificate 2: %d certificates, enabled %v, status %q (problems %+v)", len(v.SAML.Certificates), v.Enabled, v.Status, v.Problems)
		}
		// Both configured, the IdP still on key 1: nothing changes for alice.
		g.browser(t).signInSPInitiatedAs(h.idp, b, "alice", "alicepass", aliceEmail, nil)

		h.sh(t, "cert", h.dir, "2")
		h.sh(t, "restart", h.dir)
		_, raw := g.browser(t).signInSPInitiatedAs(h.idp, b, "alice", "alicepass", aliceEmail, nil)
		file := writeTemp(t, "rollover.xml", raw)
		h.verify(t, 2, file, "")
		h.verifyFails(t, 1, file)

		// A wrong pending certificate (only certificate 1 while the IdP signs
		// with key 2) fails its Test, and sign-ins keep working meanwhile.
		v = g.stage(t, ex, b.id, map[string]any{"saml": map[string]any{"certificates": []string{pem1}}})
		if len(v.SAML.Certificates) != 2 {
			t.Fatalf("removing certificate 2 changed the live settings: %d certificates", len(v.SAML.Certificates))
		}
		if p := g.testPending(t, h, b); p.Title() != "Test of "+b.name+" failed" {
			t.Fatalf("test of a pending version trusting only the old key: %q:\n%.3000s", p.Title(), p.Body)
		}
		if v = g.config(t, ex, b.id); v.Pending == nil || v.Pending.LastTest == nil || v.Pending.LastTest.Outcome != "failure" {
			t.Errorf("the pending version's last test: %+v", v.Pending)
		}
		g.browser(t).signInSPInitiatedAs(h.idp, b, "alice", "alicepass", aliceEmail, nil)
		g.Call(t, "POST", ex.ConfigPath(b.id)+"/pending/apply", nil, http.StatusUnprocessableEntity, nil)

		// The right one (only certificate 2: the rollover finished) passes
		// its Test and is applied while alice keeps signing in: none fails.
		g.stage(t, ex, b.id, map[string]any{"saml": map[string]any{"certificates": []string{pem2}}})
		if p := g.testPending(t, h, b); p.Title() != "Test of "+b.name+" passed" {
			t.Fatalf("test of a pending version trusting the new key: %q:\n%.3000s", p.Title(), p.Body)
		}
		failedBefore := len(g.AuditEvents(t, ex, "signin.saml", "failure"))
		stop, done := make(chan struct{}), make(chan int)
		go func() {
			n := 0
			defer func() { done <- n }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				br := g.browser(t)
				p := br.post(g.Base+"/login", url.Values{"email": {aliceEmail}})
				post, _ := br.throughIdP(p, h.idp, b, "alice", "alicepass")
				if p := br.acs(post, h.idp); p.URL.Path != "/" {
					t.Errorf("sign-in %d around the apply: %d %q at %s", n+1, p.Status, p.Title(), p.URL)
				}
				n++
			}
		}()
		time.Sleep(time.Second)
		v = g.applyPending(t, ex, b.id)
		time.Sleep(time.Second)
		close(stop)
		if n := <-done; n < 2 {
			t.Errorf("only %d sign-ins ran around the apply", n)
		}
		if got := certsOf(t, v.SAML.Certificates); len(got) != 1 || got[0] != h.certBase64(t, 2) {
			t.Errorf("after apply: %d certificates, want only certificate 2", len(got))
		}
		if failed := len(g.AuditEvents(t, ex, "signin.saml", "failure")) - failedBefore; failed != 0 {
			t.Errorf("%d sign-ins failed around the apply", failed)
		}

		// The IdP back on key 1: its answers are refused now.
		h.sh(t, "cert", h.dir, "1")
		h.sh(t, "restart", h.dir)
		br := g.browser(t)
		p := br.post(g.Base+"/login", url.Values{"email": {aliceEmail}})
		post, _ := br.throughIdP(p, h.idp, b, "alice", "alicepass")
		if ev := g.refused(t, ex, br.acs(post, h.idp)); ev.Details["reason"] != "signature" || ev.Details["sso_config"] != b.id {
			t.Errorf("audit %+v, want reason signature at %s", ev, b.id)
		}
		br.NoSession()
	})
	t.Logf("whole run: %s", time.Since(began).Round(time.Millisecond))
}

// TestServeBannerPublicURL: `gatehouse serve --addr 127.0.0.1:0` serves
// under http://ADDR (its SP entity IDs and ACS URLs say so), and the line it
// prints once listening should name that public URL, not http://127.0.0.1:0.
func TestServeBannerPublicURL(t *testing.T) {
	if os.Getenv(enableVar) != "1" {
		t.Skip("*** SKIPPED: builds and runs the gatehouse binary with the end-to-end suite; run test/e2e/saml/run or set " + enableVar + "=1.")
	}
	g := startGatehouse(t)
	resp, err := g.API.Get(g.Base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/healthz: %s", g.Base, resp.Status)
	}
	if g.BannerURL != g.Base {
		t.Errorf("serve printed public URL %s, but it serves (and builds SP values) under %s", g.BannerURL, g.Base)
	}
}
