package webhook_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/webhook"
)

func TestClassify(t *testing.T) {
	ok, fail := gatehouse.OutcomeSuccess, gatehouse.OutcomeFailure
	for _, tc := range []struct {
		action  gatehouse.AuditAction
		outcome gatehouse.Outcome
		details map[string]string
		want    string // "" when no event
	}{
		{gatehouse.ActionSignInPassword, fail, nil, webhook.SignInFailed},
		{gatehouse.ActionSignInSAML, fail, nil, webhook.SignInFailed},
		{gatehouse.ActionSignInOIDC, ok, nil, ""},
		{gatehouse.ActionSSOConfigCreate, ok, nil, webhook.SSOConfigChanged},
		{gatehouse.ActionSSOConfigUpdate, ok, nil, webhook.SSOConfigChanged},
		{gatehouse.ActionSSOConfigMetadataImport, ok, nil, webhook.SSOConfigChanged},
		{gatehouse.ActionSSOConfigSPKeyRotate, ok, nil, webhook.SSOConfigChanged},
		{gatehouse.ActionSSOConfigPendingApply, ok, nil, webhook.SSOConfigChanged},
		{gatehouse.ActionSSOConfigPendingDiscard, ok, nil, webhook.SSOConfigChanged},
		{gatehouse.ActionSSOConfigDelete, ok, nil, webhook.SSOConfigChanged},
		{gatehouse.ActionSSOConfigUpdate, fail, nil, ""}, // a refused edit changed nothing
		{gatehouse.ActionSSOConfigTest, ok, nil, ""},
		{gatehouse.ActionSSOConfigEnable, ok, nil, webhook.SSOConfigEnabled},
		{gatehouse.ActionSSOConfigEnable, fail, nil, ""},
		{gatehouse.ActionSSOConfigDisable, ok, nil, webhook.SSOConfigDisabled},
		{gatehouse.ActionBreakGlass, ok, nil, webhook.BreakGlass},
		{gatehouse.ActionSSOConfigCertificateExpiring, ok, nil, webhook.CertificateExpiring},
		{gatehouse.ActionSSOConfigMetadataRefresh, fail, nil, webhook.MetadataRefreshFailed},
		{gatehouse.ActionSSOConfigMetadataRefresh, ok, nil, ""},
		{gatehouse.ActionUserUpdate, ok, map[string]string{"changed": "status", "status": "disabled"}, webhook.UserDeprovisioned},
		{gatehouse.ActionUserUpdate, ok, map[string]string{"changed": "status", "status": "active"}, ""},
		{gatehouse.ActionUserUpdate, ok, map[string]string{"changed": "display_name"}, ""},
		{gatehouse.ActionUserDelete, ok, nil, webhook.UserDeprovisioned},
		{gatehouse.ActionUserCreate, ok, nil, ""},
		{gatehouse.ActionWebhookCreate, ok, nil, ""},
	} {
		got, isEvent := webhook.Classify(gatehouse.AuditEvent{Action: tc.action, Outcome: tc.outcome, Details: tc.details})
		if !isEvent {
			got = ""
		}
		if got != tc.want {
			t.Errorf("%s (%s, %v): event %q, want %q", tc.action, tc.outcome, tc.details, got, tc.want)
		}
		// The outbox reads only the actions Actions lists, and sign-ins.
		if tc.want != "" && !strings.HasPrefix(string(tc.action), gatehouse.SignInActionPrefix) && !contains(webhook.Actions(), string(tc.action)) {
			t.Errorf("%s is an event but not in Actions()", tc.action)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestReceives(t *testing.T) {
	created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	event := gatehouse.AuditEvent{AccountID: "acct_a", Time: created.Add(time.Minute)}
	for _, tc := range []struct {
		name string
		hook gatehouse.Webhook
		typ  string
		e    gatehouse.AuditEvent
		want bool
	}{
		{"the account's own webhook", gatehouse.Webhook{AccountID: "acct_a", Enabled: true, CreatedAt: created}, webhook.SSOConfigDisabled, event, true},
		{"another account's webhook", gatehouse.Webhook{AccountID: "acct_b", Enabled: true, CreatedAt: created}, webhook.SSOConfigDisabled, event, false},
		{"the provider's webhook", gatehouse.Webhook{Enabled: true, CreatedAt: created}, webhook.SSOConfigDisabled, event, true},
		{"a partition's event reaches the provider", gatehouse.Webhook{Enabled: true, CreatedAt: created}, webhook.SSOConfigChanged,
			gatehouse.AuditEvent{PartitionID: "part_1", Time: event.Time}, true},
		{"a partition's event is no account's", gatehouse.Webhook{AccountID: "acct_a", Enabled: true, CreatedAt: created}, webhook.SSOConfigChanged,
			gatehouse.AuditEvent{PartitionID: "part_1", Time: event.Time}, false},
		{"disabled", gatehouse.Webhook{AccountID: "acct_a", CreatedAt: created}, webhook.SSOConfigDisabled, event, false},
		{"made after the event", gatehouse.Webhook{AccountID: "acct_a", Enabled: true, CreatedAt: event.Time.Add(time.Second)}, webhook.SSOConfigDisabled, event, false},
		{"subscribed to the type", gatehouse.Webhook{AccountID: "acct_a", Enabled: true, CreatedAt: created,
			EventTypes: []string{webhook.BreakGlass, webhook.SSOConfigDisabled}}, webhook.SSOConfigDisabled, event, true},
		{"not subscribed to the type", gatehouse.Webhook{AccountID: "acct_a", Enabled: true, CreatedAt: created,
			EventTypes: []string{webhook.BreakGlass}}, webhook.SSOConfigDisabled, event, false},
	} {
		if got := webhook.Receives(tc.hook, tc.typ, tc.e); got != tc.want {
			t.Errorf("%s: receives %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRetrySchedule(t *testing.T) {
	// With no jitter (0.5), the documented schedule.
	want := []time.Duration{30 * time.Second, 2 * time.Minute, 8 * time.Minute, 32 * time.Minute, 128 * time.Minute, 8 * time.Hour, 8 * time.Hour}
	var total time.Duration
	for n := 1; n < webhook.MaxAttempts; n++ {
		got, ok := webhook.RetryAfter(n, 0.5)
		if !ok || got != want[n-1] {
			t.Errorf("after attempt %d: wait %v (%v), want %v", n, got, ok, want[n-1])
		}
		total += got
		// Jitter moves a wait by at most a fifth either way.
		lo, _ := webhook.RetryAfter(n, 0)
		hi, _ := webhook.RetryAfter(n, 0.999999)
		if lo < want[n-1]*4/5 || hi > want[n-1]*6/5 || lo >= hi {
			t.Errorf("after attempt %d: jitter range %v..%v", n, lo, hi)
		}
	}
	if _, ok := webhook.RetryAfter(webhook.MaxAttempts, 0.5); ok {
		t.Errorf("attempt %d is followed by another; it must be the last", webhook.MaxAttempts)
	}
	if total < 18*time.Hour || total > 20*time.Hour {
		t.Errorf("the schedule spans %v; the README says about 19 hours", total)
	}
}

func TestShouldDisable(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		since time.Time
		want  bool
	}{
		{time.Time{}, false},
		{now.Add(-time.Hour), false},
		{now.Add(-webhook.DisableAfter + time.Minute), false},
		{now.Add(-webhook.DisableAfter), true},
		{now.Add(-30 * 24 * time.Hour), true},
	} {
		if got := webhook.ShouldDisable(tc.since, now); got != tc.want {
			t.Errorf("failing since %v: disable %v, want %v", tc.since, got, tc.want)
		}
	}
}

// TestSignStandardWebhooksVector: the signature of the Standard Webhooks
// specification's example, which its libraries test against.
func TestSignStandardWebhooksVector(t *testing.T) {
	key, err := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := webhook.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestNewSecret(t *testing.T) {
	key, shown := webhook.NewSecret()
	b64, ok := strings.CutPrefix(shown, "whsec_")
	if !ok {
		t.Fatalf("secret %q does not start with whsec_", shown)
	}
	dec, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || string(dec) != string(key) || len(key) != 32 {
		t.Errorf("secret %q does not hold the 32-byte key", shown)
	}
	if _, again := webhook.NewSecret(); again == shown {
		t.Error("two secrets are the same")
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://hooks.example.com/gatehouse", false, true},
		{"https://hooks.example.com:8443/in?team=sec", false, true},
		{"http://hooks.example.com/gatehouse", false, false},
		{"http://hooks.example.com/gatehouse", true, false}, // http only to loopback
		{"http://127.0.0.1:9000/hook", false, false},
		{"http://127.0.0.1:9000/hook", true, true},
		{"http://[::1]:9000/hook", true, true},
		{"http://localhost:9000/hook", true, true},
		{"ftp://hooks.example.com/", false, false},
		{"https://user:pw@hooks.example.com/", false, false},
		{"https://hooks.example.com/#frag", false, false},
		{"/relative", false, false},
		{"", false, false},
		{"https://" + strings.Repeat("a", webhook.MaxURLLength) + ".example.com/", false, false},
	} {
		_, err := webhook.CheckURL(tc.url, tc.allowPrivate)
		if (err == nil) != tc.ok {
			t.Errorf("%q (allow private %v): error %v, want ok %v", tc.url, tc.allowPrivate, err, tc.ok)
		}
		if err != nil && !errors.Is(err, webhook.ErrURL) {
			t.Errorf("%q: error %v is not ErrURL", tc.url, err)
		}
	}
}

func TestPayload(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 0, 0, 0, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name       string
		e          gatehouse.AuditEvent
		typ        string
		wantSource string
	}{
		{"SCIM deprovisioning", gatehouse.AuditEvent{ActorType: gatehouse.ActorToken, ActorID: gatehouse.SCIMTokenIDPrefix + "_01abc"}, webhook.UserDeprovisioned, "scim"},
		{"an admin's", gatehouse.AuditEvent{ActorType: gatehouse.ActorToken, ActorID: "tok_01abc"}, webhook.UserDeprovisioned, "admin"},
		{"not a deprovisioning", gatehouse.AuditEvent{ActorType: gatehouse.ActorAnonymous}, webhook.SignInFailed, ""},
	} {
		e := tc.e
		e.ID, e.Time, e.AccountID, e.Action, e.Outcome = "evt_1", at, "acct_a", gatehouse.ActionUserUpdate, gatehouse.OutcomeSuccess
		e.Details = map[string]string{"status": "disabled", "client_secret": "s3cret", "password": "hunter2", "token": "gh_x", "email": "a@example.com"}
		var got map[string]any
		if err := json.Unmarshal(webhook.NewPayload(tc.typ, e).Body(), &got); err != nil {
			t.Fatal(err)
		}
		body := string(webhook.NewPayload(tc.typ, e).Body())
		for _, secret := range []string{"s3cret", "hunter2", "gh_x"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s: the payload carries a secret: %s", tc.name, body)
			}
		}
		data := got["data"].(map[string]any)
		if got["id"] != "evt_1" || got["type"] != tc.typ || got["timestamp"] != "2026-12-06T07:00:00Z" || got["account_id"] != "acct_a" ||
			data["details"].(map[string]any)["email"] != "a@example.com" {
			t.Errorf("%s: payload %s", tc.name, body)
		}
		if src, _ := data["source"].(string); src != tc.wantSource {
			t.Errorf("%s: source %q, want %q", tc.name, src, tc.wantSource)
		}
	}
}

func TestCleanEventTypes(t *testing.T) {
	got, err := webhook.CleanEventTypes([]string{" sso.break_glass", "signin.failed", "sso.break_glass"})
	if err != nil || strings.Join(got, ",") != "sso.break_glass,signin.failed" {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := webhook.CleanEventTypes([]string{"signin.success"}); err == nil {
		t.Error("an unknown type is accepted")
	}
	if got, err := webhook.CleanEventTypes(nil); err != nil || len(got) != 0 {
		t.Errorf("no types: %v, %v", got, err)
	}
}
