package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// count returns how many rows of table match where.
func (f *fixture) count(table, where string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.s.DB().QueryRow(`SELECT count(*) FROM `+table+` WHERE `+where, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// A create sent again with its Idempotency-Key gets the first answer,
// marked as a replay, and makes nothing more, for every kind of create.
func TestIdempotentCreatesAnswerRetriesWithTheFirstAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		acct := "/api/v1/accounts/" + f.a1.ID
		cases := []struct {
			name, path, body, table, where string
			c                              client
		}{
			{"partition", "/api/v1/partitions", `{"name":"Reseller Three"}`, "partitions", "name = 'Reseller Three'", f.super},
			{"account", "/api/v1/accounts", `{"partition_id":"` + f.p1.ID + `","name":"Umbrella","plan":"enterprise"}`, "accounts", "name = 'Umbrella'", f.part},
			{"user", acct + "/users", `{"email":"dana@acme.example","display_name":"Dana"}`, "users", "email = 'dana@acme.example'", f.acct},
			{"group", acct + "/groups", `{"name":"Sales"}`, "user_groups", "name = 'Sales'", f.acct},
			{"exemption list", acct + "/exemptions", `{"name":"Contractors","kind":"users","members":[]}`, "exemption_lists", "name = 'Contractors'", f.acct},
			{"sso configuration", acct + "/sso-configs", `{"protocol":"saml","preset":"generic_saml"}`, "sso_configs", "account_id = '" + f.a1.ID + "'", f.acct},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				key := "create-" + strings.ReplaceAll(tc.name, " ", "-")
				first := tc.c.do("POST", tc.path, tc.body, "Idempotency-Key", key)
				if first.Status != http.StatusCreated || first.Header.Get("Idempotent-Replayed") != "" {
					t.Fatalf("first: %d %v %s", first.Status, first.Header, first.Body)
				}
				again := tc.c.do("POST", tc.path, tc.body, "Idempotency-Key", key)
				if again.Status != http.StatusCreated || again.Header.Get("Idempotent-Replayed") != "true" {
					t.Fatalf("retry: %d %v %s", again.Status, again.Header, again.Body)
				}
				if !bytes.Equal(again.Body, first.Body) || again.Header.Get("Location") != first.Header.Get("Location") ||
					again.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
					t.Errorf("the retry's answer differs:\n%v %s\n%v %s", first.Header, first.Body, again.Header, again.Body)
				}
				if n := f.count(tc.table, tc.where); n != 1 {
					t.Errorf("%d rows made, want 1", n)
				}
				// The same key with another body is refused, and makes nothing.
				other := tc.c.do("POST", tc.path, strings.Replace(tc.body, "{", `{"unknown_field":1,`, 1), "Idempotency-Key", key)
				if p := problemOf(t, other); other.Status != http.StatusUnprocessableEntity || !contains(p.Detail, "another request") {
					t.Errorf("another body with the key: %d %+v", other.Status, p)
				}
				if n := f.count(tc.table, tc.where); n != 1 {
					t.Errorf("%d rows after another body, want 1", n)
				}
			})
		}
	})
}

// Requests sent at once with one key make one resource: the others are
// told the first still runs (409) or get its answer.
func TestIdempotencyKeyRunsConcurrentRequestsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := "/api/v1/accounts/" + f.a1.ID + "/groups"
		const n = 8
		var wg sync.WaitGroup
		answers := make([]response, n)
		for i := range n {
			wg.Go(func() { answers[i] = f.acct.do("POST", path, `{"name":"Racers"}`, "Idempotency-Key", "race") })
		}
		wg.Wait()
		created, replayed, busy := 0, 0, 0
		for _, a := range answers {
			switch {
			case a.Status == http.StatusCreated && a.Header.Get("Idempotent-Replayed") == "":
				created++
			case a.Status == http.StatusCreated:
				replayed++
			case a.Status == http.StatusConflict && contains(problemOf(t, a).Detail, "still running"):
				busy++
			default:
				t.Errorf("answer %d %s", a.Status, a.Body)
			}
		}
		if created != 1 || created+replayed+busy != n {
			t.Errorf("%d created, %d replayed, %d told to wait; want exactly one created", created, replayed, busy)
		}
		if got := f.count("user_groups", "name = 'Racers'"); got != 1 {
			t.Errorf("%d groups made, want 1", got)
		}
	})
}

