package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/web"
)

// An account's email domains and just-in-time seats in the console
// (issue 15): the Authentication page claims a domain, shows the TXT
// record to publish and verifies it; a configuration's Health step turns
// just-in-time seats on.

// domainSection is the Authentication page's Verified domains section.
type domainSection struct {
	Domains []admin.DomainView
	Path    string
}

func (s *server) domainSection(ctx context.Context, c adminCaller, a gatehouse.Account) (domainSection, error) {
	ds, err := s.admin.Domains(ctx, c.P, a.ID)
	return domainSection{Domains: ds, Path: accountPath(a.ID) + "/domains"}, err
}

// domainNotices follow a domain action, by the done parameter; %s is the
// domain, read back from the account's claims.
var domainNotices = map[string]string{
	"claimed":  "Publish the TXT record below in %s's DNS, then select Verify.",
	"verified": "%s is verified: unknown emails at it now go to this account's SSO.",
	"removed":  "%s is no longer claimed by this account.",
}

func (s *server) domainClaim(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	d, err := s.admin.ClaimDomain(r.Context(), c.P, a.ID, admin.DomainInput{Domain: r.PostFormValue("domain")})
	if errors.Is(err, gatehouse.ErrInvalid) {
		fields, _ := fieldErrors(err)
		s.domainRefused(w, a, "The domain was not added: "+fields["domain"]+".")
		return
	}
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	s.domainDone(w, r, a, "claimed", d.Domain)
}

func (s *server) domainVerify(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	d, err := s.admin.VerifyDomain(r.Context(), c.P, a.ID, r.PathValue("domain"))
	switch {
	case errors.Is(err, gatehouse.ErrInvalid):
		fields, _ := fieldErrors(err)
		s.domainRefused(w, a, r.PathValue("domain")+" is "+fields["domain"]+".")
		return
	case errors.Is(err, gatehouse.ErrConflict):
		s.domainRefused(w, a, r.PathValue("domain")+" is verified for another account already: a domain belongs to one account.")
		return
	case err != nil:
		s.adminError(w, r, err)
		return
	}
	s.domainDone(w, r, a, "verified", d.Domain)
}

func (s *server) domainRemove(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	domain := r.PathValue("domain")
	if err := s.admin.DeleteDomain(r.Context(), c.P, a.ID, domain); err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, accountPath(a.ID)+"/authentication?"+url.Values{"done": {"domain-removed"}}.Encode()+"#domains-heading", http.StatusSeeOther)
}

func (s *server) domainDone(w http.ResponseWriter, r *http.Request, a gatehouse.Account, done, domain string) {
	http.Redirect(w, r, accountPath(a.ID)+"/authentication?"+url.Values{"done": {"domain-" + done}, "domain": {domain}}.Encode()+"#domains-heading", http.StatusSeeOther)
}

func (s *server) domainRefused(w http.ResponseWriter, a gatehouse.Account, msg string) {
	s.site.ErrorPage(w, http.StatusUnprocessableEntity, web.View{Title: "Domain not verified", Message: msg,
		Back: accountPath(a.ID) + "/authentication#domains-heading", BackText: "Back to Authentication"})
}

// domainNotice is the notice the query asks for, naming a domain of ds.
func domainNotice(r *http.Request, ds []admin.DomainView) string {
	q := r.URL.Query()
	done := q.Get("done")
	if done == "domain-removed" {
		return "The domain was removed from this account."
	}
	format, ok := domainNotices[strings.TrimPrefix(done, "domain-")]
	if !ok {
		return ""
	}
	for _, d := range ds {
		if d.Domain == q.Get("domain") {
			return fmt.Sprintf(format, d.Domain)
		}
	}
	return ""
}

// ssoJIT turns just-in-time seats on or off for a configuration.
func (s *server) ssoJIT(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, st, ok := s.ssoStepFor(w, r, "health")
	if !ok {
		return
	}
	on := r.PostFormValue("enabled") == "on"
	attr := r.PostFormValue("groups_attribute")
	_, err := s.admin.UpdateSSOConfig(r.Context(), c.P, st.Owner.Policy, st.Config.ID,
		admin.UpdateSSOConfigInput{UpdatedAt: &st.Live.UpdatedAt, JIT: &admin.JITInput{Enabled: &on, GroupsAttribute: &attr}})
	switch {
	case errors.Is(err, gatehouse.ErrInvalid):
		fields, _ := fieldErrors(err)
		s.renderHealth(w, r, http.StatusUnprocessableEntity, "Nothing was saved: the groups attribute "+fields["jit.groups_attribute"]+".")
		return
	case err != nil:
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, st.Path+"/health?done=jit", http.StatusSeeOther)
}
