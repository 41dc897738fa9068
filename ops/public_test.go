package ops

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/store"
)

// watched are the services of the public endpoints' tests; threads is
// never checked.
var watched = []checks.Service{
	{ID: "whatsapp", Name: "WhatsApp"},
	{ID: "instagram", Name: "Instagram"},
	{ID: "facebook", Name: "Facebook"},
	{ID: "messenger", Name: "Messenger"},
	{ID: "threads", Name: "Threads"},
}

var (
	servfail = []checks.Result{{Probe: "dns", Kind: "dns", Target: "whatsapp.com", Class: checks.ClassDNSServFail, Detail: "SERVFAIL from 1.1.1.1:53"}}
	http503  = []checks.Result{{Probe: "web", Kind: "http", Target: "https://www.facebook.com/", Class: checks.ClassHTTP5xx, Detail: "HTTP 503"}}
)

// publicWorld is a database, a clock and the public endpoints that serve
// them over real HTTP.
type publicWorld struct {
	db  *store.DB
	clk *clock
	srv *httptest.Server
}

// newPublicWorld serves the public endpoints in lang, with at most entries
// entries in the feed (0 for the default).
func newPublicWorld(t testing.TB, lang string, entries int) *publicWorld {
	t.Helper()
	w := &publicWorld{db: openDB(t), clk: newClock()}
	texts, err := locale.New(checks.NewCatalog(watched), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	pub := NewPublic(PublicOptions{DB: w.db, Services: watched, Text: texts.For(lang), Entries: entries, Now: w.clk.Now})
	mux := http.NewServeMux()
	mux.Handle("GET /feed.atom", pub.FeedHandler())
	mux.Handle("GET /status.json", pub.StatusHandler())
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w
}

// ago is a moment before the world's start.
func (w *publicWorld) ago(d time.Duration) time.Time { return newClock().Now().Add(-d) }

// commit stores statuses and transitions as a probe round does.
func (w *publicWorld) commit(t testing.TB, statuses []checks.Status, transitions ...checks.Transition) {
	t.Helper()
	if err := w.db.Commit(statuses, transitions, true); err != nil {
		t.Fatal(err)
	}
}

// history gives the world a past: a WhatsApp outage that is over, a
// Meta-wide outage of Facebook and Messenger, and Instagram degraded,
// with every service's status as /status shows it.
func (w *publicWorld) history(t *testing.T) {
	t.Helper()
	reports := checks.ReportSignal{Count: 240, Baseline: 3.14159, Spike: true, Top: "login", TopShare: 0.76,
		Window: checks.Duration(15 * time.Minute)}
	w.commit(t, nil,
		checks.Transition{Service: "whatsapp", From: checks.Operational, To: checks.Down, At: w.ago(3 * time.Hour), Evidence: servfail})
	w.commit(t, nil,
		checks.Transition{Service: "whatsapp", From: checks.Down, To: checks.Operational, At: w.ago(2*time.Hour + 40*time.Minute)})
	w.commit(t, nil,
		checks.Transition{Service: "facebook", From: checks.Operational, To: checks.Down, At: w.ago(30 * time.Minute), Evidence: http503})
	w.commit(t, nil,
		checks.Transition{Service: "messenger", From: checks.Operational, To: checks.Down, At: w.ago(29 * time.Minute), Evidence: http503, GroupWith: "facebook"})
	last := w.ago(10 * time.Second)
	w.commit(t, []checks.Status{
		{Service: "whatsapp", State: checks.Operational, Announced: checks.Operational, Since: w.ago(2*time.Hour + 40*time.Minute), LastCheck: last},
		{Service: "instagram", State: checks.Degraded, Announced: checks.Degraded, Since: w.ago(10 * time.Minute), LastCheck: last,
			Official: "Partial outage", Reports: reports},
		{Service: "facebook", State: checks.Down, Announced: checks.Down, Since: w.ago(30 * time.Minute), LastCheck: last, Evidence: http503},
		{Service: "messenger", State: checks.Recovering, Announced: checks.Down, Since: w.ago(time.Minute), LastCheck: last},
	}, checks.Transition{Service: "instagram", From: checks.Operational, To: checks.Degraded, At: w.ago(10 * time.Minute),
		Official: "Partial outage", Reports: reports})
}

// get fetches path from the world with the given request headers.
func (w *publicWorld) get(t *testing.T, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, w.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// document fetches path, which must be served with contentType.
func (w *publicWorld) document(t *testing.T, path, contentType string) (*http.Response, []byte) {
	t.Helper()
	resp, body := w.get(t, path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d:\n%s", path, resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Type"); got != contentType {
		t.Errorf("%s: Content-Type %q, want %q", path, got, contentType)
	}
	return resp, body
}

// brokenDisk is a PublicDB whose every read fails.
type brokenDisk struct{}

var errDisk = errors.New("read /var/lib/outagebot/outagebot.db: input/output error")

func (brokenDisk) Statuses() (map[string]checks.Status, error) { return nil, errDisk }
func (brokenDisk) Vantage() (checks.Vantage, error)            { return checks.Vantage{}, errDisk }
func (brokenDisk) OpenIncident(string) (checks.Incident, bool, error) {
	return checks.Incident{}, false, errDisk
}
func (brokenDisk) LatestOutages([]string, int) ([]checks.Incident, error) { return nil, errDisk }
func (brokenDisk) GroupIncidents(uint64) ([]checks.Incident, error)       { return nil, errDisk }

func TestPublicFailsClosed(t *testing.T) {
	texts, err := locale.New(checks.NewCatalog(watched), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	pub := NewPublic(PublicOptions{DB: brokenDisk{}, Services: watched, Text: texts.For("en")})
	for path, h := range map[string]http.Handler{"/feed.atom": pub.FeedHandler(), "/status.json": pub.StatusHandler()} {
		t.Run(path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", rec.Code)
			}
			if strings.Contains(rec.Body.String(), "/var/lib") {
				t.Errorf("the error reached the public: %q", rec.Body)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store: a failure must not be cached", got)
			}
		})
	}
}

// Neither document may say anything about chats: not their ids, not how
// many there are.
func TestPublicSaysNothingOfChats(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	for _, id := range []int64{987654321, -1009876543210} {
		if _, err := w.db.Subscribe(store.Chat{ID: id, Type: "group", Title: "Secret club"}, []string{"whatsapp", "facebook"}); err != nil {
			t.Fatal(err)
		}
	}
	w.history(t)
	for path, contentType := range map[string]string{"/feed.atom": feedType, "/status.json": "application/json"} {
		_, body := w.document(t, path, contentType)
		for _, secret := range []string{"987654321", "9876543210", "Secret club", "subscri"} {
			if strings.Contains(string(body), secret) {
				t.Errorf("%s mentions %q:\n%s", path, secret, body)
			}
		}
	}
}
