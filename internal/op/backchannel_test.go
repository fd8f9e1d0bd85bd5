package op_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/app"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/op"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// receiver is an app's back-channel logout endpoint: it keeps every
// logout_token POSTed to it and answers with the next of its statuses
// (200 once they run out), after delay.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	tokens   []string
	statuses []int
	delay    time.Duration
	bad      []string
}

func newReceiver(t *testing.T, redirectTo string, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		time.Sleep(r.delay)
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || req.URL.Path != "/bcl" {
			r.bad = append(r.bad, req.Method+" "+req.URL.Path+" "+req.Header.Get("Content-Type"))
		}
		r.tokens = append(r.tokens, req.PostFormValue("logout_token"))
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		if status/100 == 3 {
			w.Header().Set("Location", redirectTo)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		panic("back-channel logout requests not as the spec says: " + r.bad[0])
	}
	return append([]string(nil), r.tokens...)
}

// withBackchannel registers the receiver as the portal's back-channel
// logout URI, the way a super admin would.
func (e *opEnv) withBackchannel(r *receiver) {
	e.t.Helper()
	e.portal.BackchannelLogoutURI = r.srv.URL + "/bcl"
	must(e.t, oidcop.ValidateBackchannelLogoutURI(e.portal.BackchannelLogoutURI))
	must(e.t, e.store.UpdateClient(context.Background(), &e.portal))
}

// otherProcess is Gatehouse built again over the same database (another
// process of the deployment), on clock now.
func (e *opEnv) otherProcess(now func() time.Time) *op.Provider {
	return app.New(app.Config{Store: e.store, Secrets: e.secrets, Passwords: hasher, BaseURL: e.base, Now: now}).OP
}

// signInPortal signs Bob in to the portal through Gatehouse and returns
// the sid of the ID token the portal got.
func (e *opEnv) signInPortal() string {
	e.t.Helper()
	portal := e.app(e.portal, portalSecret, portalReturn)
	_, id := portal.exchange(portal.authorize(e.browser))
	var claims struct {
		SID string `json:"sid"`
	}
	must(e.t, id.Claims(&claims))
	if claims.SID == "" {
		e.t.Fatal("the ID token has no sid")
	}
	return claims.SID
}

// logoutClaims verifies a logout token as a relying party does (OpenID
// Connect Back-Channel Logout 2.6): signed by a key of the provider's
// JWKS, typ logout+jwt, iss, aud, iat (about now) and exp, the event, no
// nonce; and returns its sub and sid.
func (e *opEnv) logoutClaims(token, audience string, now time.Time) (sub, sid string) {
	e.t.Helper()
	ctx := context.Background()
	keys := oidc.NewRemoteKeySet(ctx, e.issuer+oidcop.PathJWKS)
	payload, err := keys.VerifySignature(ctx, token)
	if err != nil {
		e.t.Fatalf("logout token signature against the JWKS: %v", err)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	must(e.t, err)
	if typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); typ != oidcop.TypLogoutToken {
		e.t.Errorf("logout token typ %q, want %q", typ, oidcop.TypLogoutToken)
	}
	var c struct {
		Issuer   string                    `json:"iss"`
		Audience jwt.Audience              `json:"aud"`
		Subject  string                    `json:"sub"`
		SID      string                    `json:"sid"`
		IssuedAt int64                     `json:"iat"`
		Expiry   int64                     `json:"exp"`
		JTI      string                    `json:"jti"`
		Events   map[string]map[string]any `json:"events"`
	}
	must(e.t, json.Unmarshal(payload, &c))
	var all map[string]any
	must(e.t, json.Unmarshal(payload, &all))
	if _, ok := all["nonce"]; ok {
		e.t.Error("logout token carries a nonce")
	}
	if ev, ok := c.Events[backchannelEvent]; !ok || ev == nil || len(c.Events) != 1 {
		e.t.Errorf("logout token events %v, want only %s with an object", all["events"], backchannelEvent)
	}
	if c.Issuer != e.issuer || len(c.Audience) != 1 || c.Audience[0] != audience || c.JTI == "" ||
		c.IssuedAt < now.Unix()-60 || c.IssuedAt > now.Unix()+5 || c.Expiry-c.IssuedAt != int64(oidcop.LogoutTokenLifetime.Seconds()) {
		e.t.Errorf("logout token claims %s", payload)
	}
	return c.Subject, c.SID
}

// TestBackchannelLogoutOnSignOut: Bob signs in to the portal (which has a
// back-channel logout URI) and the UC app (which has none), then signs out
// of Gatehouse: the portal is sent one logout token, signed with a key of
// the JWKS, naming Bob and the sid of the ID token it got (DESIGN rule 13,
// SECURITY.md Q-logout); nothing goes to the UC app, and nothing twice.
func TestBackchannelLogoutOnSignOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		r := newReceiver(t, "")
		e.withBackchannel(r)
		sid := e.signInPortal()
		uc := e.app(e.uc, "", ucReturn)
		uc.exchange(uc.authorize(e.browser))
		if n, err := e.provider.SendLogouts(ctx); n != 0 || err != nil || len(r.received()) != 0 {
			t.Fatalf("before sign-out: sent %d, %v; want nothing", n, err)
		}
		e.post(e.browser, "/logout", nil)
		if n, err := e.provider.SendLogouts(ctx); n != 1 || err != nil {
			t.Fatalf("after sign-out: sent %d, %v; want 1", n, err)
		}
		got := r.received()
		if len(got) != 1 {
			t.Fatalf("the portal received %d logout tokens, want 1", len(got))
		}
		if sub, gotSID := e.logoutClaims(got[0], e.portal.ID, time.Now()); sub != e.bob.ID || gotSID != sid {
			t.Errorf("logout token sub %q sid %q, want %q and the ID token's %q", sub, gotSID, e.bob.ID, sid)
		}
		if n, err := e.provider.SendLogouts(ctx); n != 0 || err != nil || len(r.received()) != 1 {
			t.Errorf("sending again: sent %d, %v; want nothing more", n, err)
		}
	})
}

