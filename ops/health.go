package ops

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Part is a long-running part of the bot whose heartbeat the health check
// can watch.
type Part int

// The watched parts. Each beats through the Console's hooks: the poller
// with every getUpdates call (Polled), the sender with every delivery and
// every look at the outbox (Sent, Dispatched), the scheduler with every
// finished round (RoundDone).
const (
	Poller Part = iota
	Sender
	Scheduler
	numParts
)

// String names the part in the health report.
func (p Part) String() string {
	return [...]string{Poller: "poller", Sender: "sender", Scheduler: "scheduler"}[p]
}

// heart is the last beat of a part and how far apart beats may be.
type heart struct {
	within   atomic.Int64 // time.Duration; 0 while the part is not watched
	last     atomic.Int64 // Unix nanoseconds
	panicked atomic.Int64 // Unix nanoseconds of the last panic; 0 for none
}

// Watch makes the health check require a beat of part at least every
// within, counting from now, so that a part that never starts fails the
// check too. Parts never watched do not count: the poller in webhook mode.
func (c *Console) Watch(part Part, within time.Duration) {
	h := &c.hearts[part]
	h.last.Store(c.now().UnixNano())
	h.within.Store(int64(within))
}

func (c *Console) beat(part Part) {
	c.hearts[part].last.Store(c.now().UnixNano())
}

// Panicked records that part panicked and is being restarted. The health
// check fails until the part has run for as long as it may be silent (see
// Watch) without panicking again: a part that panics at every start beats
// between its panics, and must not pass for alive.
func (c *Console) Panicked(part Part) {
	c.hearts[part].panicked.Store(c.now().UnixNano())
}

// pingTimeout bounds how long a health check waits for the database to
// take a write. Commits of a big fan-out take about a second; several
// seconds means the disk is in trouble.
const pingTimeout = 5 * time.Second

// pinger runs at most one database write at a time for health checks, so
// that a stuck disk and a prober asking every second do not pile up
// goroutines: checks that come while a write is in flight wait for it.
type pinger struct {
	db DB

	mu       sync.Mutex
	inflight *pingCall
}

type pingCall struct {
	done chan struct{}
	err  error
}

func (p *pinger) call() *pingCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight == nil {
		call := &pingCall{done: make(chan struct{})}
		p.inflight = call
		go func() {
			call.err = p.db.Ping()
			p.mu.Lock()
			p.inflight = nil
			p.mu.Unlock()
			close(call.done)
		}()
	}
	return p.inflight
}

// Health checks that the bot has reached Telegram (see Connecting), that
// this machine is online (see Observed), that every watched part beat
// recently enough and that the database takes a write within pingTimeout.
// It returns one line per check, for people, and whether all of them
// passed.
func (c *Console) Health(ctx context.Context) (report []string, ok bool) {
	now := c.now()
	report = c.vantageReport(now)
	ok = len(report) == 0
	for part := range numParts {
		h := &c.hearts[part]
		within := time.Duration(h.within.Load())
		if within == 0 {
			continue
		}
		if at := h.panicked.Load(); at != 0 && now.Sub(time.Unix(0, at)) <= within {
			ok = false
			report = append(report, fmt.Sprintf("%s: panicked %v ago and was restarted; see the log",
				part, now.Sub(time.Unix(0, at)).Round(time.Millisecond)))
			continue
		}
		silent := now.Sub(time.Unix(0, h.last.Load())).Round(time.Millisecond)
		if silent > within {
			ok = false
			report = append(report, fmt.Sprintf("%s: silent for %v, more than the %v it may be", part, silent, within))
			continue
		}
		report = append(report, fmt.Sprintf("%s: ok, last heard %v ago", part, silent))
	}
	call := c.ping.call()
	timer := time.NewTimer(pingTimeout)
	defer timer.Stop()
	select {
	case <-call.done:
		if call.err != nil {
			ok = false
			report = append(report, "db: "+call.err.Error())
		} else {
			report = append(report, "db: ok, takes writes")
		}
	case <-timer.C:
		ok = false
		report = append(report, fmt.Sprintf("db: a write did not finish within %v", pingTimeout))
	case <-ctx.Done():
		ok = false
		report = append(report, "db: check abandoned: "+ctx.Err().Error())
	}
	return report, ok
}

// HealthHandler answers 200 when Health passes and 503 when it does not,
// with Health's report as the body.
func (c *Console) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report, ok := c.Health(r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, strings.Join(report, "\n"))
	})
}
