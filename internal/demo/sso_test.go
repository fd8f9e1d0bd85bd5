package demo_test

import (
	"context"
	"testing"
	"time"

	"gatehouse/internal/demo"
	"gatehouse/internal/demoidp"
	"gatehouse/internal/password"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store/storetest"
)

// TestSeededSSOIsOneAnAdminCouldEnable: the demo's configuration passes the
// same checks the API applies before enabling, so the demo shows a state an
// admin can reach, and a restart on another port keeps it working.
func TestSeededSSOIsOneAnAdminCouldEnable(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	if _, err := demo.Seed(ctx, st, password.NewHasher(1)); err != nil {
		t.Fatal(err)
	}
	key, cert, err := demoidp.LoadOrCreateKey(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	idp := demoidp.New(demoidp.Config{BaseURL: "http://127.0.0.1:8081", Key: key, Cert: cert})
	values := demo.IdP{EntityID: demoidp.EntityID, SSOURL: idp.SSOURL(), CertificatePEM: idp.CertificatePEM()}
	c, err := demo.SeedSSO(ctx, st, values, true)
	if err != nil {
		t.Fatal(err)
	}
	acme, err := st.Account(ctx, c.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if err := ssoconfig.Enableable(&c, acme); err != nil || !c.Enabled || acme.Name != "Acme" {
		t.Fatalf("seeded configuration %+v: enabled %v, Enableable: %v", c, c.Enabled, err)
	}

	values.SSOURL = "http://127.0.0.1:9091/sso"
	moved, err := demo.SeedSSO(ctx, st, values, false)
	if err != nil || moved.ID != c.ID || moved.SAML.SSOURL != values.SSOURL || !moved.TestIsCurrent() || !moved.Enabled {
		t.Fatalf("after the IdP moved: %+v, %v", moved, err)
	}
}
