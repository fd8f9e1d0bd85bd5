package ssoconfig

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/saml"
)

// Bounds of the SAML fields.
const (
	// MaxEntityIDLength is SAML's own bound on an entityID (SAML 2.0
	// metadata, section 2.3.2).
	MaxEntityIDLength  = 1024
	MaxURLLength       = 2048
	MaxAttributeLength = 256
	// MaxCertificates bounds a rollover: the current certificate, the next
	// one, and room for an IdP that publishes a few.
	MaxCertificates  = 10
	MaxClockSkewSecs = int(saml.MaxClockSkew / time.Second)
	// ExpiryWarning is how long before a certificate expires the admin pages
	// start warning about it.
	ExpiryWarning = 30 * 24 * time.Hour
)

// NameIDFormats are the NameID formats a configuration may ask for, by their
// full URNs.
var NameIDFormats = []string{saml.NameIDFormatEmail, saml.NameIDFormatPersistent, saml.NameIDFormatUnspecified, saml.NameIDFormatTransient}

// shortNameIDFormats are the names admins type for the URNs.
var shortNameIDFormats = map[string]string{
	"email":        saml.NameIDFormatEmail,
	"emailaddress": saml.NameIDFormatEmail,
	"persistent":   saml.NameIDFormatPersistent,
	"unspecified":  saml.NameIDFormatUnspecified,
	"transient":    saml.NameIDFormatTransient,
}

// Normalize puts a configuration's settings in their canonical form before
// it is validated and saved: surrounding space trimmed, empty and repeated
// OIDC list entries dropped, Entra tenant IDs and hosted domains in lower
// case (as the IdPs send them), short NameID format
// names ("emailAddress", "persistent", ...) and binding URIs replaced by the
// stored forms, and every certificate that parses rewritten as one PEM block
// per certificate, duplicates dropped. Text that does not parse is kept as
// given, so a draft shows the admin what they pasted next to the problem.
func Normalize(c *gatehouse.SSOConfig) {
	c.Preset = strings.TrimSpace(c.Preset)
	normalizeOIDC(c.OIDC)
	s := c.SAML
	if s == nil {
		return
	}
	s.IdPEntityID = strings.TrimSpace(s.IdPEntityID)
	s.SSOURL = strings.TrimSpace(s.SSOURL)
	s.EmailAttribute = strings.TrimSpace(s.EmailAttribute)
	s.SSOBinding = NormalizeBinding(s.SSOBinding)
	s.NameIDFormat = NormalizeNameIDFormat(s.NameIDFormat)

	certs := []string{}
	var seen [][]byte
	for _, text := range s.Certificates {
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		infos, err := saml.ParseCertificatesPEM(text)
		if err != nil {
			certs = append(certs, text)
			continue
		}
		for _, info := range infos {
			if slices.ContainsFunc(seen, func(der []byte) bool { return string(der) == string(info.Cert.Raw) }) {
				continue
			}
			seen = append(seen, info.Cert.Raw)
			certs = append(certs, encodeCertificate(info.Cert))
		}
	}
	s.Certificates = certs
}

func encodeCertificate(cert *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
}

// NormalizeBinding returns the stored form ("redirect" or "post") of a
// binding given by that name or by its URI; anything else comes back
// trimmed, for Validate to report.
func NormalizeBinding(b string) string {
	b = strings.TrimSpace(b)
	switch strings.ToLower(b) {
	case "redirect", "http-redirect", strings.ToLower(string(saml.BindingRedirect)):
		return "redirect"
	case "post", "http-post", strings.ToLower(string(saml.BindingPOST)):
		return "post"
	}
	return b
}

// NormalizeNameIDFormat returns the URN of a NameID format given by its URN
// or its short name (any case); anything else comes back trimmed, for
// Validate to report.
func NormalizeNameIDFormat(f string) string {
	f = strings.TrimSpace(f)
	if urn, ok := shortNameIDFormats[strings.ToLower(f)]; ok {
		return urn
	}
	for _, urn := range NameIDFormats {
		if strings.EqualFold(f, urn) {
			return urn
		}
	}
	return f
}

// Validate returns a configuration's status and every problem that keeps it
// a draft, each naming its field the way the API does ("saml.sso_url",
// "saml.certificates[1]", indexes from 0). An enabled configuration is
// enabled whatever its problems (it governs sign-in all the same); edits to
// it are refused unless they leave no problem. now is the time of the check:
// certificate dates are never a problem, because an expired configured
// certificate still verifies (see saml.ValidateResponse); they show as
// warnings (CertificateWarnings) so the rollover happens in time.
func Validate(c *gatehouse.SSOConfig, now time.Time) (gatehouse.SSOStatus, []gatehouse.FieldError) {
	problems := problemsOf(c)
	switch {
	case c.Enabled:
		return gatehouse.SSOEnabled, problems
	case len(problems) > 0:
		return gatehouse.SSODraft, problems
	}
	return gatehouse.SSOComplete, nil
}

