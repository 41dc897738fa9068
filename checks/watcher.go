package checks

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"time"
)

// StateStore keeps the services' statuses and takes each round's outcome.
type StateStore interface {
	Statuses() (map[string]Status, error)
	// Commit stores the statuses and records the transitions, with their
	// notifications (for the channel too when channel is true), atomically.
	Commit(statuses []Status, transitions []Transition, channel bool) error
}

// Watcher runs detection rounds: observe, judge the vantage point, decide,
// group what fails together, commit, and re-check what is unsettled. The
// same loop serves the bot (real probes, real time) and `outagebot replay`
// (a recorded world, virtual time). Rounds must not run concurrently.
type Watcher struct {
	// Observe probes the given services (nil: all) and gathers the other
	// evidence (Meta's status, people's reports) into observations, with
	// the control probes' results in each.
	Observe    func(ctx context.Context, services []string) []Observation
	Store      StateStore
	Thresholds Thresholds
	Channel    bool   // transitions are also queued for the channel
	Notify     func() // wakes the sender after a transition; may be nil
	// Vantage keeps what is known of this machine's own network across
	// restarts; nil keeps it in memory only.
	Vantage VantageStore
	// Mono reads a monotonic clock; nil uses the runtime's. Every duration
	// the detector measures comes from it, never from the wall clock,
	// which may jump. Replays pass their virtual clock's.
	Mono func() time.Duration
	// Interval is the time between rounds (default 30 s). The detector
	// clock moves at most two intervals and a round between two rounds:
	// time the bot was not running saw nothing.
	Interval time.Duration
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
	// re-check that ran to its end (those cut short are discarded), once
	// the vantage point is judged (ControlOK is final) and before they are
	// decided on: what /history charts.
	OnObserve func(obs []Observation)
	// OnWarning, when set, is given each operator warning once (it is
	// logged at warn level in any case).
	OnWarning func(Warning)

	started bool
	clock   time.Duration // the detector clock
	last    time.Duration // Mono at the last tick
	vantage Vantage
}

// Round probes every service and, while some service's checks leave
// something to confirm or dismiss, re-checks just those after
// Thresholds.Recheck instead of waiting a whole interval: an outage is
// confirmed (or a blip dismissed) seconds after it is first seen. The whole
// round, re-checks included, is bounded by Thresholds.RoundTimeout.
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
	w.start(statuses)
	begun := w.Mono()
	var services []string // nil: all
	for {
		checked := w.Mono()
		obs := w.Observe(ctx, services)
		// The deadline is checked on the detector's own clock as well,
		// which is the only one a replay's virtual time moves.
		if ctx.Err() != nil || w.Mono()-begun > time.Duration(w.Thresholds.RoundTimeout) {
			// Probes cut short by the deadline or shutdown would read as
			// timeouts: not evidence of anything. A re-check may run into
			// the deadline (see below); the round itself should not.
			level := slog.LevelWarn
			if services != nil {
				level = slog.LevelDebug
			}
			w.Log.Log(ctx, level, "check cut short; its results are discarded", "services", services, "err", cmp.Or(ctx.Err(), context.DeadlineExceeded))
			return
		}
		w.tick()
		w.judge(obs, statuses)
		if w.OnObserve != nil {
			w.OnObserve(obs)
		}
		next, transitions, unsettled, warns := w.decide(statuses, obs)
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
		w.warn(warns)
		// Checks start Recheck apart (a check whose probes timed out has
		// already waited). A re-check starts while the round has another
		// Recheck left after it: its probes mostly answer at once, and
		// one cut short by the deadline is discarded.
		now := w.Mono()
		recheck := time.Duration(w.Thresholds.Recheck)
		wait := max(0, recheck-(now-checked))
		fits := now-begun+wait+recheck <= time.Duration(w.Thresholds.RoundTimeout)
		if len(unsettled) == 0 || !fits {
			w.Log.Debug("round done", "transitions", len(transitions), "unsettled", unsettled)
			return
		}
		services = unsettled
		w.Log.Debug("re-checking unsettled services", "services", services, "in", wait)
		if wait > 0 && !w.sleep(ctx, wait) {
			return
		}
	}
}

// start sets the detector clock going, the first time: from where the
// statuses left it, so that durations measured before a restart go on.
func (w *Watcher) start(statuses map[string]Status) {
	if w.started {
		return
	}
	w.started = true
	if w.Mono == nil {
		origin := time.Now()
		w.Mono = func() time.Duration { return time.Since(origin) }
	}
	w.last = w.Mono()
	// Zero means "never" in the statuses, so the clock starts above it.
	w.clock = time.Second
	for _, s := range statuses {
		w.clock = max(w.clock, s.Clock)
	}
	if w.Vantage != nil {
		v, err := w.Vantage.Vantage()
		if err != nil {
			w.Log.Error("cannot read what is known of this machine's network; the control probes prove themselves again", "err", err)
		}
		w.vantage = v
	}
}

// tick moves the detector clock by the monotonic time since the last tick,
// at most two intervals and a round: a bot that was stopped, or a machine
// that slept, saw nothing in between.
func (w *Watcher) tick() {
	now := w.Mono()
	interval := w.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	gap := min(max(now-w.last, 0), 2*interval+time.Duration(w.Thresholds.RoundTimeout))
	w.clock += gap
	w.last = now
}

// judge decides from the round's control results whether this machine is
// offline, and stamps every observation with it and with the detector
// clock. (OnObserve is where going offline and coming back are told.)
func (w *Watcher) judge(obs []Observation, statuses map[string]Status) {
	if len(obs) == 0 {
		return
	}
	var meta metaAnswers
	for _, o := range obs {
		tracks := statuses[o.Service].Probes
		for _, r := range o.Results {
			if r.ViaPublicDNS {
				continue
			}
			ok := r.Class == ClassOK
			if ok {
				meta.reached++
			}
			if t := tracks[r.Probe]; t != nil && t.Proven && t.Spec == r.Spec {
				meta.proven++
				if ok {
					meta.answered++
				}
			}
		}
	}
	before := cloneVantage(w.vantage)
	v := w.vantage.judge(obs[0].Control, meta, w.clock, w.Thresholds)
	if len(v.proven) > 0 {
		w.Log.Info("control probes answer as expected from here: they now tell whether this machine is online", "probes", v.proven)
	}
	switch {
	case v.offline && !w.vantage.Offline:
		w.vantage.Offline, w.vantage.Since = true, obs[0].At
	case !v.offline:
		w.vantage.Offline, w.vantage.Since = false, time.Time{}
	}
	w.vantage.Why = v.why
	for i := range obs {
		obs[i].ControlOK = !v.offline
		obs[i].Offline = v.why
		obs[i].PublicDNSDown = v.publicDNSDown
		obs[i].Clock = w.clock
	}
	w.warn(v.warnings)
	if w.Vantage != nil && !reflect.DeepEqual(before, w.vantage) {
		if err := w.Vantage.SetVantage(cloneVantage(w.vantage)); err != nil {
			w.Log.Error("cannot store what is known of this machine's network", "err", err)
		}
	}
}

func cloneVantage(v Vantage) Vantage {
	c := v
	c.Probes = cloneTracks(v.Probes)
	c.Failing = maps.Clone(v.Failing)
	c.Contradicted = maps.Clone(v.Contradicted)
	c.Warned = slices.Clone(v.Warned)
	return c
}

// decide folds the observations into statuses (updated in place) and
// returns the statuses to store, the transitions grouped into Meta-wide
// incidents, the services still unsettled and the new operator warnings.
func (w *Watcher) decide(statuses map[string]Status, obs []Observation) ([]Status, []Transition, []string, []Warning) {
	var transitions []Transition
	var unsettled []string
	var warns []Warning
	for _, o := range obs {
		d := Decide(statuses[o.Service], o, w.Thresholds)
		statuses[o.Service] = d.Status
		warns = append(warns, d.Warnings...)
		if len(d.Proven) > 0 {
			w.Log.Info("probes answer as expected from here: they now count as evidence", "service", o.Service, "probes", d.Proven)
		}
		if d.Changed {
			t := d.Transition
			transitions = append(transitions, t)
			w.Log.Info("service state changed", "service", t.Service, "from", t.From, "to", t.To, "class", t.Class)
		}
		if d.Status.Unsettled() {
			unsettled = append(unsettled, o.Service)
		}
	}
	grouped := Group(transitions, statuses, time.Duration(w.Thresholds.GroupWindow))
	// Every status is stored: grouping may have changed one that was not
	// observed in a re-check.
	next := make([]Status, 0, len(statuses))
	for _, id := range slices.Sorted(maps.Keys(statuses)) {
		next = append(next, statuses[id])
	}
	return next, grouped, unsettled, warns
}

// warn logs and hands on operator warnings. An unreached target of a probe
// that answers through another is news, not trouble: it is logged at info.
func (w *Watcher) warn(warns []Warning) {
	for _, wn := range warns {
		service := cmp.Or(wn.Service, "(control)")
		level := slog.LevelWarn
		if wn.Kind == WarnUnreached {
			level = slog.LevelInfo
		}
		w.Log.Log(context.Background(), level, "probe needs the operator's attention: "+wn.Text, "service", service, "probe", wn.Probe, "kind", wn.Kind)
		if w.OnWarning != nil {
			w.OnWarning(wn)
		}
	}
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
