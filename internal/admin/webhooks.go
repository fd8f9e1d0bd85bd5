package admin

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/metadatafetch"
	"gatehouse/internal/webhook"
)

// Webhooks (issue 16): an account's admins manage their account's
// (accountID set), super admins the provider's (accountID empty), which
// receive every account's events. The signing secret is shown once, when
// made or rotated, and kept sealed.

// maxWebhookDescription bounds a webhook's description, in characters.
const maxWebhookDescription = 200

// WebhookInput is a new webhook. EventTypes empty means every type;
// Enabled nil means enabled.
type WebhookInput struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	Enabled     *bool    `json:"enabled"`
}

// WebhookUpdate changes a webhook; nil fields stay as they are.
type WebhookUpdate struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	EventTypes  *[]string `json:"event_types"`
	Enabled     *bool     `json:"enabled"`
}

// webhookOwner checks that p may manage the webhooks of account accountID
// (reached as Account does), or the provider's when it is empty (super
// only), and returns the account (zero for the provider).
func (s *Service) webhookOwner(ctx context.Context, p Principal, accountID string) (gatehouse.Account, error) {
	if accountID != "" {
		return s.Account(ctx, p, accountID)
	}
	if !p.IsAdmin() {
		return gatehouse.Account{}, ErrForbidden
	}
	return gatehouse.Account{}, superOnly(p, "manage the provider's webhooks")
}

// Webhooks lists one page of account accountID's webhooks (the provider's
// when empty).
func (s *Service) Webhooks(ctx context.Context, p Principal, accountID string, page gatehouse.Page) ([]gatehouse.Webhook, error) {
	if _, err := s.webhookOwner(ctx, p, accountID); err != nil {
		return nil, err
	}
	return s.store.ListWebhooks(ctx, accountID, page)
}

// Webhook loads webhook id of account accountID (the provider's when
// empty); one of another owner is answered as missing.
func (s *Service) Webhook(ctx context.Context, p Principal, accountID, id string) (gatehouse.Webhook, error) {
	_, h, err := s.webhook(ctx, p, accountID, id)
	return h, err
}

func (s *Service) webhook(ctx context.Context, p Principal, accountID, id string) (gatehouse.Account, gatehouse.Webhook, error) {
	a, err := s.webhookOwner(ctx, p, accountID)
	if err != nil {
		return a, gatehouse.Webhook{}, err
	}
	h, err := s.store.Webhook(ctx, id)
	if err != nil {
		return a, h, err
	}
	if h.AccountID != accountID {
		return a, gatehouse.Webhook{}, ErrHidden
	}
	return a, h, nil
}

// CreateWebhook makes a webhook with a new signing secret, returned here
// once ("whsec_…").
func (s *Service) CreateWebhook(ctx context.Context, p Principal, accountID string, in WebhookInput) (gatehouse.Webhook, string, error) {
	a, err := s.webhookOwner(ctx, p, accountID)
	if err != nil {
		return gatehouse.Webhook{}, "", err
	}
	if s.secrets == nil {
		return gatehouse.Webhook{}, "", ErrNotConfigured
	}
	v := &gatehouse.ValidationError{}
	h := gatehouse.Webhook{AccountID: accountID, Enabled: in.Enabled == nil || *in.Enabled}
	h.URL = s.checkWebhookURL(ctx, v, in.URL)
	h.Description = cleanWebhookDescription(v, in.Description)
	h.EventTypes = cleanEventTypes(v, in.EventTypes)
	if err := v.Err(); err != nil {
		return gatehouse.Webhook{}, "", err
	}
	key, shown := webhook.NewSecret()
	h.SealedSecret = s.secrets.Seal(webhook.SealPurpose, key)
	if err := s.store.CreateWebhook(ctx, &h); err != nil {
		return gatehouse.Webhook{}, "", err
	}
	s.Record(ctx, p, webhookEvent(gatehouse.ActionWebhookCreate, a, h, map[string]string{
		"url": metadatafetch.RedactURL(h.URL), "event_types": typesDetail(h.EventTypes), "enabled": boolDetail(h.Enabled)}))
	return h, shown, nil
}

// UpdateWebhook changes webhook id as in says. Enabling a webhook that
// Gatehouse turned off clears its failures.
func (s *Service) UpdateWebhook(ctx context.Context, p Principal, accountID, id string, in WebhookUpdate) (gatehouse.Webhook, error) {
	a, h, err := s.webhook(ctx, p, accountID, id)
	if err != nil {
		return gatehouse.Webhook{}, err
	}
	v := &gatehouse.ValidationError{}
	next := h
	if in.URL != nil {
		next.URL = s.checkWebhookURL(ctx, v, *in.URL)
	}
	if in.Description != nil {
		next.Description = cleanWebhookDescription(v, *in.Description)
	}
	if in.EventTypes != nil {
		next.EventTypes = cleanEventTypes(v, *in.EventTypes)
	}
	if in.Enabled != nil {
		next.Enabled = *in.Enabled
		if !next.Enabled {
			next.DisabledReason = ""
		}
	}
	if err := v.Err(); err != nil {
		return gatehouse.Webhook{}, err
	}
	var ch changes
	ch.noteValue("url", next.URL != h.URL, metadatafetch.RedactURL(next.URL))
	ch.note("description", next.Description != h.Description)
	ch.noteValue("event_types", !slices.Equal(next.EventTypes, h.EventTypes), typesDetail(next.EventTypes))
	ch.noteValue("enabled", next.Enabled != h.Enabled, boolDetail(next.Enabled))
	if ch.none() {
		return h, nil
	}
	if err := s.store.UpdateWebhook(ctx, &next); err != nil {
		return gatehouse.Webhook{}, err
	}
	s.Record(ctx, p, webhookEvent(gatehouse.ActionWebhookUpdate, a, next, ch.details()))
	return next, nil
}

