package oidcconnector

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/oidctest"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/sso"
)

func setup(t *testing.T) (*Connector, *oidctest.OP, *gatehouse.SSOConfig) {
	t.Helper()
	k, err := oidctest.NewECKey("ec-1")
	if err != nil {
		t.Fatal(err)
	}
	op := oidctest.New(k)
	t.Cleanup(op.Close)
	box, err := secretbox.New("test secret key, at least thirty-two characters long")
	if err != nil {
		t.Fatal(err)
	}
	c := &gatehouse.SSOConfig{ID: "sso_1", Protocol: gatehouse.ProtocolOIDC, Preset: oidcrp.PresetGeneric, UpdatedAt: time.Unix(1000, 0),
		OIDC: &gatehouse.OIDCSettings{Issuer: op.URL, ClientID: op.PublicClientID}}
	conn := New(Config{BaseURL: &url.URL{Scheme: "https", Host: "gatehouse.test"}, Secrets: box,
		// Built here until the configuration's own settings are wanted.
		Settings: func(c *gatehouse.SSOConfig, _ *secretbox.Box) (oidcrp.Settings, error) {
			return oidcrp.Settings{Issuer: c.OIDC.Issuer, ClientID: c.OIDC.ClientID}, nil
		}})
	return conn, op, c
}

func TestProviderCachedUntilTheConfigurationChanges(t *testing.T) {
	conn, op, c := setup(t)
	ctx := context.Background()
	for range 3 {
		r, err := conn.Start(ctx, c, sso.StartRequest{FlowKey: "FLOW1", LoginHint: "kim@acme.example"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(r.RedirectURL)
		if q := u.Query(); q.Get("state") != "FLOW1" || q.Get("nonce") != r.RequestID || q.Get("redirect_uri") != "https://gatehouse.test/sso/oidc/sso_1/callback" ||
			q.Get("code_challenge_method") != "S256" || q.Get("domain_hint") != "" || len(r.Secret) == 0 {
			t.Fatalf("request %s", r.RedirectURL)
		}
	}
	if d, _, _ := op.Hits(); d != 1 {
		t.Fatalf("discovery fetched %d times for one unchanged configuration", d)
	}
	c.UpdatedAt = c.UpdatedAt.Add(time.Second)
	if _, err := conn.Start(ctx, c, sso.StartRequest{FlowKey: "FLOW2"}); err != nil {
		t.Fatal(err)
	}
	if d, _, _ := op.Hits(); d != 2 {
		t.Fatalf("an edited configuration kept its old provider (%d fetches)", d)
	}
}

func TestVerifierOpensOnlyForItsFlow(t *testing.T) {
	conn, op, c := setup(t)
	ctx := context.Background()
	r, err := conn.Start(ctx, c, sso.StartRequest{FlowKey: "FLOW1"})
	if err != nil {
		t.Fatal(err)
	}
	// The sealed verifier of FLOW1 moved to the row of FLOW2.
	_, err = conn.Finish(ctx, c, url.Values{"state": {"FLOW2"}, "code": {"x"}}, sso.Pending{RequestIDs: []string{r.RequestID}, Secret: r.Secret, Now: time.Now()})
	var serr *gatehouse.Rejection
	if !errors.As(err, &serr) || serr.Reason != "configuration" {
		t.Fatalf("err = %v", err)
	}
	if _, _, tok := op.Hits(); tok != 0 {
		t.Fatal("the code was redeemed without this flow's verifier")
	}
}

func TestAttributesShowEveryClaim(t *testing.T) {
	got := attributes(map[string]any{"sub": "s", "n": json.Number("3"), "ok": true, "groups": []any{"a", json.Number("2")},
		"address": map[string]any{"z": 1, "a": "x"}, "none": nil})
	want := map[string][]string{"sub": {"s"}, "n": {"3"}, "ok": {"true"}, "groups": {"a", "2"}, "address": {`{"a":"x","z":1}`}, "none": {"null"}}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
