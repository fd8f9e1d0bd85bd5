// Package demoidp is the sample SAML 2.0 identity provider that `gatehouse
// demo` runs beside Gatehouse on another loopback port. It is DEMO ONLY: it
// signs in anyone who clicks a name, or types any email with the demo
// password, so a newcomer can watch a real SP-initiated SAML sign-in (signed
// AuthnRequest round trip, RSA-SHA256 signed Response and Assertion, POST
// binding) without setting up an IdP. Never expose it beyond loopback.
//
// Responses are built and signed by internal/saml/samlidp, the same code
// the tests sign with, so what the demo shows is what the tests prove.
package demoidp

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/saml/samlidp"
)

// EntityID is the demo IdP's entity ID. It does not name the port, so the
// configuration seeded for it survives the IdP moving to another port.
const EntityID = "urn:gatehouse:demo-idp"

// User is a person the demo IdP lists on its sign-in page.
type User struct {
	Email  string
	Name   string
	Groups []string
}

// Config holds what the IdP needs. BaseURL, Key and Cert are required.
type Config struct {
	// BaseURL is where browsers reach the IdP, e.g. http://127.0.0.1:8081.
	BaseURL string
	Key     *rsa.PrivateKey
	Cert    *x509.Certificate
	// Users are listed to click; any other email signs in with Password.
	Users    []User
	Password string
	Logger   *slog.Logger
	Now      func() time.Time
}

// IdP is the demo identity provider.
type IdP struct {
	cfg    Config
	signer *samlidp.IdP
	pages  *template.Template

	mu sync.RWMutex
	// sps maps each registered SP entity ID to its ACS URL: the IdP posts
	// Responses nowhere else, whatever an AuthnRequest asks.
	sps map[string]string
}

//go:embed templates static
var files embed.FS

// New returns the demo IdP for cfg.
func New(cfg Config) *IdP {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	return &IdP{
		cfg:    cfg,
		signer: &samlidp.IdP{EntityID: EntityID, SSOURL: cfg.BaseURL + "/sso", Key: cfg.Key, Cert: cfg.Cert},
		pages:  template.Must(template.ParseFS(files, "templates/*.html")),
		sps:    map[string]string{},
	}
}

// SSOURL is where SPs send AuthnRequests (HTTP-Redirect binding).
func (i *IdP) SSOURL() string { return i.signer.SSOURL }

// CertificatePEM is the IdP's signing certificate, for the SP's settings.
func (i *IdP) CertificatePEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: i.cfg.Cert.Raw}))
}

// AddServiceProvider registers an SP: Responses for entityID go to acsURL.
func (i *IdP) AddServiceProvider(entityID, acsURL string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.sps[entityID] = acsURL
}

func (i *IdP) acs(entityID string) (string, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	acs, ok := i.sps[entityID]
	return acs, ok
}

// csp allows this IdP's own script and styles, and forms to itself plus,
// on the page that posts the Response, the SP's origin.
const csp = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Handler serves the IdP's pages.
func (i *IdP) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", i.home)
	mux.HandleFunc("GET /metadata", i.metadata)
	mux.HandleFunc("GET /sso", i.signInPage)
	mux.HandleFunc("POST /sso", i.signIn)
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		cop.Handler(mux).ServeHTTP(w, r)
	})
}

// page is what the templates show.
type page struct {
	Title   string
	Message string
	Users   []User
	Hint    string
	Request string // the SAMLRequest, carried to the POST
	Relay   string
	Error   string
	ACS     string
	Fields  []field
}

type field struct{ Name, Value string }

