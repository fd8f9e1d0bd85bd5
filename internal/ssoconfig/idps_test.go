package ssoconfig_test

import (
	"testing"

	"gatehouse"
	"gatehouse/internal/ssoconfig"
)

// TestEveryPresetIsOfferedOnce: the wizard's list of IdPs offers every
// preset exactly once, and every preset tells the admin what to paste
// where, in the words of its console.
func TestEveryPresetIsOfferedOnce(t *testing.T) {
	offered := map[string]int{}
	for _, idp := range ssoconfig.IdPs() {
		if idp.Name == "" || idp.InSentence == "" || len(idp.Presets) == 0 {
			t.Errorf("IdP %+v lacks a name or presets", idp)
		}
		for _, p := range idp.Presets {
			offered[p.ID]++
			if p.Variant == "" {
				t.Errorf("%s: no variant name", p.ID)
			}
		}
	}
	for _, p := range ssoconfig.Presets() {
		if offered[p.ID] != 1 {
			t.Errorf("preset %s offered %d times, want once", p.ID, offered[p.ID])
		}
		delete(offered, p.ID)
		l := p.SPLabels
		switch p.Protocol {
		case gatehouse.ProtocolSAML:
			if l.EntityID == "" || l.ACSURL == "" || l.RedirectURI != "" {
				t.Errorf("%s: SAML labels %+v", p.ID, l)
			}
		case gatehouse.ProtocolOIDC:
			// On the provider's Entra ID app there is nothing to paste.
			if (l.RedirectURI == "") != p.ProviderApp || l.EntityID != "" || l.ACSURL != "" {
				t.Errorf("%s: OIDC labels %+v", p.ID, l)
			}
		}
	}
	for id := range offered {
		t.Errorf("the wizard offers %s, which is no preset", id)
	}
	if idp, ok := ssoconfig.IdPOf("okta_oidc"); !ok || idp.Name != "Okta" || len(idp.Presets) != 1 || idp.Presets[0].Variant != "OpenID Connect" {
		t.Errorf("IdPOf(okta_oidc) = %+v, %v", idp, ok)
	}
	if _, ok := ssoconfig.IdPOf("no_such_preset"); ok {
		t.Error("IdPOf found a preset that does not exist")
	}
}
