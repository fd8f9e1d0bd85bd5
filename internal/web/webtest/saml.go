package webtest

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gatehouse"
	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store/storetest"
)

// idps caches test IdPs by entity ID: RSA key generation is slow, and a
// key shared between tests proves nothing less.
var idps sync.Map

// SAMLIdP is the test SAML IdP of name, made once for all tests.
func SAMLIdP(t testing.TB, name string) *samltest.IdP {
	t.Helper()
	entity := "https://idp." + name + ".test/saml"
	if v, ok := idps.Load(entity); ok {
		return v.(*samltest.IdP)
	}
	idp, err := samltest.New(entity, "https://idp."+name+".test/sso", NewClock().Now())
	if err != nil {
		t.Fatal(err)
	}
	v, _ := idps.LoadOrStore(entity, idp)
	return v.(*samltest.IdP)
}

// CertPEM is the IdP's signing certificate, as PEM.
func CertPEM(idp *samltest.IdP) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Cert.Raw}))
}

// SAMLSetup is one account's SAML configuration and the IdP it trusts.
type SAMLSetup struct {
	e      *Env
	IdP    *samltest.IdP
	Config gatehouse.SSOConfig
	SP     ssoconfig.SPValues
}

// SAMLConfig creates a SAML configuration for the account trusting the
// named test IdP, enabled when asked; edit may change its settings first.
func (e *Env) SAMLConfig(accountName, idpName string, enable bool, edit func(*gatehouse.SAMLSettings)) *SAMLSetup {
	e.T.Helper()
	idp := SAMLIdP(e.T, idpName)
	settings := &gatehouse.SAMLSettings{IdPEntityID: idp.EntityID, SSOURL: idp.SSOURL, SSOBinding: "redirect",
		Certificates: []string{CertPEM(idp)}, NameIDFormat: saml.NameIDFormatEmail}
	if edit != nil {
		edit(settings)
	}
	c := gatehouse.SSOConfig{AccountID: e.Account(accountName).ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: settings}
	ctx := context.Background()
	if err := e.Store.CreateSSOConfig(ctx, &c); err != nil {
		e.T.Fatal(err)
	}
	if enable {
		storetest.KeepWayIn(e.T, e.Store, c.AccountID)
		if _, err := e.Store.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
			e.T.Fatal(err)
		}
		var err error
		if c, err = e.Store.SSOConfig(ctx, c.ID); err != nil {
			e.T.Fatal(err)
		}
	}
	return &SAMLSetup{e: e, IdP: idp, Config: c, SP: ssoconfig.SP(&url.URL{Scheme: "http", Host: "gatehouse.test"}, &c)}
}

// PartitionSAMLConfig creates and enables a SAML configuration owned by
// partition partitionID, trusting the named test IdP; edit may change its
// settings first.
func (e *Env) PartitionSAMLConfig(partitionID, idpName string, edit func(*gatehouse.SAMLSettings)) *SAMLSetup {
	e.T.Helper()
	idp := SAMLIdP(e.T, idpName)
	settings := &gatehouse.SAMLSettings{IdPEntityID: idp.EntityID, SSOURL: idp.SSOURL, SSOBinding: "redirect",
		Certificates: []string{CertPEM(idp)}, NameIDFormat: saml.NameIDFormatEmail}
	if edit != nil {
		edit(settings)
	}
	c := gatehouse.SSOConfig{PartitionID: partitionID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: settings}
	ctx := context.Background()
	if err := e.Store.CreateSSOConfig(ctx, &c); err != nil {
		e.T.Fatal(err)
	}
	storetest.KeepWayInUnder(e.T, e.Store, "", partitionID)
	if _, err := e.Store.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
		e.T.Fatal(err)
	}
	c, err := e.Store.SSOConfig(ctx, c.ID)
	if err != nil {
		e.T.Fatal(err)
	}
	return &SAMLSetup{e: e, IdP: idp, Config: c, SP: ssoconfig.SP(&url.URL{Scheme: "http", Host: "gatehouse.test"}, &c)}
}

// UsePartitionSSO sets the named account to use its partition's SSO.
func (e *Env) UsePartitionSSO(accountName string) {
	e.T.Helper()
	a := e.Account(accountName)
	a.UsePartitionSSO = true
	storetest.KeepWayIn(e.T, e.Store, a.ID)
	if err := e.Store.UpdateAccount(context.Background(), &a); err != nil {
		e.T.Fatal(err)
	}
	e.Accounts[accountName] = a
}

// AuthnRequest is an AuthnRequest as the IdP received it.
type AuthnRequest struct {
	ID, Issuer, ACS string
	RelayState      string
	LoginHint       string
	Binding         string
}

var (
	continueLinkRe = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)
	continueFormRe = regexp.MustCompile(`<form method="post" action="([^"]+)" data-sso-continue>`)
	hiddenFieldRe  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// IdPRequest reads the AuthnRequest from the page that sends the browser
