package console

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/ssoconfig"
)

// TestParseConnectForm: the connect form becomes an edit of every field it
// shows, a clock skew in words stops it, and an empty secret box keeps the
// stored secret.
func TestParseConnectForm(t *testing.T) {
	samlView := admin.SSOConfigView{Protocol: gatehouse.ProtocolSAML, SAML: &gatehouse.SAMLSettings{}}
	preset, _ := ssoconfig.PresetByID("generic_saml")
	at := time.Date(2026, 12, 3, 6, 0, 0, 123456789, time.UTC)
	f, in, errs := parseConnectForm(url.Values{"updated_at": {at.Format(time.RFC3339Nano)}, "idp_entity_id": {"https://idp.example/"},
		"certificate_0": {""}, "certificate_1": {"PEM one"}, "certificate_3": {"PEM three"}, "clock_skew_seconds": {"90"},
		"sign_requests": {"on"}}, samlView, preset)
	if len(errs) != 0 || in.SAML == nil || *in.SAML.IdPEntityID != "https://idp.example/" || *in.SAML.ClockSkewSeconds != 90 ||
		!*in.SAML.SignRequests || *in.SAML.AllowIdPInitiated || !slices.Equal(*in.SAML.Certificates, []string{"PEM one", "PEM three"}) ||
		in.UpdatedAt == nil || !in.UpdatedAt.Equal(at) {
		t.Fatalf("parsed %+v, errs %v", in.SAML, errs)
	}
	// The boxes shown again: every one filled, and one empty after them.
	if n := len(f.Certificates); n != 5 || f.Certificates[4].Text != "" || f.Certificates[3].Text != "PEM three" {
		t.Errorf("%d certificate boxes: %+v", n, f.Certificates)
	}
	if _, _, errs := parseConnectForm(url.Values{"clock_skew_seconds": {"two minutes"}}, samlView, preset); errs["saml.clock_skew_seconds"] == "" {
		t.Error("a clock skew in words was taken")
	}

	oidcView := admin.SSOConfigView{Protocol: gatehouse.ProtocolOIDC, OIDC: &admin.OIDCView{ClientSecretSet: true}}
	generic, _ := ssoconfig.PresetByID("generic_oidc")
	_, in, _ = parseConnectForm(url.Values{"issuer": {"https://op.example"}, "scopes": {"openid, email\nprofile"}, "client_secret": {"  "},
		"entra_tenants": {"t1"}}, oidcView, generic)
	if in.OIDC.ClientSecret != nil || !slices.Equal(*in.OIDC.Scopes, []string{"openid", "email", "profile"}) || in.OIDC.EntraTenants != nil {
		t.Errorf("parsed %+v", in.OIDC)
	}
	_, in, _ = parseConnectForm(url.Values{"remove_client_secret": {"on"}}, oidcView, generic)
	if in.OIDC.ClientSecret == nil || *in.OIDC.ClientSecret != "" {
		t.Error("removing the secret of a generic client was not asked for")
	}
}

// FuzzParseConnectForm: any form body reads without a panic into an edit
// whose every certificate came from the form.
func FuzzParseConnectForm(f *testing.F) {
	f.Add("idp_entity_id=x&certificate_0=a&certificate_9=b&clock_skew_seconds=120", false)
	f.Add("issuer=https%3A%2F%2Fop&scopes=openid+email&allowed_algorithms=RS256&client_secret=s", true)
	samlView := admin.SSOConfigView{Protocol: gatehouse.ProtocolSAML, SAML: &gatehouse.SAMLSettings{}}
	oidcView := admin.SSOConfigView{Protocol: gatehouse.ProtocolOIDC, OIDC: &admin.OIDCView{}}
	preset, _ := ssoconfig.PresetByID("generic_oidc")
	f.Fuzz(func(t *testing.T, body string, oidc bool) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		v := samlView
		if oidc {
			v = oidcView
		}
		_, in, _ := parseConnectForm(form, v, preset)
		if in.SAML != nil {
			for _, c := range *in.SAML.Certificates {
				if strings.TrimSpace(c) == "" || !strings.Contains(body, "certificate_") {
					t.Fatalf("certificate %q not from the form %q", c, body)
				}
			}
		}
	})
}
