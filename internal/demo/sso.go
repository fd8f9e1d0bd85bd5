package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"gatehouse"
	"gatehouse/internal/demoidp"
	"gatehouse/internal/saml"
	"gatehouse/internal/store"
)

// IdPUsers are the people the demo IdP offers: Acme's seats, and a new hire
// the IdP knows but Gatehouse has no seat for, to show that page.
func IdPUsers() []demoidp.User {
	var users []demoidp.User
	for _, p := range People {
		if p.Account == "Acme" {
			users = append(users, demoidp.User{Email: p.Email, Name: p.Name, Groups: p.Groups})
		}
	}
	return append(users, demoidp.User{Email: "newhire@acme.example", Name: "Nina Newhire (no seat in Gatehouse)"})
}

// IdP is what the seeded SAML configuration trusts.
type IdP struct {
	EntityID       string
	SSOURL         string
	CertificatePEM string
}

// ErrNoDemoSSO means the demo data has no SSO configuration for the demo
// IdP and none was to be created: a data folder from before the demo IdP,
// or one whose admin deleted it.
var ErrNoDemoSSO = errors.New("demo: Acme has no SSO configuration for the demo IdP")

// SeedSSO gives Acme an enabled SAML configuration trusting idp, with a
// passing test recorded in Ada's name, when create is set (a fresh demo).
// Otherwise it finds the one made before and points it at the IdP's
// current SSO URL and certificate, which move when the demo starts on
// another port or its key files are deleted: that is the demo keeping its
// own IdP reachable, not an admin's edit, so the recorded test stands.
func SeedSSO(ctx context.Context, st *store.Store, idp IdP, create bool) (gatehouse.SSOConfig, error) {
	admins, err := st.UsersByEmail(ctx, "ada@acme.example")
	if err != nil {
		return gatehouse.SSOConfig{}, err
	}
	if len(admins) == 0 {
		return gatehouse.SSOConfig{}, ErrNoDemoSSO
	}
	ada := admins[0]
	configs, err := st.ListSSOConfigs(ctx, ada.AccountID, "")
	if err != nil {
		return gatehouse.SSOConfig{}, err
	}
	for _, c := range configs {
		if c.SAML == nil || c.SAML.IdPEntityID != idp.EntityID {
			continue
		}
		if c.SAML.SSOURL != idp.SSOURL || !slices.Equal(c.SAML.Certificates, []string{idp.CertificatePEM}) {
			c.SAML.SSOURL, c.SAML.Certificates = idp.SSOURL, []string{idp.CertificatePEM}
			if err := st.UpdateSSOConfig(ctx, &c, false); err != nil {
				return gatehouse.SSOConfig{}, fmt.Errorf("demo: point the SSO configuration at the demo IdP: %w", err)
			}
		}
		return c, nil
	}
	if !create {
		return gatehouse.SSOConfig{}, ErrNoDemoSSO
	}
	c := gatehouse.SSOConfig{AccountID: ada.AccountID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: &gatehouse.SAMLSettings{
		IdPEntityID:      idp.EntityID,
		SSOURL:           idp.SSOURL,
		SSOBinding:       "redirect",
		Certificates:     []string{idp.CertificatePEM},
		NameIDFormat:     saml.NameIDFormatEmail,
		ClockSkewSeconds: int(saml.DefaultClockSkew.Seconds()),
	}}
	if err := st.CreateSSOConfig(ctx, &c); err != nil {
		return gatehouse.SSOConfig{}, fmt.Errorf("demo: SSO configuration: %w", err)
	}
	test := gatehouse.SSOTest{At: st.Now().UTC(), By: ada.ID, Outcome: gatehouse.OutcomeSuccess, Subject: ada.Email, UserID: ada.ID,
		Details: map[string]string{"email": ada.Email, "note": "recorded by gatehouse demo when it set up the demo IdP"}}
	if err := st.RecordSSOTest(ctx, c.ID, test); err != nil {
		return gatehouse.SSOConfig{}, fmt.Errorf("demo: SSO test: %w", err)
	}
	if _, err := st.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
		return gatehouse.SSOConfig{}, fmt.Errorf("demo: enable SSO: %w", err)
	}
	return st.SSOConfig(ctx, c.ID)
}
