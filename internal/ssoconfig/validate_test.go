package ssoconfig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/ssoconfig"
)

var testNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// certs are the certificates the tests paste, made once: key generation is
// the slow part.
type certs struct {
	current, next, expired, expiring, weak, ecdsa string
	key                                           string // a private key, pasted by mistake
}

var testCerts = sync.OnceValues(func() (certs, error) {
	var c certs
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return c, err
	}
	for _, m := range []struct {
		dst       *string
		cn        string
		nb, na    time.Time
		rsaKeyLen int
	}{
		{&c.current, "idp current", testNow.Add(-24 * time.Hour), testNow.Add(365 * 24 * time.Hour), 0},
		{&c.next, "idp next", testNow, testNow.Add(3 * 365 * 24 * time.Hour), 0},
		{&c.expired, "idp expired", testNow.Add(-365 * 24 * time.Hour), testNow.Add(-time.Hour), 0},
		{&c.expiring, "idp expiring", testNow.Add(-365 * 24 * time.Hour), testNow.Add(10*24*time.Hour + time.Hour), 0},
		{&c.weak, "idp weak", testNow.Add(-time.Hour), testNow.Add(24 * time.Hour), 1024},
	} {
		k := key
		if m.rsaKeyLen != 0 {
			if k, err = rsa.GenerateKey(rand.Reader, m.rsaKeyLen); err != nil {
				return c, err
			}
		}
		cert, err := samltest.SelfSigned(k, m.cn, m.nb, m.na)
		if err != nil {
			return c, err
		}
		*m.dst = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return c, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "idp ecdsa"}, NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ec.PublicKey, ec)
	if err != nil {
		return c, err
	}
	c.ecdsa = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	c.key = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	return c, nil
})

