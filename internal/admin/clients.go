package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/oidcop"
)

// maxClientName bounds a client's name, in characters: it is shown to the
// people the client signs in.
const maxClientName = 100

// ClientInput is a new OpenID Provider client (DESIGN rule 13). JWKS is a
// web client's public keys for private_key_jwt, a JSON Web Key Set; a web
// client without one gets a client secret.
type ClientInput struct {
	Name                   string               `json:"name"`
	Kind                   gatehouse.ClientKind `json:"kind"`
	RedirectURIs           []string             `json:"redirect_uris"`
	PostLogoutRedirectURIs []string             `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string               `json:"backchannel_logout_uri"`
	JWKS                   string               `json:"jwks"`
	// IDTokenSigningAlg is ES256 (when empty) or RS256.
	IDTokenSigningAlg string `json:"id_token_signed_response_alg"`
}

// ClientUpdate changes a client; nil fields stay as they are. A client's
// kind never changes: Kind, when given, must be the one it has (so that a
// client read back can be sent as it is).
type ClientUpdate struct {
	Name                   *string               `json:"name"`
	Kind                   *gatehouse.ClientKind `json:"kind"`
	RedirectURIs           *[]string             `json:"redirect_uris"`
	PostLogoutRedirectURIs *[]string             `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   *string               `json:"backchannel_logout_uri"`
	JWKS                   *string               `json:"jwks"`
	IDTokenSigningAlg      *string               `json:"id_token_signed_response_alg"`
}

// MayManageClients refuses p, unless it is super, every operation on the
// OpenID Provider's clients: they are the provider's apps, which no
// reseller or customer registers, reads or changes. Callers may ask before
// reading a request.
func MayManageClients(p Principal) error {
	if !p.IsAdmin() {
		return ErrForbidden
	}
	return superOnly(p, "manage OpenID Provider clients")
}

// Clients lists one page of the clients, in creation order.
func (s *Service) Clients(ctx context.Context, p Principal, page gatehouse.Page) ([]gatehouse.Client, error) {
	if err := MayManageClients(p); err != nil {
		return nil, err
	}
	return s.store.ListClients(ctx, page)
}

// Client loads client id.
func (s *Service) Client(ctx context.Context, p Principal, id string) (gatehouse.Client, error) {
	if err := MayManageClients(p); err != nil {
		return gatehouse.Client{}, err
	}
	return s.store.Client(ctx, id)
}

// CreateClient registers a client. A web client registered without JWKS
// gets a client secret, returned here once and stored only as
// oidcop.HashSecret of it; other clients get none ("").
func (s *Service) CreateClient(ctx context.Context, p Principal, in ClientInput) (gatehouse.Client, string, error) {
	if err := MayManageClients(p); err != nil {
		return gatehouse.Client{}, "", err
	}
	v := &gatehouse.ValidationError{}
	c := gatehouse.Client{
		Name:                   cleanClientName(v, in.Name),
		Kind:                   gatehouse.ClientKind(strings.TrimSpace(string(in.Kind))),
		RedirectURIs:           cleanURIs(in.RedirectURIs),
		PostLogoutRedirectURIs: cleanURIs(in.PostLogoutRedirectURIs),
		BackchannelLogoutURI:   strings.TrimSpace(in.BackchannelLogoutURI),
		JWKS:                   strings.TrimSpace(in.JWKS),
		IDTokenSigningAlg:      cleanIDTokenAlg(v, in.IDTokenSigningAlg),
	}
	if !c.Kind.Valid() {
		v.Add("kind", fmt.Sprintf("must be %q, %q or %q", gatehouse.ClientWeb, gatehouse.ClientSPA, gatehouse.ClientNative))
	} else {
		checkClient(v, c)
	}
	if err := v.Err(); err != nil {
		return gatehouse.Client{}, "", err
	}
	var secret string
	if c.Kind == gatehouse.ClientWeb && c.JWKS == "" {
		secret = oidcop.NewClientSecret()
		c.SecretHash = oidcop.HashSecret(secret)
	}
	if err := s.store.CreateClient(ctx, &c); err != nil {
		return gatehouse.Client{}, "", err
	}
	s.Record(ctx, p, clientEvent(gatehouse.ActionClientCreate, c, nil))
	return c, secret, nil
}

