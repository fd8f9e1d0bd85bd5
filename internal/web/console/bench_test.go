package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// BenchmarkEnablePreviewPage measures the enable step an admin opens before
// enabling, for an account of 2,000 seats on SQLite: every user read, the
// sign-in policy decided for each, the lockout check, and the page (50
// names a list) rendered.
func BenchmarkEnablePreviewPage(b *testing.B) {
	s := storetest.SQLite(b)
	e := webtest.NewEnv(b, s, webtest.NewClock())
	cfg := e.SAMLConfig("Acme", "acme", false, nil)
	ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
	ctx := context.Background()
	// Tested, so the page checks everything enabling would: the lockout
	// check too.
	if err := s.RecordSSOTest(ctx, cfg.Config.ID, gatehouse.SSOTest{At: e.Clock.Now(), By: ada.ID, Outcome: gatehouse.OutcomeSuccess}); err != nil {
		b.Fatal(err)
	}
	for i := range 2000 {
		u := gatehouse.User{AccountID: cfg.Config.AccountID, Email: fmt.Sprintf("seat%04d@acme.example", i), Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		if err := s.CreateUser(ctx, &u); err != nil {
			b.Fatal(err)
		}
	}
	br := e.Browser()
	br.SignIn("ada@acme.example", webtest.GoodPassword)
	path := "/admin/accounts/" + cfg.Config.AccountID + "/sso/" + cfg.Config.ID + "/enable"
	for b.Loop() {
		if p := br.Get(path); p.Status != http.StatusOK || !strings.Contains(p.Body, "Sign in through your identity provider only: 2000") ||
			strings.Contains(p.Body, "cannot be enabled yet") {
			b.Fatalf("enable page: %d", p.Status)
		}
	}
}