func testCertificates(t testing.TB) certs {
	t.Helper()
	c, err := testCerts()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// completeConfig is a SAML configuration with every field valid.
func completeConfig(t testing.TB) *gatehouse.SSOConfig {
	c := testCertificates(t)
	return &gatehouse.SSOConfig{
		ID: "sso_1", Name: "sso-abcdef", AccountID: "acc_1", Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
		SAML: &gatehouse.SAMLSettings{
			IdPEntityID:      "https://idp.example.com/metadata",
			SSOURL:           "https://idp.example.com/sso",
			SSOBinding:       "redirect",
			Certificates:     []string{c.current},
			NameIDFormat:     saml.NameIDFormatEmail,
			ClockSkewSeconds: 120,
		},
	}
}

func fieldsOf(problems []gatehouse.FieldError) []string {
	out := make([]string, len(problems))
	for i, p := range problems {
		out[i] = p.Field
	}
	slices.Sort(out)
	return out
}

func TestValidateFieldRules(t *testing.T) {
	c := testCertificates(t)
	cases := []struct {
		name   string
		change func(*gatehouse.SSOConfig)
		want   []string // fields with a problem; none means complete
	}{
		{"complete", func(*gatehouse.SSOConfig) {}, nil},
		{"entity ID missing", func(s *gatehouse.SSOConfig) { s.SAML.IdPEntityID = "" }, []string{"saml.idp_entity_id"}},
		{"entity ID of 1024 characters", func(s *gatehouse.SSOConfig) { s.SAML.IdPEntityID = "urn:" + strings.Repeat("x", 1020) }, nil},
		{"entity ID of 1025 characters", func(s *gatehouse.SSOConfig) { s.SAML.IdPEntityID = "urn:" + strings.Repeat("x", 1021) }, []string{"saml.idp_entity_id"}},
		{"entity ID with a space", func(s *gatehouse.SSOConfig) { s.SAML.IdPEntityID = "https://idp.example.com/ x" }, []string{"saml.idp_entity_id"}},
		{"entity ID as a URN", func(s *gatehouse.SSOConfig) { s.SAML.IdPEntityID = "urn:idp:example" }, nil},
		{"SSO URL missing", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "" }, []string{"saml.sso_url"}},
		{"SSO URL relative", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "/sso" }, []string{"saml.sso_url"}},
		{"SSO URL plain http", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "http://idp.example.com/sso" }, []string{"saml.sso_url"}},
		{"SSO URL http on 127.0.0.1", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "http://127.0.0.1:8080/idp/sso" }, nil},
		{"SSO URL http on localhost", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "http://localhost:9000/sso" }, nil},
		{"SSO URL http on [::1]", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "http://[::1]:9000/sso" }, nil},
		{"SSO URL http on a private address", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "http://10.0.0.5/sso" }, []string{"saml.sso_url"}},
		{"SSO URL javascript", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "javascript:alert(1)" }, []string{"saml.sso_url"}},
		{"SSO URL with credentials", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "https://u:p@idp.example.com/sso" }, []string{"saml.sso_url"}},
		{"SSO URL with a fragment", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "https://idp.example.com/sso#x" }, []string{"saml.sso_url"}},
		{"SSO URL with a query (Google)", func(s *gatehouse.SSOConfig) { s.SAML.SSOURL = "https://accounts.google.com/o/saml2/idp?idpid=C01abc" }, nil},
		{"binding post", func(s *gatehouse.SSOConfig) { s.SAML.SSOBinding = "post" }, nil},
		{"binding artifact", func(s *gatehouse.SSOConfig) { s.SAML.SSOBinding = "artifact" }, []string{"saml.sso_binding"}},
		{"binding missing", func(s *gatehouse.SSOConfig) { s.SAML.SSOBinding = "" }, []string{"saml.sso_binding"}},
		{"no certificate", func(s *gatehouse.SSOConfig) { s.SAML.Certificates = nil }, []string{"saml.certificates"}},
		{"two certificates (rollover)", func(s *gatehouse.SSOConfig) { s.SAML.Certificates = []string{c.current, c.next} }, nil},
		{"expired certificate is a warning, not a problem", func(s *gatehouse.SSOConfig) { s.SAML.Certificates = []string{c.expired} }, nil},
		{"RSA 1024 certificate", func(s *gatehouse.SSOConfig) { s.SAML.Certificates = []string{c.current, c.weak} }, []string{"saml.certificates[1]"}},
		{"ECDSA certificate", func(s *gatehouse.SSOConfig) { s.SAML.Certificates = []string{c.ecdsa} }, []string{"saml.certificates[0]"}},
		{"private key pasted", func(s *gatehouse.SSOConfig) { s.SAML.Certificates = []string{c.key, c.current} }, []string{"saml.certificates[0]"}},
		{"garbage certificate", func(s *gatehouse.SSOConfig) { s.SAML.Certificates = []string{"not a certificate"} }, []string{"saml.certificates[0]"}},
		{"eleven certificates", func(s *gatehouse.SSOConfig) {
			s.SAML.Certificates = slices.Repeat([]string{c.current}, 11)
		}, []string{"saml.certificates"}},
		{"NameID persistent with an email attribute", func(s *gatehouse.SSOConfig) {
			s.SAML.NameIDFormat, s.SAML.EmailAttribute = saml.NameIDFormatPersistent, "mail"
		}, nil},
		{"NameID transient without an email attribute", func(s *gatehouse.SSOConfig) { s.SAML.NameIDFormat = saml.NameIDFormatTransient }, []string{"saml.email_attribute"}},
		{"NameID unspecified without an email attribute", func(s *gatehouse.SSOConfig) { s.SAML.NameIDFormat = saml.NameIDFormatUnspecified }, []string{"saml.email_attribute"}},
		{"NameID emailAddress with an email attribute", func(s *gatehouse.SSOConfig) { s.SAML.EmailAttribute = "mail" }, nil},
		{"NameID unknown", func(s *gatehouse.SSOConfig) {
			s.SAML.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos"
		}, []string{"saml.name_id_format"}},
		{"email attribute too long", func(s *gatehouse.SSOConfig) { s.SAML.EmailAttribute = strings.Repeat("a", 257) }, []string{"saml.email_attribute"}},
		{"email attribute with a control character", func(s *gatehouse.SSOConfig) { s.SAML.EmailAttribute = "mail\x00" }, []string{"saml.email_attribute"}},
		{"clock skew 0", func(s *gatehouse.SSOConfig) { s.SAML.ClockSkewSeconds = 0 }, nil},
		{"clock skew 300", func(s *gatehouse.SSOConfig) { s.SAML.ClockSkewSeconds = 300 }, nil},
		{"clock skew 301", func(s *gatehouse.SSOConfig) { s.SAML.ClockSkewSeconds = 301 }, []string{"saml.clock_skew_seconds"}},
		{"clock skew negative", func(s *gatehouse.SSOConfig) { s.SAML.ClockSkewSeconds = -1 }, []string{"saml.clock_skew_seconds"}},
		{"signed requests without an SP key", func(s *gatehouse.SSOConfig) { s.SAML.SignRequests = true }, []string{"saml.sign_requests"}},
		{"signed requests with an SP key", func(s *gatehouse.SSOConfig) {
			s.SAML.SignRequests, s.SPKey, s.SPCertificate = true, []byte("sealed"), c.current
		}, nil},
		{"unknown preset", func(s *gatehouse.SSOConfig) { s.Preset = "ping_saml" }, []string{"preset"}},
		{"OIDC preset on a SAML configuration", func(s *gatehouse.SSOConfig) { s.Preset = "generic_oidc" }, []string{"preset"}},
		{"no SAML settings at all", func(s *gatehouse.SSOConfig) { s.SAML = nil }, []string{
			"saml.certificates", "saml.idp_entity_id", "saml.name_id_format", "saml.sso_binding", "saml.sso_url"}},
		{"an unknown protocol", func(s *gatehouse.SSOConfig) { s.Protocol = "ldap" }, []string{"protocol"}},
		{"OIDC with a SAML preset and no OIDC settings", func(s *gatehouse.SSOConfig) { s.Protocol = gatehouse.ProtocolOIDC }, []string{
			"oidc.allowed_algorithms", "oidc.client_id", "oidc.client_secret", "oidc.email_claim", "oidc.issuer", "oidc.scopes", "preset"}},
		{"every field wrong at once", func(s *gatehouse.SSOConfig) {
			*s.SAML = gatehouse.SAMLSettings{SSOURL: "ftp://idp", SSOBinding: "soap", Certificates: []string{c.current, "junk", c.weak},
				NameIDFormat: saml.NameIDFormatPersistent, ClockSkewSeconds: 1000, SignRequests: true}
		}, []string{"saml.certificates[1]", "saml.certificates[2]", "saml.clock_skew_seconds", "saml.email_attribute",
			"saml.idp_entity_id", "saml.sign_requests", "saml.sso_binding", "saml.sso_url"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := completeConfig(t)
			tc.change(cfg)
			status, problems := ssoconfig.Validate(cfg, testNow)
			if got := fieldsOf(problems); !slices.Equal(got, tc.want) {
				t.Fatalf("problems %v, want %v (%+v)", got, tc.want, problems)
			}
			want := gatehouse.SSOComplete
			if len(tc.want) > 0 {
				want = gatehouse.SSODraft
			}
			if status != want {
				t.Errorf("status %s, want %s", status, want)
			}
			for _, p := range problems {
				if p.Message == "" {
					t.Errorf("%s: empty message", p.Field)
				}
			}
		})
	}
}

