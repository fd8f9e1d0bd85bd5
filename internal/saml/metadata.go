package saml

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Metadata errors. A metadata error's text names the element at fault.
var (
	ErrMetadata = errors.New("saml: IdP metadata")
	// ErrChooseEntity comes with the list of IdP entity IDs in a metadata
	// aggregate when none was chosen: ask the admin, then parse again.
	ErrChooseEntity = errors.New("saml: the metadata describes several IdPs; choose one")
)

// ParseIdPMetadata reads IdP settings from SAML metadata: an EntityDescriptor,
// or an EntitiesDescriptor from which entityID chooses ("" is enough when it
// holds a single IdP; otherwise ErrChooseEntity comes with the entity IDs).
// It takes the entity ID, the SSO URL (HTTP-Redirect preferred over
// HTTP-POST), every signing certificate (use="signing" or no use), and
// emailAddress as NameID format when the IdP offers it. The metadata's own
// signature and validUntil are not checked: an admin imports it once, from a
// file or over TLS, and reviews the result.
func ParseIdPMetadata(data []byte, entityID string) (IdP, []string, error) {
	doc, err := parseBoundedXML(data)
	if err != nil {
		return IdP{}, nil, fmt.Errorf("%w: %v", ErrMetadata, err)
	}
	root := doc.Root()
	var candidates []*etree.Element
	switch {
	case is(root, nsMetadata, "EntityDescriptor"):
		candidates = []*etree.Element{root}
	case is(root, nsMetadata, "EntitiesDescriptor"):
		candidates = idpEntities(root)
	default:
		return IdP{}, nil, fmt.Errorf("%w: root element is <%s> in namespace %q, expected a SAML 2.0 metadata EntityDescriptor or EntitiesDescriptor", ErrMetadata, root.Tag, root.NamespaceURI())
	}

	var chosen *etree.Element
	ids := make([]string, 0, len(candidates))
	for _, c := range candidates {
		id := c.SelectAttrValue("entityID", "")
		ids = append(ids, id)
		if entityID != "" && id == entityID {
			chosen = c
		}
	}
	switch {
	case entityID != "" && chosen == nil:
		return IdP{}, nil, fmt.Errorf("%w: no EntityDescriptor with entityID %q (found %s)", ErrMetadata, entityID, strings.Join(ids, ", "))
	case chosen != nil:
	case len(candidates) == 0:
		return IdP{}, nil, fmt.Errorf("%w: the EntitiesDescriptor holds no EntityDescriptor with an IDPSSODescriptor", ErrMetadata)
	case len(candidates) > 1:
		return IdP{}, ids, ErrChooseEntity
	default:
		chosen = candidates[0]
	}
	idp, err := idpFromEntity(chosen)
	if err != nil {
		return IdP{}, nil, fmt.Errorf("%w: %v", ErrMetadata, err)
	}
	return idp, nil, nil
}

// idpEntities lists the EntityDescriptors with an IDPSSODescriptor in an
// EntitiesDescriptor, which may nest.
func idpEntities(group *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, c := range group.ChildElements() {
		switch {
		case is(c, nsMetadata, "EntitiesDescriptor"):
			out = append(out, idpEntities(c)...)
		case is(c, nsMetadata, "EntityDescriptor") && child(c, nsMetadata, "IDPSSODescriptor") != nil:
			out = append(out, c)
		}
	}
	return out
}

