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
)

// Setup links (issue 14, part 7): an account admin hands the setup of one
// SSO configuration to the person who runs the IdP, who has no admin role
// in Gatehouse. The link's holder sees that configuration's values to copy,
// edits its IdP settings (Connect) and runs its Test, and nothing else:
// never Enable, Disable, Apply, Discard or Delete, never another
// configuration or page (SECURITY.md A-setuplink-admin, A-setuplink-scope).
// The holder acts as a SetupLinkHolder, which only OpenSetupLink makes,
// and only the methods here take one. A link works for 7 days, until an
// admin revokes it, or until a Test run through it passes, which uses it
// up (SECURITY.md A-setuplink-closed).

// SetupLinkPath is the root of the pages a setup link opens.
func SetupLinkPath(id string) string { return "/setup/" + id }

// SetupLinkHash is what is stored of a setup link's secret.
func SetupLinkHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// maxSetupLinkKey bounds a link ID or secret read from a request; the
// ones Gatehouse makes are under 40 characters.
const maxSetupLinkKey = 64

// SetupLinkView is a setup link as admins see it, never with its secret.
type SetupLinkView struct {
	ID        string                   `json:"id"`
	ConfigID  string                   `json:"config_id"`
	AccountID string                   `json:"account_id"`
	Label     string                   `json:"label"`
	State     gatehouse.SetupLinkState `json:"state"`
	CreatedBy string                   `json:"created_by"`
	CreatedAt time.Time                `json:"created_at"`
	ExpiresAt time.Time                `json:"expires_at"`
	UsedAt    time.Time                `json:"used_at,omitzero"`
	RevokedAt time.Time                `json:"revoked_at,omitzero"`
	RevokedBy string                   `json:"revoked_by,omitempty"`
}

// NewSetupLink is a setup link just made: URL holds its secret, and is
// shown this once.
type NewSetupLink struct {
	SetupLinkView
	URL string `json:"url"`
}

// CreateSetupLinkInput is a new setup link: an optional label saying whom
// it is for. The JSON names are the API's.
type CreateSetupLinkInput struct {
	Label string `json:"label"`
}

func (s *Service) setupLinkView(l gatehouse.SetupLink) SetupLinkView {
	return SetupLinkView{ID: l.ID, ConfigID: l.ConfigID, AccountID: l.AccountID, Label: l.Label, State: l.State(s.now()),
		CreatedBy: l.CreatedBy, CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt, UsedAt: l.UsedAt, RevokedAt: l.RevokedAt, RevokedBy: l.RevokedBy}
}

// linkOwner loads account configuration configID of owner o for an
// operation on its setup links, which p must reach; a link's holder
// manages no links, and a partition's configuration has none.
func (s *Service) linkOwner(ctx context.Context, p Principal, o policy.Owner, configID string) (ownerOf, gatehouse.SSOConfig, error) {
	if p.Kind == gatehouse.ActorSetupLink {
		return ownerOf{}, gatehouse.SSOConfig{}, ErrForbidden
	}
	own, c, err := s.ownedSSOConfig(ctx, p, o, configID)
	if err != nil {
		return own, c, err
	}
	if own.isPartition() {
		return own, c, &ForbiddenError{Reason: "setup links are for the SSO configurations of accounts"}
	}
	return own, c, nil
}

// CreateSetupLink makes a setup link for configuration configID of owner
// o, working for gatehouse.SetupLinkLifetime. Its URL carries the secret
// and is returned this once; the audit event names the link, never the
// secret.
func (s *Service) CreateSetupLink(ctx context.Context, p Principal, o policy.Owner, configID string, in CreateSetupLinkInput) (NewSetupLink, error) {
	own, c, err := s.linkOwner(ctx, p, o, configID)
	if err != nil {
		return NewSetupLink{}, err
	}
	if s.baseURL == nil {
		return NewSetupLink{}, ErrNotConfigured
	}
	v := &gatehouse.ValidationError{}
	label := cleanName(v, "label", in.Label, true)
	if err := v.Err(); err != nil {
		return NewSetupLink{}, err
	}
	secret := rand.Text()
	l := gatehouse.SetupLink{ConfigID: c.ID, AccountID: c.AccountID, Label: label, SecretHash: SetupLinkHash(secret), CreatedBy: p.ID}
	if err := s.store.CreateSetupLink(ctx, &l); err != nil {
		return NewSetupLink{}, err
	}
	s.Record(ctx, p, own.event(gatehouse.ActionSetupLinkCreate, c.ID, map[string]string{"name": c.Name, "setup_link": l.ID,
		"label": label, "expires_at": l.ExpiresAt.UTC().Format(time.RFC3339)}))
	u := strings.TrimSuffix(s.baseURL.String(), "/") + SetupLinkPath(l.ID) + "?" + url.Values{"key": {secret}}.Encode()
	return NewSetupLink{SetupLinkView: s.setupLinkView(l), URL: u}, nil
}

