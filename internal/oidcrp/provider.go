package oidcrp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"gatehouse"
)

// Provider is one SSO configuration's view of its IdP: the checked settings
// and a cache of the IdP's discovery document and signing keys. It is safe
// for concurrent use; build one per configuration (and rebuild it when the
// configuration changes) so no two configurations ever share keys or
// issuers.
type Provider struct {
	cfg    config
	client *http.Client
	now    func() time.Time

	// fetchDoc serialises discovery fetches, so concurrent sign-ins wait for
	// one request instead of sending their own.
	fetchDoc sync.Mutex
	mu       sync.RWMutex
	doc      *Discovery
	// docTried is when discovery was last attempted, successful or not.
	docTried time.Time

	keys keySet
}

// NewProvider checks s and returns a Provider that fetches with client (nil
// means a client with HTTPTimeout) and reads the time from now (nil means
// time.Now). Nothing is fetched until the Provider is first used. An error is
// a *gatehouse.Rejection (ErrConfiguration).
func NewProvider(s Settings, client *http.Client, now func() time.Time) (*Provider, error) {
	cfg, verr := s.compile()
	if verr != nil {
		return nil, verr
	}
	if client == nil {
		client = &http.Client{Timeout: HTTPTimeout}
	}
	if now == nil {
		now = time.Now
	}
	return &Provider{cfg: cfg, client: guardRedirects(client), now: now}, nil
}

// maxRedirects bounds the redirects followed on the way to a document.
const maxRedirects = 5

// guardRedirects returns a copy of client that follows redirects only to
// URLs an endpoint could have (https, or http on loopback), so a redirect
// cannot downgrade a key fetch to plain http.
func guardRedirects(client *http.Client) *http.Client {
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if err := checkEndpointURL("a redirect to", req.URL.String(), false); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// Issuer is the issuer the provider expects discovery to publish: the
// configured one, or for Entra ID multi-tenant the {tenantid} template.
func (p *Provider) Issuer() string { return p.cfg.issuer }

// Discovery is what Gatehouse uses of an IdP's discovery document.
type Discovery struct {
	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	JWKSURI               string
	UserinfoEndpoint      string
	// SigningAlgs is the IdP's id_token_signing_alg_values_supported, shown
	// to administrators; Settings.AllowedAlgs decides what is accepted.
	SigningAlgs []string
	// TokenAuthMethods is token_endpoint_auth_methods_supported.
	TokenAuthMethods []string
	// ResponseIssuer is authorization_response_iss_parameter_supported (RFC
	// 9207): the IdP names itself in every authorization response.
	ResponseIssuer bool
	FetchedAt      time.Time
}

// discoveryJSON is go-oidc's view of the document plus the fields Gatehouse
// needs beyond it.
type discoveryJSON struct {
	gooidc.ProviderConfig
	TokenAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	ResponseIssuer   bool     `json:"authorization_response_iss_parameter_supported"`
}

// Discover returns the IdP's discovery document, from the cache when it is
// younger than DiscoveryTTL. When a refresh fails the last good document is
// returned; only when there has never been one is the failure an error, a
// *gatehouse.Rejection (ErrDiscovery).
func (p *Provider) Discover(ctx context.Context) (Discovery, error) {
	doc, verr := p.discovery(ctx)
	if verr != nil {
		return Discovery{}, verr
	}
	out := *doc
	out.SigningAlgs = slices.Clone(doc.SigningAlgs)
	out.TokenAuthMethods = slices.Clone(doc.TokenAuthMethods)
	return out, nil
}

func (p *Provider) discovery(ctx context.Context) (*Discovery, *gatehouse.Rejection) {
	now := p.now()
	p.mu.RLock()
	doc, tried := p.doc, p.docTried
	p.mu.RUnlock()
	if doc != nil && (now.Sub(doc.FetchedAt) < DiscoveryTTL || now.Sub(tried) < RefetchInterval) {
		return doc, nil
	}

	p.fetchDoc.Lock()
	defer p.fetchDoc.Unlock()
	p.mu.RLock()
	if p.docTried != tried { // another caller fetched while this one waited
		doc = p.doc
		p.mu.RUnlock()
		if doc != nil {
			return doc, nil
		}
		// Fall through: with nothing cached every caller may try once.
	} else {
		p.mu.RUnlock()
	}

	fresh, verr := p.fetchDiscovery(ctx, now)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.docTried = now
	if verr != nil {
		if p.doc != nil {
			return p.doc, nil
		}
		return nil, verr
	}
	p.doc = fresh
	return fresh, nil
}

func (p *Provider) fetchDiscovery(ctx context.Context, now time.Time) (*Discovery, *gatehouse.Rejection) {
	where := p.cfg.discoveryURL
	body, verr := p.fetch(ctx, "discovery document", where)
	if verr != nil {
		return nil, verr
	}
	var raw discoveryJSON
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, reject(ErrDiscovery, gatehouse.FixInIdP, fmt.Sprintf("the IdP's discovery document at %s is not a JSON object: %v", where, err)).Wrap(err)
	}
	if raw.IssuerURL != p.cfg.issuer {
		// The mix-up defence: a document naming another issuer describes
		// another IdP, whatever URL it was found at.
		e := mismatch(ErrDiscovery, gatehouse.FixInGatehouse, "the issuer in the discovery document at "+where, raw.IssuerURL, p.cfg.issuer)
		e.Message += ": set the configuration's issuer to the value the IdP publishes"
		return nil, e
	}
	for _, ep := range []struct{ name, value string }{
		{"authorization_endpoint", raw.AuthURL},
		{"token_endpoint", raw.TokenURL},
		{"jwks_uri", raw.JWKSURL},
	} {
		if ep.value == "" {
			return nil, reject(ErrDiscovery, gatehouse.FixInIdP, fmt.Sprintf("the IdP's discovery document at %s has no %s", where, ep.name))
		}
		if err := checkEndpointURL("its "+ep.name, ep.value, false); err != nil {
			return nil, reject(ErrDiscovery, gatehouse.FixInIdP, fmt.Sprintf("the IdP's discovery document at %s: %v", where, err))
		}
	}
	return &Discovery{
		Issuer:                raw.IssuerURL,
		AuthorizationEndpoint: raw.AuthURL,
		TokenEndpoint:         raw.TokenURL,
		JWKSURI:               raw.JWKSURL,
		UserinfoEndpoint:      raw.UserInfoURL,
		SigningAlgs:           raw.Algorithms,
		TokenAuthMethods:      raw.TokenAuthMethods,
		ResponseIssuer:        raw.ResponseIssuer,
		FetchedAt:             now,
	}, nil
}