func (i *IdP) render(w http.ResponseWriter, status int, name string, p page) {
	var buf bytes.Buffer
	if err := i.pages.ExecuteTemplate(&buf, name, p); err != nil {
		i.cfg.Logger.Error("demo IdP page", "page", name, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (i *IdP) problem(w http.ResponseWriter, status int, msg string) {
	i.render(w, status, "message.html", page{Title: "Demo IdP: cannot sign in", Message: msg})
}

func (i *IdP) home(w http.ResponseWriter, r *http.Request) {
	i.render(w, http.StatusOK, "message.html", page{Title: "Gatehouse demo IdP",
		Message: "This sample identity provider only answers sign-ins that Gatehouse's demo sends here. Open Gatehouse's sign-in page and type bob@acme.example."})
}

func (i *IdP) metadata(w http.ResponseWriter, r *http.Request) {
	doc, err := i.signer.Metadata()
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(doc)
}

// authnRequest is what the IdP reads from an AuthnRequest.
type authnRequest struct {
	ID     string `xml:"ID,attr"`
	ACS    string `xml:"AssertionConsumerServiceURL,attr"`
	Issuer string `xml:"Issuer"`
}

var idRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$`)

// readRequest decodes a Redirect-binding SAMLRequest (base64 of raw
// DEFLATE) and checks it comes from a registered SP.
func (i *IdP) readRequest(encoded string) (authnRequest, string, error) {
	deflated, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(deflated) == 0 {
		return authnRequest{}, "", errors.New("the SAMLRequest is missing or not base64")
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), 64<<10))
	if err != nil {
		return authnRequest{}, "", errors.New("the SAMLRequest is not DEFLATE-compressed")
	}
	var req authnRequest
	if err := xml.Unmarshal(raw, &req); err != nil {
		return authnRequest{}, "", errors.New("the SAMLRequest is not an AuthnRequest")
	}
	req.Issuer = strings.TrimSpace(req.Issuer)
	if !idRe.MatchString(req.ID) {
		return authnRequest{}, "", errors.New("the AuthnRequest has no usable ID")
	}
	acs, ok := i.acs(req.Issuer)
	if !ok {
		return authnRequest{}, "", fmt.Errorf("the service provider %q is not registered with the demo IdP", req.Issuer)
	}
	if req.ACS != "" && req.ACS != acs {
		return authnRequest{}, "", fmt.Errorf("the AuthnRequest asks for ACS %q, but %q is registered", req.ACS, acs)
	}
	return req, acs, nil
}

func (i *IdP) signInPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, _, err := i.readRequest(q.Get("SAMLRequest")); err != nil {
		i.problem(w, http.StatusBadRequest, err.Error())
		return
	}
	i.render(w, http.StatusOK, "signin.html", page{Title: "Sign in to the demo IdP", Users: i.cfg.Users,
		Hint: q.Get("login_hint"), Request: q.Get("SAMLRequest"), Relay: q.Get("RelayState")})
}

// signIn signs the chosen person in and posts a signed Response to the
// SP's ACS through an auto-submitted form.
func (i *IdP) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		i.problem(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	req, acs, err := i.readRequest(r.PostFormValue("SAMLRequest"))
	if err != nil {
		i.problem(w, http.StatusBadRequest, err.Error())
		return
	}
	relay := r.PostFormValue("RelayState")
	user, ok := i.user(r.PostFormValue("pick"))
	if !ok {
		email := strings.TrimSpace(r.PostFormValue("email"))
		addr, err := mail.ParseAddress(email)
		if err != nil || addr.Address != email || r.PostFormValue("password") != i.cfg.Password {
			i.render(w, http.StatusOK, "signin.html", page{Title: "Sign in to the demo IdP", Users: i.cfg.Users, Hint: email,
				Request: r.PostFormValue("SAMLRequest"), Relay: relay, Error: "Wrong email or password. The demo password is " + i.cfg.Password + "."})
			return
		}
		if user, ok = i.user(email); !ok {
			user = User{Email: email, Name: email}
		}
	}
	attrs := map[string][]string{"email": {user.Email}, "displayName": {user.Name}}
	if len(user.Groups) > 0 {
		attrs["groups"] = user.Groups
	}
	resp, err := i.signer.SignedResponse(samlidp.Response{
		Now: i.cfg.Now(), Destination: acs, Audience: req.Issuer, InResponseTo: req.ID, NameID: user.Email, Attributes: attrs,
	}, samlidp.Signing{Response: true, Assertion: true})
	if err != nil {
		i.cfg.Logger.Error("demo IdP: sign response", "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	fields := []field{{"SAMLResponse", resp}}
	if relay != "" {
		fields = append(fields, field{"RelayState", relay})
	}
	if u, err := url.Parse(acs); err == nil {
		w.Header().Set("Content-Security-Policy", csp+" "+u.Scheme+"://"+u.Host)
	}
	i.render(w, http.StatusOK, "post.html", page{Title: "Signing you in to Gatehouse…", ACS: acs, Fields: fields})
}

func (i *IdP) user(email string) (User, bool) {
	for _, u := range i.cfg.Users {
		if email != "" && strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return User{}, false
}

// Key files in the demo's data folder.
const (
	keyFile  = "demo-idp-key.pem"
	certFile = "demo-idp-cert.pem"
)

// LoadOrCreateKey reads the IdP's signing key and certificate from dir,
// creating them at first start, so the configuration seeded with the
// certificate keeps working across restarts.
func LoadOrCreateKey(dir string, now time.Time) (*rsa.PrivateKey, *x509.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, keyFile), filepath.Join(dir, certFile)
	keyPEM, kerr := os.ReadFile(keyPath)
	certPEM, cerr := os.ReadFile(certPath)
	if kerr == nil && cerr == nil {
		return parseKeyPair(keyPEM, certPEM)
	}
	if !errors.Is(kerr, os.ErrNotExist) && kerr != nil {
		return nil, nil, fmt.Errorf("demo IdP key: %w", kerr)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("demo IdP key: %w", err)
	}
	cert, err := samlidp.SelfSigned(key, "Gatehouse demo IdP (DEMO ONLY)", now.Add(-time.Hour), now.Add(10*365*24*time.Hour))
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("demo IdP key: %w", err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, nil, fmt.Errorf("demo IdP key: %w", err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		return nil, nil, fmt.Errorf("demo IdP certificate: %w", err)
	}
	return key, cert, nil
}

func parseKeyPair(keyPEM, certPEM []byte) (*rsa.PrivateKey, *x509.Certificate, error) {
	kb, _ := pem.Decode(keyPEM)
	cb, _ := pem.Decode(certPEM)
	if kb == nil || cb == nil {
		return nil, nil, errors.New("demo IdP key or certificate file is not PEM; delete both to make new ones")
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("demo IdP key: %w", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("demo IdP key is not RSA")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("demo IdP certificate: %w", err)
	}
	return key, cert, nil
}
