package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/apitoken"
	"gatehouse/internal/password"
	"gatehouse/internal/store"
)

const adminUsage = `Usage:
  gatehouse admin bootstrap --email EMAIL [--name NAME]
  gatehouse admin token create --name NAME --scope super|partition|account [--scope-id ID] [--expires-in DURATION]
  gatehouse admin token list
  gatehouse admin token revoke --id ID
  gatehouse admin sso disable --account ID --reason TEXT --by WHO
  gatehouse admin client create --name NAME --kind web|spa|native --redirect-uri URI [--redirect-uri URI ...]
      [--post-logout-redirect-uri URI ...] [--backchannel-logout-uri URI] [--jwks-file FILE] [--id-token-alg ES256|RS256]
  gatehouse admin client list
  gatehouse admin client update --id ID [--name NAME] [--redirect-uri URI ...] [--post-logout-redirect-uri URI ...]
      [--backchannel-logout-uri URI] [--jwks-file FILE] [--id-token-alg ES256|RS256]
  gatehouse admin client rotate-secret --id ID
  gatehouse admin client delete --id ID
  gatehouse admin keys rotate [--alg ES256|RS256]
      the OpenID Provider's signing key: the new one is published now and signs 15 minutes later
  gatehouse admin secret-key new | rotate [--dry-run]
      a new secret key; re-seal every stored secret under it (the old one given as a previous key)
  gatehouse admin users import --account ID --file users.csv|users.jsonl [--format csv|jsonl] [--existing error|skip] [--dry-run]
      users and their groups, all or nothing: every row is checked first, each bad one printed as "line N: reason"
  gatehouse admin audit export --before DATE --out FILE.jsonl
  gatehouse admin audit prune --before DATE --exported FILE.jsonl
      audit and sign-in history older than DATE (2006-01-02 or RFC 3339): export it, then delete what the export holds
`

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) >= 1 && args[0] == "bootstrap":
		return runBootstrap(ctx, args[1:], getenv, stdout, stderr)
	case len(args) >= 2 && args[0] == "token" && args[1] == "create":
		return runTokenCreate(ctx, args[2:], getenv, stdout, stderr)
	case len(args) >= 2 && args[0] == "token" && (args[1] == "list" || args[1] == "revoke"):
		return runTokenLifecycle(ctx, args[1], args[2:], getenv, stdout, stderr)
	case len(args) >= 2 && args[0] == "sso" && args[1] == "disable":
		return runSSODisable(ctx, args[2:], getenv, stdout, stderr)
	case len(args) >= 1 && args[0] == "client":
		return runClient(ctx, args[1:], getenv, stdout, stderr)
	case len(args) >= 1 && args[0] == "secret-key":
		return runSecretKey(ctx, args[1:], getenv, stdout, stderr)
	case len(args) >= 2 && args[0] == "keys" && args[1] == "rotate":
		return runKeysRotate(ctx, args[2:], getenv, stdout, stderr)
	case len(args) >= 2 && args[0] == "users" && args[1] == "import":
		return runUsersImport(ctx, args[2:], getenv, stdout, stderr)
	case len(args) >= 2 && args[0] == "audit" && args[1] == "export":
		return runAuditExport(ctx, args[2:], getenv, stdout, stderr)
	case len(args) >= 2 && args[0] == "audit" && args[1] == "prune":
		return runAuditPrune(ctx, args[2:], getenv, stdout, stderr)
	}
	fmt.Fprint(stderr, adminUsage)
	return errUsage
}

// providerPartition and providerAccount hold the provider's own staff.
const (
	providerPartition = "Provider"
	providerAccount   = "Provider Support"
)

// runBootstrap creates the first super admin, in the provider's own
// partition and account, with a generated password printed once.
func runBootstrap(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin bootstrap", stderr)
	var dbURL, email, name string
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&email, "email", "", "the super admin's email (required)")
	fs.StringVar(&name, "name", "Super Admin", "the super admin's display name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	email, err := gatehouse.NormalizeEmail(email)
	if err != nil {
		return fmt.Errorf("--email: %w", err)
	}
	st, err := openAdminStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()

	partitionID, accountID, err := providerHome(ctx, st)
	if err != nil {
		return err
	}
	pw := strings.ToLower(rand.Text()[:20])
	hash, err := password.NewHasher(1).Hash(ctx, pw)
	if err != nil {
		return err
	}
	u := gatehouse.User{AccountID: accountID, Email: email, DisplayName: name, Role: gatehouse.RoleSuperAdmin,
		Status: gatehouse.UserActive, PasswordHash: hash}
	if err := st.CreateUser(ctx, &u); err != nil {
		if errors.Is(err, gatehouse.ErrConflict) {
			return fmt.Errorf("a user with email %s already exists in %q", email, providerAccount)
		}
		return err
	}
	if err := st.AppendAudit(ctx, &gatehouse.AuditEvent{ActorType: gatehouse.ActorSystem, ActorID: "cli", PartitionID: partitionID, AccountID: accountID,
		Action: gatehouse.ActionUserCreate, Outcome: gatehouse.OutcomeSuccess, TargetType: "user", TargetID: u.ID,
		Details: map[string]string{"via": "admin bootstrap", "role": string(u.Role)}}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "super admin %s created (user %s).\npassword: %s\nThis password is shown once; sign in and enrol TOTP.\n", email, u.ID, pw)
	return nil
}

