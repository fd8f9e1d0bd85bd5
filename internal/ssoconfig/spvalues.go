// Package ssoconfig holds the rules of SSO configurations as pure functions:
// what Gatehouse's side of each configuration is (the values an admin pastes
// into the IdP), and how a stored configuration becomes the protocol
// package's settings.
package ssoconfig

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"time"

	"gatehouse"
	"gatehouse/internal/saml"
	"gatehouse/internal/secretbox"
)

// SPValues are Gatehouse's side of one configuration: what the customer's
// admin pastes into their IdP. Each configuration has its own, so one
// tenant's assertion can never be accepted at another tenant's endpoint.
type SPValues struct {
	EntityID    string `json:"sp_entity_id,omitempty"`
	ACSURL      string `json:"acs_url,omitempty"`
	MetadataURL string `json:"metadata_url,omitempty"`
	RedirectURI string `json:"redirect_uri,omitempty"`
}

// SP returns the SP values of configuration c served under base.
func SP(base *url.URL, c *gatehouse.SSOConfig) SPValues {
	root := base.String()
	switch c.Protocol {
	case gatehouse.ProtocolOIDC:
		return SPValues{RedirectURI: root + RedirectPath(c)}
	default:
		meta := root + MetadataPath(c.ID)
		return SPValues{EntityID: meta, MetadataURL: meta, ACSURL: root + ACSPath(c.ID)}
	}
}

// spKeyPurpose binds sealed SP keys to their use.
const spKeyPurpose = "saml-sp-key"

// SPKeyPurpose is the purpose configuration id's SAML SP key is sealed for.
func SPKeyPurpose(id string) string { return spKeyPurpose + ":" + id }

// NewSPKey makes a fresh SP signing key for c, sealed for storage.
func NewSPKey(box *secretbox.Box, c *gatehouse.SSOConfig, now time.Time) error {
	key, cert, err := saml.NewSigningKey(now)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	c.SPKey = box.Seal(SPKeyPurpose(c.ID), der)
	c.SPCertificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	return nil
}

// SAMLSP returns the SP settings of a SAML configuration, with its signing
// key opened when it has one.
func SAMLSP(base *url.URL, box *secretbox.Box, c *gatehouse.SSOConfig) (saml.SP, error) {
	v := SP(base, c)
	sp := saml.SP{EntityID: v.EntityID, ACSURL: v.ACSURL}
	if c.SAML != nil {
		sp.SignRequests = c.SAML.SignRequests
	}
	if len(c.SPKey) == 0 {
		if sp.SignRequests {
			return sp, errors.New("ssoconfig: signed requests are on but the configuration has no SP key")
		}
		return sp, nil
	}
	der, err := box.Open(SPKeyPurpose(c.ID), c.SPKey)
	if err != nil {
		return sp, fmt.Errorf("ssoconfig: SP key of %s: %w", c.Name, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return sp, fmt.Errorf("ssoconfig: SP key of %s: %w", c.Name, err)
	}
	rsaKey, ok := k.(*rsa.PrivateKey)
	if !ok {
		return sp, fmt.Errorf("ssoconfig: SP key of %s is not RSA", c.Name)
	}
	block, _ := pem.Decode([]byte(c.SPCertificate))
	if block == nil {
		return sp, fmt.Errorf("ssoconfig: SP certificate of %s is not PEM", c.Name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return sp, fmt.Errorf("ssoconfig: SP certificate of %s: %w", c.Name, err)
	}
	sp.SigningKey, sp.SigningCert = rsaKey, cert
	return sp, nil
}

// SAMLIdP returns the IdP settings of a SAML configuration. It fails when a
// stored certificate does not parse (validation keeps that from happening).
func SAMLIdP(c *gatehouse.SSOConfig) (saml.IdP, error) {
	s := c.SAML
	if s == nil {
		return saml.IdP{}, fmt.Errorf("ssoconfig: %s has no SAML settings", c.Name)
	}
	idp := saml.IdP{
		EntityID:          s.IdPEntityID,
		SSOURL:            s.SSOURL,
		SSOBinding:        saml.BindingRedirect,
		NameIDFormat:      s.NameIDFormat,
		EmailAttribute:    s.EmailAttribute,
		AllowIdPInitiated: s.AllowIdPInitiated,
		ClockSkew:         clockSkew(s.ClockSkewSeconds),
	}
	if s.SSOBinding == "post" {
		idp.SSOBinding = saml.BindingPOST
	}
	for i, text := range s.Certificates {
		infos, err := saml.ParseCertificatesPEM(text)
		if err != nil {
			return idp, fmt.Errorf("ssoconfig: certificate %d of %s: %w", i+1, c.Name, err)
		}
		for _, info := range infos {
			idp.Certificates = append(idp.Certificates, info.Cert)
		}
	}
	return idp, nil
}

// zeroSkew stands for a configured skew of 0 seconds: saml.IdP reads a zero
// ClockSkew as "the default", and one nanosecond tolerates nothing a clock
// could tell apart from exact times.
const zeroSkew = time.Nanosecond

// clockSkew turns the stored seconds into saml.IdP's ClockSkew, keeping 0 a
// real zero rather than the default.
func clockSkew(seconds int) time.Duration {
	if seconds == 0 {
		return zeroSkew
	}
	return time.Duration(seconds) * time.Second
}
