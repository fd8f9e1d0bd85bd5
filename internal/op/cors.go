package op

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"gatehouse"
)

// originsRefresh is how often a process reloads the origins single-page
// apps may call the provider from.
const originsRefresh = time.Minute

// maxClientsScanned bounds the clients read for their origins.
const maxClientsScanned = 1000

// cors lets a single-page app registered with Gatehouse read the answers
// of the endpoints it calls from the browser (token, revocation,
// userinfo): an Origin that is the origin of one of such an app's
// redirect URIs gets Access-Control-Allow-Origin, without credentials (the
// endpoints take no cookie); any other gets no CORS answer, and the
// browser keeps the response from the page.
func (p *Provider) cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Add("Vary", "Origin")
			if p.originAllowed(r.Context(), origin) {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate")
			}
		}
		next(w, r)
	}
}

// preflight answers a browser's CORS preflight for an endpoint a
// single-page app calls with an Authorization header or a form.
func (p *Provider) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin != "" && p.originAllowed(r.Context(), origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// originAllowed reports whether origin is one a single-page app was
// registered from. A database failure allows nothing.
func (p *Provider) originAllowed(ctx context.Context, origin string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	if p.origins == nil || now.Sub(p.originsAt) >= originsRefresh {
		origins, err := p.spaOrigins(ctx)
		if err != nil {
			p.cfg.Logger.Warn("op: single-page app origins not loaded", "err", err)
			return false
		}
		p.origins, p.originsAt = origins, now
	}
	return slices.Contains(p.origins, origin)
}

// spaOrigins lists the origins of every single-page app's redirect URIs.
func (p *Provider) spaOrigins(ctx context.Context) ([]string, error) {
	origins := []string{}
	page := gatehouse.Page{Limit: 200}
	for scanned := 0; scanned < maxClientsScanned; {
		cs, err := p.cfg.Store.ListClients(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.Kind != gatehouse.ClientSPA {
				continue
			}
			for _, uri := range c.RedirectURIs {
				if o := originOf(uri); o != "" && !slices.Contains(origins, o) {
					origins = append(origins, o)
				}
			}
		}
		scanned += len(cs)
		if len(cs) < page.Limit {
			break
		}
		page.After = cs[len(cs)-1].ID
	}
	return origins, nil
}

// originOf is the scheme://host[:port] of an absolute URL, or "".
func originOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
