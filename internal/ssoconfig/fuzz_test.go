package ssoconfig_test

import (
	"strings"
	"testing"

	"gatehouse/internal/saml"
	"gatehouse/internal/ssoconfig"
)

// FuzzImportMetadata: whatever metadata an admin uploads, the import either
// fails with a metadata error or yields settings whose IdP fields are all
// there and whose certificates parse.
func FuzzImportMetadata(f *testing.F) {
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`), "")
	f.Add([]byte(`<!DOCTYPE x><x/>`), "")
	f.Add([]byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"></md:EntitiesDescriptor>`), "x")
	f.Fuzz(func(t *testing.T, xml []byte, entityID string) {
		s, _, err := ssoconfig.ImportMetadata(xml, entityID)
		if err != nil {
			return
		}
		if s.IdPEntityID == "" || s.SSOURL == "" || len(s.Certificates) == 0 || (s.SSOBinding != "redirect" && s.SSOBinding != "post") {
			t.Fatalf("incomplete import without an error: %+v", s)
		}
		if _, err := saml.ParseCertificatesPEM(strings.Join(s.Certificates, "")); err != nil {
			t.Fatalf("imported certificates do not parse: %v", err)
		}
	})
}
