package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
)

// cliPrincipal is who the admin commands act as: Gatehouse itself, on the
// server, audited as actor system "cli".
var cliPrincipal = admin.SystemPrincipal("cli")

// runClient dispatches `gatehouse admin client ...`: the OpenID Provider's
// clients, registered by the operator on the server exactly as by a super
// token under /api/v1/clients.
func runClient(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) >= 1 {
		switch args[0] {
		case "create":
			return runClientCreate(ctx, args[1:], getenv, stdout, stderr)
		case "list":
			return runClientList(ctx, args[1:], getenv, stdout, stderr)
		case "update":
			return runClientUpdate(ctx, args[1:], getenv, stdout, stderr)
		case "rotate-secret":
			return runClientRotateSecret(ctx, args[1:], getenv, stdout, stderr)
		case "delete":
			return runClientDelete(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	fmt.Fprint(stderr, adminUsage)
	return errUsage
}

// uriList is a repeatable flag.
type uriList []string

func (l *uriList) String() string { return strings.Join(*l, " ") }

func (l *uriList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// clientFlags are the flags create and update share.
type clientFlags struct {
	name, backchannel, jwksFile, idTokenAlg string
	redirects, postLogouts                  uriList
}

func (c *clientFlags) define(fs *flag.FlagSet, create bool) {
	nameHelp, redirectHelp, logoutHelp := "the client's name, shown to people signing in (required, at most 100 characters)",
		"a redirect URI, registered exactly (repeat for several; at least one)",
		"a URI RP-initiated logout may send people back to (repeatable)"
	if !create {
		nameHelp, redirectHelp, logoutHelp = "a new name",
			"a redirect URI (repeatable): the ones given replace the registered list",
			"a post-logout redirect URI (repeatable): the ones given replace the registered list"
	}
	fs.StringVar(&c.name, "name", "", nameHelp)
	fs.Var(&c.redirects, "redirect-uri", redirectHelp)
	fs.Var(&c.postLogouts, "post-logout-redirect-uri", logoutHelp)
	fs.StringVar(&c.backchannel, "backchannel-logout-uri", "", "where to send a back-channel logout token when a session ends (empty: none)")
	fs.StringVar(&c.jwksFile, "jwks-file", "", "a file holding a web client's public keys (a JWK Set) for private_key_jwt; a web client without keys gets a secret instead (on update, an empty value removes them)")
	fs.StringVar(&c.idTokenAlg, "id-token-alg", "", "the algorithm of the client's ID tokens: ES256 (the default) or RS256, only for apps whose library cannot verify ES256")
}

// jwks reads the key set file, "" for none.
func (c *clientFlags) jwks() (string, error) {
	if c.jwksFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(c.jwksFile)
	if err != nil {
		return "", fmt.Errorf("--jwks-file: %w", err)
	}
	return string(b), nil
}

// clientService opens the store and builds the admin service on it.
func clientService(ctx context.Context, dbURL string) (*admin.Service, *store.Store, error) {
	st, err := openAdminStore(ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	return admin.New(admin.Config{Store: st}), st, nil
}

func runClientCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin client create", stderr)
	var dbURL, kind string
	var cf clientFlags
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&kind, "kind", "", "web (server-side, confidential), spa (single-page, public) or native (desktop or mobile, public) (required)")
	cf.define(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	jwks, err := cf.jwks()
	if err != nil {
		return err
	}
	svc, st, err := clientService(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	in := admin.ClientInput{Name: cf.name, Kind: gatehouse.ClientKind(kind), RedirectURIs: cf.redirects,
		PostLogoutRedirectURIs: cf.postLogouts, BackchannelLogoutURI: cf.backchannel, JWKS: jwks,
		IDTokenSigningAlg: cf.idTokenAlg}
	c, secret, err := svc.CreateClient(ctx, cliPrincipal, in)
	if err != nil {
		return clientError(err, cf.redirects, cf.postLogouts)
	}
	fmt.Fprintf(stdout, "client_id: %s\n", c.ID)
	if secret != "" {
		fmt.Fprintf(stdout, "client_secret: %s\n", secret)
		fmt.Fprintf(stderr, "%s client %q registered. The client secret is shown only now: Gatehouse keeps only its hash. "+
			"Put it in the app's configuration; if it is lost, run `gatehouse admin client rotate-secret --id %s`.\n", c.Kind, c.Name, c.ID)
	} else {
		fmt.Fprintf(stderr, "%s client %q registered; %s.\n", c.Kind, c.Name, noSecret(c))
	}
	return nil
}

// noSecret says why client c has no secret.
func noSecret(c gatehouse.Client) string {
	if c.Kind.Public() {
		return "it is public: it has no secret and uses PKCE"
	}
	return "it authenticates with private_key_jwt, with the keys registered"
}

func runClientList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin client list", stderr)
	var dbURL string
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, st, err := clientService(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tID TOKEN\tNAME\tREDIRECT URIS")
	page := gatehouse.Page{Limit: store.MaxPageLimit}
	for {
		items, err := svc.Clients(ctx, cliPrincipal, page)
		if err != nil {
			return err
		}
		for _, c := range items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Kind, c.IDTokenSigningAlg, c.Name, strings.Join(c.RedirectURIs, " "))
		}
		if len(items) < page.Limit {
			break
		}
		page.After = items[len(items)-1].ID
	}
	return tw.Flush()
}

func runClientUpdate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin client update", stderr)
	var dbURL, id string
	var cf clientFlags
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&id, "id", "", "the client's ID (required)")
	cf.define(fs, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id = strings.TrimSpace(id); id == "" {
		return errors.New("--id is required")
	}
	var up admin.ClientUpdate
	var err error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			up.Name = &cf.name
		case "redirect-uri":
			up.RedirectURIs = (*[]string)(&cf.redirects)
		case "post-logout-redirect-uri":
			up.PostLogoutRedirectURIs = (*[]string)(&cf.postLogouts)
		case "backchannel-logout-uri":
			up.BackchannelLogoutURI = &cf.backchannel
		case "jwks-file":
			var jwks string
			jwks, err = cf.jwks()
			up.JWKS = &jwks
		case "id-token-alg":
			up.IDTokenSigningAlg = &cf.idTokenAlg
		}
	})
	if err != nil {
		return err
	}
	if up == (admin.ClientUpdate{}) {
		return errors.New("nothing to change: give --name, --redirect-uri, --post-logout-redirect-uri, --backchannel-logout-uri, --jwks-file or --id-token-alg")
	}
	svc, st, err := clientService(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := svc.UpdateClient(ctx, cliPrincipal, id, up)
	if err != nil {
		return clientError(notFound(err, id), cf.redirects, cf.postLogouts)
	}
	fmt.Fprintf(stdout, "client %s (%s, %s) updated.\n", c.ID, c.Name, c.Kind)
	return nil
}

