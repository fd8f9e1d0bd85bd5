package gatehouse

import (
	"encoding/json"
	"time"
)

// Webhook is an endpoint that receives events (issue 16): an account's,
// which receives that account's events, or the provider's (AccountID
// empty), which receives every account's. EventTypes names the event types
// it wants; empty means all of them.
type Webhook struct {
	ID          string   `json:"id"`
	AccountID   string   `json:"account_id,omitempty"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	Enabled     bool     `json:"enabled"`
	// DisabledReason says why Gatehouse turned the webhook off (its
	// endpoint kept failing); empty when an admin did, or it is enabled.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// FailingSince is when the endpoint's current run of failed attempts
	// began; zero while it answers.
	FailingSince time.Time `json:"failing_since,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// SealedSecret is the signing secret sealed with the secret key; it is
	// never shown but once, when made.
	SealedSecret []byte `json:"-"`
}

// WebhookDeliveryStatus is where one event's delivery to one webhook stands.
type WebhookDeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   WebhookDeliveryStatus = "pending"
	DeliveryDelivered WebhookDeliveryStatus = "delivered"
	DeliveryFailed    WebhookDeliveryStatus = "failed"
)

// WebhookDelivery is one event on its way to one webhook, with its
// attempts: the delivery log.
type WebhookDelivery struct {
	ID        string                `json:"id"`
	WebhookID string                `json:"webhook_id"`
	EventID   string                `json:"event_id"`
	EventType string                `json:"event_type"`
	Status    WebhookDeliveryStatus `json:"status"`
	// Attempts counts the attempts made; NextAttemptAt is when the next is
	// due while the delivery is pending.
	Attempts      int              `json:"attempts"`
	NextAttemptAt time.Time        `json:"next_attempt_at,omitzero"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
	Payload       json.RawMessage  `json:"payload"`
	AttemptLog    []WebhookAttempt `json:"attempt_log"`
	// RetryBase is Attempts when a redelivery was last asked for: the
	// retry schedule counts from there.
	RetryBase int `json:"-"`
}

// WebhookAttempt is one try to send a delivery: what the endpoint answered
// (StatusCode, 0 when it did not), or ErrorClass when it could not be
// reached, how long it took, and when the next try is due (zero when none
// follows).
type WebhookAttempt struct {
	Attempt       int       `json:"attempt"`
	At            time.Time `json:"at"`
	StatusCode    int       `json:"status_code,omitempty"`
	ErrorClass    string    `json:"error_class,omitempty"`
	DurationMS    int64     `json:"duration_ms"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
}
