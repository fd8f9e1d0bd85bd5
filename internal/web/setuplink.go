package web

import (
	"net/http"
	"time"

	"gatehouse/internal/admin"
)

// setupLinkCookie carries a setup link's secret in the browser that
// followed the link, scoped to the link's own pages (admin.SetupLinkPath):
// the secret leaves the address bar at the first answer, and no other page
// of Gatehouse, nor any other link's, receives it. It is HttpOnly and
// SameSite=Lax (a Test comes back from the IdP with a top-level GET), and
// Secure on https, like every cookie of the Site.
const setupLinkCookie = "gatehouse_setup"

// SetSetupLink gives the browser link linkID's secret, until the link
// expires.
func (s *Site) SetSetupLink(w http.ResponseWriter, linkID, secret string, until, now time.Time) {
	s.SetCookie(w, setupLinkCookie, secret, admin.SetupLinkPath(linkID), max(int(until.Sub(now).Seconds()), 1))
}

// SetupLinkSecret is the setup link secret the browser sent, or "".
func SetupLinkSecret(r *http.Request) string { return CookieValue(r, setupLinkCookie) }

// SetupLinkHolder returns the holder of the setup link the path's
// {link_id} names, by the secret the browser keeps for it: an active link,
// or a used-up one (see admin.OpenSetupLink for the errors). Every page of
// a setup link answers with Referrer-Policy no-referrer: nothing of the
// link leaks to the IdP's pages the holder goes on to.
func (s *Site) SetupLinkHolder(w http.ResponseWriter, r *http.Request, svc *admin.Service) (admin.SetupLinkHolder, error) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	c := Client(r)
	return svc.OpenSetupLink(r.Context(), r.PathValue("link_id"), SetupLinkSecret(r), c.Address, c.UserAgent)
}
