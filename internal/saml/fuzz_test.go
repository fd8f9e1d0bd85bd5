package saml_test

import (
	"encoding/base64"
	"testing"

	"gatehouse"
	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

// FuzzValidateResponse mutates genuinely signed responses for alice@a.com.
// ValidateResponse must never panic, must only return *gatehouse.Rejection, and
// whatever it accepts must still say alice@a.com: anything else would be a
// signature bypass.
//
//	go test ./internal/saml -run '^$' -fuzz FuzzValidateResponse -fuzztime 20s
func FuzzValidateResponse(f *testing.F) {
	fx := newFixture(f)
	fx.cfg.EmailAttribute = "mail"
	r := fx.response()
	r.Attributes = map[string][]string{"mail": {"alice@a.com"}}
	for _, s := range []samltest.Signing{signBoth, {Assertion: true}, {Response: true}, {Assertion: true, OmitKeyInfo: true}} {
		f.Add(mustXML(f, fx.doc(f, nil, r, s)))
	}
	failure := fx.response()
	failure.StatusCode = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	f.Add(mustXML(f, fx.idp.Build(failure)))
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`))

	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := fx.runB64(base64.StdEncoding.EncodeToString(raw))
		if err != nil {
			if _, ok := err.(*gatehouse.Rejection); !ok {
				t.Fatalf("error %v is a %T, not a *gatehouse.Rejection", err, err)
			}
			return
		}
		if a.NameID != "alice@a.com" || a.Email != "alice@a.com" {
			t.Fatalf("accepted a changed identity: NameID %q, email %q", a.NameID, a.Email)
		}
	})
}

// FuzzParseIdPMetadata must never panic, and what it accepts must be usable.
//
//	go test ./internal/saml -run '^$' -fuzz FuzzParseIdPMetadata -fuzztime 20s
func FuzzParseIdPMetadata(f *testing.F) {
	f.Add(idpMetadata(f, "a"), "")
	f.Add(aggregate(f, "a", "b"), entityB)
	f.Add([]byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>`), "")
	f.Fuzz(func(t *testing.T, raw []byte, entityID string) {
		idp, _, err := saml.ParseIdPMetadata(raw, entityID)
		if err != nil {
			return
		}
		if idp.EntityID == "" || idp.SSOURL == "" || len(idp.Certificates) == 0 {
			t.Fatalf("accepted unusable metadata: %+v", idp)
		}
	})
}