// A secret shown once (a SCIM token) is shown again by a replay, and is
// never stored in clear for it.
func TestIdempotentReplayKeepsSecretsSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := "/api/v1/accounts/" + f.a1.ID + "/scim-tokens"
		first := f.acct.do("POST", path, `{"name":"Entra ID"}`, "Idempotency-Key", "scim-1")
		token, _ := decodeAs[map[string]any](t, first)["token"].(string)
		if first.Status != http.StatusCreated || token == "" {
			t.Fatalf("create: %d %s", first.Status, first.Body)
		}
		again := f.acct.do("POST", path, `{"name":"Entra ID"}`, "Idempotency-Key", "scim-1")
		if again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Contains(again.Body, []byte(token)) {
			t.Errorf("the replay lacks the token: %d %s", again.Status, again.Body)
		}
		if n := f.count("scim_tokens", "account_id = $1", f.a1.ID); n != 1 {
			t.Errorf("%d SCIM tokens, want 1", n)
		}
		// A webhook's signing secret, shown once, likewise.
		hooks := "/api/v1/accounts/" + f.a1.ID + "/webhooks"
		hook := f.acct.do("POST", hooks, `{"url":"https://hooks.example.com/gatehouse"}`, "Idempotency-Key", "hook-1")
		secret, _ := decodeAs[map[string]any](t, hook)["secret"].(string)
		if hook.Status != http.StatusCreated || !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("webhook create: %d %s", hook.Status, hook.Body)
		}
		hookAgain := f.acct.do("POST", hooks, `{"url":"https://hooks.example.com/gatehouse"}`, "Idempotency-Key", "hook-1")
		if hookAgain.Header.Get("Idempotent-Replayed") != "true" || !bytes.Contains(hookAgain.Body, []byte(secret)) {
			t.Errorf("the webhook replay lacks the secret: %d %s", hookAgain.Status, hookAgain.Body)
		}
		if n := f.count("webhooks", "account_id = $1", f.a1.ID); n != 1 {
			t.Errorf("%d webhooks, want 1", n)
		}
		rows, err := s.DB().Query(`SELECT principal, idem_key, fingerprint, answer FROM idempotency_keys`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		kept := 0
		for rows.Next() {
			var principal, key, fp string
			var answer []byte
			if err := rows.Scan(&principal, &key, &fp, &answer); err != nil {
				t.Fatal(err)
			}
			kept++
			if bytes.Contains(answer, []byte(token)) || bytes.Contains(answer, []byte("Entra ID")) || bytes.Contains(answer, []byte(secret)) ||
				bytes.Contains(answer, []byte("hooks.example.com")) || len(answer) == 0 {
				t.Errorf("the kept answer is not sealed: %q", answer)
			}
		}
		if kept != 2 {
			t.Errorf("%d keys kept, want 2", kept)
		}
	})
}

// Keys belong to the token that sent them: another token's same key is
// another request.
func TestIdempotencyKeysOfOtherTokensDoNotCollide(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := "/api/v1/accounts/" + f.a1.ID + "/groups"
		a := f.acct.do("POST", path, `{"name":"Ops"}`, "Idempotency-Key", "shared")
		b := f.part.do("POST", path, `{"name":"Dev"}`, "Idempotency-Key", "shared")
		if a.Status != http.StatusCreated || b.Status != http.StatusCreated || b.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("answers %d %s / %d %v %s", a.Status, a.Body, b.Status, b.Header, b.Body)
		}
		if n := f.count("user_groups", "name IN ('Ops', 'Dev')"); n != 2 {
			t.Errorf("%d groups, want 2", n)
		}
	})
}

