package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// The tool serves a baseline by running itself again with these variables
// set (main and TestMain check them first), so the baseline's CPU and
// memory are read from /proc exactly as the server's are.
const (
	baselineEnv       = "GATEHOUSE_LOAD_SERVE_BASELINE" // "library" or "floor"
	baselineConfigEnv = "GATEHOUSE_LOAD_BASELINE_CONFIG"
)

// Baseline kinds and how the table names them.
const (
	baselineLibrary = "library"
	baselineFloor   = "floor"
)

var baselineNames = map[string]string{
	baselineLibrary: "gosaml2's `ValidateEncodedResponse` alone behind `net/http`",
	baselineFloor:   "floor: two RSA-2048 verifies + SHA-256 behind `net/http`",
}

var baselineBannerRe = regexp.MustCompile(`(?m)^baseline listening on (\S+)$`)

// baselineConfig is what the library baseline checks responses against.
type baselineConfig struct {
	Issuer   string `json:"issuer"`
	ACS      string `json:"acs"`
	Audience string `json:"audience"`
	CertPEM  string `json:"cert_pem"`
}

// baselinePool is how many distinct responses a baseline cycles through:
// neither baseline remembers messages, so they may repeat.
const baselinePool = 128

// startBaselines starts both baseline servers, each with its own
// pre-signed responses of the same shape, size and signing as
// Gatehouse's, and returns them as targets.
func startBaselines(ctx context.Context, dir string, users []string, tr *http.Transport) ([]*target, func(), error) {
	idp, err := newSAMLIdP()
	if err != nil {
		return nil, nil, err
	}
	idp.acs, idp.audience = "http://127.0.0.1/sso/saml/baseline/acs", "http://127.0.0.1/sso/saml/baseline/metadata"
	cfg := baselineConfig{Issuer: idp.idp.EntityID, ACS: idp.acs, Audience: idp.audience, CertPEM: idp.certPEM()}
	file := filepath.Join(dir, "baseline.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return nil, nil, err
	}
	pool, err := idp.presign(ctx, users, 0, baselinePool, 3*time.Hour)
	if err != nil {
		return nil, nil, err
	}
	var procs []*serverProc
	stop := func() {
		for _, p := range procs {
			p.kill()
		}
	}
	var targets []*target
	for _, kind := range []string{baselineLibrary, baselineFloor} {
		p, err := startBaseline(ctx, kind, file)
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("baseline %s: %w", kind, err)
		}
		procs = append(procs, p)
		targets = append(targets, baselineTarget(kind, p, pool, tr))
	}
	return targets, stop, nil
}

func startBaseline(ctx context.Context, kind, configFile string) (*serverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), baselineEnv+"="+kind, baselineConfigEnv+"="+configFile)
	p, m, err := startProcess(ctx, cmd, baselineBannerRe)
	if err != nil {
		return nil, err
	}
	p.addr = "http://" + m[1]
	return p, nil
}

// baselineTarget posts the pool's responses in turn, as the ACS form.
func baselineTarget(kind string, p *serverProc, pool []string, tr *http.Transport) *target {
	var next atomic.Uint64
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	return &target{what: baselineNames[kind], pids: []int{p.cmd.Process.Pid}, signIn: func(ctx context.Context, _ int) error {
		body := pool[next.Add(1)%uint64(len(pool))]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.addr+"/acs", strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return &stepError{kind, resp.StatusCode, excerpt(b)}
		}
		return nil
	}}
}

// serveBaseline is the child: it serves one baseline on a free loopback
// port until it is stopped, and returns the exit code.
func serveBaseline(kind string) int {
	h, err := baselineHandler(kind, os.Getenv(baselineConfigEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		return 1
	}
	fmt.Printf("baseline listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		return 1
	}
	return 0
}

func baselineHandler(kind, configFile string) (http.Handler, error) {
	switch kind {
	case baselineLibrary:
		return libraryHandler(configFile)
	case baselineFloor:
		return floorHandler()
	}
	return nil, fmt.Errorf("unknown baseline %q", kind)
}

// libraryHandler validates each posted SAMLResponse with gosaml2 alone:
// what Gatehouse's sign-in is built on, without its own checks, flow,
// replay check, session or audit.
func libraryHandler(configFile string) (http.Handler, error) {
	b, err := os.ReadFile(configFile)
	if err != nil {
		return nil, err
	}
	var c baselineConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	blk, _ := pem.Decode([]byte(c.CertPEM))
	if blk == nil {
		return nil, errors.New("no certificate in the configuration")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, err
	}
	sp := &saml2.SAMLServiceProvider{
		IdentityProviderIssuer:      c.Issuer,
		AssertionConsumerServiceURL: c.ACS,
		AudienceURI:                 c.Audience,
		IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := sp.ValidateEncodedResponse(r.PostForm.Get("SAMLResponse")); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		io.WriteString(w, "ok")
	}), nil
}

// floorHandler does per request what no SAML validation can avoid: a
// SHA-256 over the body and two RSA-2048 PKCS#1 v1.5 verifications (the
// Response's and the Assertion's signatures). The signatures are made
// once at start: verifying costs the same whatever was signed.
func floorHandler() (http.Handler, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	var digests [2][32]byte
	var sigs [2][]byte
	for i := range digests {
		digests[i] = sha256.Sum256([]byte{byte(i)})
		if sigs[i], err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digests[i][:]); err != nil {
			return nil, err
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		for i := range sigs {
			if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digests[i][:], sigs[i]); err != nil {
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
		}
		fmt.Fprintf(w, "ok %x", sum[:4])
	}), nil
}
