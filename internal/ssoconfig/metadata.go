package ssoconfig

import (
	"strings"

	"gatehouse"
	"gatehouse/internal/saml"
)

// ErrChooseEntity comes back from ImportMetadata, with the entity IDs to
// choose from, when the metadata describes several IdPs and none was named.
var ErrChooseEntity = saml.ErrChooseEntity

// ImportMetadata reads an IdP's settings from its SAML metadata: entity ID,
// SSO URL and binding, signing certificates (PEM) and, when the metadata
// offers it, the emailAddress NameID format (empty otherwise). With several
// IdPs in the metadata, entityID chooses; when it is empty the error is
// ErrChooseEntity and the entity IDs to choose from come back. Errors name
// the element at fault. DOCTYPEs, documents over 1 MiB and XML that does not
// survive an encoding/xml round trip are refused.
func ImportMetadata(xml []byte, entityID string) (gatehouse.SAMLSettings, []string, error) {
	idp, choices, err := saml.ParseIdPMetadata(xml, strings.TrimSpace(entityID))
	if err != nil {
		return gatehouse.SAMLSettings{}, choices, err
	}
	s := gatehouse.SAMLSettings{
		IdPEntityID:  idp.EntityID,
		SSOURL:       idp.SSOURL,
		SSOBinding:   "redirect",
		NameIDFormat: idp.NameIDFormat,
		Certificates: make([]string, 0, len(idp.Certificates)),
	}
	if idp.SSOBinding == saml.BindingPOST {
		s.SSOBinding = "post"
	}
	for _, cert := range idp.Certificates {
		s.Certificates = append(s.Certificates, encodeCertificate(cert))
	}
	return s, nil, nil
}
