package demo

import (
	"context"
	"errors"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
)

// SampleApp is a sample app registered with Gatehouse's OpenID Provider
// for the demo: its client, and the secret it authenticates with (empty
// for a public client).
type SampleApp struct {
	Client gatehouse.Client
	Secret string
}

// Names of the demo's sample apps' clients.
const (
	SamplePortal = "Sample portal (DEMO ONLY)"
	SampleUC     = "Sample UC app (DEMO ONLY)"
)

// SeedApps registers the demo's two sample apps as clients, served at
// portalURL and ucURL: the portal a confidential web client, whose secret
// is new at every start (only the running demo knows it), the UC app a
// public one. Started again on other ports, their addresses follow.
func SeedApps(ctx context.Context, st *store.Store, portalURL, ucURL string) (portal, uc SampleApp, err error) {
	if portal, err = seedApp(ctx, st, SamplePortal, gatehouse.ClientWeb, portalURL); err != nil {
		return
	}
	uc, err = seedApp(ctx, st, SampleUC, gatehouse.ClientSPA, ucURL)
	return
}

func seedApp(ctx context.Context, st *store.Store, name string, kind gatehouse.ClientKind, base string) (SampleApp, error) {
	app := SampleApp{}
	if kind == gatehouse.ClientWeb {
		app.Secret = oidcop.NewClientSecret()
	}
	want := gatehouse.Client{Name: name, Kind: kind, RedirectURIs: []string{base + "/callback"},
		PostLogoutRedirectURIs: []string{base + "/"}, SecretHash: ""}
	if app.Secret != "" {
		want.SecretHash = oidcop.HashSecret(app.Secret)
	}
	for page := (gatehouse.Page{Limit: store.MaxPageLimit}); ; {
		cs, err := st.ListClients(ctx, page)
		if err != nil {
			return app, err
		}
		for _, c := range cs {
			if c.Name == name {
				want.ID = c.ID
				if err := st.UpdateClient(ctx, &want); err != nil {
					return app, err
				}
				app.Client = want
				return app, nil
			}
		}
		if len(cs) < page.Limit {
			break
		}
		page.After = cs[len(cs)-1].ID
	}
	err := st.CreateClient(ctx, &want)
	if errors.Is(err, gatehouse.ErrConflict) {
		return app, errors.New("demo: another client is named " + name)
	}
	app.Client = want
	return app, err
}
