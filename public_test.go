package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

// The running bot serves its incidents as a feed and its states as JSON to
// anyone, without the admin token, in the channel's language. (How entries
// follow an outage is ops' tests' business: here the database holds one
// before the bot starts, so that the detector's pace does not matter.)
func TestPublicEndpoints(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	wa, ig := newMeta(t), newMeta(t)
	dbPath := filepath.Join(t.TempDir(), "outagebot.db")
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start503 := time.Date(2026, 3, 5, 11, 30, 0, 0, time.UTC)
	if err := db.Commit(nil, []checks.Transition{{Service: "whatsapp", From: checks.Operational, To: checks.Down, At: start503,
		Evidence: []checks.Result{{Probe: "web", Class: checks.ClassHTTP5xx, Detail: "HTTP 503"}}}}, false); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TELEGRAM_TOKEN":         token,
		"TELEGRAM_API_URL":       tg.URL,
		"OUTAGEBOT_DB":           dbPath,
		"OUTAGEBOT_CONFIG":       writeConfig(t, wa.URL, ig.URL, ig.URL),
		"OUTAGEBOT_LISTEN":       "127.0.0.1:0",
		"OUTAGEBOT_ADMIN_TOKEN":  adminToken,
		"OUTAGEBOT_CHANNEL_LANG": "de",
	}
	p := start(t, env)
	base := "http://" + opsAddr(t, p)

	code, body := fetch(t, http.MethodGet, base+"/feed.atom", "", "")
	if code != http.StatusOK {
		t.Fatalf("/feed.atom = %d: %s", code, body)
	}
	f, err := gofeed.NewParser().ParseString(body)
	if err != nil || f.FeedType != "atom" || f.Language != "de" {
		t.Fatalf("/feed.atom is not an Atom feed in German (%v):\n%s", err, body)
	}
	if len(f.Items) != 1 || f.Items[0].Title != "🔴 WhatsApp ist ausgefallen" || !f.Items[0].PublishedParsed.Equal(start503) ||
		!strings.Contains(f.Items[0].Content, "HTTP 503") {
		t.Errorf("entries of /feed.atom:\n%s", body)
	}

	code, body = fetch(t, http.MethodGet, base+"/status.json", "", "")
	var doc struct {
		Schema   int
		Services []struct {
			ID       string
			Incident *struct{ ID uint64 }
		}
	}
	if err := json.Unmarshal([]byte(body), &doc); code != http.StatusOK || err != nil || doc.Schema != 1 {
		t.Fatalf("/status.json = %d, not schema 1 (%v):\n%s", code, err, body)
	}
	if len(doc.Services) != 2 || doc.Services[0].ID != "whatsapp" || doc.Services[0].Incident == nil ||
		doc.Services[0].Incident.ID != 1 || doc.Services[1].ID != "instagram" {
		t.Errorf("/status.json:\n%s", body)
	}

	for _, path := range []string{"/feed.atom", "/status.json"} {
		if code, body := fetch(t, http.MethodHead, base+path, "", ""); code != http.StatusOK || body != "" {
			t.Errorf("HEAD %s = %d with %q, want 200 and no body", path, code, body)
		}
		if code, _ := fetch(t, http.MethodPost, base+path, "", "x"); code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s = %d, want 405", path, code)
		}
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d; logs:\n%s", code, p.stderr)
	}
}
