package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// setupLink is what an API user reads about a setup link.
type setupLink struct {
	ID        string    `json:"id"`
	ConfigID  string    `json:"config_id"`
	Label     string    `json:"label"`
	State     string    `json:"state"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	RevokedAt time.Time `json:"revoked_at"`
	URL       string    `json:"url"`
}

// TestSetupLinksAPI: an account's admin makes a setup link for one of its
// SSO configurations; the link's URL, with its secret, is in that answer
// only: never in the list, the database (only its SHA-256), the audit log
// or the server's log, not even when the link is followed. Revoking it
// lists it as revoked, once audited (issue 14, part 7).
func TestSetupLinksAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		c := f.acct
		cfg := f.create(c, f.a1.ID, completeBody(t, 0))
		links := f.configsPath(f.a1.ID) + "/" + cfg.ID + "/setup-links"

		made := decodeAs[setupLink](t, c.must(http.StatusCreated, "POST", links, `{"label":"  Jane, Okta admin "}`))
		u, err := url.Parse(made.URL)
		if err != nil {
			t.Fatal(err)
		}
		key := u.Query().Get("key")
		if u.Scheme+"://"+u.Host != f.base || u.Path != "/setup/"+made.ID || len(key) < 26 {
			t.Fatalf("link URL %q", made.URL)
		}
		if made.ConfigID != cfg.ID || made.Label != "Jane, Okta admin" || made.State != "active" || made.CreatedBy != c.tok.ID ||
			!made.ExpiresAt.Equal(made.CreatedAt.Add(7*24*time.Hour)) {
			t.Errorf("made %+v", made)
		}
		// The body may be left out.
		unlabelled := decodeAs[setupLink](t, c.must(http.StatusCreated, "POST", links, ""))
		if unlabelled.Label != "" || unlabelled.URL == "" || unlabelled.URL == made.URL {
			t.Errorf("made without a body: %+v", unlabelled)
		}

		listed := c.must(http.StatusOK, "GET", links, "")
		got := decodeAs[page[setupLink]](t, listed)
		if !equal(ids(got.Items, func(l setupLink) string { return l.ID }), []string{unlabelled.ID, made.ID}) {
			t.Errorf("listed %+v", got.Items)
		}
		if contains(string(listed.Body), key) || contains(string(listed.Body), `"url"`) {
			t.Errorf("the list shows the secret: %s", listed.Body)
		}
		var stored string
		if err := s.DB().QueryRow(`SELECT secret_hash FROM setup_links WHERE id = $1`, made.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(key))
		if stored != hex.EncodeToString(sum[:]) {
			t.Errorf("stored %q, want the SHA-256 of the secret", stored)
		}

		// Following the link through the whole server: its log names the
		// path, never the secret.
		logs := &lockedBuffer{}
		base, _ := url.Parse(f.base)
		full := app.New(app.Config{Store: s, Passwords: hasher, Now: s.Now, BaseURL: base, Secrets: f.box,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}).Handler
		w := httptest.NewRecorder()
		full.ServeHTTP(w, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/setup/"+made.ID+"/setup" || contains(w.Header().Get("Location"), key) {
			t.Errorf("following the link: %d to %q", w.Code, w.Header().Get("Location"))
		}
		if !contains(logs.String(), "/setup/"+made.ID) {
			t.Errorf("the request is not logged:\n%s", logs)
		}

		c.must(http.StatusNoContent, "DELETE", links+"/"+made.ID, "")
		c.must(http.StatusNoContent, "DELETE", links+"/"+made.ID, "")
		got = decodeAs[page[setupLink]](t, c.must(http.StatusOK, "GET", links, ""))
		if got.Items[1].ID != made.ID || got.Items[1].State != "revoked" || got.Items[1].RevokedAt.IsZero() || got.Items[0].State != "active" {
			t.Errorf("after revoking: %+v", got.Items)
		}

		evs := f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "setup_link."})
		var made2, revoked, opened int
		for _, e := range evs {
			switch e.Action {
			case gatehouse.ActionSetupLinkCreate:
				made2++
			case gatehouse.ActionSetupLinkRevoke:
				revoked++
				if e.ActorID != c.tok.ID || e.TargetID != cfg.ID || e.Details["setup_link"] != made.ID || e.Details["label"] != "Jane, Okta admin" {
					t.Errorf("revoke event %+v", e)
				}
			case gatehouse.ActionSetupLinkOpen:
				opened++
				if e.ActorType != gatehouse.ActorSetupLink || e.ActorID != made.ID {
					t.Errorf("open event %+v", e)
				}
			}
		}
		if made2 != 2 || revoked != 1 || opened != 1 {
			t.Errorf("audited %d made, %d revoked, %d opened: %+v", made2, revoked, opened, evs)
		}
		for where, text := range map[string]string{"audit log": auditText(t, s), "API log": f.logs.String(), "server log": logs.String()} {
			if strings.Contains(text, key) {
				t.Errorf("the %s holds the link's secret", where)
			}
		}
	})
}

// TestSetupLinksAPIRefusals: a label that is no one-line name, another
// account's configuration, a partition's token outside its partition, an
// unknown link and the secret used as an API token are all refused, and
// none of them makes a link.
func TestSetupLinksAPIRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		cfg := f.create(f.acct, f.a1.ID, completeBody(t, 0))
		other := f.create(f.super, f.b1.ID, completeBody(t, 1))
		links := f.configsPath(f.a1.ID) + "/" + cfg.ID + "/setup-links"

		if p := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "POST", links, `{"label":"Jane\nOkta"}`)); !equal(p.fields(), []string{"label"}) {
			t.Errorf("a two-line label: %+v", p)
		}
		f.acct.must(http.StatusNotFound, "POST", f.configsPath(f.b1.ID)+"/"+other.ID+"/setup-links", "")
		f.part.must(http.StatusNotFound, "GET", f.configsPath(f.b1.ID)+"/"+other.ID+"/setup-links", "")
		// Another configuration's ID under this account's path.
		f.acct.must(http.StatusNotFound, "POST", f.configsPath(f.a1.ID)+"/"+other.ID+"/setup-links", "")
		f.acct.must(http.StatusNotFound, "DELETE", links+"/sln_unknown", "")

		made := decodeAs[setupLink](t, f.part.must(http.StatusCreated, "POST", links, ""))
		// A link of b1's configuration is not a1's to revoke.
		theirs := decodeAs[setupLink](t, f.super.must(http.StatusCreated, "POST", f.configsPath(f.b1.ID)+"/"+other.ID+"/setup-links", ""))
		f.acct.must(http.StatusNotFound, "DELETE", links+"/"+theirs.ID, "")
		u, _ := url.Parse(made.URL)
		holder := client{t: t, h: f.h, token: u.Query().Get("key")}
		holder.must(http.StatusUnauthorized, "GET", f.configsPath(f.a1.ID), "")
		if got := decodeAs[page[setupLink]](t, f.acct.must(http.StatusOK, "GET", links, "")); len(got.Items) != 1 {
			t.Errorf("links after the refusals: %+v", got.Items)
		}
	})
}

// auditText is every stored audit event, as text.
func auditText(t *testing.T, s *store.Store) string {
	t.Helper()
	rows, err := s.DB().Query(`SELECT actor_id, reason, target_id, details FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var a, r, tg, d string
		if err := rows.Scan(&a, &r, &tg, &d); err != nil {
			t.Fatal(err)
		}
		b.WriteString(a + " " + r + " " + tg + " " + d + "\n")
	}
	return b.String()
}