// SetupLinks lists configuration configID's setup links, newest first,
// revoked and expired ones included.
func (s *Service) SetupLinks(ctx context.Context, p Principal, o policy.Owner, configID string) ([]SetupLinkView, error) {
	_, c, err := s.linkOwner(ctx, p, o, configID)
	if err != nil {
		return nil, err
	}
	links, err := s.store.SetupLinks(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]SetupLinkView, 0, len(links))
	for _, l := range links {
		out = append(out, s.setupLinkView(l))
	}
	return out, nil
}

// RevokeSetupLink revokes link linkID of configuration configID: from its
// next request on, it shows only a page saying to ask for a new one. A
// link revoked before stays as it was, and is not audited again.
func (s *Service) RevokeSetupLink(ctx context.Context, p Principal, o policy.Owner, configID, linkID string) (SetupLinkView, error) {
	own, c, err := s.linkOwner(ctx, p, o, configID)
	if err != nil {
		return SetupLinkView{}, err
	}
	l, err := s.store.SetupLink(ctx, linkID)
	if err != nil {
		return SetupLinkView{}, err
	}
	if l.ConfigID != c.ID {
		return SetupLinkView{}, ErrHidden
	}
	revoked, err := s.store.RevokeSetupLink(ctx, l.ID, p.ID, s.now())
	if err != nil {
		return SetupLinkView{}, err
	}
	if revoked {
		s.Record(ctx, p, own.event(gatehouse.ActionSetupLinkRevoke, c.ID, map[string]string{"name": c.Name, "setup_link": l.ID, "label": l.Label}))
	}
	if l, err = s.store.SetupLink(ctx, l.ID); err != nil {
		return SetupLinkView{}, err
	}
	return s.setupLinkView(l), nil
}

// SetupLinkHolder is whoever holds a setup link's secret, as OpenSetupLink
// found them. Only the methods of this file take one.
type SetupLinkHolder struct {
	Link    gatehouse.SetupLink
	Account gatehouse.Account
	// State is SetupLinkActive, or SetupLinkUsed once a Test through the
	// link passed: then it shows that Test's result and changes nothing.
	State gatehouse.SetupLinkState
	// p is who the holder acts as: the link, reaching the link's account,
	// which only this file's methods use, and each only on the link's
	// configuration.
	p Principal
}

// ErrSetupLinkUnknown answers a setup link ID or secret that matches no
// link: a link never made, one deleted with its configuration, or a
// wrong secret are told apart from none.
var ErrSetupLinkUnknown = fmt.Errorf("admin: no setup link with this ID and secret: %w", gatehouse.ErrNotFound)

// SetupLinkClosedError is a setup link whose secret is right but which
// was revoked or has expired (State says which).
type SetupLinkClosedError struct {
	Link  gatehouse.SetupLink
	State gatehouse.SetupLinkState
}

func (e *SetupLinkClosedError) Error() string {
	return "admin: setup link " + e.Link.ID + " is " + string(e.State)
}

// ErrSetupLinkUsed refuses a change through a setup link that a passing
// Test has used up.
var ErrSetupLinkUsed = &ForbiddenError{Reason: "this setup link was used up by a passing Test; ask an admin of the account for a new one"}

// OpenSetupLink returns the holder of link id whose secret is secret,
// compared in constant time with the stored hash: for an active or a
// used-up link. A revoked or expired one is a *SetupLinkClosedError,
// audited; an unknown ID or a wrong secret is ErrSetupLinkUnknown.
// address and userAgent are the request's, for the audit log.
func (s *Service) OpenSetupLink(ctx context.Context, id, secret, address, userAgent string) (SetupLinkHolder, error) {
	if id == "" || secret == "" || len(id) > maxSetupLinkKey || len(secret) > maxSetupLinkKey || !gatehouse.IsSetupLinkID(id) {
		return SetupLinkHolder{}, ErrSetupLinkUnknown
	}
	l, err := s.store.SetupLink(ctx, id)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return SetupLinkHolder{}, ErrSetupLinkUnknown
	}
	if err != nil {
		return SetupLinkHolder{}, err
	}
	if subtle.ConstantTimeCompare([]byte(SetupLinkHash(secret)), []byte(l.SecretHash)) != 1 {
		return SetupLinkHolder{}, ErrSetupLinkUnknown
	}
	h := SetupLinkHolder{Link: l, State: l.State(s.now()), p: Principal{Kind: gatehouse.ActorSetupLink, ID: l.ID,
		Reach: policy.Reach{Scope: gatehouse.ScopeAccount, ScopeID: l.AccountID}, Address: address, UserAgent: truncate(userAgent, maxUserAgent)}}
	if h.Account, err = s.store.Account(ctx, l.AccountID); err != nil {
		return SetupLinkHolder{}, err
	}
	if h.State == gatehouse.SetupLinkRevoked || h.State == gatehouse.SetupLinkExpired {
		s.Record(ctx, h.p, gatehouse.AuditEvent{Action: gatehouse.ActionSetupLinkOpen, AccountID: h.Account.ID, PartitionID: h.Account.PartitionID,
			TargetType: "sso_config", TargetID: l.ConfigID, Outcome: gatehouse.OutcomeFailure,
			Reason:  "the setup link was " + string(h.State) + " and opens nothing any more",
			Details: map[string]string{"setup_link": l.ID, "state": string(h.State)}})
		return SetupLinkHolder{}, &SetupLinkClosedError{Link: l, State: h.State}
	}
	return h, nil
}

