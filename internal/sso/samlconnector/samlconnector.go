// Package samlconnector plugs SAML 2.0 into the protocol-independent SSO
// flow: it turns a stored configuration into internal/saml's SP and IdP
// values, builds AuthnRequests and checks Responses, and reports failures as
// *gatehouse.Rejection errors that say which side must fix them.
package samlconnector

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"gatehouse"
	"gatehouse/internal/saml"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/sso"
	"gatehouse/internal/ssoconfig"
)

// Connector is the SAML connector. The zero value is not usable; see New.
type Connector struct {
	base *url.URL
	box  *secretbox.Box

	mu   sync.Mutex
	idps map[string]cachedIdP
}

// cachedIdP is a configuration's IdP values with its certificates parsed,
// as they were when the configuration was last changed.
type cachedIdP struct {
	updatedAt time.Time
	idp       saml.IdP
}

// maxCachedIdPs bounds the cache; past it, it starts again empty.
const maxCachedIdPs = 10000

// New returns a connector for configurations served under base (the public
// URL the SP values are built from), opening SP keys with box.
func New(base *url.URL, box *secretbox.Box) *Connector {
	return &Connector{base: base, box: box, idps: map[string]cachedIdP{}}
}

// idp returns cfg's IdP values, parsing its certificates only when cfg is
// new to this process or was changed since (UpdatedAt moves on every edit,
// enable and disable, on whichever process made it), so an edit takes
// effect at the next answer and an unchanged configuration's certificates
// are parsed once, not at every sign-in.
func (c *Connector) idp(cfg *gatehouse.SSOConfig) (saml.IdP, error) {
	c.mu.Lock()
	cached, ok := c.idps[cfg.SettingsKey()]
	c.mu.Unlock()
	if ok && cached.updatedAt.Equal(cfg.UpdatedAt) {
		return cached.idp, nil
	}
	idp, err := ssoconfig.SAMLIdP(cfg)
	if err != nil {
		return idp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.idps) >= maxCachedIdPs {
		clear(c.idps)
	}
	c.idps[cfg.SettingsKey()] = cachedIdP{updatedAt: cfg.UpdatedAt, idp: idp}
	return idp, nil
}

var _ sso.Connector = (*Connector)(nil)

// Method is "saml".
func (*Connector) Method() string { return "saml" }

func configError(format string, args ...any) *gatehouse.Rejection {
	return &gatehouse.Rejection{Reason: "configuration", Message: fmt.Sprintf(format, args...), FixIn: gatehouse.FixInGatehouse}
}

// Start builds an AuthnRequest. It needs only what a request needs (the IdP
// SSO URL, and the SP key when requests are signed), so a draft can be
// tested before its certificates are in: the answer then fails on the result
// page with the exact missing piece. For the Redirect binding the email is
// added as login_hint, which Entra ID and others use to skip their own email
// prompt and the rest ignore; it is outside the signed part of the query, so
// it can only ever prefill a field.
func (c *Connector) Start(_ context.Context, cfg *gatehouse.SSOConfig, req sso.StartRequest) (sso.Redirect, error) {
	if c.base == nil || c.base.Host == "" {
		return sso.Redirect{}, configError("Gatehouse has no public base URL, so it has no ACS URL to give the IdP; set --base-url")
	}
	if cfg.SAML == nil {
		return sso.Redirect{}, configError("the configuration has no SAML settings yet: enter the IdP's SSO URL (or import its metadata)")
	}
	if strings.TrimSpace(cfg.SAML.SSOURL) == "" {
		return sso.Redirect{}, configError("the IdP SSO URL is missing: enter it (or import the IdP's metadata) before testing")
	}
	if u, err := url.Parse(cfg.SAML.SSOURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return sso.Redirect{}, configError("the IdP SSO URL %q is not an absolute http(s) URL", cfg.SAML.SSOURL)
	}
	sp, err := ssoconfig.SAMLSP(c.base, c.box, cfg)
	if err != nil {
		return sso.Redirect{}, configError("the SP signing key cannot be used: %v", err)
	}
	// Certificates are not needed to build a request; a draft's unreadable
	// certificate must not keep its test from showing that very problem.
	settings := *cfg.SAML
	settings.Certificates = nil
	requestOnly := *cfg
	requestOnly.SAML = &settings
	idp, err := ssoconfig.SAMLIdP(&requestOnly)
	if err != nil {
		return sso.Redirect{}, configError("%v", err)
	}
	r, err := saml.NewRequest(sp, idp, req.FlowKey, req.Now)
	if err != nil {
		if errors.Is(err, saml.ErrConfiguration) {
			return sso.Redirect{}, configError("%v", err)
		}
		return sso.Redirect{}, fmt.Errorf("samlconnector: %w", err)
	}
	out := sso.Redirect{RequestID: r.ID, RedirectURL: r.RedirectURL, PostURL: r.PostURL, PostForm: r.PostForm}
	if out.RedirectURL != "" && req.LoginHint != "" {
		out.RedirectURL += "&login_hint=" + url.QueryEscape(req.LoginHint)
	}
	return out, nil
}

// maxPeekBytes bounds what Correlate decodes; the ACS bounds the body too.
const maxPeekBytes = 1 << 20

