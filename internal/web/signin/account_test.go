package signin_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestChangePasswordEndsOtherSessions (A-reset-sessions): on the security
// page a person changes their password with their current one; this
// browser stays signed in, every other is signed out.
func TestChangePasswordEndsOtherSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.User("Acme", "gina@example.com")
		other := e.SignedIn("gina@example.com")
		b := e.SignedIn("gina@example.com")

		b.Get("/account/security").MustShow(t, "Change password")
		b.Post("/account/security/password", url.Values{"current_password": {"wrong guess"}, "new_password": {newPassword}, "confirm": {newPassword}}).
			MustShow(t, "Your current password is not right.")
		p := b.Post("/account/security/password", url.Values{"current_password": {webtest.GoodPassword}, "new_password": {newPassword}, "confirm": {newPassword}})
		p.MustShow(t, "Your password is changed. Every other browser and app signed in as you is signed out.")
		if p := b.Get("/"); p.Path != "/" {
			t.Errorf("this browser was signed out: %s", p.Path)
		}
		if p := other.Get("/"); !strings.HasPrefix(p.Path, "/login") {
			t.Errorf("the other browser is still signed in: %s", p.Path)
		}
		e.Browser().SignIn("gina@example.com", newPassword).MustShow(t, "Signed in as gina@example.com")
	})
}

var codeRe = regexp.MustCompile(`<code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code>`)

// TestNewRecoveryCodesAndNewPhone: with a current code, a person gets new
// recovery codes (the old ones stop working) and sets up their
// authenticator app again on a new phone.
func TestNewRecoveryCodesAndNewPhone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		u := e.User("Acme", "gina@example.com")
		secret, oldCodes := e.Enroll(u)
		b := e.Browser()
		b.SignIn("gina@example.com", webtest.GoodPassword)
		b.Post("/login/totp", url.Values{"code": {e.Code(secret, 0)}}).MustShow(t, "Signed in as gina@example.com")

		b.Post("/account/security/recovery-codes", url.Values{"code": {"000000"}}).MustShow(t, "That code did not work.")
		e.Clock.Advance(30 * time.Second)
		p := b.Post("/account/security/recovery-codes", url.Values{"code": {e.Code(secret, 0)}})
		p.MustShow(t, "Save your new recovery codes", "Your earlier recovery codes no longer work.")
		if n := len(codeRe.FindAllString(p.Body, -1)); n != 10 {
			t.Errorf("%d new codes shown", n)
		}
		old := e.Browser()
		old.SignIn("gina@example.com", webtest.GoodPassword)
		old.Post("/login/totp", url.Values{"code": {oldCodes[0]}}).MustShow(t, "That code did not work.")

		e.Clock.Advance(30 * time.Second)
		b.Post("/account/security/totp/replace", url.Values{"code": {e.Code(secret, 0)}}).MustShow(t, "Scan this QR code")
	})
}