func idpFromEntity(entity *etree.Element) (IdP, error) {
	idp := IdP{EntityID: entity.SelectAttrValue("entityID", "")}
	if idp.EntityID == "" {
		return IdP{}, errors.New("the EntityDescriptor has no entityID attribute")
	}
	where := fmt.Sprintf("EntityDescriptor %q", idp.EntityID)

	var descriptor *etree.Element
	for _, d := range children(entity, nsMetadata, "IDPSSODescriptor") {
		if slices.Contains(strings.Fields(d.SelectAttrValue("protocolSupportEnumeration", "")), nsProtocol) {
			descriptor = d
			break
		}
	}
	if descriptor == nil {
		return IdP{}, fmt.Errorf("%s has no IDPSSODescriptor whose protocolSupportEnumeration includes SAML 2.0", where)
	}
	where += " IDPSSODescriptor"

	for _, binding := range []Binding{BindingRedirect, BindingPOST} {
		for i, sso := range children(descriptor, nsMetadata, "SingleSignOnService") {
			if Binding(sso.SelectAttrValue("Binding", "")) != binding || idp.SSOURL != "" {
				continue
			}
			location := strings.TrimSpace(sso.SelectAttrValue("Location", ""))
			if err := checkAbsoluteURL("Location", location); err != nil {
				return IdP{}, fmt.Errorf("%s SingleSignOnService %d: %v", where, i+1, err)
			}
			idp.SSOURL, idp.SSOBinding = location, binding
		}
	}
	if idp.SSOURL == "" {
		return IdP{}, fmt.Errorf("%s has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding", where)
	}

	for i, kd := range children(descriptor, nsMetadata, "KeyDescriptor") {
		if use := kd.SelectAttrValue("use", ""); use != "" && use != "signing" {
			continue
		}
		certs, err := keyDescriptorCerts(kd)
		if err != nil {
			return IdP{}, fmt.Errorf("%s KeyDescriptor %d: %v", where, i+1, err)
		}
		for _, cert := range certs {
			if !slices.ContainsFunc(idp.Certificates, cert.Equal) {
				idp.Certificates = append(idp.Certificates, cert)
			}
		}
	}
	if len(idp.Certificates) == 0 {
		return IdP{}, fmt.Errorf(`%s has no KeyDescriptor with a signing certificate (use="signing" or no use)`, where)
	}

	for _, f := range children(descriptor, nsMetadata, "NameIDFormat") {
		if strings.TrimSpace(f.Text()) == NameIDFormatEmail {
			idp.NameIDFormat = NameIDFormatEmail
		}
	}
	return idp, nil
}

func keyDescriptorCerts(kd *etree.Element) ([]*x509.Certificate, error) {
	keyInfo := child(kd, nsDSig, "KeyInfo")
	if keyInfo == nil {
		return nil, errors.New("no ds:KeyInfo")
	}
	var certs []*x509.Certificate
	for _, data := range children(keyInfo, nsDSig, "X509Data") {
		for _, el := range children(data, nsDSig, "X509Certificate") {
			der, err := decodeBase64Body(el.Text())
			if err != nil {
				return nil, fmt.Errorf("X509Certificate is not base64: %v", err)
			}
			cert, err := parseSigningCert(der)
			if err != nil {
				return nil, fmt.Errorf("X509Certificate: %v", err)
			}
			certs = append(certs, cert)
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("no ds:X509Data/ds:X509Certificate in its KeyInfo")
	}
	return certs, nil
}

// SPMetadata renders the metadata an admin uploads to the IdP: the SP entity
// ID, the HTTP-POST assertion consumer service, whether requests are signed
// (with the SP certificate then), and that assertions should be signed.
func SPMetadata(sp SP) ([]byte, error) {
	if sp.EntityID == "" {
		return nil, fmt.Errorf("saml: SP metadata: the SP entity ID is empty: %w", ErrConfiguration)
	}
	if err := checkAbsoluteURL("ACS URL", sp.ACSURL); err != nil {
		return nil, fmt.Errorf("saml: SP metadata: %w: %w", err, ErrConfiguration)
	}
	if sp.SignRequests && sp.SigningCert == nil {
		return nil, fmt.Errorf("saml: SP metadata: signed requests need the SP certificate: %w", ErrConfiguration)
	}

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	entity := doc.CreateElement("md:EntityDescriptor")
	entity.CreateAttr("xmlns:md", nsMetadata)
	entity.CreateAttr("entityID", sp.EntityID)
	descriptor := entity.CreateElement("md:SPSSODescriptor")
	descriptor.CreateAttr("AuthnRequestsSigned", strconv.FormatBool(sp.SignRequests))
	descriptor.CreateAttr("WantAssertionsSigned", "true")
	descriptor.CreateAttr("protocolSupportEnumeration", nsProtocol)
	if sp.SignRequests {
		kd := descriptor.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		keyInfo := kd.CreateElement("ds:KeyInfo")
		keyInfo.CreateAttr("xmlns:ds", nsDSig)
		keyInfo.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(sp.SigningCert.Raw))
	}
	acs := descriptor.CreateElement("md:AssertionConsumerService")
	acs.CreateAttr("Binding", string(BindingPOST))
	acs.CreateAttr("Location", sp.ACSURL)
	acs.CreateAttr("index", "0")
	acs.CreateAttr("isDefault", "true")
	doc.Indent(2)
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("saml: SP metadata: %w", err)
	}
	return out, nil
}