// Correlate returns the RelayState and the InResponseTo of the Response
// element, read from the unverified message only to find the flow; Finish
// checks the signed InResponseTo against the flow's request.
func (*Connector) Correlate(answer url.Values) (string, string) {
	relayState := answer.Get("RelayState")
	raw := answer.Get("SAMLResponse")
	if raw == "" || len(raw) > maxPeekBytes*4/3+4 {
		return relayState, ""
	}
	// The first element is all that is read, and it is near the start:
	// decode a prefix first (Finish decodes the whole message once more),
	// and the whole only when the element runs past it.
	if len(raw) > correlatePrefix {
		if id, complete := firstInResponseTo(raw[:correlatePrefix]); complete {
			return relayState, id
		}
	}
	id, _ := firstInResponseTo(raw)
	return relayState, id
}

// correlatePrefix is how much of the base64 message Correlate decodes
// first: about 3 KB of XML, where a Response's start tag takes a few hundred
// bytes.
const correlatePrefix = 4096

// firstInResponseTo reads the unprefixed InResponseTo attribute of the
// first element of the base64 (possibly line-wrapped) XML b64. complete is
// false when no first element could be read whole: b64 is not base64 or
// not XML, or ended before that element did.
func firstInResponseTo(b64 string) (id string, complete bool) {
	compact := b64
	if strings.ContainsAny(b64, " \t\r\n") {
		compact = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, b64)
	}
	compact = compact[:len(compact)/4*4]
	b, err := base64.StdEncoding.DecodeString(compact)
	if err != nil {
		return "", false
	}
	// Only the first element is read: no entities, no DTD, no depth.
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.RawToken()
		if err != nil {
			return "", false
		}
		if el, ok := tok.(xml.StartElement); ok {
			for _, a := range el.Attr {
				if a.Name.Local == "InResponseTo" && a.Name.Space == "" {
					return a.Value, true
				}
			}
			return "", true
		}
	}
}

// Finish validates the SAMLResponse with internal/saml. The email of a
// verified assertion counts as verified: the configured IdP is the authority
// for the addresses of its own account, and only that account's users are
// matched.
func (c *Connector) Finish(_ context.Context, cfg *gatehouse.SSOConfig, answer url.Values, p sso.Pending) (sso.Identity, error) {
	if c.base == nil || c.base.Host == "" {
		return sso.Identity{}, configError("Gatehouse has no public base URL, so it has no ACS URL to check the response against; set --base-url")
	}
	if cfg.SAML == nil {
		return sso.Identity{}, configError("the configuration has no SAML settings")
	}
	if answer.Get("SAMLResponse") == "" {
		return sso.Identity{}, &gatehouse.Rejection{Reason: "malformed", Message: "the request carries no SAMLResponse form field", FixIn: gatehouse.FixInIdP}
	}
	// Checking a response needs the SP's names, not its signing key, which
	// signs requests only.
	values := ssoconfig.SP(c.base, cfg)
	sp := saml.SP{EntityID: values.EntityID, ACSURL: values.ACSURL}
	idp, err := c.idp(cfg)
	if err != nil {
		return sso.Identity{}, configError("%v", err)
	}
	a, err := saml.ValidateResponse(sp, idp, answer.Get("SAMLResponse"), p.RequestIDs, p.Now)
	if err != nil {
		var verr *gatehouse.Rejection
		if errors.As(err, &verr) {
			return sso.Identity{}, verr
		}
		return sso.Identity{}, &gatehouse.Rejection{Reason: "malformed", Message: err.Error(), FixIn: gatehouse.FixInIdP}
	}
	return sso.Identity{
		Subject:       a.NameID,
		SubjectFormat: a.NameIDFormat,
		Email:         a.Email,
		EmailVerified: true,
		Attributes:    a.Attributes,
		MessageID:     a.ID,
		ReplayUntil:   a.ReplayUntil,
		InResponseTo:  a.InResponseTo,
		SignedBy:      signedBy(a.SignedBy),
		MFA:           mfaAsserted(a.AuthnContextClassRef, a.Attributes),
		AuthnContext:  a.AuthnContextClassRef,
	}, nil
}

// MFAClasses are the AuthnContextClassRef values that say the IdP
// authenticated the person with more than one factor: the REFEDS MFA
// profile, Microsoft's multipleauthn (AD FS, Entra ID), and the SAML 2.0
// classes that are two-factor by definition. Anything else, Password and
// PasswordProtectedTransport included, and any class an IdP invents, is no
// MFA: Gatehouse never guesses in its favour.
var MFAClasses = []string{
	"https://refeds.org/profile/mfa",
	"http://schemas.microsoft.com/claims/multipleauthn",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
}

// AuthnMethodsAttribute is the attribute in which Entra ID lists how the
// person authenticated; it holds MFAClasses' multipleauthn after MFA,
// whatever the AuthnContextClassRef says.
const AuthnMethodsAttribute = "http://schemas.microsoft.com/claims/authnmethodsreferences"

// mfaAsserted is the rule Identity.MFA follows for SAML: the verified
// assertion's AuthnContextClassRef is one of MFAClasses, or its
// AuthnMethodsAttribute holds Microsoft's multipleauthn. Both compare
// exactly.
func mfaAsserted(classRef string, attributes map[string][]string) bool {
	if slices.Contains(MFAClasses, classRef) {
		return true
	}
	return slices.Contains(attributes[AuthnMethodsAttribute], "http://schemas.microsoft.com/claims/multipleauthn")
}

// signedBy names the configured certificate that verified a response the way
// the admin pages list certificates.
func signedBy(cert *x509.Certificate) string {
	info := saml.NewCertInfo(cert)
	return fmt.Sprintf("the configured certificate %s (SHA-256 %s)", info.Subject, info.SHA256Fingerprint)
}