// oneClientCommand parses the flags of a command about one client (--id
// and the database) and opens the service it runs through; the caller
// closes the store.
func oneClientCommand(ctx context.Context, name, idUsage string, args []string, getenv func(string) string, stderr io.Writer) (*admin.Service, *store.Store, string, error) {
	fs := newFlagSet(name, stderr)
	var dbURL, id string
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&id, "id", "", idUsage)
	if err := fs.Parse(args); err != nil {
		return nil, nil, "", err
	}
	if id = strings.TrimSpace(id); id == "" {
		return nil, nil, "", errors.New("--id is required")
	}
	svc, st, err := clientService(ctx, dbURL)
	return svc, st, id, err
}

func runClientRotateSecret(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	svc, st, id, err := oneClientCommand(ctx, "admin client rotate-secret", "the web client's ID (required)", args, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	c, secret, err := svc.RotateClientSecret(ctx, cliPrincipal, id)
	if err != nil {
		return clientError(notFound(err, id), nil, nil)
	}
	fmt.Fprintf(stdout, "client_id: %s\nclient_secret: %s\n", c.ID, secret)
	fmt.Fprintf(stderr, "client %q has a new secret; the previous one no longer works. It is shown only now: Gatehouse keeps only its hash.\n", c.Name)
	return nil
}

func runClientDelete(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	svc, st, id, err := oneClientCommand(ctx, "admin client delete", "the client's ID (required)", args, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := svc.DeleteClient(ctx, cliPrincipal, id); err != nil {
		return notFound(err, id)
	}
	fmt.Fprintf(stdout, "client %s deleted, with its codes and grants.\n", id)
	return nil
}

// notFound says which client is missing.
func notFound(err error, id string) error {
	if errors.Is(err, gatehouse.ErrNotFound) {
		return fmt.Errorf("no client %s", id)
	}
	return err
}

// clientFlagOf names the flag behind an admin field: the field names the
// service uses are the API's.
var clientFlagOf = map[string]string{
	"name":                         "--name",
	"kind":                         "--kind",
	"redirect_uris":                "--redirect-uri",
	"post_logout_redirect_uris":    "--post-logout-redirect-uri",
	"backchannel_logout_uri":       "--backchannel-logout-uri",
	"jwks":                         "--jwks-file",
	"id_token_signed_response_alg": "--id-token-alg",
}

// clientError words the service's refusals in flags: a field error on
// redirect_uris[1] is about the second --redirect-uri, which it quotes.
func clientError(err error, redirects, postLogouts []string) error {
	var (
		v *gatehouse.ValidationError
		c *gatehouse.ConflictError
	)
	switch {
	case errors.As(err, &v):
		lines := make([]string, len(v.Fields))
		for i, f := range v.Fields {
			lines[i] = "  " + flagOf(f.Field, redirects, postLogouts) + ": " + f.Message
		}
		return errors.New("the client is not valid:\n" + strings.Join(lines, "\n"))
	case errors.As(err, &c) && c.Field == "name":
		return errors.New("--name: another client already has this name")
	case errors.As(err, &c):
		return errors.New(c.Message)
	}
	return err
}

func flagOf(field string, redirects, postLogouts []string) string {
	name, index, indexed := strings.Cut(field, "[")
	fl, ok := clientFlagOf[name]
	if !ok {
		return field
	}
	if !indexed {
		return fl
	}
	i, err := strconv.Atoi(strings.TrimSuffix(index, "]"))
	list := redirects
	if name == "post_logout_redirect_uris" {
		list = postLogouts
	}
	if err != nil || i < 0 || i >= len(list) {
		return fl
	}
	return fmt.Sprintf("%s %q", fl, list[i])
}