// TestBackchannelLogoutOnPolicyEnd: a session the policy ends (SSO
// enabled for a user who signed in with a password) sends the portal its
// logout token too.
func TestBackchannelLogoutOnPolicyEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		r := newReceiver(t, "")
		e.withBackchannel(r)
		sid := e.signInPortal()
		storetest.KeepWayIn(t, s, e.bob.AccountID)
		c := gatehouse.SSOConfig{AccountID: e.bob.AccountID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: &gatehouse.SAMLSettings{}}
		must(t, s.CreateSSOConfig(ctx, &c))
		_, err := s.EnableSSOConfig(ctx, c.ID, c.UpdatedAt)
		must(t, err)
		if n, err := access.EndForbiddenSessions(ctx, s, e.bob.AccountID); n != 1 || err != nil {
			t.Fatalf("sessions the policy ended: %d, %v; want Bob's", n, err)
		}
		if n, err := e.provider.SendLogouts(ctx); n != 1 || err != nil {
			t.Fatalf("sent %d, %v; want 1", n, err)
		}
		if sub, gotSID := e.logoutClaims(r.received()[0], e.portal.ID, time.Now()); sub != e.bob.ID || gotSID != sid {
			t.Errorf("logout token sub %q sid %q, want %q and %q", sub, gotSID, e.bob.ID, sid)
		}
	})
}

// clock is a settable time for a process's back-off.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestBackchannelLogoutRetried: a receiver answering 500 is tried again,
// not before the back-off (10 s, then 20 s) has passed; a redirect is a
// failure and is not followed; the third try, answered 204, delivers.
func TestBackchannelLogoutRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		trap := newReceiver(t, "")
		r := newReceiver(t, trap.srv.URL+"/bcl", http.StatusInternalServerError, http.StatusTemporaryRedirect, http.StatusNoContent)
		e.withBackchannel(r)
		sid := e.signInPortal()
		e.post(e.browser, "/logout", nil)
		start := time.Now()
		clk := &clock{t: start}
		sender := e.otherProcess(clk.Now)
		send := func(when string, wantSent, wantReceived int) {
			t.Helper()
			n, err := sender.SendLogouts(ctx)
			if n != wantSent || err != nil || len(r.received()) != wantReceived {
				t.Fatalf("%s: sent %d, %v, received %d; want sent %d, received %d", when, n, err, len(r.received()), wantSent, wantReceived)
			}
		}
		send("first try (500)", 0, 1)
		send("at once again", 0, 1)
		clk.advance(9 * time.Second)
		send("9 s later", 0, 1)
		clk.advance(time.Second)
		send("10 s later (redirect)", 0, 2)
		clk.advance(19 * time.Second)
		send("19 s later", 0, 2)
		clk.advance(time.Second)
		send("20 s later (204)", 1, 3)
		clk.advance(time.Hour)
		send("an hour later", 0, 3)
		if len(trap.received()) != 0 {
			t.Error("the redirect was followed")
		}
		tokens := r.received()
		var jtis []string
		for i, tok := range tokens {
			signedAt := start.Add([]time.Duration{0, 10 * time.Second, 30 * time.Second}[i])
			if sub, gotSID := e.logoutClaims(tok, e.portal.ID, signedAt); sub != e.bob.ID || gotSID != sid {
				t.Errorf("retried token names sub %q sid %q", sub, gotSID)
			}
			var c struct {
				JTI string `json:"jti"`
			}
			parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
			must(t, err)
			must(t, parsed.UnsafeClaimsWithoutVerification(&c))
			jtis = append(jtis, c.JTI)
		}
		if jtis[0] == jtis[1] || jtis[1] == jtis[2] || jtis[0] == jtis[2] {
			t.Errorf("retries reuse a jti: %v", jtis)
		}
	})
}

// TestBackchannelLogoutSentOnce: two processes sending at once deliver
// each logout once.
func TestBackchannelLogoutSentOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		r := newReceiver(t, "")
		r.delay = 20 * time.Millisecond
		e.withBackchannel(r)
		sids := map[string]bool{}
		for range 4 {
			sids[e.signInPortal()] = true
			e.post(e.browser, "/logout", nil)
		}
		if len(sids) != 4 {
			t.Fatalf("%d distinct sids for 4 sessions", len(sids))
		}
		senders := []*op.Provider{e.provider, e.otherProcess(nil)}
		sent := make([]int, len(senders))
		errs := make([]error, len(senders))
		var start, wg sync.WaitGroup
		start.Add(1)
		for i, p := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				sent[i], errs[i] = p.SendLogouts(ctx)
			}()
		}
		start.Done()
		wg.Wait()
		for i := range senders {
			must(t, errs[i])
		}
		got := r.received()
		if sent[0]+sent[1] != 4 || len(got) != 4 {
			t.Fatalf("sent %v, received %d; want 4 in all, once each", sent, len(got))
		}
		for _, tok := range got {
			_, sid := e.logoutClaims(tok, e.portal.ID, time.Now())
			if !sids[sid] {
				t.Errorf("sid %q delivered twice or unknown", sid)
			}
			delete(sids, sid)
		}
	})
}
