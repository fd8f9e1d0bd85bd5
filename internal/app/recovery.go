package app

import (
	"context"
	"errors"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/login"
	"gatehouse/internal/recovery"
)

// peopleRecovery is admin.PeopleRecovery over the sign-in flow's lock and
// the recovery service's links.
type peopleRecovery struct {
	login    *login.Flow
	recovery *recovery.Service
}

func (p peopleRecovery) LockedUntil(ctx context.Context, email string) (time.Time, error) {
	return p.login.LockedUntil(ctx, email)
}

func (p peopleRecovery) Unlock(ctx context.Context, u gatehouse.User) (bool, error) {
	return p.login.Unlock(ctx, u)
}

func (p peopleRecovery) SendLink(ctx context.Context, u gatehouse.User) error {
	err := p.recovery.SendLink(ctx, u)
	switch {
	case errors.Is(err, recovery.ErrNoMail):
		return admin.ErrNoMail
	case errors.Is(err, recovery.ErrUseSSO), errors.Is(err, recovery.ErrLinkInvalid):
		return &admin.RefusalError{Field: "password", Reason: "this user may not sign in with a password"}
	}
	return err
}
