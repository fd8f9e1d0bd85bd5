package samlconnector

import (
	"context"
	"encoding/pem"
	"errors"
	"net/url"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/sso"
	"gatehouse/internal/ssoconfig"
)

// TestCertificateChangeTakesEffectAtOnce: the connector keeps each
// configuration's parsed certificates between answers, yet a configuration
// whose certificate was replaced (on any process: UpdatedAt moved) refuses
// the old IdP key at the very next answer and accepts the new one.
func TestCertificateChangeTakesEffectAtOnce(t *testing.T) {
	now := time.Now()
	oldIdP, err := samltest.New("https://idp.acme.example", "https://idp.acme.example/sso", now)
	if err != nil {
		t.Fatal(err)
	}
	newIdP, err := samltest.New("https://idp.acme.example", "https://idp.acme.example/sso", now)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := func(idp *samltest.IdP) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Cert.Raw}))
	}
	base := &url.URL{Scheme: "https", Host: "gatehouse.example"}
	cfg := gatehouse.SSOConfig{ID: "sso_1", Name: "sso-abcdef", Protocol: gatehouse.ProtocolSAML, UpdatedAt: now.Add(-time.Hour),
		SAML: &gatehouse.SAMLSettings{IdPEntityID: oldIdP.EntityID, SSOURL: oldIdP.SSOURL, Certificates: []string{certPEM(oldIdP)}, AllowIdPInitiated: true}}
	sp := ssoconfig.SP(base, &cfg)
	c := New(base, nil)
	answer := func(idp *samltest.IdP) error {
		r, err := idp.SignedResponse(samltest.Response{Now: now, Destination: sp.ACSURL, Audience: sp.EntityID, NameID: "ann@acme.example"},
			samltest.Signing{Response: true, Assertion: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Finish(context.Background(), &cfg, url.Values{"SAMLResponse": {r}}, sso.Pending{Now: now})
		return err
	}
	if err := answer(oldIdP); err != nil {
		t.Fatalf("the configured IdP's answer: %v", err)
	}
	if err := answer(oldIdP); err != nil {
		t.Fatalf("the configured IdP's second answer (cached): %v", err)
	}
	cfg.SAML.Certificates = []string{certPEM(newIdP)}
	cfg.UpdatedAt = now
	var refusal *gatehouse.Rejection
	if err := answer(oldIdP); !errors.As(err, &refusal) || refusal.Reason != "signature" {
		t.Fatalf("the replaced key's answer after the change: %v, want a signature refusal", err)
	}
	if err := answer(newIdP); err != nil {
		t.Fatalf("the new key's answer after the change: %v", err)
	}
}