func problemsOf(c *gatehouse.SSOConfig) []gatehouse.FieldError {
	v := &gatehouse.ValidationError{}
	switch c.Protocol {
	case gatehouse.ProtocolSAML, gatehouse.ProtocolOIDC:
	default:
		v.Add("protocol", "must be saml or oidc")
		return v.Fields
	}
	if p, ok := PresetByID(c.Preset); !ok || p.Protocol != c.Protocol {
		v.Add("preset", "must be one of "+strings.Join(presetIDs(c.Protocol), ", "))
	}
	if c.Protocol == gatehouse.ProtocolOIDC {
		oidcProblems(v, c)
		return v.Fields
	}
	s := c.SAML
	if s == nil {
		s = &gatehouse.SAMLSettings{}
	}
	checkEntityID(v, s.IdPEntityID)
	checkSSOURL(v, s.SSOURL)
	if s.SSOBinding != "redirect" && s.SSOBinding != "post" {
		v.Add("saml.sso_binding", "must be redirect or post")
	}
	checkCertificates(v, s.Certificates)
	knownFormat := slices.Contains(NameIDFormats, s.NameIDFormat)
	if !knownFormat {
		v.Add("saml.name_id_format", "must be one of emailAddress, persistent, unspecified or transient (or their full URNs)")
	}
	switch {
	case s.EmailAttribute == "" && knownFormat && s.NameIDFormat != saml.NameIDFormatEmail:
		v.Add("saml.email_attribute", "is required when the NameID format is not emailAddress: name the attribute that carries the email address")
	case utf8.RuneCountInString(s.EmailAttribute) > MaxAttributeLength:
		v.Add("saml.email_attribute", fmt.Sprintf("must be at most %d characters", MaxAttributeLength))
	case hasControl(s.EmailAttribute):
		v.Add("saml.email_attribute", "must not contain control characters")
	}
	CheckClockSkew(v, s.ClockSkewSeconds)
	if s.SignRequests && (len(c.SPKey) == 0 || c.SPCertificate == "") {
		v.Add("saml.sign_requests", "needs an SP signing key; create one (rotate the SP key)")
	}
	return v.Fields
}

// CheckClockSkew records on v a clock skew outside 0 to MaxClockSkewSecs
// seconds. Admin edits are refused with it rather than saved as a draft's
// problem: the API document bounds the field, and no IdP hands an admin a
// value to paste that a draft should keep.
func CheckClockSkew(v *gatehouse.ValidationError, seconds int) {
	if seconds < 0 || seconds > MaxClockSkewSecs {
		v.Add("saml.clock_skew_seconds", fmt.Sprintf("must be from 0 to %d seconds", MaxClockSkewSecs))
	}
}

func presetIDs(p gatehouse.Protocol) []string {
	var ids []string
	for _, preset := range allPresets {
		if preset.Protocol == p {
			ids = append(ids, preset.ID)
		}
	}
	return ids
}

func hasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }

func checkEntityID(v *gatehouse.ValidationError, id string) {
	const field = "saml.idp_entity_id"
	switch {
	case id == "":
		v.Add(field, "is required: the IdP's entity ID (Issuer), as its metadata states it")
	case utf8.RuneCountInString(id) > MaxEntityIDLength:
		v.Add(field, fmt.Sprintf("must be at most %d characters", MaxEntityIDLength))
	case strings.IndexFunc(id, unicode.IsSpace) >= 0 || hasControl(id):
		v.Add(field, "must not contain spaces or control characters")
	}
}