// RotateWebhookSecret gives webhook id a new signing secret, returned here
// once; deliveries from now on are signed with it alone.
func (s *Service) RotateWebhookSecret(ctx context.Context, p Principal, accountID, id string) (gatehouse.Webhook, string, error) {
	a, h, err := s.webhook(ctx, p, accountID, id)
	if err != nil {
		return gatehouse.Webhook{}, "", err
	}
	if s.secrets == nil {
		return gatehouse.Webhook{}, "", ErrNotConfigured
	}
	key, shown := webhook.NewSecret()
	h.SealedSecret = s.secrets.Seal(webhook.SealPurpose, key)
	if err := s.store.UpdateWebhook(ctx, &h); err != nil {
		return gatehouse.Webhook{}, "", err
	}
	s.Record(ctx, p, webhookEvent(gatehouse.ActionWebhookUpdate, a, h, map[string]string{"changed": "secret"}))
	return h, shown, nil
}

// DeleteWebhook deletes webhook id and its delivery log.
func (s *Service) DeleteWebhook(ctx context.Context, p Principal, accountID, id string) error {
	a, h, err := s.webhook(ctx, p, accountID, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(ctx, h.ID); err != nil {
		return err
	}
	s.Record(ctx, p, webhookEvent(gatehouse.ActionWebhookDelete, a, h, map[string]string{"url": metadatafetch.RedactURL(h.URL)}))
	return nil
}

// WebhookDeliveries lists one page of webhook id's delivery log, newest
// first.
func (s *Service) WebhookDeliveries(ctx context.Context, p Principal, accountID, id string, page gatehouse.Page) ([]gatehouse.WebhookDelivery, error) {
	if _, _, err := s.webhook(ctx, p, accountID, id); err != nil {
		return nil, err
	}
	return s.store.WebhookDeliveries(ctx, id, page)
}

// RedeliverWebhook sends delivery deliveryID of webhook id again, now,
// with the retry schedule from its start (audited as an update of the
// webhook naming the delivery).
func (s *Service) RedeliverWebhook(ctx context.Context, p Principal, accountID, id, deliveryID string) (gatehouse.WebhookDelivery, error) {
	a, h, err := s.webhook(ctx, p, accountID, id)
	if err != nil {
		return gatehouse.WebhookDelivery{}, err
	}
	if err := s.store.RedeliverWebhookDelivery(ctx, h.ID, deliveryID, s.now()); err != nil {
		return gatehouse.WebhookDelivery{}, err
	}
	s.Record(ctx, p, webhookEvent(gatehouse.ActionWebhookUpdate, a, h, map[string]string{"redelivered": deliveryID}))
	return s.store.WebhookDelivery(ctx, h.ID, deliveryID)
}

// checkWebhookURL reads an endpoint URL (webhook.CheckURL) and refuses a
// host that is, or resolves to, an address Gatehouse does not connect to
// on an admin's behalf (SECURITY.md A-webhook-ssrf); the dispatcher checks
// again on the address it dials, so a name that resolves elsewhere later
// gains nothing. A name that does not resolve now is accepted: its
// deliveries fail, and say so, until it does.
func (s *Service) checkWebhookURL(ctx context.Context, v *gatehouse.ValidationError, raw string) string {
	u, err := webhook.CheckURL(raw, s.allowPrivate)
	if err != nil {
		v.Add("url", strings.TrimPrefix(err.Error(), webhook.ErrURL.Error()+": "))
		return ""
	}
	host := u.Hostname()
	addrs := []netip.Addr{}
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = append(addrs, a)
	} else {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		found, err := s.dns.LookupNetIP(lctx, "ip", host)
		if err == nil {
			addrs = found
		}
	}
	for _, a := range addrs {
		if err := metadatafetch.RefuseAddress(a, s.allowPrivate); err != nil {
			var msg strings.Builder
			msg.WriteString(err.Error())
			if errors.Is(err, metadatafetch.ErrAddressRefused) && a.String() != host {
				msg.WriteString(" (" + host + " resolves to it)")
			}
			v.Add("url", msg.String())
			return ""
		}
	}
	return u.String()
}

func cleanWebhookDescription(v *gatehouse.ValidationError, d string) string {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > maxWebhookDescription {
		v.Add("description", "must be at most 200 characters")
	}
	return d
}

func cleanEventTypes(v *gatehouse.ValidationError, types []string) []string {
	out, err := webhook.CleanEventTypes(types)
	if err != nil {
		v.Add("event_types", err.Error())
	}
	return out
}

func typesDetail(types []string) string {
	if len(types) == 0 {
		return "all"
	}
	return strings.Join(types, ",")
}

func boolDetail(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func webhookEvent(action gatehouse.AuditAction, a gatehouse.Account, h gatehouse.Webhook, details map[string]string) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{Action: action, AccountID: a.ID, PartitionID: a.PartitionID, TargetType: "webhook", TargetID: h.ID, Details: details}
}
