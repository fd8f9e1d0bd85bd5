package main

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"gatehouse/internal/saml/samltest"
)

// idpOrigin is where the IdP's auto-posted form comes from: the ACS takes
// a cross-site POST.
const idpOrigin = "https://idp.load.example"

// samlIdP signs responses for one SP (its ACS URL and audience) the way
// SimpleSAMLphp does by default: RSA-2048, RSA-SHA256, Response and
// Assertion both signed, each with its certificate in KeyInfo.
type samlIdP struct {
	idp           *samltest.IdP
	acs, audience string
}

func newSAMLIdP() (*samlIdP, error) {
	idp, err := samltest.New(idpOrigin+"/saml", idpOrigin+"/sso", time.Now())
	if err != nil {
		return nil, err
	}
	return &samlIdP{idp: idp}, nil
}

// certPEM is the IdP's certificate as the API takes it.
func (p *samlIdP) certPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.idp.Cert.Raw}))
}

// response is a signed, base64 SAMLResponse for email with unique
// Response and Assertion IDs; inResponseTo is empty for IdP-initiated.
func (p *samlIdP) response(now time.Time, validFor time.Duration, email, inResponseTo string) (string, error) {
	given, _, _ := strings.Cut(email, "@")
	return p.idp.SignedResponse(samltest.Response{
		Now: now, NotOnOrAfter: now.Add(validFor),
		Destination: p.acs, Audience: p.audience, InResponseTo: inResponseTo,
		NameID: email,
		// The attributes a typical IdP sends beside the NameID.
		Attributes: map[string][]string{"mail": {email}, "givenName": {given}, "sn": {"Load"}},
	}, samltest.Signing{Response: true, Assertion: true})
}

// presign makes n ACS form bodies, one per sign-in, for users in turn from
// offset, on every core: signing is the IdP's work and must not be counted
// in the round, so it is done before the clock starts.
func (p *samlIdP) presign(ctx context.Context, users []string, offset, n int, validFor time.Duration) ([]string, error) {
	out := make([]string, n)
	now := time.Now()
	err := parallel(ctx, n, runtime.NumCPU(), func(i int) error {
		r, err := p.response(now, validFor, users[(offset+i)%len(users)], "")
		out[i] = "SAMLResponse=" + url.QueryEscape(r)
		return err
	})
	return out, err
}

// samlLoad posts pre-signed IdP-initiated responses to Gatehouse's ACS
// and follows each to the finish step.
type samlLoad struct {
	cl      *cluster
	idp     *samlIdP
	users   []string
	tr      *http.Transport
	acsPath string
	// validFor is how long a response stays valid: longer than the
	// pre-signing plus the round, so none expires while waiting.
	validFor time.Duration

	pool   []string
	next   atomic.Int64
	offset int
}

// newSAMLTarget configures a SAML SSO configuration over the API (the
// IdP's entity ID, SSO URL and certificate, IdP-initiated allowed), runs
// its Test as the admin, enables it, and returns the load on its ACS.
func newSAMLTarget(ctx context.Context, cl *cluster, t *tenant, opts options, tr *http.Transport) (*target, error) {
	idp, err := newSAMLIdP()
	if err != nil {
		return nil, err
	}
	v, err := createConfig(ctx, cl, t, map[string]any{"protocol": "saml", "saml": map[string]any{
		"idp_entity_id":       idp.idp.EntityID,
		"sso_url":             idp.idp.SSOURL,
		"sso_binding":         "redirect",
		"certificates":        []string{idp.certPEM()},
		"name_id_format":      samltest.FormatEmail,
		"allow_idp_initiated": true,
	}})
	if err != nil {
		return nil, err
	}
	acs, err := url.Parse(v.SP.ACSURL)
	if err != nil || v.SP.EntityID == "" {
		return nil, fmt.Errorf("the configuration's SP values: ACS %q, entity ID %q", v.SP.ACSURL, v.SP.EntityID)
	}
	idp.acs, idp.audience = v.SP.ACSURL, v.SP.EntityID
	s := &samlLoad{cl: cl, idp: idp, users: t.users, tr: tr, acsPath: acs.Path, validFor: 5*time.Minute + 2*opts.duration}
	if err := testAndEnable(ctx, cl, t, "saml", v, s.answerTest); err != nil {
		return nil, err
	}
	return &target{what: "Gatehouse", pids: cl.pids(), prepare: s.prepare, signIn: s.signIn}, nil
}

// answerTest plays the IdP for the admin's Test: it answers the
// AuthnRequest in the link (Redirect binding) with a signed response.
func (s *samlLoad) answerTest(ctx context.Context, b *browser, link *url.URL) (answer, error) {
	q := link.Query()
	id, err := authnRequestID(q.Get("SAMLRequest"))
	if err != nil {
		return answer{}, err
	}
	r, err := s.idp.response(time.Now(), 5*time.Minute, s.users[0], id)
	if err != nil {
		return answer{}, err
	}
	form := url.Values{"SAMLResponse": {r}}
	if relay := q.Get("RelayState"); relay != "" {
		form.Set("RelayState", relay)
	}
	return b.post(ctx, s.cl.procs[0].addr+s.acsPath, idpOrigin, form.Encode())
}

// authnRequestID reads the ID of a Redirect-binding AuthnRequest
// (base64 of raw DEFLATE).
func authnRequestID(encoded string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("SAMLRequest: %w", err)
	}
	xmlBytes, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), 1<<20))
	if err != nil {
		return "", fmt.Errorf("SAMLRequest: inflate: %w", err)
	}
	var req struct {
		ID string `xml:"ID,attr"`
	}
	if err := xml.Unmarshal(xmlBytes, &req); err != nil || req.ID == "" {
		return "", fmt.Errorf("SAMLRequest without an ID (%v): %.300s", err, xmlBytes)
	}
	return req.ID, nil
}

// prepare pre-signs n responses for the next round, for the users after
// the last round's, so sign-ins spread over every user.
func (s *samlLoad) prepare(ctx context.Context, n int) error {
	s.pool = nil // the last round's leftovers go before the new ones are made
	pool, err := s.idp.presign(ctx, s.users, s.offset, n, s.validFor)
	if err != nil {
		return err
	}
	s.pool, s.offset = pool, s.offset+n
	s.next.Store(0)
	return nil
}

// signIn posts the next response to the ACS of the process picked, then
// follows the 303 to the finish step, which must set the session.
func (s *samlLoad) signIn(ctx context.Context, _ int) error {
	i := s.next.Add(1) - 1
	if i >= int64(len(s.pool)) {
		return errExhausted
	}
	body := s.pool[i]
	s.pool[i] = "" // sent once: let it go
	base := s.cl.pick()
	b := newBrowser(s.tr)
	a, err := b.post(ctx, base+s.acsPath, idpOrigin, body)
	if err != nil {
		return err
	}
	next, err := a.redirectTo("ACS", base, "/sso/finish/")
	if err != nil {
		return err
	}
	return b.finish(ctx, base, next)
}