// A key lasts 24 hours: then the same request runs again, and the sweep
// removes what was kept.
func TestIdempotencyKeysExpireAfter24Hours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := "/api/v1/accounts/" + f.a1.ID + "/users"
		body := `{"email":"erin@acme.example","display_name":"Erin"}`
		f.acct.do("POST", path, body, "Idempotency-Key", "erin")
		clock := s.Now
		var later time.Duration
		s.Now = func() time.Time { return clock().Add(later) }

		later = 23*time.Hour + 59*time.Minute
		if res := f.acct.do("POST", path, body, "Idempotency-Key", "erin"); res.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("before 24 hours: %d %v %s", res.Status, res.Header, res.Body)
		}
		if n, err := s.DeleteExpiredIdempotencyKeys(context.Background(), s.Now()); err != nil || n != 0 {
			t.Errorf("the sweep before 24 hours deleted %d (%v)", n, err)
		}

		later = 24*time.Hour + time.Second
		// The first user is still there: the request runs, and is refused
		// as a duplicate email, which is not kept.
		res := f.acct.do("POST", path, body, "Idempotency-Key", "erin")
		if res.Status != http.StatusConflict || res.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("after 24 hours: %d %v %s", res.Status, res.Header, res.Body)
		}
		f.acct.do("POST", path, `{"email":"finn@acme.example","display_name":"Finn"}`, "Idempotency-Key", "finn")
		later = 49 * time.Hour
		if n, err := s.DeleteExpiredIdempotencyKeys(context.Background(), s.Now()); err != nil || n != 1 {
			t.Errorf("the sweep after 24 hours deleted %d (%v), want 1", n, err)
		}
		if n := f.count("idempotency_keys", "1 = 1"); n != 0 {
			t.Errorf("%d keys left after the sweep", n)
		}
	})
}

// Which answers a key keeps: a success and a malformed request (400) are
// answered again; a refusal that depends on what is stored (422, 409)
// frees the key, so the same request runs again.
func TestIdempotencyKeepsOnlyAnswersARetryWouldGetAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := "/api/v1/accounts/" + f.a1.ID + "/groups"
		cases := []struct {
			name, body string
			status     int
			kept       bool
		}{
			{"malformed JSON", `{"name":`, http.StatusBadRequest, true},
			{"invalid field", `{"name":""}`, http.StatusUnprocessableEntity, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				first := f.acct.do("POST", path, tc.body, "Idempotency-Key", tc.name)
				again := f.acct.do("POST", path, tc.body, "Idempotency-Key", tc.name)
				if first.Status != tc.status || again.Status != tc.status {
					t.Fatalf("answers %d, %d; want %d", first.Status, again.Status, tc.status)
				}
				if replayed := again.Header.Get("Idempotent-Replayed") == "true"; replayed != tc.kept {
					t.Errorf("replayed %v, want %v", replayed, tc.kept)
				}
			})
		}
	})
}

// A key must be one value of 1 to 255 printable ASCII characters; a bad
// one is refused before anything runs.
func TestIdempotencyKeyMustBeWellFormed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := "/api/v1/accounts/" + f.a1.ID + "/groups"
		for _, key := range []string{`""`, strings.Repeat("k", 256), "caf\u00e9", "tab\there"} {
			res := f.acct.do("POST", path, `{"name":"Bad keys"}`, "Idempotency-Key", key)
			if p := problemOf(t, res); res.Status != http.StatusBadRequest || !equal(p.fields(), []string{"Idempotency-Key"}) {
				t.Errorf("key %q: %d %+v", key, res.Status, p)
			}
		}
		// The IETF draft's quoted form names the same key as the bare one.
		first := f.acct.do("POST", path, `{"name":"Quoted"}`, "Idempotency-Key", `"q-1"`)
		again := f.acct.do("POST", path, `{"name":"Quoted"}`, "Idempotency-Key", "q-1")
		if first.Status != http.StatusCreated || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("quoted then bare: %d, %d %v", first.Status, again.Status, again.Header)
		}
		if n := f.count("user_groups", "name = 'Bad keys'"); n != 0 {
			t.Errorf("%d groups made with bad keys", n)
		}
	})
}