// fetch GETs a JSON document from the IdP within HTTPTimeout and
// MaxDocumentBytes.
func (p *Provider) fetch(ctx context.Context, what, where string) ([]byte, *gatehouse.Rejection) {
	ctx, cancel := context.WithTimeout(ctx, HTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return nil, reject(ErrDiscovery, gatehouse.FixInGatehouse, fmt.Sprintf("the IdP's %s URL %s is not usable: %v", what, where, err)).Wrap(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		cause := err
		var uerr *url.Error
		if errors.As(err, &uerr) {
			cause = uerr.Err // the URL is in the message already
		}
		return nil, reject(ErrDiscovery, gatehouse.FixInIdP, fmt.Sprintf("could not reach the IdP's %s at %s: %v", what, where, cause)).Wrap(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fix, hint := gatehouse.FixInIdP, ""
		if resp.StatusCode == http.StatusNotFound && what == "discovery document" {
			fix, hint = gatehouse.FixInGatehouse, ": check the issuer URL"
		}
		return nil, reject(ErrDiscovery, fix, fmt.Sprintf("could not reach the IdP's %s at %s: it answered %s%s", what, where, resp.Status, hint))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentBytes+1))
	if err != nil {
		return nil, reject(ErrDiscovery, gatehouse.FixInIdP, fmt.Sprintf("could not read the IdP's %s at %s: %v", what, where, err)).Wrap(err)
	}
	if len(body) > MaxDocumentBytes {
		return nil, reject(ErrDiscovery, gatehouse.FixInIdP, fmt.Sprintf("the IdP's %s at %s is over %d bytes", what, where, MaxDocumentBytes))
	}
	return body, nil
}
