package main

import (
	"context"
	"net/http"
)

// newPasswordTarget signs users in with their password: the email step,
// then the password step, which must set the session. Client i signs in
// as users i, i+c, i+2c…, so no two clients are ever one person at once
// (the lockout counts a person's attempts before it checks them).
func newPasswordTarget(cl *cluster, t *tenant, clients int, tr *http.Transport) *target {
	turns := make([]int, clients) // each client touches only its own
	return &target{what: "Gatehouse", pids: cl.pids(), signIn: func(ctx context.Context, client int) error {
		email := t.users[(client+turns[client]*clients)%len(t.users)]
		turns[client]++
		return signInWithPassword(ctx, newBrowser(tr), cl.pick(), email, t.password)
	}}
}
