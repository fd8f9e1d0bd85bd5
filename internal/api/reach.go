package api

import (
	"context"

	"gatehouse"
	"gatehouse/internal/admin"
)

// What a token reaches is admin's to decide (admin.SeesAccount and the
// rest); users and groups are loaded here, within an account it reaches.

// user loads a user of account a (which the token can see).
func (s *server) user(ctx context.Context, a gatehouse.Account, id string) (gatehouse.User, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return u, err
	}
	if u.AccountID != a.ID {
		return gatehouse.User{}, admin.ErrHidden
	}
	return u, nil
}

// group loads a group of account a (which the token can see).
func (s *server) group(ctx context.Context, a gatehouse.Account, id string) (gatehouse.Group, error) {
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return g, err
	}
	if g.AccountID != a.ID {
		return gatehouse.Group{}, admin.ErrHidden
	}
	return g, nil
}
