package oidcrp

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
)

// MinRSABits is the smallest RSA key in a JWKS that is used.
const MinRSABits = 2048

// maxKeys bounds the keys kept from one JWKS, so a token without a kid never
// costs more than this many signature checks.
const maxKeys = 100

// keySet caches one provider's JWKS. Unlike go-oidc's RemoteKeySet it
// refetches at most once per RefetchInterval, keeps the last good keys while
// the IdP is unreachable (up to MaxStale), and ignores keys it must never
// trust (symmetric, private, short RSA, other uses).
type keySet struct {
	// fetch serialises fetches so concurrent sign-ins share one request.
	fetch sync.Mutex
	mu    sync.RWMutex
	url   string
	keys  []jose.JSONWebKey
	// fetched is the last successful fetch, tried the last attempt; gen
	// counts attempts so a waiting caller sees that another one fetched.
	fetched, tried time.Time
	gen            uint64
	lastErr        *gatehouse.Rejection
}

type keysView struct {
	keys           []jose.JSONWebKey
	fetched, tried time.Time
	gen            uint64
	lastErr        *gatehouse.Rejection
}

// view returns the cached keys for url, forgetting those of another URL (the
// discovery document moved the JWKS).
func (ks *keySet) view(url string) keysView {
	ks.mu.RLock()
	if ks.url == url {
		defer ks.mu.RUnlock()
		return keysView{keys: ks.keys, fetched: ks.fetched, tried: ks.tried, gen: ks.gen, lastErr: ks.lastErr}
	}
	ks.mu.RUnlock()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.url != url {
		ks.url, ks.keys, ks.fetched, ks.tried, ks.lastErr = url, nil, time.Time{}, time.Time{}, nil
		ks.gen++
	}
	return keysView{keys: ks.keys, fetched: ks.fetched, tried: ks.tried, gen: ks.gen, lastErr: ks.lastErr}
}

// refreshKeys fetches the JWKS at url unless another caller attempted it
// since the view numbered gen was taken.
func (p *Provider) refreshKeys(ctx context.Context, url string, gen uint64, now time.Time) {
	ks := &p.keys
	ks.fetch.Lock()
	defer ks.fetch.Unlock()
	ks.mu.RLock()
	done := ks.gen != gen
	ks.mu.RUnlock()
	if done {
		return
	}

	keys, verr := p.fetchKeys(ctx, url)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.url != url {
		return
	}
	ks.gen++
	ks.tried = now
	ks.lastErr = verr
	if verr == nil {
		ks.keys, ks.fetched = keys, now
	}
}

func (p *Provider) fetchKeys(ctx context.Context, url string) ([]jose.JSONWebKey, *gatehouse.Rejection) {
	body, verr := p.fetch(ctx, "JWKS", url)
	if verr != nil {
		return nil, verr
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, reject(ErrDiscovery, gatehouse.FixInIdP, fmt.Sprintf("the IdP's JWKS at %s: %v", url, err)).Wrap(err)
	}
	return keys, nil
}

// parseJWKS keeps the usable public signing keys of a JWK Set. Keys it does
// not understand are skipped, as RFC 7517 section 5 asks, rather than
// failing the whole set.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %v", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if json.Unmarshal(raw, &k) != nil || !k.Valid() || !k.IsPublic() {
			// A published private key is a compromised key: never use it.
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		switch key := k.Key.(type) {
		case *rsa.PublicKey:
			if key.N.BitLen() < MinRSABits {
				continue
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			// Symmetric ("oct") keys above all: an HMAC key from a JWKS is
			// public knowledge.
			continue
		}
		keys = append(keys, k)
		if len(keys) == maxKeys {
			break
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no usable signing key among its %d keys (RSA of %d bits or more, EC P-256/P-384/P-521, Ed25519)", len(set.Keys), MinRSABits)
	}
	return keys, nil
}

