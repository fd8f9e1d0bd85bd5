package gatehouseproc

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

// Person is someone the suites seed.
type Person struct{ Email, Name, Password string }

// Example is the seeded enterprise account.
type Example struct {
	AccountID, AliceID, AdaID string
}

// Seed creates, over the API, a partition, the enterprise account name,
// alice (a user, no password: she signs in through the IdP only) and ada
// (an admin with a password).
func (g *Server) Seed(t *testing.T, name string, alice, ada Person) Example {
	t.Helper()
	var obj struct {
		ID string `json:"id"`
	}
	g.Call(t, "POST", "/api/v1/partitions", map[string]any{"name": "E2E"}, http.StatusCreated, &obj)
	g.Call(t, "POST", "/api/v1/accounts", map[string]any{"partition_id": obj.ID, "name": name, "plan": "enterprise"}, http.StatusCreated, &obj)
	ex := Example{AccountID: obj.ID}
	g.AccountName = name
	users := "/api/v1/accounts/" + ex.AccountID + "/users"
	g.Call(t, "POST", users, map[string]any{"email": alice.Email, "display_name": alice.Name, "role": "user"}, http.StatusCreated, &obj)
	ex.AliceID = obj.ID
	g.Call(t, "POST", users, map[string]any{"email": ada.Email, "display_name": ada.Name, "role": "admin"}, http.StatusCreated, &obj)
	ex.AdaID = obj.ID
	g.Call(t, "POST", users+"/"+ex.AdaID+"/password", map[string]any{"password": ada.Password}, http.StatusNoContent, nil)
	return ex
}

// ConfigPath is the API path of the account's SSO configuration id.
func (ex Example) ConfigPath(id string) string {
	return "/api/v1/accounts/" + ex.AccountID + "/sso-configs/" + id
}

// AuditEvent is what the suites read of an audit event.
type AuditEvent struct {
	ID        string            `json:"id"`
	Action    string            `json:"action"`
	Outcome   string            `json:"outcome"`
	Reason    string            `json:"reason"`
	ActorType string            `json:"actor_type"`
	ActorID   string            `json:"actor_id"`
	TargetID  string            `json:"target_id"`
	Details   map[string]string `json:"details"`
}

// AuditEvents are the account's audit events of action with that outcome
// ("" for all).
func (g *Server) AuditEvents(t *testing.T, ex Example, action, outcome string) []AuditEvent {
	t.Helper()
	q := url.Values{"action": {action}, "limit": {"100"}}
	if outcome != "" {
		q.Set("outcome", outcome)
	}
	var l struct {
		Items []AuditEvent `json:"items"`
	}
	g.Call(t, "GET", "/api/v1/accounts/"+ex.AccountID+"/audit-events?"+q.Encode(), nil, http.StatusOK, &l)
	return l.Items
}

// LastAuditEvent is the newest audit event of action with that outcome.
func (g *Server) LastAuditEvent(t *testing.T, ex Example, action, outcome string) AuditEvent {
	t.Helper()
	evs := g.AuditEvents(t, ex, action, outcome)
	if len(evs) == 0 {
		t.Fatalf("no %s %s in the audit log", action, outcome)
	}
	newest := evs[0]
	for _, ev := range evs[1:] {
		if ev.ID > newest.ID {
			newest = ev
		}
	}
	return newest
}

var referenceRe = regexp.MustCompile(`Reference: <code class="reference">([^<]+)</code>`)

// Reference is the audit reference Gatehouse's page quotes, "" if none.
func (p Page) Reference() string {
	if m := referenceRe.FindStringSubmatch(p.Body); m != nil {
		return m[1]
	}
	return ""
}

// FailedAuditEvent is the failed audit event of action with ID ref, which
// must give a reason.
func (g *Server) FailedAuditEvent(t *testing.T, ex Example, action, ref string) AuditEvent {
	t.Helper()
	for _, ev := range g.AuditEvents(t, ex, action, "failure") {
		if ev.ID == ref {
			if ev.Reason == "" {
				t.Errorf("audit event %s has no reason", ev.ID)
			}
			return ev
		}
	}
	t.Fatalf("reference %s names no failed %s audit event", ref, action)
	return AuditEvent{}
}
