package webtest

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"gatehouse"
)

var configPathRe = regexp.MustCompile(`^/admin/accounts/([^/]+)/sso/([^/]+)/setup$`)

// CreateConfig runs the wizard's first step and returns the new
// configuration.
func (b *Browser) CreateConfig(accountID, preset string) gatehouse.SSOConfig {
	b.t.Helper()
	p := b.Post("/admin/accounts/"+accountID+"/sso", url.Values{"preset": {preset}})
	m := configPathRe.FindStringSubmatch(p.Path)
	if p.Status != http.StatusOK || m == nil || m[1] != accountID {
		b.t.Fatalf("create %s: %d at %s:\n%s", preset, p.Status, p.Path, p.Body)
	}
	c, err := b.e.Store.SSOConfig(context.Background(), m[2])
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// Version is the updated_at a form of configuration id carries.
func (e *Env) Version(id string) string {
	e.T.Helper()
	c, err := e.Store.SSOConfig(context.Background(), id)
	if err != nil {
		e.T.Fatal(err)
	}
	return c.UpdatedAt.Format(time.RFC3339Nano)
}
