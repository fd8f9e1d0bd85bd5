package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gatehouse"
)

const opClientCols = `id, name, kind, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, secret_hash, jwks, id_token_signed_response_alg, created_at, updated_at`

func scanOPClient(row interface{ Scan(...any) error }) (gatehouse.Client, error) {
	var (
		c                   gatehouse.Client
		kind, uris, logouts string
		cat, uat            int64
	)
	if err := row.Scan(&c.ID, &c.Name, &kind, &uris, &logouts, &c.BackchannelLogoutURI, &c.SecretHash, &c.JWKS, &c.IDTokenSigningAlg, &cat, &uat); err != nil {
		return c, err
	}
	c.Kind, c.CreatedAt, c.UpdatedAt = gatehouse.ClientKind(kind), fromMicros(cat), fromMicros(uat)
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return c, fmt.Errorf("redirect URIs of %s: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(logouts), &c.PostLogoutRedirectURIs); err != nil {
		return c, fmt.Errorf("post-logout redirect URIs of %s: %w", c.ID, err)
	}
	return c, nil
}

// uriList keeps a list of URIs as a JSON array; a nil list becomes an empty
// one, in the client too, so a client a write returns equals the one read
// back.
func uriList(l *[]string) string {
	if *l == nil {
		*l = []string{}
	}
	b, _ := json.Marshal(*l)
	return string(b)
}

// idTokenAlg is the ID token signing algorithm a client is stored with:
// ES256 when it says none, in the client too.
func idTokenAlg(c *gatehouse.Client) string {
	if c.IDTokenSigningAlg == "" {
		c.IDTokenSigningAlg = "ES256"
	}
	return c.IDTokenSigningAlg
}

// CreateClient registers an OpenID Provider client, assigning its ID and
// times. Its name is unique (else a *ConflictError on "name").
func (s *Store) CreateClient(ctx context.Context, c *gatehouse.Client) error {
	now := s.now()
	c.ID, c.CreatedAt, c.UpdatedAt = newID("client", now), now, now
	_, err := s.exec(ctx, `INSERT INTO op_clients(`+opClientCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		c.ID, c.Name, string(c.Kind), uriList(&c.RedirectURIs), uriList(&c.PostLogoutRedirectURIs), c.BackchannelLogoutURI, c.SecretHash, c.JWKS,
		idTokenAlg(c), micros(now))
	return s.fail("create client", err)
}

// Client returns one client, or ErrNotFound.
func (s *Store) Client(ctx context.Context, id string) (gatehouse.Client, error) {
	c, err := scanOPClient(s.read.QueryRowContext(ctx, `SELECT `+opClientCols+` FROM op_clients WHERE id = $1`, id))
	return c, s.fail("client", err)
}

// ListClients returns one page of clients in creation order.
func (s *Store) ListClients(ctx context.Context, page gatehouse.Page) ([]gatehouse.Client, error) {
	return list(ctx, s, "list clients", scanOPClient,
		`SELECT `+opClientCols+` FROM op_clients WHERE id > $1 ORDER BY id LIMIT $2`, page.After, limitOf(page))
}

// UpdateClient saves c's name, redirect URIs, post-logout redirect URIs,
// back-channel logout URI, secret hash, public keys and ID token signing
// algorithm (ES256 when empty); a client's kind
// never changes.
func (s *Store) UpdateClient(ctx context.Context, c *gatehouse.Client) error {
	now := s.now()
	res, err := s.exec(ctx, `UPDATE op_clients SET name = $2, redirect_uris = $3, post_logout_redirect_uris = $4,
		backchannel_logout_uri = $5, secret_hash = $6, jwks = $8, id_token_signed_response_alg = $9, updated_at = $7 WHERE id = $1`,
		c.ID, c.Name, uriList(&c.RedirectURIs), uriList(&c.PostLogoutRedirectURIs), c.BackchannelLogoutURI, c.SecretHash, micros(now), c.JWKS,
		idTokenAlg(c))
	if err := s.expectOne("update client", res, err); err != nil {
		return err
	}
	c.UpdatedAt = now
	return nil
}

// DeleteClient removes a client, and with it its codes and grants.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `DELETE FROM op_clients WHERE id = $1`, id)
	return s.expectOne("delete client", res, err)
}