// checkSSOURL accepts absolute https URLs, and http ones only for loopback
// hosts: the browser, not Gatehouse, visits this URL, and plain http would
// let anyone on the way read or change the AuthnRequest.
func checkSSOURL(v *gatehouse.ValidationError, raw string) {
	const field = "saml.sso_url"
	if raw == "" {
		v.Add(field, "is required: the IdP's single sign-on URL")
		return
	}
	if len(raw) > MaxURLLength {
		v.Add(field, fmt.Sprintf("must be at most %d characters", MaxURLLength))
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "" || (u.Scheme != "https" && u.Scheme != "http"):
		v.Add(field, "must be an absolute https:// URL")
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		v.Add(field, "must use https (http is accepted only for a loopback host such as 127.0.0.1 or localhost)")
	case u.User != nil:
		v.Add(field, "must not carry a user name or password")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		v.Add(field, "must not have a #fragment")
	}
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkCertificates(v *gatehouse.ValidationError, certs []string) {
	switch {
	case len(certs) == 0:
		v.Add("saml.certificates", "at least one IdP signing certificate is required")
		return
	case len(certs) > MaxCertificates:
		v.Add("saml.certificates", fmt.Sprintf("must hold at most %d certificates", MaxCertificates))
		return
	}
	for i, text := range certs {
		if _, err := saml.ParseCertificatesPEM(text); err != nil {
			v.Add(fmt.Sprintf("saml.certificates[%d]", i), strings.TrimSuffix(err.Error(), ": "+saml.ErrCertificate.Error()))
		}
	}
}

// Reasons Enableable gives; each matches with errors.Is.
var (
	ErrNotEnterprise  = errors.New("SSO is for enterprise accounts only")
	ErrIncomplete     = errors.New("the configuration is not complete")
	ErrTestNotCurrent = errors.New("the configuration has not passed a test since its IdP settings last changed")
)

// EnableError is why a configuration cannot be enabled: one of the reasons
// above, with the problems that keep it a draft when it is incomplete.
type EnableError struct {
	Reason   error
	Problems []gatehouse.FieldError
}

func (e *EnableError) Error() string {
	switch {
	case errors.Is(e.Reason, ErrIncomplete):
		fields := make([]string, len(e.Problems))
		for i, p := range e.Problems {
			fields[i] = p.Field
		}
		return e.Reason.Error() + ": fix " + strings.Join(fields, ", ")
	case errors.Is(e.Reason, ErrTestNotCurrent):
		return e.Reason.Error() + ": run Test and enable it once it passes"
	case errors.Is(e.Reason, ErrNotEnterprise):
		return e.Reason.Error() + ": this account's plan must be upgraded to enterprise first"
	}
	return e.Reason.Error()
}

// Unwrap makes errors.Is(err, ErrIncomplete) and the like work.
func (e *EnableError) Unwrap() error { return e.Reason }

// Enableable reports nil when configuration c may be enabled for its owner
// (account, whose plan decides; a partition's configuration passes the zero
// Account), or an *EnableError with the first reason it may not: the
// account's plan, then the configuration's completeness, then its test.
func Enableable(c *gatehouse.SSOConfig, account gatehouse.Account) error {
	if c.AccountID != "" && account.Plan != gatehouse.PlanEnterprise {
		return &EnableError{Reason: ErrNotEnterprise}
	}
	if problems := problemsOf(c); len(problems) > 0 {
		return &EnableError{Reason: ErrIncomplete, Problems: problems}
	}
	if !c.TestIsCurrent() {
		return &EnableError{Reason: ErrTestNotCurrent}
	}
	return nil
}

// Certificate describes one configured IdP certificate for the admin pages.
type Certificate struct {
	// Index is the certificate's place in saml.certificates.
	Index             int       `json:"index"`
	Subject           string    `json:"subject"`
	SHA256Fingerprint string    `json:"sha256_fingerprint"`
	NotBefore         time.Time `json:"not_before"`
	NotAfter          time.Time `json:"not_after"`
	Expired           bool      `json:"expired"`
	// Expiring is set within ExpiryWarning of the end of its validity.
	Expiring bool `json:"expiring"`
	// Warning says what to do about an expired or expiring certificate.
	Warning string `json:"warning,omitempty"`
	// DaysLeft is how many whole days it stays valid (negative once
	// expired).
	DaysLeft int `json:"days_left"`
}

// Certificates describes every configured certificate that parses, as of
// now.
func Certificates(c *gatehouse.SSOConfig, now time.Time) []Certificate {
	out := []Certificate{}
	if c.SAML == nil {
		return out
	}
	for i, text := range c.SAML.Certificates {
		infos, err := saml.ParseCertificatesPEM(text)
		if err != nil {
			continue
		}
		for _, info := range infos {
			out = append(out, describe(i, info, now))
		}
	}
	return out
}

// DescribeCertificates describes the certificates in text, as pasted by an
// admin (PEM or a bare base64 body), as of now; the error says why the text
// is no certificate Gatehouse accepts.
func DescribeCertificates(text string, now time.Time) ([]Certificate, error) {
	infos, err := saml.ParseCertificatesPEM(text)
	if err != nil {
		msg := strings.TrimSuffix(err.Error(), ": "+saml.ErrCertificate.Error())
		return nil, errors.New(strings.TrimPrefix(msg, saml.ErrCertificate.Error()+": "))
	}
	out := make([]Certificate, len(infos))
	for i, info := range infos {
		out[i] = describe(0, info, now)
	}
	return out, nil
}

func describe(index int, info saml.CertInfo, now time.Time) Certificate {
	c := Certificate{Index: index, Subject: info.Subject, SHA256Fingerprint: info.SHA256Fingerprint,
		NotBefore: info.NotBefore.UTC(), NotAfter: info.NotAfter.UTC()}
	c.DaysLeft = int(math.Floor(info.NotAfter.Sub(now).Hours() / 24))
	day := c.NotAfter.Format(time.DateOnly)
	switch {
	case !now.Before(info.NotAfter):
		c.Expired = true
		c.Warning = fmt.Sprintf("certificate %d (%s) expired on %s; Gatehouse still accepts its signatures, but add the IdP's new certificate and remove this one", index, c.Subject, day)
	case now.Add(ExpiryWarning).After(info.NotAfter):
		c.Expiring = true
		c.Warning = fmt.Sprintf("certificate %d (%s) expires on %s, in %d days; add the IdP's next certificate now (several can be configured at once)", index, c.Subject, day, c.DaysLeft)
	}
	return c
}

// CertificateWarnings lists the configured certificates that have expired
// or expire within ExpiryWarning of now.
func CertificateWarnings(c *gatehouse.SSOConfig, now time.Time) []Certificate {
	var out []Certificate
	for _, cert := range Certificates(c, now) {
		if cert.Expired || cert.Expiring {
			out = append(out, cert)
		}
	}
	return out
}