func TestValidateStatusFollowsTheFields(t *testing.T) {
	cfg := &gatehouse.SSOConfig{Protocol: gatehouse.ProtocolSAML, Preset: "okta_saml", SAML: &gatehouse.SAMLSettings{SSOBinding: "redirect", NameIDFormat: "emailAddress"}}
	ssoconfig.Normalize(cfg)
	status, problems := ssoconfig.Validate(cfg, testNow)
	if status != gatehouse.SSODraft || !slices.Equal(fieldsOf(problems), []string{"saml.certificates", "saml.idp_entity_id", "saml.sso_url"}) {
		t.Fatalf("a new draft: %s %v", status, fieldsOf(problems))
	}
	cfg.SAML.IdPEntityID = "https://okta.example/exk1"
	cfg.SAML.SSOURL = "https://okta.example/app/sso/saml"
	if status, problems = ssoconfig.Validate(cfg, testNow); status != gatehouse.SSODraft || len(problems) != 1 || problems[0].Field != "saml.certificates" {
		t.Fatalf("with entity ID and URL: %s %v", status, fieldsOf(problems))
	}
	cfg.SAML.Certificates = []string{testCertificates(t).current}
	if status, problems = ssoconfig.Validate(cfg, testNow); status != gatehouse.SSOComplete || problems != nil {
		t.Fatalf("every field given: %s %v", status, problems)
	}
	cfg.Enabled = true
	if status, _ = ssoconfig.Validate(cfg, testNow); status != gatehouse.SSOEnabled {
		t.Fatalf("enabled: %s", status)
	}
}