// verifySignature checks jws against the IdP's published keys. An unknown
// kid (or, without a kid, no key that verifies) triggers one refetch when the
// last one is at least RefetchInterval old, then is rejected.
func (p *Provider) verifySignature(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, *jose.JSONWebKey, *gatehouse.Rejection) {
	doc, verr := p.discovery(ctx)
	if verr != nil {
		return nil, nil, verr
	}
	now := p.now()
	v := p.keys.view(doc.JWKSURI)
	if len(v.keys) == 0 || (now.Sub(v.fetched) >= KeysTTL && now.Sub(v.tried) >= RefetchInterval) {
		p.refreshKeys(ctx, doc.JWKSURI, v.gen, now)
		v = p.keys.view(doc.JWKSURI)
	}
	if verr := usable(v, doc.JWKSURI, now); verr != nil {
		return nil, nil, verr
	}
	payload, key, verr, unknown := verifyWith(jws, v.keys)
	if !unknown {
		return payload, key, verr
	}
	if now.Sub(v.tried) >= RefetchInterval {
		p.refreshKeys(ctx, doc.JWKSURI, v.gen, now)
		v = p.keys.view(doc.JWKSURI)
		if verr := usable(v, doc.JWKSURI, now); verr != nil {
			return nil, nil, verr
		}
		if payload, key, verr, unknown = verifyWith(jws, v.keys); !unknown {
			return payload, key, verr
		}
	}
	kid := jws.Signatures[0].Header.KeyID
	what := "no published key verifies the signature"
	if kid != "" {
		what = "the token's key " + gatehouse.Quote(kid) + " is not among the IdP's published keys"
	}
	return nil, nil, reject(ErrSignature, gatehouse.FixInIdP, fmt.Sprintf("%s (%s, fetched %s)", what, doc.JWKSURI, v.fetched.UTC().Format(time.RFC3339)))
}

// usable says why the cached keys cannot be used, or nil.
func usable(v keysView, url string, now time.Time) *gatehouse.Rejection {
	switch {
	case len(v.keys) == 0 && v.lastErr != nil:
		return v.lastErr
	case len(v.keys) == 0:
		return reject(ErrDiscovery, gatehouse.FixInIdP, "the IdP's JWKS at "+url+" has not been fetched")
	case now.Sub(v.fetched) > MaxStale:
		e := reject(ErrDiscovery, gatehouse.FixInIdP, fmt.Sprintf("the IdP's JWKS at %s could not be fetched for over %s; its last keys are no longer trusted", url, MaxStale))
		if v.lastErr != nil {
			e.Message += " (" + v.lastErr.Message + ")"
			e.Wrap(v.lastErr)
		}
		return e
	}
	return nil
}

// verifyWith tries the keys that can have made the signature. unknown means
// a fresher key set might verify it: the kid is not there, or there is no
// kid and no key verified.
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) (payload []byte, key *jose.JSONWebKey, verr *gatehouse.Rejection, unknown bool) {
	h := jws.Signatures[0].Header
	alg := jose.SignatureAlgorithm(h.Algorithm)
	var misfit *jose.JSONWebKey
	tried := 0
	for i := range keys {
		k := &keys[i]
		if h.KeyID != "" && k.KeyID != h.KeyID {
			continue
		}
		if !keyFits(k, alg) {
			misfit = k
			continue
		}
		tried++
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, k, nil, false
		}
	}
	switch {
	case h.KeyID == "":
		return nil, nil, nil, true
	case tried > 0:
		return nil, nil, reject(ErrSignature, gatehouse.FixInIdP, fmt.Sprintf("the signature does not verify with the IdP's key %s", gatehouse.Quote(h.KeyID))), false
	case misfit != nil:
		return nil, nil, reject(ErrSignature, gatehouse.FixInIdP, fmt.Sprintf("the IdP's key %s is %s, which cannot make %s signatures", gatehouse.Quote(h.KeyID), describeKey(misfit), alg)), false
	}
	return nil, nil, nil, true
}

// keyFits says whether k can make alg signatures: the key type and curve
// must match, and so must the key's own alg when it states one.
func keyFits(k *jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return false
	}
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return key.Curve == elliptic.P256()
		case jose.ES384:
			return key.Curve == elliptic.P384()
		case jose.ES512:
			return key.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

func describeKey(k *jose.JSONWebKey) string {
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("an RSA key (alg %s)", gatehouse.Quote(k.Algorithm))
	case *ecdsa.PublicKey:
		return fmt.Sprintf("an EC %s key (alg %s)", key.Curve.Params().Name, gatehouse.Quote(k.Algorithm))
	case ed25519.PublicKey:
		return "an Ed25519 key"
	}
	return "a key of another type"
}
