package handlers

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// round is the detector's last committed probe round, as /status and
// /history show it.
type round struct {
	statuses map[string]checks.Status
	// id names the round: it changes with every commit of the statuses,
	// and is "" before the first, when there is nothing to reuse.
	id string
	// at is when the round observed the services, the latest LastCheck:
	// answers are given as of then, so that one made early in a round
	// reads the same as one made late.
	at time.Time
}

// lastRound reads the statuses the detector committed last. Every commit
// sets the LastCheck of each status it stores (checks.Decide), so the
// LastCheck times, with the states, tell one commit from the next; being
// read for every question, the round is never older than the last commit.
func (h *handler) lastRound() (round, error) {
	st, err := h.States.Statuses()
	if err != nil {
		return round{}, err
	}
	r := round{statuses: st}
	var id strings.Builder
	for _, svc := range slices.Sorted(maps.Keys(st)) {
		s := st[svc]
		if s.LastCheck.IsZero() {
			continue
		}
		id.WriteString(svc + "@" + strconv.FormatInt(s.LastCheck.UnixNano(), 36) + ":" + string(s.State) + " ")
		if s.LastCheck.After(r.at) {
			r.at = s.LastCheck
		}
	}
	r.id = id.String()
	if r.id == "" {
		r.at = h.Now()
	}
	return r, nil
}

// errGaveUp is what requests waiting for an answer get when its
// computation panicked: Recover logs the panic in the request that ran it.
var errGaveUp = errors.New("the computation of a shared answer panicked")

// perRound keeps answers that depend only on the last round and on a few
// choices of whoever asks (a language, a service, a window, a time zone),
// so that each is made once per round: the first request makes it, those
// that come while it is being made wait for it, and the later ones of the
// round take it as it is. A new round forgets every answer of the one
// before.
type perRound[V any] struct {
	max int // answers kept at most; more are made for their request alone

	mu      sync.Mutex
	round   string
	answers map[string]*answer[V]
}

// answer is one answer of a perRound, ready once its channel is closed.
type answer[V any] struct {
	ready chan struct{}
	val   V
	err   error
}

func newPerRound[V any](size int) *perRound[V] {
	return &perRound[V]{max: size, answers: make(map[string]*answer[V])}
}

// get returns the answer for key in the round r, made by compute if it is not
// known yet. Answers of the round "" (none committed yet) are not kept. A
// failure is not kept either: the requests waiting for it get it, the next
// one tries again.
func (c *perRound[V]) get(r, key string, compute func() (V, error)) (V, error) {
	if r == "" {
		return compute()
	}
	c.mu.Lock()
	if r != c.round {
		// A request that read the round just before a commit may come
		// after one that read the commit, and switch back: that costs an
		// answer made twice, never a stale one, since answers are only
		// reused within the round they were made in.
		c.round = r
		clear(c.answers)
	}
	if a, ok := c.answers[key]; ok {
		c.mu.Unlock()
		<-a.ready
		return a.val, a.err
	}
	if len(c.answers) >= c.max {
		c.mu.Unlock()
		return compute()
	}
	a := &answer[V]{ready: make(chan struct{})}
	c.answers[key] = a
	c.mu.Unlock()

	a.err = errGaveUp // unless compute returns
	defer func() {
		if a.err != nil {
			c.forget(r, key, a)
		}
		close(a.ready)
	}()
	a.val, a.err = compute()
	return a.val, a.err
}

// forget drops a, the answer for key in round r, if it is still kept.
func (c *perRound[V]) forget(r, key string, a *answer[V]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.round == r && c.answers[key] == a {
		delete(c.answers, key)
	}
}
