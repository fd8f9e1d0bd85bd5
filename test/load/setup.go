package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// tenant is what the setup made through the API: an account, its admin
// (who keeps a password, as enabling SSO requires) and its users.
type tenant struct {
	accountID     string
	adminEmail    string
	adminPassword string
	users         []string // emails, user00000@load.example on
	password      string   // every user's, when they were given one
}

// configView is what the tool reads of the API's SSO configuration.
type configView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	Enabled     bool   `json:"enabled"`
	TestCurrent bool   `json:"test_current"`
	Problems    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"problems"`
	SP struct {
		EntityID    string `json:"sp_entity_id"`
		ACSURL      string `json:"acs_url"`
		RedirectURI string `json:"redirect_uri"`
	} `json:"sp"`
}

// setUp creates, over the API, a partition and an account on plan with an
// admin and n users; with passwords, every user gets one (argon2 on the
// server, so only the password load asks for it).
func setUp(ctx context.Context, cl *cluster, plan string, n int, passwords bool) (*tenant, error) {
	var obj struct {
		ID string `json:"id"`
	}
	if err := cl.api(ctx, "POST", "/api/v1/partitions", map[string]any{"name": "Load"}, &obj, http.StatusCreated); err != nil {
		return nil, err
	}
	if err := cl.api(ctx, "POST", "/api/v1/accounts", map[string]any{"partition_id": obj.ID, "name": "Load", "plan": plan}, &obj, http.StatusCreated); err != nil {
		return nil, err
	}
	t := &tenant{accountID: obj.ID, adminEmail: "admin@load.example", adminPassword: "load-admin-" + rand.Text(), password: "load-user-" + rand.Text()}
	usersPath := "/api/v1/accounts/" + t.accountID + "/users"
	adminID, err := createUser(ctx, cl, usersPath, t.adminEmail, "admin")
	if err != nil {
		return nil, err
	}
	if err := setPassword(ctx, cl, usersPath, adminID, t.adminPassword); err != nil {
		return nil, err
	}
	t.users = make([]string, n)
	for i := range t.users {
		t.users[i] = fmt.Sprintf("user%05d@load.example", i)
	}
	if passwords {
		err = parallel(ctx, n, 4, func(i int) error {
			id, err := createUser(ctx, cl, usersPath, t.users[i], "user")
			if err == nil {
				err = setPassword(ctx, cl, usersPath, id, t.password)
			}
			return err
		})
		return t, err
	}
	// Without passwords the users come in one import: the API's rate
	// limit would hold thousands of single creates for minutes.
	var csv bytes.Buffer
	csv.WriteString("email,display_name,role\n")
	for _, email := range t.users {
		fmt.Fprintf(&csv, "%s,%s,user\n", email, strings.TrimSuffix(email, "@load.example"))
	}
	var res struct {
		Created int `json:"users_created"`
	}
	if err := cl.apiBody(ctx, "POST", "/api/v1/accounts/"+t.accountID+"/user-imports", "text/csv", csv.Bytes(), &res, http.StatusOK); err != nil {
		return nil, err
	}
	if res.Created != n {
		return nil, fmt.Errorf("the import created %d users of %d", res.Created, n)
	}
	return t, nil
}

func createUser(ctx context.Context, cl *cluster, usersPath, email, role string) (string, error) {
	var u struct {
		ID string `json:"id"`
	}
	name := strings.TrimSuffix(email, "@load.example")
	err := cl.api(ctx, "POST", usersPath, map[string]any{"email": email, "display_name": name, "role": role}, &u, http.StatusCreated)
	return u.ID, err
}

func setPassword(ctx context.Context, cl *cluster, usersPath, id, password string) error {
	return cl.api(ctx, "POST", usersPath+"/"+id+"/password", map[string]any{"password": password}, nil, http.StatusNoContent)
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first
// error; the rest of the work is skipped after one.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
feed:
	for i := range n {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// signInWithPassword takes b through the email and password steps at base.
func signInWithPassword(ctx context.Context, b *browser, base, email, password string) error {
	a, err := b.post(ctx, base+"/login", base, url.Values{"email": {email}}.Encode())
	if err != nil {
		return err
	}
	next, err := a.redirectTo("email step", base, "/login/password")
	if err != nil {
		return err
	}
	if a, err = b.post(ctx, next, base, url.Values{"password": {password}}.Encode()); err != nil {
		return err
	}
	if a.status != http.StatusSeeOther {
		return &stepError{"password step", a.status, excerpt(a.body)}
	}
	return b.signedIn("password step", base, a)
}

// createConfig creates an SSO configuration of t's account and checks it
// is complete (every field valid), so only the Test stands before enabling.
func createConfig(ctx context.Context, cl *cluster, t *tenant, body map[string]any) (configView, error) {
	var v configView
	if err := cl.api(ctx, "POST", "/api/v1/accounts/"+t.accountID+"/sso-configs", body, &v, http.StatusCreated); err != nil {
		return v, err
	}
	if v.Status != "complete" {
		return v, fmt.Errorf("the new SSO configuration is %q, not complete: %+v", v.Status, v.Problems)
	}
	return v, nil
}

// testAndEnable does what an admin does before SSO governs the account:
// signs in with a password, runs the configuration's Test (answer plays
// the IdP: given the link to it, it returns the callback's answer), reads
// the passing result page, and enables the configuration over the API.
func testAndEnable(ctx context.Context, cl *cluster, t *tenant, protocol string, v configView,
	answerFn func(ctx context.Context, b *browser, link *url.URL) (answer, error)) error {
	base := cl.procs[0].addr
	b := newBrowser(http.DefaultTransport)
	if err := signInWithPassword(ctx, b, base, t.adminEmail, t.adminPassword); err != nil {
		return fmt.Errorf("the admin's password sign-in: %w", err)
	}
	a, err := b.get(ctx, base+"/sso/"+protocol+"/"+v.ID+"/test")
	if err != nil {
		return err
	}
	link, err := continueLink("test start", a)
	if err != nil {
		return err
	}
	if a, err = answerFn(ctx, b, link); err != nil {
		return fmt.Errorf("the Test's answer: %w", err)
	}
	next, err := a.redirectTo("test answer", base, "/sso/test-result/")
	if err != nil {
		return err
	}
	if a, err = b.get(ctx, next); err != nil {
		return err
	}
	if a.status != http.StatusOK || !strings.Contains(string(a.body), " passed") {
		return &stepError{"test result", a.status, excerpt(a.body)}
	}
	path := "/api/v1/accounts/" + t.accountID + "/sso-configs/" + v.ID
	if err := cl.api(ctx, "POST", path+"/enable", nil, &v, http.StatusOK); err != nil {
		return err
	}
	if !v.Enabled {
		return fmt.Errorf("after enable the configuration is %q, not enabled", v.Status)
	}
	return nil
}
