package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// The tests in this file prove SECURITY.md A-last-admin: while SSO governs
// an account, no change leaves it without an active admin with a password
// way in, and enabling SSO cannot race such a change into that state.

// lwiHash is a stored password hash no password matches: enough to count as
// "has a password" for the rule.
const lwiHash = "$argon2id$v=19$m=19456,t=2,p=1$bm8tcGFzc3dvcmQ$bm8tcGFzc3dvcmQtbWF0Y2hlcy10aGlz"

func lwiUser(t *testing.T, s *store.Store, accountID, email string, role gatehouse.Role, withPassword bool) gatehouse.User {
	t.Helper()
	u := gatehouse.User{AccountID: accountID, Email: email, DisplayName: email, Role: role, Status: gatehouse.UserActive}
	if withPassword {
		u.PasswordHash = lwiHash
	}
	if err := s.CreateUser(context.Background(), &u); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func lwiEnable(t *testing.T, s *store.Store, c gatehouse.SSOConfig) {
	t.Helper()
	if _, err := s.EnableSSOConfig(context.Background(), c.ID, c.UpdatedAt); err != nil {
		t.Fatalf("enable %s: %v", c.ID, err)
	}
}

// lwiChange is one change that can take an admin's way in away.
type lwiChange struct {
	name string
	do   func(ctx context.Context, s *store.Store, userID string) error
}

var lwiChanges = []lwiChange{
	{"demote", func(ctx context.Context, s *store.Store, id string) error {
		u, err := s.User(ctx, id)
		if err != nil {
			return err
		}
		u.Role = gatehouse.RoleUser
		return s.UpdateUser(ctx, &u)
	}},
	{"disable", func(ctx context.Context, s *store.Store, id string) error {
		u, err := s.User(ctx, id)
		if err != nil {
			return err
		}
		u.Status = gatehouse.UserDisabled
		return s.UpdateUser(ctx, &u)
	}},
	{"delete", func(ctx context.Context, s *store.Store, id string) error { return s.DeleteUser(ctx, id) }},
	{"remove-password", func(ctx context.Context, s *store.Store, id string) error { return s.SetPassword(ctx, id, "") }},
}

func lwiChangeNamed(name string) lwiChange {
	for _, c := range lwiChanges {
		if c.name == name {
			return c
		}
	}
	panic("no change " + name)
}

// lwiState renders everything the guarded changes touch in an account: its
// row (with the policy version), its users, their sessions and its
// configurations, so that a refused change can be shown to change nothing.
func lwiState(t *testing.T, s *store.Store, accountID string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, name, plan, use_partition_sso, policy_version, updated_at FROM accounts WHERE id = $1`,
		`SELECT id, email, display_name, role, status, password_hash, updated_at FROM users WHERE account_id = $1 ORDER BY id`,
		`SELECT id, user_id FROM sessions WHERE account_id = $1 ORDER BY id`,
		`SELECT c.id, c.enabled, c.updated_at FROM sso_configs c JOIN accounts a ON a.id = $1
		 WHERE c.account_id = a.id OR c.partition_id = a.partition_id ORDER BY c.id`,
	} {
		rows, err := s.DB().Query(q, accountID)
		if err != nil {
			t.Fatalf("state %s: %v", q, err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintln(&b, q)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%v\n", vals)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

func lwiSession(t *testing.T, s *store.Store, u gatehouse.User) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	sess := gatehouse.Session{ID: "sess-" + u.ID, UserID: u.ID, AccountID: u.AccountID, State: gatehouse.SessionAuthenticated,
		Method: "password", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(context.Background(), &sess); err != nil {
		t.Fatal(err)
	}
}

// wantLastWayIn fails unless err is a *gatehouse.LastWayInError naming
// account a that also matches ErrConflict.
func wantLastWayIn(t *testing.T, what string, err error, a gatehouse.Account) {
	t.Helper()
	var last *gatehouse.LastWayInError
	if !errors.As(err, &last) {
		t.Fatalf("%s: %v, want *gatehouse.LastWayInError", what, err)
	}
	if last.AccountID != a.ID || !errors.Is(err, gatehouse.ErrConflict) {
		t.Fatalf("%s: %#v (is conflict: %v), want account %s", what, last, errors.Is(err, gatehouse.ErrConflict), a.ID)
	}
}

// keepers counts the active admins of an account with a password: the ways
// in that do not depend on its IdP.
func keepers(t testing.TB, s *store.Store, accountID string) int {
	t.Helper()
	us, err := s.ListUsers(context.Background(), accountID, gatehouse.Page{Limit: store.MaxPageLimit})
	if err != nil {
		t.Fatalf("users of %s: %v", accountID, err)
	}
	n := 0
	for _, u := range us {
		if u.Role.IsAdmin() && u.Status == gatehouse.UserActive && u.HasPassword {
			n++
		}
	}
	return n
}

// TestLastWayInGuardedInStore: while SSO (the account's own, or its
// partition's that it uses) governs an account, the store refuses with a
// *gatehouse.LastWayInError every change that would leave no active admin
// with a password (demote, disable, delete, remove the password; turning
// on use_partition_sso; enabling), and such a refusal changes nothing.
// Changes of non-admins, changes that leave another admin's way in, and any
// change while SSO governs nothing, pass.
func TestLastWayInGuardedInStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, governedBy := range []string{"account", "partition"} {
			t.Run("governed by "+governedBy, func(t *testing.T) {
				p, a := tenant(t, s, gatehouse.PlanEnterprise)
				ada := lwiUser(t, s, a.ID, "ada@acme.example", gatehouse.RoleAdmin, true)
				nopw := lwiUser(t, s, a.ID, "noah@acme.example", gatehouse.RoleAdmin, false)
				kim := lwiUser(t, s, a.ID, "kim@acme.example", gatehouse.RoleUser, true)
				lwiSession(t, s, ada)
				if governedBy == "account" {
					lwiEnable(t, s, samlConfig(t, s, a.ID))
				} else {
					pc := gatehouse.SSOConfig{PartitionID: p.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
						SAML: &gatehouse.SAMLSettings{IdPEntityID: "https://idp.example/p", SSOBinding: "redirect"}}
					must(t, s.CreateSSOConfig(ctx, &pc))
					lwiEnable(t, s, pc)
					a.UsePartitionSSO = true
					must(t, s.UpdateAccount(ctx, &a))
				}

				// Every way of taking Ada's way in is refused, and leaves
				// everything as it was: her row, the policy version, her
				// session (which a disable or a password change would end).
				before := lwiState(t, s, a.ID)
				for _, c := range lwiChanges {
					wantLastWayIn(t, c.name+" of the last admin with a password", c.do(ctx, s, ada.ID), a)
					if got := lwiState(t, s, a.ID); got != before {
						t.Fatalf("a refused %s changed the account:\n%s\nwant\n%s", c.name, got, before)
					}
				}
				if _, err := s.Session(ctx, "sess-"+ada.ID); err != nil {
					t.Fatalf("Ada's session after refused changes: %v", err)
				}

				// Changes that take no admin's way in pass: her name, and
				// anything about the admin without a password or the user.
				ada2, _ := s.User(ctx, ada.ID)
				ada2.DisplayName = "Ada L."
				must(t, s.UpdateUser(ctx, &ada2))
				for _, c := range lwiChanges[:2] {
					must(t, c.do(ctx, s, kim.ID))
				}
				must(t, s.SetPassword(ctx, kim.ID, ""))
				must(t, s.DeleteUser(ctx, kim.ID))
				must(t, lwiChangeNamed("demote").do(ctx, s, nopw.ID))

				// With a second admin holding a password, Ada may go; then
				// the second is the last and is guarded in turn.
				bob := lwiUser(t, s, a.ID, "bob@acme.example", gatehouse.RoleAdmin, true)
				must(t, lwiChangeNamed("demote").do(ctx, s, ada.ID))
				before = lwiState(t, s, a.ID)
				for _, c := range lwiChanges {
					wantLastWayIn(t, c.name+" of the new last admin", c.do(ctx, s, bob.ID), a)
				}
				if got := lwiState(t, s, a.ID); got != before {
					t.Fatalf("refused changes of Bob changed the account:\n%s\nwant\n%s", got, before)
				}
				if keepers(t, s, a.ID) != 1 {
					t.Fatalf("keepers = %d, want Bob", keepers(t, s, a.ID))
				}
			})
		}

		t.Run("not governed", func(t *testing.T) {
			// A configuration that exists but is not enabled, or an
			// enabled partition configuration the account does not use,
			// governs nothing: the last admin may go.
			p, a := tenant(t, s, gatehouse.PlanEnterprise)
			samlConfig(t, s, a.ID)
			pc := gatehouse.SSOConfig{PartitionID: p.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
				SAML: &gatehouse.SAMLSettings{IdPEntityID: "https://idp.example/p", SSOBinding: "redirect"}}
			must(t, s.CreateSSOConfig(ctx, &pc))
			lwiEnable(t, s, pc)
			for _, c := range lwiChanges {
				ada := lwiUser(t, s, a.ID, c.name+"@acme.example", gatehouse.RoleAdmin, true)
				if err := c.do(ctx, s, ada.ID); err != nil {
					t.Fatalf("%s of the only admin of an account SSO does not govern: %v", c.name, err)
				}
			}
			if keepers(t, s, a.ID) != 0 {
				t.Fatal("an admin with a password is left")
			}

			// After SSO is disabled the last admin may go too.
			_, b := tenant(t, s, gatehouse.PlanEnterprise)
			ada := lwiUser(t, s, b.ID, "ada@acme.example", gatehouse.RoleAdmin, true)
			c := samlConfig(t, s, b.ID)
			lwiEnable(t, s, c)
			wantLastWayIn(t, "demote while governed", lwiChangeNamed("demote").do(ctx, s, ada.ID), b)
			must(t, s.DisableSSOConfig(ctx, c.ID))
			must(t, lwiChangeNamed("demote").do(ctx, s, ada.ID))
		})

		t.Run("use_partition_sso and enable", func(t *testing.T) {
			// An account with no admin with a password may neither start
			// using its partition's enabled SSO nor enable its own.
			p, a := tenant(t, s, gatehouse.PlanEnterprise)
			lwiUser(t, s, a.ID, "noah@acme.example", gatehouse.RoleAdmin, false)
			lwiUser(t, s, a.ID, "kim@acme.example", gatehouse.RoleUser, true)
			pc := gatehouse.SSOConfig{PartitionID: p.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
				SAML: &gatehouse.SAMLSettings{IdPEntityID: "https://idp.example/p", SSOBinding: "redirect"}}
			must(t, s.CreateSSOConfig(ctx, &pc))
			lwiEnable(t, s, pc)
			before := lwiState(t, s, a.ID)
			next := a
			next.UsePartitionSSO = true
			wantLastWayIn(t, "use_partition_sso without a way in", s.UpdateAccount(ctx, &next), a)
			if got := lwiState(t, s, a.ID); got != before {
				t.Fatalf("refused use_partition_sso changed the account:\n%s\nwant\n%s", got, before)
			}
			own := samlConfig(t, s, a.ID)
			before = lwiState(t, s, a.ID)
			_, err := s.EnableSSOConfig(ctx, own.ID, own.UpdatedAt)
			wantLastWayIn(t, "enable without a way in", err, a)
			if got := lwiState(t, s, a.ID); got != before {
				t.Fatalf("refused changes changed the account:\n%s\nwant\n%s", got, before)
			}
			if got, _ := s.Account(ctx, a.ID); got.UsePartitionSSO {
				t.Fatal("use_partition_sso was turned on")
			}
			// With a way in, both pass.
			lwiUser(t, s, a.ID, "ada@acme.example", gatehouse.RoleAdmin, true)
			must(t, s.UpdateAccount(ctx, &next))
			lwiEnable(t, s, own)
		})
	})
}

// lwiRound is one round of a race: a fresh account whose only admin has a
// password, and a complete configuration that would govern it once the
// governing side of the race (govern) is done: rounds take turns at
// enabling the account's own configuration, enabling the partition's
// configuration the account is set to use, and turning on
// use_partition_sso while the partition's configuration is enabled.
type lwiRound struct {
	account gatehouse.Account
	admin   gatehouse.User
	config  gatehouse.SSOConfig
	change  lwiChange
	mode    string
}

// The ways a round's account comes to be governed.
const (
	lwiEnableOwn       = "enable of the account's configuration"
	lwiEnablePartition = "enable of the partition's configuration"
	lwiUsePartition    = "use_partition_sso on"
)

var lwiModes = []string{lwiEnableOwn, lwiEnablePartition, lwiUsePartition}

func lwiNewRound(t testing.TB, s *store.Store, i int) lwiRound {
	t.Helper()
	ctx := context.Background()
	p := gatehouse.Partition{Name: "Race " + strconv.Itoa(i)}
	if err := s.CreatePartition(ctx, &p); err != nil {
		t.Fatal(err)
	}
	a := gatehouse.Account{PartitionID: p.ID, Name: "Race " + strconv.Itoa(i), Plan: gatehouse.PlanEnterprise}
	if err := s.CreateAccount(ctx, &a); err != nil {
		t.Fatal(err)
	}
	u := gatehouse.User{AccountID: a.ID, Email: "ada@race.example", DisplayName: "Ada", Role: gatehouse.RoleAdmin,
		Status: gatehouse.UserActive, PasswordHash: lwiHash}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	c := gatehouse.SSOConfig{AccountID: a.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
		SAML: &gatehouse.SAMLSettings{IdPEntityID: "https://idp.example/metadata", SSOURL: "https://idp.example/sso",
			SSOBinding: "redirect", ClockSkewSeconds: 120}}
	mode := lwiModes[(i/len(lwiChanges))%len(lwiModes)]
	if mode != lwiEnableOwn {
		c.AccountID, c.PartitionID = "", p.ID
	}
	if err := s.CreateSSOConfig(ctx, &c); err != nil {
		t.Fatal(err)
	}
	switch mode {
	case lwiEnablePartition:
		a.UsePartitionSSO = true
		if err := s.UpdateAccount(ctx, &a); err != nil {
			t.Fatal(err)
		}
	case lwiUsePartition:
		// The partition's configuration governs none of its accounts yet.
		if _, err := s.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
			t.Fatal(err)
		}
	}
	return lwiRound{account: a, admin: u, config: c, change: lwiChanges[i%len(lwiChanges)], mode: mode}
}

// govern is the governing side of the race.
func (r lwiRound) govern(ctx context.Context, s *store.Store) error {
	if r.mode == lwiUsePartition {
		a := r.account
		a.UsePartitionSSO = true
		return s.UpdateAccount(ctx, &a)
	}
	_, err := s.EnableSSOConfig(ctx, r.config.ID, r.config.UpdatedAt)
	return err
}

func (r lwiRound) what() string { return r.change.name + " vs " + r.mode }

// lwiOutcome tallies who won the races.
type lwiOutcome struct{ governWon, changeWon int }

// judge checks one finished round: each side either succeeded or was
// refused by the rule, exactly one succeeded, and the account is not left
// governed with no way in.
func (o *lwiOutcome) judge(t *testing.T, s *store.Store, i int, r lwiRound, governErr, changeErr error) {
	t.Helper()
	ctx := context.Background()
	for side, err := range map[string]error{r.mode: governErr, r.change.name: changeErr} {
		var last *gatehouse.LastWayInError
		if err != nil && !errors.As(err, &last) {
			t.Errorf("round %d: %s failed with an error other than the rule's: %v", i, side, err)
		}
	}
	c, err := s.SSOConfig(ctx, r.config.ID)
	if err != nil {
		t.Fatalf("round %d: read config: %v", i, err)
	}
	a, err := s.Account(ctx, r.account.ID)
	if err != nil {
		t.Fatalf("round %d: read account: %v", i, err)
	}
	governed := c.Enabled && (c.AccountID != "" || a.UsePartitionSSO)
	k := keepers(t, s, r.account.ID)
	if governed && k == 0 {
		t.Errorf("round %d (%s): account left governed by SSO with no admin with a password (%s err %v, %s err %v)",
			i, r.what(), r.mode, governErr, r.change.name, changeErr)
	}
	switch {
	case governErr == nil && changeErr == nil:
		t.Errorf("round %d (%s): both succeeded", i, r.what())
	case governErr != nil && changeErr != nil:
		t.Errorf("round %d (%s): both were refused: %v; %v", i, r.what(), governErr, changeErr)
	case governErr == nil:
		o.governWon++
		if !governed || k != 1 {
			t.Errorf("round %d (%s): SSO won but governed=%v keepers=%d", i, r.what(), governed, k)
		}
	default:
		o.changeWon++
		if governed || k != 0 {
			t.Errorf("round %d (%s): the change won but governed=%v keepers=%d", i, r.what(), governed, k)
		}
	}
}

// TestEnableRacesDemotion races, over many rounds on both databases, the
// change that makes SSO govern an account (enabling its configuration,
// enabling its partition's that it uses, turning on use_partition_sso)
// against a change taking its only admin's way in (demote, disable, delete,
// remove the password), started together behind a barrier: one of them
// wins, the other is refused by the rule, and the account never ends
// governed with nobody able to get in around the IdP (SECURITY.md
// A-last-admin).
func TestEnableRacesDemotion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rounds := 60
		if s.Dialect() == store.Postgres {
			rounds = 120
		}
		var o lwiOutcome
		for i := range rounds {
			r := lwiNewRound(t, s, i)
			var governErr, changeErr error
			var ready, done sync.WaitGroup
			start := make(chan struct{})
			ready.Add(2)
			done.Add(2)
			go func() {
				defer done.Done()
				ready.Done()
				<-start
				governErr = r.govern(ctx, s)
			}()
			go func() {
				defer done.Done()
				ready.Done()
				<-start
				changeErr = r.change.do(ctx, s, r.admin.ID)
			}()
			ready.Wait()
			close(start)
			done.Wait()
			o.judge(t, s, i, r, governErr, changeErr)
		}
		t.Logf("%d rounds: SSO won %d, the change won %d", rounds, o.governWon, o.changeWon)
	})
}

// lwiHelperEnv carries, to the helper process, the URL of the test's
// PostgreSQL schema.
const lwiHelperEnv = "GATEHOUSE_LASTWAYIN_HELPER_URL"

// TestEnableRacesDemotionAcrossProcesses is TestEnableRacesDemotion with the
// change made by another OS process sharing the PostgreSQL database, as two
// Gatehouse instances behind a load balancer would: per round the parent
// tells the child (over a pipe) which admin to change and, at that moment,
// makes SSO govern the account itself.
func TestEnableRacesDemotionAcrossProcesses(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const rounds = 96
	rs := make([]lwiRound, rounds)
	for i := range rs {
		rs[i] = lwiNewRound(t, s, i)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestLastWayInHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lwiHelperEnv+"="+url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	out := bufio.NewScanner(outPipe)
	// next returns the helper's next protocol line (the test framework
	// prints its own lines too).
	next := func() string {
		for out.Scan() {
			if line, ok := strings.CutPrefix(out.Text(), "LWI "); ok {
				return line
			}
		}
		in.Close()
		cmd.Wait()
		t.Fatalf("helper process ended early; stderr:\n%s", stderr.String())
		return ""
	}
	if got := next(); got != "ready" {
		t.Fatalf("helper said %q, want ready", got)
	}

	var o lwiOutcome
	for i, r := range rs {
		if _, err := fmt.Fprintf(in, "%d %s %s\n", i, r.change.name, r.admin.ID); err != nil {
			t.Fatalf("round %d: tell helper: %v", i, err)
		}
		// A little jitter, so that either side may get there first.
		if d := rand.IntN(3); d > 0 {
			time.Sleep(time.Duration(d) * 200 * time.Microsecond)
		}
		governErr := r.govern(ctx, s)
		reply := next()
		var changeErr error
		prefix := strconv.Itoa(i) + " "
		switch {
		case reply == prefix+"ok":
		case strings.HasPrefix(reply, prefix+"lastwayin "):
			changeErr = &gatehouse.LastWayInError{AccountID: r.account.ID}
		case strings.HasPrefix(reply, prefix+"error "):
			changeErr = errors.New("in the helper process: " + strings.TrimPrefix(reply, prefix+"error "))
		default:
			t.Fatalf("round %d: helper replied %q", i, reply)
		}
		o.judge(t, s, i, r, governErr, changeErr)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("helper process: %v; stderr:\n%s", err, stderr.String())
	}
	t.Logf("%d rounds across two processes: SSO won %d, the change won %d", rounds, o.governWon, o.changeWon)
}

// TestLastWayInHelperProcess is the other process of
// TestEnableRacesDemotionAcrossProcesses; run alone it does nothing. It
// reads "round change userID" lines from stdin, makes each change at once,
// and answers "LWI round ok|lastwayin|error ..." on stdout.
func TestLastWayInHelperProcess(t *testing.T) {
	url := os.Getenv(lwiHelperEnv)
	if url == "" {
		t.Skip("helper process of TestEnableRacesDemotionAcrossProcesses")
	}
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Println("LWI ready")
	lines := bufio.NewReader(os.Stdin)
	for {
		line, err := lines.ReadString('\n')
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("bad line %q", line)
		}
		err = lwiChangeNamed(f[1]).do(ctx, s, f[2])
		var last *gatehouse.LastWayInError
		switch {
		case err == nil:
			fmt.Printf("LWI %s ok\n", f[0])
		case errors.As(err, &last):
			fmt.Printf("LWI %s lastwayin %v\n", f[0], err)
		default:
			fmt.Printf("LWI %s error %q\n", f[0], err.Error())
		}
	}
}
