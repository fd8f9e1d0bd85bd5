package reseal_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/reseal"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/totp"
	"gatehouse/internal/webhook"
)

const (
	oldSecret = "the secret key the servers started with, long enough"
	newSecret = "the secret key the servers move to, also long enough"
)

func mustBox(t *testing.T, keys ...string) *secretbox.Box {
	t.Helper()
	b, err := secretbox.NewRing(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seeded is one stored secret of each kind, sealed under the old key.
type seeded struct {
	userID, samlID, oidcID, webhookID string
}

func seed(t *testing.T, s *store.Store, old *secretbox.Box) seeded {
	t.Helper()
	ctx := context.Background()
	p := gatehouse.Partition{Name: "Reseller"}
	if err := s.CreatePartition(ctx, &p); err != nil {
		t.Fatal(err)
	}
	a := gatehouse.Account{PartitionID: p.ID, Name: "Acme", Plan: gatehouse.PlanEnterprise}
	if err := s.CreateAccount(ctx, &a); err != nil {
		t.Fatal(err)
	}
	u := gatehouse.User{AccountID: a.ID, Email: "ada@acme.example", DisplayName: "Ada", Role: gatehouse.RoleAdmin, Status: gatehouse.UserActive}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if err := s.EnrollTOTP(ctx, u.ID, old.Seal(totp.SealPurpose, []byte("JBSWY3DPEHPK3PXP")), []string{"h1"}); err != nil {
		t.Fatal(err)
	}
	sc := gatehouse.SSOConfig{AccountID: a.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
		SAML: &gatehouse.SAMLSettings{IdPEntityID: "https://idp.example/metadata", SSOBinding: "redirect", ClockSkewSeconds: 120}}
	if err := s.CreateSSOConfig(ctx, &sc); err != nil {
		t.Fatal(err)
	}
	if err := ssoconfig.NewSPKey(old, &sc, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateSSOConfig(ctx, &sc, false); err != nil {
		t.Fatal(err)
	}
	oc := gatehouse.SSOConfig{AccountID: a.ID, Protocol: gatehouse.ProtocolOIDC, Preset: "generic_oidc",
		OIDC: &gatehouse.OIDCSettings{Issuer: "https://login.example", ClientID: "gatehouse", Scopes: []string{"openid", "email"}, EmailClaim: "email", AllowedAlgorithms: []string{"RS256"}}}
	if err := s.CreateSSOConfig(ctx, &oc); err != nil {
		t.Fatal(err)
	}
	ssoconfig.SealClientSecret(old, &oc, "live client secret")
	pending := gatehouse.SSOPending{Preset: oc.Preset, OIDC: oc.OIDC, CreatedAt: time.Now(), ChangedAt: time.Now()}
	oc.Pending = &pending
	pendingView := oc.WithPending()
	ssoconfig.SealClientSecret(old, &pendingView, "pending client secret")
	oc.Pending.ClientSecret = pendingView.ClientSecret
	if err := s.UpdateSSOConfig(ctx, &oc, false); err != nil {
		t.Fatal(err)
	}
	k, err := oidcop.NewSigningKey(oidcop.AlgES256, old, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFirstSigningKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	h := gatehouse.Webhook{AccountID: a.ID, URL: "https://hooks.example/gatehouse", EventTypes: []string{"signin.failed"}, Enabled: true,
		SealedSecret: old.Seal(webhook.SealPurpose, []byte("webhook signing secret"))}
	if err := s.CreateWebhook(ctx, &h); err != nil {
		t.Fatal(err)
	}
	claim, err := s.ClaimIdempotencyKey(ctx, "token tok_1", "key-1", "fp", 24*time.Hour, 10*time.Minute)
	if err != nil || !claim.Owned {
		t.Fatalf("claim: %+v, %v", claim, err)
	}
	if err := s.KeepIdempotentAnswer(ctx, "token tok_1", "key-1", claim.ClaimedAt,
		old.Seal(store.IdempotentAnswerPurpose("token tok_1", "key-1"), []byte(`{"status":201}`))); err != nil {
		t.Fatal(err)
	}
	return seeded{userID: u.ID, samlID: sc.ID, oidcID: oc.ID, webhookID: h.ID}
}

// opensEverything says whether box alone opens every stored secret the way
// the product reads them: the TOTP seed, the SP key, both client secrets
// and the signing key.
func opensEverything(t *testing.T, s *store.Store, box *secretbox.Box, ids seeded) error {
	t.Helper()
	ctx := context.Background()
	u, err := s.User(ctx, ids.userID)
	if err != nil {
		t.Fatal(err)
	}
	if seed, err := box.Open(totp.SealPurpose, u.TOTPSecret); err != nil || string(seed) != "JBSWY3DPEHPK3PXP" {
		return errors.Join(errors.New("TOTP seed"), err)
	}
	sc, err := s.SSOConfig(ctx, ids.samlID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ssoconfig.SAMLSP(&url.URL{Scheme: "https", Host: "sso.example"}, box, &sc); err != nil {
		return err
	}
	oc, err := s.SSOConfig(ctx, ids.oidcID)
	if err != nil {
		t.Fatal(err)
	}
	if live, err := ssoconfig.OIDCSettings(&oc, box); err != nil || live.ClientSecret != "live client secret" {
		return errors.Join(errors.New("live client secret"), err)
	}
	pv := oc.WithPending()
	if pend, err := ssoconfig.OIDCSettings(&pv, box); err != nil || pend.ClientSecret != "pending client secret" {
		return errors.Join(errors.New("pending client secret"), err)
	}
	h, err := s.Webhook(ctx, ids.webhookID)
	if err != nil {
		t.Fatal(err)
	}
	if secret, err := box.Open(webhook.SealPurpose, h.SealedSecret); err != nil || string(secret) != "webhook signing secret" {
		return errors.Join(errors.New("webhook secret"), err)
	}
	claim, err := s.ClaimIdempotencyKey(ctx, "token tok_1", "key-1", "fp", 24*time.Hour, 10*time.Minute)
	if err != nil || claim.Owned {
		t.Fatalf("claim again: %+v, %v", claim, err)
	}
	if answer, err := box.Open(store.IdempotentAnswerPurpose("token tok_1", "key-1"), claim.Answer); err != nil || string(answer) != `{"status":201}` {
		return errors.Join(errors.New("idempotent answer"), err)
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = oidcop.LoadKeySet(keys, box, time.Now())
	return err
}

// TestRotationReSealsEveryStoredSecret: after the rotation the new key
// alone opens every kind of stored secret and the old one opens none; a
// ring without the old key is refused and changes nothing; a second run
// finds nothing to do; on both databases.
func TestRotationReSealsEveryStoredSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		old, newOnly, ring := mustBox(t, oldSecret), mustBox(t, newSecret), mustBox(t, newSecret, oldSecret)
		ids := seed(t, s, old)
		if err := opensEverything(t, s, ring, ids); err != nil {
			t.Fatalf("the ring does not open what the old key sealed: %v", err)
		}
		if err := opensEverything(t, s, newOnly, ids); err == nil {
			t.Fatal("the new key alone opened secrets sealed under the old one before the rotation")
		}

		if _, err := reseal.All(ctx, s, newOnly); !errors.Is(err, reseal.ErrUnopenable) {
			t.Fatalf("rotation with a ring that lacks the old key: %v, want ErrUnopenable", err)
		}
		if err := opensEverything(t, s, old, ids); err != nil {
			t.Fatalf("a refused rotation changed stored secrets: %v", err)
		}

		check, err := reseal.Check(ctx, s, ring)
		if err != nil || check.Replaced != 0 {
			t.Fatalf("dry run: %+v, %v", check, err)
		}
		if err := opensEverything(t, s, old, ids); err != nil {
			t.Fatalf("the dry run changed stored secrets: %v", err)
		}
		want := map[string]int{"users.totp_secret": 1, "sso_configs.sp_key": 1, "sso_configs.client_secret": 1, "sso_configs.pending": 1, "op_keys.sealed": 1,
			"webhooks.secret": 1, "idempotency_keys.answer": 1}
		for col, n := range want {
			if check.Found[col] != n || check.Resealed[col] != n {
				t.Errorf("dry run, %s: %d found, %d to re-seal; want %d", col, check.Found[col], check.Resealed[col], n)
			}
		}

		r, err := reseal.All(ctx, s, ring)
		if err != nil || r.Replaced != 7 {
			t.Fatalf("rotation: %+v, %v; want 7 replaced", r, err)
		}
		if err := opensEverything(t, s, newOnly, ids); err != nil {
			t.Fatalf("after the rotation the new key alone does not open: %v", err)
		}
		if err := opensEverything(t, s, old, ids); err == nil {
			t.Fatal("after the rotation the old key still opens the stored secrets")
		}
		again, err := reseal.All(ctx, s, ring)
		if err != nil || again.Replaced != 0 {
			t.Fatalf("second rotation: %+v, %v; want nothing to do", again, err)
		}
	})
}
