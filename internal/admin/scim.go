package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

// SCIM provisioning (issue 15, part 1). An account's admins make bearer
// tokens for their IdP's SCIM client: 130 random bits, shown once, stored
// as SHA-256, listed, revoked, audited (SECURITY.md A-scim-token-secret).
// A token opens only its own account's /scim/v2/{account} (A-scim-account)
// and acts there as an account-scoped principal, so every change package
// scim makes through this Service has the same rules as the API's.

// SCIMBasePath is the path of account accountID's SCIM endpoint.
func SCIMBasePath(accountID string) string { return "/scim/v2/" + accountID }

// maxSCIMToken bounds a presented token; Gatehouse's are 33 characters.
const maxSCIMToken = 128

// ErrSCIMToken is a SCIM request whose token is malformed, unknown,
// revoked or another account's: all answered alike.
var ErrSCIMToken = fmt.Errorf("admin: invalid SCIM token: %w", gatehouse.ErrNotFound)

// SCIMTokenHash is what is stored of a SCIM token.
func SCIMTokenHash(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// IsSCIMPrincipal reports whether p is a SCIM token.
func IsSCIMPrincipal(p Principal) bool {
	return p.Kind == gatehouse.ActorToken && strings.HasPrefix(p.ID, gatehouse.SCIMTokenIDPrefix+"_")
}

// SCIMTokenInput is a new SCIM token: a name saying which IdP holds it.
type SCIMTokenInput struct {
	Name string `json:"name"`
}

// NewSCIMToken is a SCIM token just made, with its plaintext, shown this
// once, and the base URL to give the IdP.
type NewSCIMToken struct {
	gatehouse.SCIMToken
	Token   string `json:"token"`
	BaseURL string `json:"base_url"`
}

// scimAccount loads account accountID for an operation on its SCIM tokens:
// p must be an admin reaching it, and not a SCIM token itself.
func (s *Service) scimAccount(ctx context.Context, p Principal, accountID string) (gatehouse.Account, error) {
	if IsSCIMPrincipal(p) {
		return gatehouse.Account{}, ErrForbidden
	}
	return s.Account(ctx, p, accountID)
}

// SCIMBaseURL is account accountID's SCIM base URL, to paste into the IdP.
func (s *Service) SCIMBaseURL(accountID string) string {
	base := ""
	if s.baseURL != nil {
		base = strings.TrimSuffix(s.baseURL.String(), "/")
	}
	return base + SCIMBasePath(url.PathEscape(accountID))
}

// SCIMTokens lists account accountID's SCIM tokens, newest first.
func (s *Service) SCIMTokens(ctx context.Context, p Principal, accountID string) ([]gatehouse.SCIMToken, error) {
	a, err := s.scimAccount(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.SCIMTokens(ctx, a.ID)
}

// CreateSCIMToken makes a SCIM token for account accountID. Its plaintext
// is returned this once; the audit event names the token, never the
// plaintext.
func (s *Service) CreateSCIMToken(ctx context.Context, p Principal, accountID string, in SCIMTokenInput) (NewSCIMToken, error) {
	a, err := s.scimAccount(ctx, p, accountID)
	if err != nil {
		return NewSCIMToken{}, err
	}
	v := &gatehouse.ValidationError{}
	name := cleanName(v, "name", in.Name, false)
	if err := v.Err(); err != nil {
		return NewSCIMToken{}, err
	}
	plaintext := gatehouse.SCIMTokenPrefix + rand.Text()
	t := gatehouse.SCIMToken{AccountID: a.ID, Name: name, CreatedBy: p.ID}
	if err := s.store.CreateSCIMToken(ctx, &t, SCIMTokenHash(plaintext)); err != nil {
		return NewSCIMToken{}, err
	}
	s.Record(ctx, p, gatehouse.AuditEvent{Action: gatehouse.ActionSCIMTokenCreate, PartitionID: a.PartitionID, AccountID: a.ID,
		TargetType: "scim_token", TargetID: t.ID, Details: map[string]string{"name": name}})
	return NewSCIMToken{SCIMToken: t, Token: plaintext, BaseURL: s.SCIMBaseURL(a.ID)}, nil
}

// RevokeSCIMToken revokes SCIM token id of account accountID: from its
// next request on, the IdP is refused. Revoking a revoked token changes
// nothing and records nothing.
func (s *Service) RevokeSCIMToken(ctx context.Context, p Principal, accountID, id string) error {
	a, err := s.scimAccount(ctx, p, accountID)
	if err != nil {
		return err
	}
	revoked, err := s.store.RevokeSCIMToken(ctx, a.ID, id, p.ID, s.now())
	if err != nil {
		return err
	}
	if revoked {
		s.Record(ctx, p, gatehouse.AuditEvent{Action: gatehouse.ActionSCIMTokenRevoke, PartitionID: a.PartitionID, AccountID: a.ID,
			TargetType: "scim_token", TargetID: id})
	}
	return nil
}

// SCIMPrincipal checks plaintext, a bearer token presented to account
// accountID's SCIM endpoint, and returns the principal it acts as: the
// token, reaching that one account. A token of another account, revoked,
// unknown or malformed is ErrSCIMToken; the token is never logged.
func (s *Service) SCIMPrincipal(ctx context.Context, accountID, plaintext, address, userAgent string) (Principal, error) {
	if !strings.HasPrefix(plaintext, gatehouse.SCIMTokenPrefix) || len(plaintext) > maxSCIMToken {
		return Principal{}, ErrSCIMToken
	}
	hash := SCIMTokenHash(plaintext)
	t, stored, err := s.store.SCIMTokenByHash(ctx, hash)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return Principal{}, ErrSCIMToken
	}
	if err != nil {
		return Principal{}, err
	}
	// The lookup found it by its hash; compare again in constant time, and
	// answer another account's token as an unknown one.
	ok := subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) == 1
	if !ok || !t.Active() || t.AccountID != accountID {
		return Principal{}, ErrSCIMToken
	}
	if err := s.store.TouchSCIMToken(ctx, t.ID, s.now()); err != nil {
		s.logger.Warn("scim: recording a token's use failed", "token_id", t.ID, "err", err)
	}
	return Principal{Kind: gatehouse.ActorToken, ID: t.ID, Reach: policy.Reach{Scope: gatehouse.ScopeAccount, ScopeID: t.AccountID},
		Address: address, UserAgent: truncate(userAgent, maxUserAgent)}, nil
}