// SetupLinkOpened audits a browser given the link's secret (the link
// followed), so the account's admins see when and from where it was used.
func (s *Service) SetupLinkOpened(ctx context.Context, h SetupLinkHolder) {
	s.Record(ctx, h.p, gatehouse.AuditEvent{Action: gatehouse.ActionSetupLinkOpen, AccountID: h.Account.ID, PartitionID: h.Account.PartitionID,
		TargetType: "sso_config", TargetID: h.Link.ConfigID, Details: map[string]string{"setup_link": h.Link.ID, "label": h.Link.Label}})
}

// owner is the owner the holder's operations go through.
func (h SetupLinkHolder) owner() policy.Owner { return policy.Owner{AccountID: h.Link.AccountID} }

// SetupLinkConfig returns the configuration the holder's link is for.
func (s *Service) SetupLinkConfig(ctx context.Context, h SetupLinkHolder) (SSOConfigView, error) {
	if h.p.Kind != gatehouse.ActorSetupLink {
		return SSOConfigView{}, ErrForbidden
	}
	v, err := s.SSOConfig(ctx, h.p, h.owner(), h.Link.ConfigID)
	if err != nil {
		return v, err
	}
	withLinkState(v.OIDC, h.Link.ID)
	if v.Pending != nil {
		withLinkState(v.Pending.OIDC, h.Link.ID)
	}
	return v, nil
}

// withLinkState points o's admin consent links back at setup link linkID:
// Entra ID returns the state, and the link's ID in it sends the holder,
// who administers nothing, back to the link's Test step rather than an
// admin's.
func withLinkState(o *OIDCView, linkID string) {
	if o == nil {
		return
	}
	for i, c := range o.AdminConsentURLs {
		u, err := url.Parse(c.URL)
		if err != nil {
			continue
		}
		q := u.Query()
		q.Set("state", linkID)
		u.RawQuery = q.Encode()
		o.AdminConsentURLs[i].URL = u.String()
	}
}

// activeHolder refuses a holder whose link is not active.
func activeHolder(h SetupLinkHolder) error {
	switch {
	case h.p.Kind != gatehouse.ActorSetupLink:
		return ErrForbidden
	case h.State != gatehouse.SetupLinkActive:
		return ErrSetupLinkUsed
	}
	return nil
}

// UpdateSSOConfigByLink edits the holder's configuration as
// UpdateSSOConfig does, audited with the link as the actor. An enabled
// configuration changes only as pending changes (see linkLanding).
func (s *Service) UpdateSSOConfigByLink(ctx context.Context, h SetupLinkHolder, in UpdateSSOConfigInput) (SSOConfigView, error) {
	if err := activeHolder(h); err != nil {
		return SSOConfigView{}, err
	}
	return s.UpdateSSOConfig(ctx, h.p, h.owner(), h.Link.ConfigID, in)
}

// ImportSSOMetadataByLink imports IdP metadata into the holder's
// configuration as ImportSSOMetadata does, audited with the link as the
// actor.
func (s *Service) ImportSSOMetadataByLink(ctx context.Context, h SetupLinkHolder, in MetadataInput) (SSOConfigView, error) {
	if err := activeHolder(h); err != nil {
		return SSOConfigView{}, err
	}
	return s.ImportSSOMetadata(ctx, h.p, h.owner(), h.Link.ConfigID, in)
}

// LiveThroughLinkError refuses an edit through a setup link that would
// change at once what an enabled configuration's sign-ins use (Fields,
// as the API names them): through a link, an enabled configuration
// changes only as pending changes, which an admin applies after they
// passed a Test. It matches ErrForbidden.
type LiveThroughLinkError struct{ Fields []string }

func (e *LiveThroughLinkError) Error() string {
	return "admin: through a setup link, " + strings.Join(e.Fields, ", ") + " of an enabled configuration cannot change at once; only an admin of the account can change them"
}

// Is makes errors.Is(err, ErrForbidden) true for a *LiveThroughLinkError.
func (e *LiveThroughLinkError) Is(target error) bool { return target == ErrForbidden }

// linkLanding is where an edit by p goes: a certificate added for a
// rollover is trusted at once only when an admin adds it; through a setup
// link it waits, as pending, for a Test and an admin's Apply, so that a
// leaked link can never make a key trusted by live sign-ins.
func linkLanding(p Principal, land landing) landing {
	if p.Kind == gatehouse.ActorSetupLink && land == landRollover {
		return landPending
	}
	return land
}

// linkMayStore refuses, for a setup link's holder, an edit of enabled
// configuration before that would store out with other live settings.
func linkMayStore(p Principal, before, out *gatehouse.SSOConfig) error {
	if p.Kind != gatehouse.ActorSetupLink || !before.Enabled {
		return nil
	}
	if changed := changedFields(before, out); len(changed) > 0 {
		return &LiveThroughLinkError{Fields: changed}
	}
	return nil
}