// providerHome finds or creates the provider's partition and staff account.
func providerHome(ctx context.Context, st *store.Store) (partitionID, accountID string, err error) {
	parts, err := st.ListPartitions(ctx, gatehouse.Page{Limit: store.MaxPageLimit})
	if err != nil {
		return "", "", err
	}
	for _, p := range parts {
		if p.Name == providerPartition {
			partitionID = p.ID
		}
	}
	if partitionID == "" {
		p := gatehouse.Partition{Name: providerPartition}
		if err := st.CreatePartition(ctx, &p); err != nil {
			return "", "", err
		}
		partitionID = p.ID
	}
	accts, err := st.ListAccounts(ctx, partitionID, gatehouse.Page{Limit: store.MaxPageLimit})
	if err != nil {
		return "", "", err
	}
	for _, a := range accts {
		if a.Name == providerAccount {
			return partitionID, a.ID, nil
		}
	}
	a := gatehouse.Account{PartitionID: partitionID, Name: providerAccount, Plan: gatehouse.PlanStandard}
	if err := st.CreateAccount(ctx, &a); err != nil {
		return "", "", err
	}
	return partitionID, a.ID, nil
}

func runTokenCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin token create", stderr)
	var dbURL, name, scope, scopeID string
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&name, "name", "", "what the token is for (required)")
	fs.StringVar(&scope, "scope", "", "super, partition or account (required)")
	fs.StringVar(&scopeID, "scope-id", "", "the partition or account ID, for those scopes")
	expiresIn := fs.String("expires-in", "", "stop working after this long: 90d, 720h, 30m (default: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	expiresAt, err := expiryOf(*expiresIn, time.Now())
	if err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return errors.New("--name is required")
	}
	sc := gatehouse.TokenScope(scope)
	switch sc {
	case gatehouse.ScopeSuper:
		if scopeID != "" {
			return errors.New("--scope-id is not used with --scope super")
		}
	case gatehouse.ScopePartition, gatehouse.ScopeAccount:
		if scopeID == "" {
			return fmt.Errorf("--scope %s needs --scope-id", scope)
		}
	default:
		return errors.New("--scope must be super, partition or account")
	}
	st, err := openAdminStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	secret, tok, err := apitoken.MintExpiring(ctx, st, name, sc, scopeID, expiresAt)
	if err != nil {
		return err
	}
	details := map[string]string{"scope": string(sc), "scope_id": scopeID, "name": name}
	if !expiresAt.IsZero() {
		details["expires_at"] = tok.ExpiresAt.Format(time.RFC3339)
	}
	if err := st.AppendAudit(ctx, &gatehouse.AuditEvent{ActorType: gatehouse.ActorSystem, ActorID: "cli", Action: gatehouse.ActionAPITokenCreate,
		Outcome: gatehouse.OutcomeSuccess, TargetType: "api_token", TargetID: tok.ID,
		Details: details}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", secret)
	fmt.Fprintf(stderr, "token %s (%s scope) created; it is shown once. Use it as: Authorization: Bearer <token>\n", tok.ID, sc)
	return nil
}

// runSSODisable is break-glass from the command line (DESIGN rule 12), for
// support staff on the servers when the API is out of reach: it turns off
// the SSO governing an account, exactly as POST /api/v1/accounts/{id}/sso/break-glass.
func runSSODisable(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin sso disable", stderr)
	var dbURL, accountID, reason, by string
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&accountID, "account", "", "the account whose SSO to turn off (required)")
	fs.StringVar(&reason, "reason", "", "why, for the account's admins to read in the audit log: a ticket number, who asked (required, at most 500 characters)")
	fs.StringVar(&by, "by", "", "who is turning SSO off: your email or name, recorded in the audit log (required, at most 200 characters)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	accountID = strings.TrimSpace(accountID)
	if accountID == "" {
		return errors.New("--account is required")
	}
	if strings.TrimSpace(reason) == "" {
		return errors.New("--reason is required: say why SSO is being turned off")
	}
	by, err := admin.CleanOperator(by)
	var bad *gatehouse.ValidationError
	if errors.As(err, &bad) {
		return errors.New("--by " + bad.Fields[0].Message)
	}
	st, err := openAdminStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := admin.BreakGlass(ctx, st, accountID, reason, gatehouse.AuditEvent{ActorType: gatehouse.ActorSystem, ActorID: "cli",
		Details: map[string]string{"via": "admin sso disable", "by": by}})
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return fmt.Errorf("no account %s", accountID)
	case errors.Is(err, admin.ErrNoSSOEnabled):
		return fmt.Errorf("no SSO enabled for account %s: nothing to disable; password sign-in already works", accountID)
	case err != nil:
		return err
	}
	for _, c := range res.DisabledConfigs {
		fmt.Fprintf(stdout, "disabled SSO configuration %s (%s) of account %s\n", c.Name, c.ID, res.AccountID)
	}
	if c := res.PartitionConfig; c != nil {
		fmt.Fprintf(stdout, "account %s no longer uses its partition's SSO configuration %s (%s); the partition's other accounts keep it\n", res.AccountID, c.Name, c.ID)
	}
	fmt.Fprintf(stdout, "password sign-in works again for the account's users who have a password.\naudited as %s (%s).\n", res.AuditEventID, gatehouse.ActionBreakGlass)
	return nil
}

func openAdminStore(ctx context.Context, dbURL string) (*store.Store, error) {
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
