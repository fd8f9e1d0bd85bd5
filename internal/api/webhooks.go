package api

import (
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
)

// Webhooks (issue 16): an account's under /api/v1/accounts/{account_id}
// (its admins), the provider's under /api/v1 (super only). One set of
// handlers; ownerOf says whose.

func webhookRoutes(s *server) []route {
	var out []route
	for _, base := range []string{"/api/v1/accounts/{account_id}", "/api/v1"} {
		a, once := s.authed, s.idempotent
		out = append(out,
			route{"GET", base + "/webhooks", a(handleWebhookList(s))},
			route{"POST", base + "/webhooks", a(once(handleWebhookCreate(s)))},
			route{"GET", base + "/webhooks/{webhook_id}", a(handleWebhookGet(s))},
			route{"PATCH", base + "/webhooks/{webhook_id}", a(handleWebhookUpdate(s))},
			route{"DELETE", base + "/webhooks/{webhook_id}", a(handleWebhookDelete(s))},
			route{"POST", base + "/webhooks/{webhook_id}/secret", a(once(handleWebhookRotateSecret(s)))},
			route{"GET", base + "/webhooks/{webhook_id}/deliveries", a(handleWebhookDeliveries(s))},
			route{"POST", base + "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", a(handleWebhookRedeliver(s))},
		)
	}
	return out
}

// webhookWithSecret is a webhook as its creation or a secret rotation
// answers it: with the signing secret, shown this once.
type webhookWithSecret struct {
	gatehouse.Webhook
	Secret string `json:"secret"`
}

// webhookAccount is the account whose webhooks a request is about: ""
// for the provider's.
func webhookAccount(r *http.Request) string { return r.PathValue("account_id") }

func webhookLocation(r *http.Request, id string) string {
	if a := webhookAccount(r); a != "" {
		return "/api/v1/accounts/" + a + "/webhooks/" + id
	}
	return "/api/v1/webhooks/" + id
}

func handleWebhookList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.admin.Webhooks(r.Context(), who, webhookAccount(r), page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(h gatehouse.Webhook) string { return h.ID }))
		return nil
	}
}

func handleWebhookCreate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if _, err := s.admin.Webhooks(r.Context(), who, webhookAccount(r), gatehouse.Page{Limit: 1}); err != nil {
			return err
		}
		var req admin.WebhookInput
		if err := decode(w, r, &req); err != nil {
			return err
		}
		h, secret, err := s.admin.CreateWebhook(r.Context(), who, webhookAccount(r), req)
		if err != nil {
			return err
		}
		w.Header().Set("Location", webhookLocation(r, h.ID))
		writeJSON(w, http.StatusCreated, webhookWithSecret{Webhook: h, Secret: secret})
		return nil
	}
}

func handleWebhookGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		h, err := s.admin.Webhook(r.Context(), who, webhookAccount(r), r.PathValue("webhook_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, h)
		return nil
	}
}

func handleWebhookUpdate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		id := r.PathValue("webhook_id")
		if _, err := s.admin.Webhook(r.Context(), who, webhookAccount(r), id); err != nil {
			return err
		}
		var req admin.WebhookUpdate
		if err := decode(w, r, &req); err != nil {
			return err
		}
		h, err := s.admin.UpdateWebhook(r.Context(), who, webhookAccount(r), id, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, h)
		return nil
	}
}

func handleWebhookDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := s.admin.DeleteWebhook(r.Context(), who, webhookAccount(r), r.PathValue("webhook_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleWebhookRotateSecret(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		h, secret, err := s.admin.RotateWebhookSecret(r.Context(), who, webhookAccount(r), r.PathValue("webhook_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, webhookWithSecret{Webhook: h, Secret: secret})
		return nil
	}
}

func handleWebhookDeliveries(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.admin.WebhookDeliveries(r.Context(), who, webhookAccount(r), r.PathValue("webhook_id"), page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(d gatehouse.WebhookDelivery) string { return d.ID }))
		return nil
	}
}

func handleWebhookRedeliver(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		d, err := s.admin.RedeliverWebhook(r.Context(), who, webhookAccount(r), r.PathValue("webhook_id"), r.PathValue("delivery_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, d)
		return nil
	}
}