// to the IdP, as the IdP would: Redirect binding (deflated, in the link's
// query) or POST binding (in the form).
func IdPRequest(t testing.TB, p Page) AuthnRequest {
	t.Helper()
	var raw []byte
	var r AuthnRequest
	if m := continueLinkRe.FindStringSubmatch(p.Body); m != nil {
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		r.RelayState, r.LoginHint, r.Binding = q.Get("RelayState"), q.Get("login_hint"), "redirect"
		deflated, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = io.ReadAll(flate.NewReader(bytes.NewReader(deflated))); err != nil {
			t.Fatal(err)
		}
	} else if m := continueFormRe.FindStringSubmatch(p.Body); m != nil {
		r.Binding = "post"
		for _, f := range hiddenFieldRe.FindAllStringSubmatch(p.Body, -1) {
			switch f[1] {
			case "SAMLRequest":
				b, err := base64.StdEncoding.DecodeString(html.UnescapeString(f[2]))
				if err != nil {
					t.Fatal(err)
				}
				raw = b
			case "RelayState":
				r.RelayState = html.UnescapeString(f[2])
			}
		}
	} else {
		t.Fatalf("page %s (%d) does not send the browser to an IdP:\n%s", p.Path, p.Status, p.Body)
	}
	var doc struct {
		ID     string `xml:"ID,attr"`
		ACS    string `xml:"AssertionConsumerServiceURL,attr"`
		Issuer string `xml:"Issuer"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("AuthnRequest: %v\n%s", err, raw)
	}
	r.ID, r.ACS, r.Issuer = doc.ID, doc.ACS, doc.Issuer
	return r
}

// Response is a Response signed by the setup's IdP for its SP, answering
// requestID ("" for IdP-initiated); edit may change it before signing.
func (s *SAMLSetup) Response(requestID, nameID string, edit func(*samltest.Response)) string {
	s.e.T.Helper()
	return s.ResponseBy(s.IdP, requestID, nameID, edit)
}

// ResponseBy is Response signed by idp instead of the setup's IdP.
func (s *SAMLSetup) ResponseBy(idp *samltest.IdP, requestID, nameID string, edit func(*samltest.Response)) string {
	s.e.T.Helper()
	r := samltest.Response{Now: s.e.Clock.Now(), Destination: s.SP.ACSURL, Audience: s.SP.EntityID, InResponseTo: requestID, NameID: nameID,
		Attributes: map[string][]string{"email": {nameID}, "groups": {"Staff", "VPN users"}}}
	if edit != nil {
		edit(&r)
	}
	out, err := idp.SignedResponse(r, samltest.Signing{Response: true, Assertion: true})
	if err != nil {
		s.e.T.Fatal(err)
	}
	return out
}

// PostACS posts an IdP's auto-submitted form to the configuration's ACS,
// from the IdP's site, as a browser does.
func (b *Browser) PostACS(configID, samlResponse, relayState string) Page {
	b.t.Helper()
	form := url.Values{"SAMLResponse": {samlResponse}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	req, err := http.NewRequest(http.MethodPost, b.e.Server.URL+ssoconfig.ACSPath(configID), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://idp.example.test")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return b.Do(req)
}

var referenceRe = regexp.MustCompile(`Reference: <code class="reference">([^<]+)</code>`)

// Refused checks a refusal page (one of the SSO failure pages, with a
// reference and without the precise reason) and returns the audit event
// its reference names.
func (e *Env) Refused(p Page) gatehouse.AuditEvent {
	e.T.Helper()
	if p.Status < 400 || p.Status > 499 {
		e.T.Fatalf("status %d at %s, want a 4xx:\n%s", p.Status, p.Path, p.Body)
	}
	p.MustShow(e.T, "Quote it when you ask for help.")
	m := referenceRe.FindStringSubmatch(p.Body)
	if m == nil {
		e.T.Fatalf("no reference on the refusal page:\n%s", p.Body)
	}
	evs, err := e.Store.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: string(gatehouse.ActionSignInSAML)}, gatehouse.Page{Limit: 100})
	if err != nil {
		e.T.Fatal(err)
	}
	for _, ev := range evs {
		if ev.ID == m[1] {
			if ev.Outcome != gatehouse.OutcomeFailure || ev.Reason == "" {
				e.T.Errorf("referenced event = %+v", ev)
			}
			p.MustOmit(e.T, html.EscapeString(ev.Reason))
			return ev
		}
	}
	e.T.Fatalf("the reference %s names no signin.saml audit event", m[1])
	return gatehouse.AuditEvent{}
}

// Answer posts the switch question's form from site ("same-origin" for the
// page itself, "cross-site" for another site's page).
func (b *Browser) Answer(path, choice, site string) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.Server.URL+path, strings.NewReader(url.Values{"choice": {choice}}.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", site)
	if site == "cross-site" {
		req.Header.Set("Origin", "https://evil.example")
	}
	return b.Do(req)
}
