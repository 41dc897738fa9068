package ops

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale"
)

// BenchmarkPublic measures what a request for the feed or the status costs
// the bot, rendering and database reads, with a long history: every service
// failed 40 times, each time with evidence, one time in four all together,
// and all are down now. The feed shows the default 30 entries.
func BenchmarkPublic(b *testing.B) {
	w := newPublicWorld(b, "en", 0)
	at := w.ago(1000 * time.Hour)
	for round := range 40 {
		for i, s := range watched {
			tr := checks.Transition{Service: s.ID, To: checks.Down, At: at, Evidence: append(http503, servfail...)}
			if round%4 == 0 && i > 0 {
				tr.GroupWith = watched[0].ID
			}
			w.commit(b, nil, tr)
			at = at.Add(time.Minute)
		}
		if round == 39 {
			break // the last outage goes on
		}
		for _, s := range watched {
			w.commit(b, nil, checks.Transition{Service: s.ID, To: checks.Operational, At: at})
		}
		at = at.Add(20 * time.Hour)
	}
	var statuses []checks.Status
	for _, s := range watched {
		statuses = append(statuses, checks.Status{Service: s.ID, State: checks.Down, Announced: checks.Down,
			Since: at, LastCheck: at, Evidence: http503})
	}
	w.commit(b, statuses)
	texts, err := locale.New(checks.NewCatalog(watched), time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	pub := NewPublic(PublicOptions{DB: w.db, Services: watched, Text: texts.For("en"), Now: w.clk.Now})
	for _, bc := range []struct {
		name string
		h    http.Handler
		path string
	}{
		{"feed", pub.FeedHandler(), "/feed.atom"},
		{"status", pub.StatusHandler(), "/status.json"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, bc.path, nil)
			var size int
			for b.Loop() {
				rec := httptest.NewRecorder()
				bc.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/response")
		})
	}
}
