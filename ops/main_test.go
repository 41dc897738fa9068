package ops

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/outagebot/outagebot/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openDB opens a fresh database, closed when the test ends.
func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "outagebot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newTestConsole returns a Console on a registry of its own.
func newTestConsole(db DB, now func() time.Time) (*Console, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	return NewConsole(Options{Registry: reg, DB: db, Now: now}), reg
}

// clock is a fake clock that tests move by hand.
type clock struct{ t time.Time }

func newClock() *clock               { return &clock{t: time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)} }
func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }
