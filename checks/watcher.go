package checks

import (
	"context"
	"log/slog"
	"time"
)

// StateStore keeps the services' statuses and takes each round's outcome.
type StateStore interface {
	Statuses() (map[string]Status, error)
	// Commit stores the statuses and records the transitions, with their
	// notifications (for the channel too when channel is true), atomically.
	Commit(statuses []Status, transitions []Transition, channel bool) error
}

// Watcher runs detection rounds: observe, decide, group what fails
// together, commit, and re-check what is unsettled. The same loop serves the
// bot (real probes, real time) and `outagebot replay` (a recorded world,
// virtual time).
type Watcher struct {
	// Observe probes the given services (nil: all) and gathers the other
	// evidence (Meta's status, people's reports) into observations.
	Observe    func(ctx context.Context, services []string) []Observation
	Store      StateStore
	Thresholds Thresholds
	Channel    bool   // transitions are also queued for the channel
	Notify     func() // wakes the sender after a transition; may be nil
	// Sleep waits d or until ctx ends and reports whether it waited; nil
	// uses a timer. Replays pass a virtual clock's.
	Sleep func(ctx context.Context, d time.Duration) bool
	Log   *slog.Logger
	// OnTransition, when set, is given each transition once it is committed.
	OnTransition func(t Transition)
	// OnRound, when set, is called as each Round returns, whatever its
	// outcome: a heartbeat of the schedule.
	OnRound func()
	// OnObserve, when set, is given the observations of each round and
	// re-check that ran to its end (those cut short are discarded), before
	// they are decided on: what /history charts.
	OnObserve func(obs []Observation)
}

// Round probes every service and, while some service's rounds disagree with
// what was announced, re-checks just those after Thresholds.Recheck instead
// of waiting a whole interval: an outage is confirmed (or a blip dismissed)
// seconds after it is first seen. The whole round, re-checks included, is
// bounded by Thresholds.RoundTimeout.
func (w *Watcher) Round(ctx context.Context) {
	if w.OnRound != nil {
		defer w.OnRound()
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(w.Thresholds.RoundTimeout))
	defer cancel()
	statuses, err := w.Store.Statuses()
	if err != nil {
		w.Log.Error("cannot read service states; skipping this round", "err", err)
		return
	}
	// Enough re-checks for a streak started in this round to be confirmed.
	rechecks := max(w.Thresholds.DownAfter, w.Thresholds.UpAfter) - 1
	var services []string // nil: all
	for attempt := 0; ; attempt++ {
		obs := w.Observe(ctx, services)
		if ctx.Err() != nil {
			// Probes cut short by the deadline or shutdown would read as
			// timeouts: not evidence of anything.
			w.Log.Warn("round cut short; its results are discarded", "err", ctx.Err())
			return
		}
		if w.OnObserve != nil {
			w.OnObserve(obs)
		}
		next, transitions, unsettled := w.decide(statuses, obs)
		if err := w.Store.Commit(next, transitions, w.Channel); err != nil {
			w.Log.Error("cannot store the round; it will be repeated next tick", "err", err)
			return
		}
		if len(transitions) > 0 && w.Notify != nil {
			w.Notify()
		}
		if w.OnTransition != nil {
			for _, t := range transitions {
				w.OnTransition(t)
			}
		}
		if len(unsettled) == 0 || attempt >= rechecks {
			w.Log.Debug("round done", "transitions", len(transitions), "unsettled", unsettled)
			return
		}
		services = unsettled
		w.Log.Debug("re-checking unsettled services", "services", services, "in", time.Duration(w.Thresholds.Recheck))
		if !w.sleep(ctx, time.Duration(w.Thresholds.Recheck)) {
			return
		}
	}
}

// decide folds the observations into statuses (updated in place) and
// returns the changed statuses, the transitions grouped into Meta-wide
// incidents, and the services still unsettled.
func (w *Watcher) decide(statuses map[string]Status, obs []Observation) ([]Status, []Transition, []string) {
	var next []Status
	var transitions []Transition
	var unsettled []string
	corroborate(obs, corroborateMin)
	for _, o := range obs {
		s, t, changed := Decide(statuses[o.Service], o, w.Thresholds)
		statuses[o.Service] = s
		next = append(next, s)
		if changed {
			transitions = append(transitions, t)
			w.Log.Info("service state changed", "service", t.Service, "from", t.From, "to", t.To, "class", t.Class)
		}
		if s.Unsettled() {
			unsettled = append(unsettled, o.Service)
		}
	}
	return next, Group(transitions, statuses, time.Duration(w.Thresholds.GroupWindow)), unsettled
}

func (w *Watcher) sleep(ctx context.Context, d time.Duration) bool {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// corroborateMin is how many services must fail the same probe the same way
// in one round for it to count as a Meta-wide signal. With probe noise of
// 2 %, three at once happens about once in a hundred thousand rounds.
const corroborateMin = 3

// corroborate marks the observations with a hard failure that at least
// `least` services share (same probe name, same class) in this round.
func corroborate(obs []Observation, least int) {
	type failure struct {
		probe string
		class Class
	}
	services := map[failure]int{}
	for _, o := range obs {
		seen := map[failure]bool{}
		for _, r := range o.Results {
			if f := (failure{r.Probe, r.Class}); r.Class.Hard() && !seen[f] {
				seen[f] = true
				services[f]++
			}
		}
	}
	for i, o := range obs {
		for _, r := range o.Results {
			if r.Class.Hard() && services[failure{r.Probe, r.Class}] >= least {
				obs[i].Corroborated = true
				break
			}
		}
	}
}
