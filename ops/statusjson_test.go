package ops

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/internal/golden"
)

func TestStatusJSONGolden(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	w.history(t)
	_, got := w.document(t, "/status.json", "application/json")
	golden.Check(t, filepath.Join("testdata", "status.golden.json"), got)
}

// statusOf decodes a status document loosely, as a client would.
func statusOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	return doc
}

func TestStatusJSONOffline(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	w.history(t)
	offline := func() (any, any) {
		_, body := w.get(t, "/status.json", nil)
		doc := statusOf(t, body)
		return doc["offline"], doc["offline_since"]
	}
	if is, since := offline(); is != false || since != nil {
		t.Errorf("online: offline %v since %v, want false since null", is, since)
	}
	if err := w.db.SetVantage(checks.Vantage{Offline: true, Since: w.ago(90 * time.Second), Why: "internet (example.com)"}); err != nil {
		t.Fatal(err)
	}
	if is, since := offline(); is != true || since != "2026-03-05T11:58:30Z" {
		t.Errorf("offline %v since %v, want true since 2026-03-05T11:58:30Z", is, since)
	}
}

func TestStatusJSONConditionalGet(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	w.history(t)
	resp, body := w.get(t, "/status.json", nil)
	etag := resp.Header.Get("ETag")
	if !regexp.MustCompile(`^W/"[0-9a-f]{32}"$`).MatchString(etag) {
		t.Fatalf("ETag %q, want a weak one: generated_at does not count", etag)
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=30" {
		t.Errorf("Cache-Control %q", got)
	}

	w.clk.Add(5 * time.Second)
	resp, again := w.get(t, "/status.json", nil)
	if resp.Header.Get("ETag") != etag {
		t.Errorf("ETag %s, then %s, though only generated_at changed", etag, resp.Header.Get("ETag"))
	}
	if bytes.Equal(body, again) || statusOf(t, again)["generated_at"] != "2026-03-05T12:00:05Z" {
		t.Errorf("generated_at did not move:\n%s", again)
	}
	resp, none := w.get(t, "/status.json", http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusNotModified || len(none) != 0 {
		t.Errorf("status %d with %d bytes, want 304 and none", resp.StatusCode, len(none))
	}

	// The next round checked the services again.
	w.commit(t, []checks.Status{{Service: "threads", State: checks.Operational, Announced: checks.Operational,
		Since: w.clk.Now(), LastCheck: w.clk.Now()}})
	resp, body = w.get(t, "/status.json", http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag {
		t.Fatalf("status %d, ETag %s: want 200 and a new ETag", resp.StatusCode, resp.Header.Get("ETag"))
	}
	services := statusOf(t, body)["services"].([]any)
	if threads := services[len(services)-1].(map[string]any); threads["state"] != "operational" {
		t.Errorf("threads: %v", threads)
	}
}

// After a restart, before the first round, no service has a state yet, but
// an outage that was going on still has its incident.
func TestStatusJSONBeforeTheFirstRound(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	w.commit(t, nil, checks.Transition{Service: "facebook", From: checks.Operational, To: checks.Down, At: w.ago(time.Hour)})
	_, body := w.get(t, "/status.json", nil)
	var doc statusDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	facebook := doc.Services[2]
	want := serviceStatus{ID: "facebook", Name: "Facebook", State: checks.Unknown, Evidence: []evidence{},
		Incident: &openIncident{ID: 1, Start: w.ago(time.Hour)}}
	if diff := cmp.Diff(want, facebook); diff != "" {
		t.Errorf("facebook (-want +got):\n%s", diff)
	}
}
