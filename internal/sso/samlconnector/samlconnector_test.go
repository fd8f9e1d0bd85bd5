package samlconnector

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/sso"
)

func TestCorrelate(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, response, relay, wantRequest string
	}{
		{"answer", b64(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" InResponseTo="_req1"><x InResponseTo="_other"/></samlp:Response>`), "FLOW", "_req1"},
		{"wrapped base64", "PHIgSW5SZXNwb25zZVRvPSJf\ncmVxMiIvPg==", "", "_req2"},
		{"unsolicited", b64(`<Response ID="_r"/>`), "FLOW", ""},
		{"namespaced attribute is not it", b64(`<Response x:InResponseTo="_evil" xmlns:x="urn:x"/>`), "", ""},
		{"not base64", "%%%", "FLOW", ""},
		{"not XML", b64("hello"), "", ""},
		{"doctype first", b64(`<!DOCTYPE r [<!ENTITY e "x">]><r InResponseTo="&e;"/>`), "", ""},
		{"empty", "", "", ""},
	}
	// A real Response is longer than the prefix Correlate decodes first;
	// a start tag longer than the prefix is read from the whole message.
	padding := `<Issuer>` + strings.Repeat("x", 8000) + `</Issuer>`
	long := func(startTag string) string { return b64(startTag + padding + `</samlp:Response>`) }
	tests = append(tests, []struct{ name, response, relay, wantRequest string }{
		{"long message", long(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="_req3">`), "", "_req3"},
		{"long message, wrapped", wrap(long(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="_req4">`), 76), "", "_req4"},
		{"start tag past the prefix", long(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Pad="` + strings.Repeat("é", 3000) + `" InResponseTo="_req5">`), "", "_req5"},
		{"long unsolicited", long(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r">`), "R", ""},
	}...)
	for _, tt := range tests {
		relay, req := (&Connector{}).Correlate(url.Values{"SAMLResponse": {tt.response}, "RelayState": {tt.relay}})
		if relay != tt.relay || req != tt.wantRequest {
			t.Errorf("%s: Correlate = %q, %q; want %q, %q", tt.name, relay, req, tt.relay, tt.wantRequest)
		}
	}
}

// wrap breaks s into lines of n characters, as some IdPs send base64.
func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	return b.String() + s
}

// FuzzCorrelate: whatever is posted to the ACS, reading it for the flow
// lookup neither panics nor returns more than was sent, and reading a
// prefix first finds what reading the whole message finds.
func FuzzCorrelate(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<Response InResponseTo="_a"/>`)), "relay")
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<Response A="`+strings.Repeat("é", 1600)+`" InResponseTo="_a">`+strings.Repeat("x", 5000))), "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, response, relay string) {
		gotRelay, req := (&Connector{}).Correlate(url.Values{"SAMLResponse": {response}, "RelayState": {relay}})
		if gotRelay != relay || len(req) > len(response) {
			t.Fatalf("Correlate(%q, %q) = %q, %q", response, relay, gotRelay, req)
		}
		if len(response) <= maxPeekBytes*4/3+4 {
			if whole, _ := firstInResponseTo(response); req != whole {
				t.Fatalf("Correlate found %q, the whole message %q", req, whole)
			}
		}
	})
}

func TestStartSaysWhatIsMissing(t *testing.T) {
	base := &url.URL{Scheme: "https", Host: "gatehouse.example"}
	c := New(base, nil)
	cfg := gatehouse.SSOConfig{ID: "sso_1", Name: "sso-abcdef", Protocol: gatehouse.ProtocolSAML}
	start := func() (sso.Redirect, error) {
		return c.Start(context.Background(), &cfg, sso.StartRequest{FlowKey: "FLOWKEY", LoginHint: "ann@acme.example", Now: time.Now()})
	}
	var serr *gatehouse.Rejection
	if _, err := start(); !errors.As(err, &serr) || serr.FixIn != gatehouse.FixInGatehouse || !strings.Contains(serr.Message, "no SAML settings") {
		t.Fatalf("no settings: %v", err)
	}
	cfg.SAML = &gatehouse.SAMLSettings{Certificates: []string{"not a certificate"}}
	if _, err := start(); !errors.As(err, &serr) || !strings.Contains(serr.Message, "SSO URL is missing") {
		t.Fatalf("no SSO URL: %v", err)
	}
	// A draft with an unreadable certificate still builds a request: the
	// test's answer then shows the certificate problem.
	cfg.SAML.SSOURL = "https://idp.example/sso"
	r, err := start()
	if err != nil || r.RequestID == "" || !strings.HasPrefix(r.RedirectURL, "https://idp.example/sso?") ||
		!strings.HasSuffix(r.RedirectURL, "&login_hint=ann%40acme.example") || !strings.Contains(r.RedirectURL, "RelayState=FLOWKEY") {
		t.Fatalf("redirect binding: %+v, %v", r, err)
	}
	cfg.SAML.SSOBinding = "post"
	r, err = start()
	if err != nil || r.PostURL != "https://idp.example/sso" || r.PostForm.Get("RelayState") != "FLOWKEY" || r.PostForm.Get("SAMLRequest") == "" {
		t.Fatalf("POST binding: %+v, %v", r, err)
	}
	if _, err := New(nil, nil).Start(context.Background(), &cfg, sso.StartRequest{FlowKey: "K", Now: time.Now()}); !errors.As(err, &serr) || !strings.Contains(serr.Message, "base URL") {
		t.Fatalf("no base URL: %v", err)
	}
}