// UpdateClient changes client id as in says.
func (s *Service) UpdateClient(ctx context.Context, p Principal, id string, in ClientUpdate) (gatehouse.Client, error) {
	c, err := s.Client(ctx, p, id)
	if err != nil {
		return gatehouse.Client{}, err
	}
	v := &gatehouse.ValidationError{}
	next := c
	if in.Name != nil {
		next.Name = cleanClientName(v, *in.Name)
	}
	if in.Kind != nil && gatehouse.ClientKind(strings.TrimSpace(string(*in.Kind))) != c.Kind {
		v.Add("kind", fmt.Sprintf("cannot change: this client is %q; register a new client of the kind you need", c.Kind))
	}
	if in.RedirectURIs != nil {
		next.RedirectURIs = cleanURIs(*in.RedirectURIs)
	}
	if in.PostLogoutRedirectURIs != nil {
		next.PostLogoutRedirectURIs = cleanURIs(*in.PostLogoutRedirectURIs)
	}
	if in.BackchannelLogoutURI != nil {
		next.BackchannelLogoutURI = strings.TrimSpace(*in.BackchannelLogoutURI)
	}
	if in.JWKS != nil {
		next.JWKS = strings.TrimSpace(*in.JWKS)
	}
	if in.IDTokenSigningAlg != nil {
		next.IDTokenSigningAlg = cleanIDTokenAlg(v, *in.IDTokenSigningAlg)
	}
	checkClient(v, next)
	if c.JWKS != "" && next.JWKS == "" && next.SecretHash == "" {
		v.Add("jwks", "cannot be removed from a client without a client secret: it would have no way to authenticate; rotate its secret first")
	}
	if err := v.Err(); err != nil {
		return gatehouse.Client{}, err
	}
	var ch changes
	ch.note("name", next.Name != c.Name)
	ch.note("redirect_uris", !slices.Equal(next.RedirectURIs, c.RedirectURIs))
	ch.note("post_logout_redirect_uris", !slices.Equal(next.PostLogoutRedirectURIs, c.PostLogoutRedirectURIs))
	ch.note("backchannel_logout_uri", next.BackchannelLogoutURI != c.BackchannelLogoutURI)
	ch.note("jwks", next.JWKS != c.JWKS)
	ch.note("id_token_signed_response_alg", next.IDTokenSigningAlg != c.IDTokenSigningAlg)
	if ch.none() {
		return next, nil
	}
	if err := s.store.UpdateClient(ctx, &next); err != nil {
		return gatehouse.Client{}, err
	}
	s.Record(ctx, p, clientEvent(gatehouse.ActionClientUpdate, next, ch.details()))
	return next, nil
}

// RotateClientSecret gives web client id a new client secret, returned
// here once; the one it had stops working at once. A web client
// authenticating with private_key_jwt gets a secret too (and may then use
// either). A public client never has a secret: asking for one is a
// *gatehouse.ConflictError on "kind".
func (s *Service) RotateClientSecret(ctx context.Context, p Principal, id string) (gatehouse.Client, string, error) {
	c, err := s.Client(ctx, p, id)
	if err != nil {
		return gatehouse.Client{}, "", err
	}
	if c.Kind.Public() {
		return gatehouse.Client{}, "", &gatehouse.ConflictError{Field: "kind",
			Message: fmt.Sprintf("a %s client is public and has no client secret", c.Kind)}
	}
	secret := oidcop.NewClientSecret()
	c.SecretHash = oidcop.HashSecret(secret)
	if err := s.store.UpdateClient(ctx, &c); err != nil {
		return gatehouse.Client{}, "", err
	}
	s.Record(ctx, p, clientEvent(gatehouse.ActionClientSecretRotate, c, nil))
	return c, secret, nil
}

