package saml

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// Request is an AuthnRequest ready to send. The caller stores ID server-side,
// bound to the browser and the configuration, and passes it back to
// ValidateResponse as an expected request ID.
type Request struct {
	ID string
	// RedirectURL is set for the HTTP-Redirect binding: the IdP's SSO URL with
	// SAMLRequest, RelayState and, when requests are signed, SigAlg and
	// Signature in the query.
	RedirectURL string
	// PostURL and PostForm are set for the HTTP-POST binding: an auto-submit
	// form posts PostForm to PostURL. A signed request carries its signature
	// inside the XML.
	PostURL  string
	PostForm url.Values
}

// NewRequest builds an AuthnRequest from sp to idp with a random ID, issued
// at now. relayState is sent back by the IdP unchanged; keep it opaque (a
// reference to server-side state), because it returns through the browser.
func NewRequest(sp SP, idp IdP, relayState string, now time.Time) (Request, error) {
	binding, err := idp.binding()
	if err != nil {
		return Request{}, fmt.Errorf("saml: new request: %w: %w", err, ErrConfiguration)
	}
	switch {
	case sp.EntityID == "" || sp.ACSURL == "":
		return Request{}, fmt.Errorf("saml: new request: SP entity ID and ACS URL are required: %w", ErrConfiguration)
	case sp.SignRequests && (sp.SigningKey == nil || sp.SigningCert == nil):
		return Request{}, fmt.Errorf("saml: new request: signed requests need the SP signing key and certificate: %w", ErrConfiguration)
	case sp.SignRequests && !sp.SigningKey.PublicKey.Equal(sp.SigningCert.PublicKey):
		return Request{}, fmt.Errorf("saml: new request: the SP signing key does not match its certificate: %w", ErrConfiguration)
	}
	if err := checkAbsoluteURL("IdP SSO URL", idp.SSOURL); err != nil {
		return Request{}, fmt.Errorf("saml: new request: %w: %w", err, ErrConfiguration)
	}

	provider := newServiceProvider(sp, idp, now)
	if sp.SignRequests {
		if err := provider.SetSPSigningKeyStore(&saml2.KeyStore{Signer: sp.SigningKey, Cert: sp.SigningCert.Raw}); err != nil {
			return Request{}, fmt.Errorf("saml: new request: signing key: %w", err)
		}
		provider.SignAuthnRequests = true
		provider.SignAuthnRequestsAlgorithm = algRSASHA256
		// Exclusive c14n is what every IdP verifies; gosaml2 defaults to c14n 1.1.
		provider.SignAuthnRequestsCanonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	}

	if binding == BindingRedirect {
		// The Redirect binding signs the query string, never the XML.
		doc, err := provider.BuildAuthRequestDocumentNoSig()
		if err != nil {
			return Request{}, fmt.Errorf("saml: build AuthnRequest: %w", err)
		}
		redirect, err := provider.BuildAuthURLRedirect(relayState, doc)
		if err != nil {
			return Request{}, fmt.Errorf("saml: build redirect URL: %w", err)
		}
		return Request{ID: doc.Root().SelectAttrValue("ID", ""), RedirectURL: redirect}, nil
	}

	doc, err := provider.BuildAuthRequestDocument()
	if err != nil {
		return Request{}, fmt.Errorf("saml: build AuthnRequest: %w", err)
	}
	body, err := doc.WriteToBytes()
	if err != nil {
		return Request{}, fmt.Errorf("saml: serialize AuthnRequest: %w", err)
	}
	form := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(body)}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	return Request{ID: doc.Root().SelectAttrValue("ID", ""), PostURL: idp.SSOURL, PostForm: form}, nil
}

// newServiceProvider builds the gosaml2 service provider for one
// configuration, with its clock fixed at the given instant. It is built per
// call from values, so no state is shared between configurations or calls.
func newServiceProvider(sp SP, idp IdP, at time.Time) *saml2.SAMLServiceProvider {
	binding, _ := idp.binding() // an invalid binding only matters to NewRequest, which checked it
	return &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:     idp.SSOURL,
		IdentityProviderSSOBinding: string(binding),
		// gosaml2 requires the Response and Assertion Issuers to equal this.
		IdentityProviderIssuer:      idp.EntityID,
		AssertionConsumerServiceURL: sp.ACSURL,
		ServiceProviderIssuer:       sp.EntityID,
		AudienceURI:                 sp.EntityID,
		NameIdFormat:                idp.NameIDFormat,
		// Email may come from the NameID alone; email() decides what is missing.
		AllowMissingAttributes:      true,
		Clock:                       dsig.NewFakeClockAt(at),
		MaximumDecompressedBodySize: maxXMLBytes,
		// Our byte bound already limits the tree; gosaml2's default token
		// bound would refuse legitimate responses with large group lists.
		MaximumXMLTokens: 3*maxXMLBytes + 1,
	}
}