// SCIMStatus is how an account's provisioning stands, for its admins.
type SCIMStatus struct {
	BaseURL string                `json:"base_url"`
	Tokens  []gatehouse.SCIMToken `json:"tokens"`
	Enabled bool                  `json:"enabled"`
	// LastSync is the latest use of any of its tokens (to the minute).
	LastSync time.Time                  `json:"last_sync,omitzero"`
	Errors   []gatehouse.SCIMRequestLog `json:"errors"`
}

// SCIMStatus reports account accountID's provisioning: its base URL,
// tokens, last sync and last failed requests.
func (s *Service) SCIMStatus(ctx context.Context, p Principal, accountID string) (SCIMStatus, error) {
	a, err := s.scimAccount(ctx, p, accountID)
	if err != nil {
		return SCIMStatus{}, err
	}
	toks, err := s.store.SCIMTokens(ctx, a.ID)
	if err != nil {
		return SCIMStatus{}, err
	}
	errs, err := s.store.SCIMErrors(ctx, a.ID, 10)
	if err != nil {
		return SCIMStatus{}, err
	}
	st := SCIMStatus{BaseURL: s.SCIMBaseURL(a.ID), Tokens: toks, Errors: errs}
	for _, t := range toks {
		st.Enabled = st.Enabled || t.Active()
		if t.LastUsedAt.After(st.LastSync) {
			st.LastSync = t.LastUsedAt
		}
	}
	return st, nil
}

// RecordSCIMError keeps a failed SCIM request of account accountID for its
// admins (the last 50). detail must hold no secret.
func (s *Service) RecordSCIMError(ctx context.Context, p Principal, accountID, method, path string, status int, detail string) {
	e := gatehouse.SCIMRequestLog{AccountID: accountID, TokenID: p.ID, Time: s.now().UTC(), Method: method, Path: truncate(path, 512),
		Status: status, Detail: truncate(detail, 1000)}
	if err := s.store.AddSCIMError(context.WithoutCancel(ctx), e); err != nil {
		s.logger.Warn("scim: recording a failed request failed", "account_id", accountID, "err", err)
	}
}

// SCIMUsers returns every user of account accountID, which p must reach,
// with what SCIM keeps of them.
func (s *Service) SCIMUsers(ctx context.Context, p Principal, accountID string) ([]store.SCIMProvisioned, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.SCIMUsers(ctx, a.ID)
}

// SCIMUserIDsByKey returns the IDs of account accountID's users with this
// email, SCIM userName or externalId (empty ones match nothing).
func (s *Service) SCIMUserIDsByKey(ctx context.Context, p Principal, accountID, email, userName, externalID string) ([]string, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.SCIMUserIDsByKey(ctx, a.ID, email, userName, externalID)
}

// SCIMUser returns user id of account accountID with what SCIM keeps of
// them, and the groups they are in.
func (s *Service) SCIMUser(ctx context.Context, p Principal, accountID, id string) (store.SCIMProvisioned, []gatehouse.Group, error) {
	if _, err := s.User(ctx, p, accountID, id); err != nil {
		return store.SCIMProvisioned{}, nil, err
	}
	u, err := s.store.SCIMUser(ctx, id)
	if err != nil {
		return u, nil, err
	}
	groups, err := s.store.GroupsOfUser(ctx, id)
	return u, groups, err
}

// PutSCIMUser saves what SCIM keeps of user m.UserID of account
// accountID, whom p must be allowed to change.
func (s *Service) PutSCIMUser(ctx context.Context, p Principal, accountID string, m gatehouse.SCIMUser) error {
	u, err := s.UserToChange(ctx, p, accountID, m.UserID)
	if err != nil {
		return err
	}
	m.AccountID = u.AccountID
	return s.store.PutSCIMUser(ctx, &m)
}

// SCIMGroups returns every group of account accountID with what SCIM
// keeps of it.
func (s *Service) SCIMGroups(ctx context.Context, p Principal, accountID string) ([]store.SCIMGroupOf, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.SCIMGroups(ctx, a.ID)
}

// SCIMGroup returns group id of account accountID with what SCIM keeps of
// it, and all its members.
func (s *Service) SCIMGroup(ctx context.Context, p Principal, accountID, id string) (store.SCIMGroupOf, []store.MemberRef, error) {
	if _, err := s.Group(ctx, p, accountID, id); err != nil {
		return store.SCIMGroupOf{}, nil, err
	}
	g, err := s.store.SCIMGroup(ctx, id)
	if err != nil {
		return g, nil, err
	}
	members, err := s.store.AllMembers(ctx, id)
	return g, members, err
}

// PutSCIMGroup saves what SCIM keeps of group m.GroupID of account
// accountID.
func (s *Service) PutSCIMGroup(ctx context.Context, p Principal, accountID string, m gatehouse.SCIMGroup) error {
	g, err := s.Group(ctx, p, accountID, m.GroupID)
	if err != nil {
		return err
	}
	m.AccountID = g.AccountID
	return s.store.PutSCIMGroup(ctx, &m)
}