// DeleteClient deletes client id, and with it its codes and grants.
func (s *Service) DeleteClient(ctx context.Context, p Principal, id string) error {
	c, err := s.Client(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteClient(ctx, c.ID); err != nil {
		return err
	}
	s.Record(ctx, p, clientEvent(gatehouse.ActionClientDelete, c, nil))
	return nil
}

// cleanClientName is cleanName for a client, at most maxClientName
// characters.
func cleanClientName(v *gatehouse.ValidationError, s string) string {
	before := len(v.Fields)
	s = cleanName(v, "name", s, false)
	if len(v.Fields) == before && utf8.RuneCountInString(s) > maxClientName {
		v.Add("name", fmt.Sprintf("must be at most %d characters", maxClientName))
	}
	return s
}

// cleanIDTokenAlg is a client's ID token signing algorithm: ES256 when
// empty, else ES256 or RS256 exactly (JOSE algorithm names are
// case-sensitive).
func cleanIDTokenAlg(v *gatehouse.ValidationError, alg string) string {
	switch a := strings.TrimSpace(alg); a {
	case "":
		return oidcop.AlgES256
	case oidcop.AlgES256, oidcop.AlgRS256:
		return a
	}
	v.Add("id_token_signed_response_alg", fmt.Sprintf("must be %q (the default) or %q (only for apps whose library cannot verify ES256)",
		oidcop.AlgES256, oidcop.AlgRS256))
	return alg
}

// cleanURIs trims the space around each URI (a URI has none in it).
func cleanURIs(uris []string) []string {
	if uris == nil {
		return nil
	}
	out := make([]string, len(uris))
	for i, u := range uris {
		out[i] = strings.TrimSpace(u)
	}
	return out
}

// checkClient validates, on v, client c of a valid kind: its URIs by
// oidcop's rules for its kind, and its JWKS, which only a web client may
// have.
func checkClient(v *gatehouse.ValidationError, c gatehouse.Client) {
	addFields(v, oidcop.ValidateRedirectURIs(c.Kind, c.RedirectURIs))
	addFields(v, oidcop.ValidatePostLogoutRedirectURIs(c.Kind, c.PostLogoutRedirectURIs))
	addFields(v, oidcop.ValidateBackchannelLogoutURI(c.BackchannelLogoutURI))
	switch {
	case c.JWKS == "":
	case c.Kind != gatehouse.ClientWeb:
		v.Add("jwks", fmt.Sprintf("only web clients authenticate with keys; a %s client is public", c.Kind))
	default:
		if _, err := oidcop.ParseClientJWKS(c.JWKS); err != nil {
			why := strings.TrimLeft(strings.TrimPrefix(err.Error(), "op: client JWKS"), ": ")
			v.Add("jwks", "is not a usable JSON Web Key Set: "+why)
		}
	}
}

// addFields adds the field errors of err, a *gatehouse.ValidationError,
// to v.
func addFields(v *gatehouse.ValidationError, err error) {
	var fields *gatehouse.ValidationError
	if errors.As(err, &fields) {
		v.Fields = append(v.Fields, fields.Fields...)
	} else if err != nil {
		v.Add("", err.Error())
	}
}

// clientEvent is the audit event of a change to client c: it names the
// client, its kind and its redirect URIs, never its secret or the
// secret's hash.
func clientEvent(action gatehouse.AuditAction, c gatehouse.Client, details map[string]string) gatehouse.AuditEvent {
	if details == nil {
		details = map[string]string{}
	}
	details["name"] = c.Name
	details["kind"] = string(c.Kind)
	details["redirect_uris"] = strings.Join(c.RedirectURIs, " ")
	details["id_token_signed_response_alg"] = c.IDTokenSigningAlg
	return gatehouse.AuditEvent{Action: action, TargetType: "client", TargetID: c.ID, Details: details}
}
