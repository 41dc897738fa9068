package ops

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// pingDB is a DB whose Ping the test controls.
type pingDB struct {
	ping func() error
}

func (pingDB) Statuses() (map[string]checks.Status, error) { return nil, nil }
func (pingDB) OutboxLen() (int, error)                     { return 0, nil }
func (d pingDB) Ping() error                               { return d.ping() }

func healthz(t *testing.T, c *Console) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	c.HealthHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	return rec.Code, rec.Body.String()
}

func TestHealth(t *testing.T) {
	ok := func() error { return nil }
	tests := []struct {
		name   string
		watch  map[Part]time.Duration
		run    func(c *Console, clk *clock) // beats and time passing after Watch
		ping   func() error
		code   int
		report []string // lines the body must contain
		absent []string // lines it must not
	}{
		{
			name:  "every part beat in time",
			watch: map[Part]time.Duration{Poller: 95 * time.Second, Sender: 105 * time.Second, Scheduler: 85 * time.Second},
			run: func(c *Console, clk *clock) {
				clk.Add(80 * time.Second)
				c.Polled(nil)
				c.Sent("sent")
				c.RoundDone()
				clk.Add(20 * time.Second)
			},
			ping:   ok,
			code:   http.StatusOK,
			report: []string{"poller: ok, last heard 20s ago", "sender: ok, last heard 20s ago", "scheduler: ok, last heard 20s ago", "db: ok, takes writes"},
		},
		{
			name:  "a failed poll is still a heartbeat",
			watch: map[Part]time.Duration{Poller: 95 * time.Second},
			run: func(c *Console, clk *clock) {
				clk.Add(90 * time.Second)
				c.Polled(errors.New("telegram: 502 Bad Gateway"))
				clk.Add(90 * time.Second)
			},
			ping:   ok,
			code:   http.StatusOK,
			report: []string{"poller: ok, last heard 1m30s ago"},
		},
		{
			name:  "an idle sender beats by looking at the outbox",
			watch: map[Part]time.Duration{Sender: 105 * time.Second},
			run: func(c *Console, clk *clock) {
				clk.Add(100 * time.Second)
				c.Dispatched()
				clk.Add(100 * time.Second)
			},
			ping:   ok,
			code:   http.StatusOK,
			report: []string{"sender: ok, last heard 1m40s ago"},
		},
		{
			name:   "a part that never beat since it was watched",
			watch:  map[Part]time.Duration{Poller: 95 * time.Second, Scheduler: 85 * time.Second},
			run:    func(c *Console, clk *clock) { clk.Add(90 * time.Second); c.RoundDone(); clk.Add(6 * time.Second) },
			ping:   ok,
			code:   http.StatusServiceUnavailable,
			report: []string{"poller: silent for 1m36s, more than the 1m35s it may be", "scheduler: ok, last heard 6s ago"},
		},
		{
			name:   "parts not watched do not count",
			watch:  map[Part]time.Duration{Scheduler: time.Minute},
			run:    func(_ *Console, clk *clock) { clk.Add(time.Hour) },
			ping:   ok,
			code:   http.StatusServiceUnavailable,
			report: []string{"scheduler: silent for 1h0m0s"},
			absent: []string{"poller", "sender"},
		},
		{
			name:  "a part that panicked fails until it has run its window without panicking",
			watch: map[Part]time.Duration{Sender: 100 * time.Second, Scheduler: 85 * time.Second},
			run: func(c *Console, clk *clock) {
				c.Panicked(Sender)
				clk.Add(10 * time.Second)
				c.Dispatched() // restarted: it beats, and may panic again
				clk.Add(90 * time.Second)
				c.RoundDone()
				c.Dispatched()
			},
			ping:   ok,
			code:   http.StatusServiceUnavailable,
			report: []string{"sender: panicked 1m40s ago and was restarted; see the log", "scheduler: ok"},
		},
		{
			name:  "a part that panicked long enough ago",
			watch: map[Part]time.Duration{Sender: 100 * time.Second},
			run: func(c *Console, clk *clock) {
				c.Panicked(Sender)
				clk.Add(101 * time.Second)
				c.Dispatched()
			},
			ping:   ok,
			code:   http.StatusOK,
			report: []string{"sender: ok, last heard 0s ago"},
		},
		{
			name:   "the database does not take writes",
			watch:  map[Part]time.Duration{Sender: time.Minute},
			run:    func(*Console, *clock) {},
			ping:   func() error { return errors.New("write to DB: no space left on device") },
			code:   http.StatusServiceUnavailable,
			report: []string{"sender: ok, last heard 0s ago", "db: write to DB: no space left on device"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			c, _ := newTestConsole(pingDB{tc.ping}, clk.Now)
			for part, within := range tc.watch {
				c.Watch(part, within)
			}
			tc.run(c, clk)
			code, body := healthz(t, c)
			if code != tc.code {
				t.Errorf("status %d, want %d; body:\n%s", code, tc.code, body)
			}
			lines := strings.Split(strings.TrimSpace(body), "\n")
			for _, want := range tc.report {
				if !containsPrefix(lines, want) {
					t.Errorf("report lacks %q:\n%s", want, body)
				}
			}
			for _, bad := range tc.absent {
				if strings.Contains(body, bad) {
					t.Errorf("report mentions %q:\n%s", bad, body)
				}
			}
		})
	}
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func TestHealthStuckDatabase(t *testing.T) {
	// A write that never finishes fails the check after pingTimeout, and
	// checks meanwhile share the one write in flight instead of piling up.
	// The bubble's clock makes the wait instant.
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		pings := 0
		c, _ := newTestConsole(pingDB{func() error {
			mu.Lock()
			pings++
			mu.Unlock()
			<-release
			return nil
		}}, nil)

		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				start := time.Now()
				code, body := healthz(t, c)
				if code != http.StatusServiceUnavailable || !strings.Contains(body, "db: a write did not finish within 5s") {
					t.Errorf("healthz = %d %q, want 503 naming the stuck write", code, body)
				}
				if waited := time.Since(start); waited != pingTimeout {
					t.Errorf("healthz answered after %v, want %v", waited, pingTimeout)
				}
			})
		}
		wg.Wait()
		mu.Lock()
		if pings != 1 {
			t.Errorf("%d writes started for 3 concurrent checks, want 1", pings)
		}
		mu.Unlock()

		// Once the disk recovers, the next check passes.
		close(release)
		synctest.Wait()
		if code, body := healthz(t, c); code != http.StatusOK {
			t.Errorf("healthz after recovery = %d %q, want 200", code, body)
		}
	})
}
