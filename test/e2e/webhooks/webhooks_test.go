// Package e2ewebhooks is the end-to-end suite of Gatehouse's webhooks: the
// real gatehouse binary delivers events to receiver/receiver.mjs, which
// verifies each with npm standardwebhooks, the Standard Webhooks library.
package e2ewebhooks

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gatehouse/test/e2e/gatehouseproc"
)

const enableVar = "GATEHOUSE_E2E_WEBHOOKS"

func TestWebhooksVerifiedByStandardWebhooks(t *testing.T) {
	gatehouseproc.NodeSuite{EnableVar: enableVar, What: "Gatehouse's webhooks verified by npm standardwebhooks 1.1.1",
		Dir: "webhooks", App: "receiver", Packages: []string{"standardwebhooks"}}.RunOnBothDatabases(t, suite)
}

// received is what the receiver recorded of one delivery.
type received struct {
	ID               string `json:"id"`
	Verified         bool   `json:"verified"`
	Error            string `json:"error"`
	TamperedAccepted bool   `json:"tamperedAccepted"`
	OldAccepted      bool   `json:"oldAccepted"`
	Payload          struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		AccountID string `json:"account_id"`
		Data      struct {
			Action   string `json:"action"`
			Source   string `json:"source"`
			TargetID string `json:"target_id"`
		} `json:"data"`
	} `json:"payload"`
}

func suite(t *testing.T, bin, db string) {
	rcv := startReceiver(t)
	g := gatehouseproc.Serve(t, bin, db)
	ex := g.Seed(t, "Acme", gatehouseproc.Person{Email: "alice@acme.example", Name: "Alice"},
		gatehouseproc.Person{Email: "ada@acme.example", Name: "Ada", Password: "e2e-ada-password-0123"})
	var hook struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	hooks := "/api/v1/accounts/" + ex.AccountID + "/webhooks"
	g.Call(t, "POST", hooks, map[string]any{"url": rcv + "/gatehouse", "event_types": []string{"user.deprovisioned"}}, http.StatusCreated, &hook)
	post(t, rcv+"/_secret", hook.Secret)

	// Alice is disabled, then deleted: two deprovisionings.
	user := "/api/v1/accounts/" + ex.AccountID + "/users/" + ex.AliceID
	g.Call(t, "PATCH", user, map[string]any{"status": "disabled"}, http.StatusOK, nil)
	g.Call(t, "DELETE", user, nil, http.StatusNoContent, nil)
	disabled := g.LastAuditEvent(t, ex, "user.update", "success")

	var got []received
	deadline := time.Now().Add(45 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		got = results(t, rcv)
	}
	if len(got) != 2 {
		t.Fatalf("the receiver got %d deliveries in 45 s, want 2: %+v", len(got), got)
	}
	for _, r := range got {
		if !r.Verified || r.Error != "" {
			t.Errorf("standardwebhooks refused delivery %s: %s", r.ID, r.Error)
		}
		if r.TamperedAccepted || r.OldAccepted {
			t.Errorf("standardwebhooks accepted delivery %s tampered with (%v) or ten minutes old (%v)", r.ID, r.TamperedAccepted, r.OldAccepted)
		}
		if r.Payload.ID != r.ID || r.Payload.Type != "user.deprovisioned" || r.Payload.AccountID != ex.AccountID ||
			r.Payload.Data.Source != "admin" || r.Payload.Data.TargetID != ex.AliceID {
			t.Errorf("payload %+v", r.Payload)
		}
	}
	// Sent at once, they may arrive in either order.
	actions := map[string]string{got[0].Payload.Data.Action: got[0].ID, got[1].Payload.Data.Action: got[1].ID}
	if actions["user.update"] != disabled.ID || actions["user.delete"] == "" {
		t.Errorf("deliveries %v; want the disable %s and the delete", actions, disabled.ID)
	}

	var log struct {
		Items []struct {
			Status     string `json:"status"`
			AttemptLog []struct {
				StatusCode int `json:"status_code"`
			} `json:"attempt_log"`
		} `json:"items"`
	}
	g.Call(t, "GET", hooks+"/"+hook.ID+"/deliveries", nil, http.StatusOK, &log)
	if len(log.Items) != 2 {
		t.Fatalf("delivery log %+v", log)
	}
	for _, d := range log.Items {
		if d.Status != "delivered" || len(d.AttemptLog) != 1 || d.AttemptLog[0].StatusCode != http.StatusNoContent {
			t.Errorf("delivery log entry %+v", d)
		}
	}
}

// startReceiver runs receiver/receiver.mjs until the test ends and returns
// its URL.
func startReceiver(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", "receiver.mjs")
	cmd.Dir = "receiver"
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node receiver.mjs: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-lines:
		port, ok := strings.CutPrefix(line, "listening ")
		if !ok {
			t.Fatalf("receiver.mjs said %q", line)
		}
		return "http://127.0.0.1:" + port
	case <-time.After(30 * time.Second):
		t.Fatal("receiver.mjs did not start in 30 s")
	}
	return ""
}

func post(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}

func results(t *testing.T, rcv string) []received {
	t.Helper()
	resp, err := http.Get(rcv + "/_results")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []received
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("receiver results %s: %v", b, err)
	}
	return out
}
