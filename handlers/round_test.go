package handlers

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// TestPerRoundMakesEachAnswerOncePerRound asks for one answer fifty times
// at once, then in rounds and keys one after the other.
func TestPerRoundMakesEachAnswerOncePerRound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newPerRound[string](8)
		var made atomic.Int32
		compute := func(v string) func() (string, error) {
			return func() (string, error) { made.Add(1); return v, nil }
		}
		// Fifty requests of one round come while the first is being made.
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				got, err := c.get("r1", "en", func() (string, error) { <-gate; return compute("a")() })
				if got != "a" || err != nil {
					t.Errorf("get = %q, %v; want a", got, err)
				}
			})
		}
		synctest.Wait()
		close(gate)
		wg.Wait()
		checkPerRound(t, c, compute, &made)
	})
}

// checkPerRound goes on from TestPerRoundMakesEachAnswerOncePerRound, with
// the answer "a" made for key "en" of round "r1".
func checkPerRound(t *testing.T, c *perRound[string], compute func(string) func() (string, error), made *atomic.Int32) {
	if n := made.Load(); n != 1 {
		t.Errorf("made %d times in one round, want once", n)
	}
	for _, step := range []struct {
		round, key string
		offered    string // what a new answer would be
		want       string
		made       int32
	}{
		{"r1", "en", "x", "a", 1}, // kept
		{"r1", "it", "b", "b", 2}, // another key
		{"r2", "en", "c", "c", 3}, // a new round forgets the old one
		{"r2", "en", "x", "c", 3}, // and keeps its own
		{"", "en", "d", "d", 4},   // nothing committed yet: nothing kept
		{"", "en", "e", "e", 5},
		{"r1", "en", "f", "f", 6}, // a late request of an old round makes its own,
		{"r2", "en", "g", "g", 7}, // which costs the new round its answer, never its truth
		{"r2", "en", "x", "g", 7},
	} {
		got, err := c.get(step.round, step.key, compute(step.offered))
		if got != step.want || err != nil || made.Load() != step.made {
			t.Errorf("get(%q, %q) = %q, %v after %d made; want %q after %d",
				step.round, step.key, got, err, made.Load(), step.want, step.made)
		}
	}
}

func TestPerRoundBounds(t *testing.T) {
	c := newPerRound[int](2)
	n := 0
	compute := func() (int, error) { n++; return n, nil }
	for _, key := range []string{"a", "b", "c", "c", "a", "b"} {
		if _, err := c.get("r", key, compute); err != nil {
			t.Fatal(err)
		}
	}
	// a and b are kept; c, beyond the bound, is made for each request.
	if n != 4 {
		t.Errorf("made %d answers, want 4", n)
	}
}

func TestPerRoundDoesNotKeepFailures(t *testing.T) {
	c := newPerRound[int](4)
	boom := errors.New("disk on fire")
	if _, err := c.get("r", "k", func() (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("get = %v, want %v", err, boom)
	}
	if got, err := c.get("r", "k", func() (int, error) { return 7, nil }); got != 7 || err != nil {
		t.Errorf("get after a failure = %d, %v; want a new answer, 7", got, err)
	}
}

// TestPerRoundPanicReleasesWaiters panics while an answer is made: the
// request waiting for it gets an error instead of waiting forever, and the
// next request makes it again.
func TestPerRoundPanicReleasesWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newPerRound[int](4)
		release := make(chan struct{})
		panicked := make(chan any, 1)
		go func() {
			defer func() { panicked <- recover() }()
			_, _ = c.get("r", "k", func() (int, error) {
				<-release
				panic("broken chart")
			})
		}()
		synctest.Wait()
		waiter := make(chan error, 1)
		go func() {
			_, err := c.get("r", "k", func() (int, error) { return 1, nil })
			waiter <- err
		}()
		synctest.Wait() // the waiter waits for the answer being made
		close(release)
		if r := <-panicked; r != "broken chart" {
			t.Errorf("panic %v, want it to go on up", r)
		}
		if err := <-waiter; !errors.Is(err, errGaveUp) {
			t.Errorf("waiter got %v, want %v", err, errGaveUp)
		}
		if got, err := c.get("r", "k", func() (int, error) { return 2, nil }); got != 2 || err != nil {
			t.Errorf("get after the panic = %d, %v; want a new answer, 2", got, err)
		}
	})
}

func TestLastRound(t *testing.T) {
	now := time.Date(2025, 3, 4, 16, 16, 0, 0, time.UTC)
	read := func(st map[string]checks.Status) round {
		t.Helper()
		h := &handler{Config: Config{
			States: statusesOf(st),
			Now:    func() time.Time { return now },
		}}
		r, err := h.lastRound()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	none := read(map[string]checks.Status{"wa": {State: checks.Unknown}})
	if none.id != "" || !none.at.Equal(now) {
		t.Errorf("before any check: round %q at %v, want \"\" at now", none.id, none.at)
	}
	first := map[string]checks.Status{
		"wa": {State: checks.Operational, LastCheck: now.Add(-time.Minute)},
		"ig": {State: checks.Operational, LastCheck: now.Add(-30 * time.Second)},
	}
	a := read(first)
	if a.id == "" || !a.at.Equal(now.Add(-30*time.Second)) {
		t.Errorf("round %q at %v, want an id at the latest check", a.id, a.at)
	}
	if b := read(first); b.id != a.id {
		t.Errorf("the same statuses read twice are rounds %q and %q", a.id, b.id)
	}
	// A re-check of one service, even one whose clock stepped back.
	for name, change := range map[string]checks.Status{
		"re-check":        {State: checks.Suspected, LastCheck: now},
		"clock stepped":   {State: checks.Operational, LastCheck: now.Add(-2 * time.Minute)},
		"state by itself": {State: checks.Down, LastCheck: now.Add(-time.Minute)},
	} {
		next := map[string]checks.Status{"wa": change, "ig": first["ig"]}
		if b := read(next); b.id == a.id {
			t.Errorf("%s: still round %q", name, a.id)
		}
	}
}

// statusesOf is a Statuses that always has st.
type statusesOf map[string]checks.Status

func (s statusesOf) Statuses() (map[string]checks.Status, error) { return s, nil }