func TestNormalize(t *testing.T) {
	c := testCertificates(t)
	block, _ := pem.Decode([]byte(c.current))
	bare := base64.StdEncoding.EncodeToString(block.Bytes)
	cfg := &gatehouse.SSOConfig{Protocol: gatehouse.ProtocolSAML, Preset: " okta_saml ", SAML: &gatehouse.SAMLSettings{
		IdPEntityID:    "  https://idp.example.com/metadata\n",
		SSOURL:         " https://idp.example.com/sso ",
		SSOBinding:     "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
		NameIDFormat:   "Persistent",
		EmailAttribute: " mail ",
		// A bare base64 body, the same certificate again as PEM, two at once
		// in one entry, an empty entry and one that does not parse.
		Certificates: []string{bare, c.current, c.next + c.expired, "  ", "junk"},
	}}
	ssoconfig.Normalize(cfg)
	s := cfg.SAML
	if cfg.Preset != "okta_saml" || s.IdPEntityID != "https://idp.example.com/metadata" || s.SSOURL != "https://idp.example.com/sso" ||
		s.SSOBinding != "post" || s.NameIDFormat != saml.NameIDFormatPersistent || s.EmailAttribute != "mail" {
		t.Errorf("normalized %+v", s)
	}
	if want := []string{c.current, c.next, c.expired, "junk"}; !slices.Equal(s.Certificates, want) {
		t.Errorf("certificates: got %d entries %q", len(s.Certificates), s.Certificates)
	}
	for in, want := range map[string]string{
		"emailAddress": saml.NameIDFormatEmail, "EMAIL": saml.NameIDFormatEmail, "transient": saml.NameIDFormatTransient,
		"unspecified": saml.NameIDFormatUnspecified, strings.ToUpper(saml.NameIDFormatPersistent): saml.NameIDFormatPersistent,
		"kerberos": "kerberos",
	} {
		if got := ssoconfig.NormalizeNameIDFormat(in); got != want {
			t.Errorf("NormalizeNameIDFormat(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"Redirect": "redirect", "HTTP-POST": "post", string(saml.BindingRedirect): "redirect", "soap": "soap"} {
		if got := ssoconfig.NormalizeBinding(in); got != want {
			t.Errorf("NormalizeBinding(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnableable(t *testing.T) {
	enterprise := gatehouse.Account{ID: "acc_1", Plan: gatehouse.PlanEnterprise}
	standard := gatehouse.Account{ID: "acc_1", Plan: gatehouse.PlanStandard}
	changed := testNow.Add(-time.Hour)
	passed := &gatehouse.SSOTest{At: testNow, Outcome: gatehouse.OutcomeSuccess}
	cases := []struct {
		name    string
		change  func(*gatehouse.SSOConfig)
		account gatehouse.Account
		want    error
	}{
		{"complete and tested", func(*gatehouse.SSOConfig) {}, enterprise, nil},
		{"standard plan", func(*gatehouse.SSOConfig) {}, standard, ssoconfig.ErrNotEnterprise},
		{"never tested", func(c *gatehouse.SSOConfig) { c.LastTest = nil }, enterprise, ssoconfig.ErrTestNotCurrent},
		{"last test failed", func(c *gatehouse.SSOConfig) {
			c.LastTest = &gatehouse.SSOTest{At: testNow, Outcome: gatehouse.OutcomeFailure, Reason: "audience"}
		}, enterprise, ssoconfig.ErrTestNotCurrent},
		{"tested before the IdP settings changed", func(c *gatehouse.SSOConfig) { c.IdPChangedAt = testNow.Add(time.Minute) }, enterprise, ssoconfig.ErrTestNotCurrent},
		{"incomplete", func(c *gatehouse.SSOConfig) { c.SAML.SSOURL = "" }, enterprise, ssoconfig.ErrIncomplete},
		{"a partition's configuration has no plan", func(c *gatehouse.SSOConfig) { c.AccountID, c.PartitionID = "", "par_1" }, gatehouse.Account{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := completeConfig(t)
			cfg.IdPChangedAt, cfg.LastTest = changed, passed
			tc.change(cfg)
			err := ssoconfig.Enableable(cfg, tc.account)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Enableable: %v, want nil", err)
				}
				return
			}
			var ee *ssoconfig.EnableError
			if !errors.Is(err, tc.want) || !errors.As(err, &ee) {
				t.Fatalf("Enableable: %v, want %v", err, tc.want)
			}
			if tc.want == ssoconfig.ErrIncomplete && (len(ee.Problems) != 1 || !strings.Contains(err.Error(), "saml.sso_url")) {
				t.Errorf("incomplete: %v %+v", err, ee.Problems)
			}
		})
	}
}

func TestCertificateWarnings(t *testing.T) {
	c := testCertificates(t)
	cfg := completeConfig(t)
	cfg.SAML.Certificates = []string{c.current, c.expiring, c.expired, "junk"}
	all := ssoconfig.Certificates(cfg, testNow)
	if len(all) != 3 {
		t.Fatalf("described %d certificates, want the 3 that parse: %+v", len(all), all)
	}
	if all[0].Subject != "CN=idp current" || !strings.Contains(all[0].SHA256Fingerprint, ":") || len(all[0].SHA256Fingerprint) != 95 || all[0].Warning != "" {
		t.Errorf("current certificate: %+v", all[0])
	}
	warnings := ssoconfig.CertificateWarnings(cfg, testNow)
	if len(warnings) != 2 {
		t.Fatalf("warnings %+v, want the expiring and the expired certificate", warnings)
	}
	if w := warnings[0]; w.Index != 1 || !w.Expiring || w.Expired || !strings.Contains(w.Warning, "in 10 days") {
		t.Errorf("expiring: %+v", w)
	}
	if w := warnings[1]; w.Index != 2 || !w.Expired || !strings.Contains(w.Warning, "expired on") {
		t.Errorf("expired: %+v", w)
	}
	// Thirty-one days before the expiring one ends, nothing is said about it.
	if w := ssoconfig.CertificateWarnings(cfg, testNow.Add(-21*24*time.Hour)); len(w) != 1 || w[0].Index != 2 {
		t.Errorf("three weeks earlier: %+v", w)
	}
}

func TestSAMLIdPKeepsZeroSkewZero(t *testing.T) {
	cfg := completeConfig(t)
	for seconds, want := range map[int]time.Duration{0: time.Nanosecond, 1: time.Second, 120: 120 * time.Second, 300: 300 * time.Second} {
		cfg.SAML.ClockSkewSeconds = seconds
		idp, err := ssoconfig.SAMLIdP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if idp.ClockSkew != want {
			t.Errorf("%d s: ClockSkew %s, want %s", seconds, idp.ClockSkew, want)
		}
	}
}

func TestPresets(t *testing.T) {
	want := []string{"generic_saml", "entra_id_saml", "okta_saml", "google_saml", "onelogin_saml", "salesforce_saml", "adfs_saml", "auth0_saml"}
	var got []string
	for _, p := range ssoconfig.Presets() {
		if p.Protocol == gatehouse.ProtocolOIDC {
			continue // TestOIDCPresetsComplete
		}
		got = append(got, p.ID)
		if p.DisplayName == "" || len(p.Steps) == 0 || p.Protocol != gatehouse.ProtocolSAML {
			t.Errorf("%s: %+v", p.ID, p)
		}
		// A preset's defaults plus the IdP's own values make a complete
		// configuration: no preset asks for something the admin cannot see.
		s := p.SAML
		s.IdPEntityID, s.SSOURL, s.Certificates = "https://idp.example.com", "https://idp.example.com/sso", []string{testCertificates(t).current}
		cfg := &gatehouse.SSOConfig{Protocol: p.Protocol, Preset: p.ID, SAML: &s}
		if status, problems := ssoconfig.Validate(cfg, testNow); status != gatehouse.SSOComplete {
			t.Errorf("%s defaults with the IdP's values: %s %+v", p.ID, status, problems)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("presets %v, want %v", got, want)
	}
	for id, want := range map[string]struct{ format, attr string }{
		"entra_id_saml": {saml.NameIDFormatUnspecified, ssoconfig.ClaimEmailAddress},
		"adfs_saml":     {saml.NameIDFormatUnspecified, ssoconfig.ClaimEmailAddress},
		"okta_saml":     {saml.NameIDFormatEmail, ""},
		"google_saml":   {saml.NameIDFormatEmail, ""},
	} {
		p, ok := ssoconfig.PresetByID(id)
		if !ok || p.SAML.NameIDFormat != want.format || p.SAML.EmailAttribute != want.attr || p.SAML.ClockSkewSeconds != 120 || p.SAML.SSOBinding != "redirect" {
			t.Errorf("%s: %+v", id, p.SAML)
		}
	}
	// Callers get copies: changing one does not change the preset.
	p, _ := ssoconfig.PresetByID("okta_saml")
	p.Steps[0] = "changed"
	if again, _ := ssoconfig.PresetByID("okta_saml"); again.Steps[0] == "changed" {
		t.Error("PresetByID hands out the shared preset")
	}
	if _, ok := ssoconfig.PresetByID("ping_saml"); ok {
		t.Error("an unknown preset was found")
	}
}
