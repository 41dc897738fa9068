// Package replay measures the detector. It runs the real checks.Watcher, in
// virtual time, over a trace: a compact model of the world around a past
// outage, or of healthy but noisy days, expanded deterministically from a
// seed. It then scores what the detector announced against the trace's
// ground truth: the detection delay of each outage, missed outages, false
// alarms and how soon recoveries were announced.
//
// README.md next to this file describes the trace format; testdata holds
// the traces built from Meta's past outages.
package replay

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
)

// Options are the detector's settings and what the world is read through.
type Options struct {
	Thresholds checks.Thresholds
	Reports    checks.ReportRule
	// Official says whether Meta's status page is read, at most once per
	// OfficialEvery (0: every round), as the bot does.
	Official      bool
	OfficialEvery time.Duration
	// Catalog gives the probes and official products of the services a
	// trace names; Control the control probes.
	Catalog []checks.Service
	Control []checks.ProbeSpec
	Log     *slog.Logger // nil: discard
}

// FromConfig takes the options from a configuration, so that a replay
// measures what the bot would run with.
func FromConfig(cfg config.Config, log *slog.Logger) Options {
	return Options{
		Thresholds:    cfg.Thresholds,
		Reports:       cfg.Reports,
		Official:      cfg.Official.URL != "",
		OfficialEvery: time.Duration(cfg.Official.Every),
		Catalog:       cfg.Services,
		Control:       cfg.Control,
		Log:           log,
	}
}

// Result is a replayed trace with its score.
type Result struct {
	Trace       *Trace
	Rounds      int // scheduled rounds run (re-checks not counted)
	Transitions []checks.Transition
	Score       Score
}

// Misses lists the trace's targets that the replay missed.
func (r *Result) Misses() []string { return r.Score.Figures().Misses(r.Trace.Targets) }

// Overall returns the targets that the results miss together: each trace's
// own, and the median delays over all their outages against the default
// targets.
func Overall(results []*Result) []string {
	scores := make([]Score, len(results))
	var misses []string
	for i, r := range results {
		scores[i] = r.Score
		if len(r.Misses()) > 0 {
			misses = append(misses, r.Trace.Name+" missed its targets")
		}
	}
	return append(misses, Merge(scores...).Figures().MedianMisses(DefaultTargets())...)
}

// Run replays tr through a checks.Watcher with opt's settings and scores
// the transitions it announced. Rounds start every tr.Interval, the first
// one a seeded fraction of an interval after tr.Start; re-checks happen in
// virtual time when the Watcher asks for them. It fails only when ctx ends.
func Run(ctx context.Context, tr *Trace, opt Options) (*Result, error) {
	w := newWorld(tr, opt)
	clk := &clock{}
	st := &memStore{statuses: make(map[string]checks.Status)}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	warned := make(map[checks.Warning]bool)
	origin := tr.Start
	var deadline time.Time // of the round under way
	watcher := &checks.Watcher{
		Observe: func(_ context.Context, services []string) []checks.Observation {
			// A round takes as long as its slowest probe: a probe that
			// times out holds it up for its whole timeout.
			obs := w.observe(services, clk.now)
			clk.now = clk.now.Add(roundTime(obs, opt.Catalog, opt.Control))
			if clk.now.After(deadline) {
				// The round's deadline cuts the probes short there; the
				// watcher discards what they saw.
				clk.now = deadline.Add(time.Nanosecond)
			}
			for i := range obs {
				obs[i].At = clk.now
			}
			return obs
		},
		Store:      st,
		Thresholds: opt.Thresholds,
		Sleep:      clk.sleep,
		Mono:       func() time.Duration { return clk.now.Sub(origin) },
		Interval:   tr.Interval,
		// The replay prints what matters; the watcher's own log would
		// repeat it.
		Log: log,
		OnWarning: func(wn checks.Warning) {
			if wn.Kind != checks.WarnUnreached {
				warned[checks.Warning{Service: wn.Service, Probe: wn.Probe, Kind: wn.Kind}] = true
			}
		},
	}
	rounds := 0
	for t := tr.Start.Add(w.phase()); !t.After(tr.End); t = t.Add(tr.Interval) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("replaying %s: %w", tr.File, err)
		}
		if t.Before(clk.now) {
			continue // the previous round's re-checks are still running: cron skips this tick
		}
		clk.now = t
		deadline = t.Add(time.Duration(opt.Thresholds.RoundTimeout))
		watcher.Round(ctx)
		rounds++
	}
	var warnings []checks.Warning
	for wn := range warned {
		warnings = append(warnings, wn)
	}
	slices.SortFunc(warnings, func(a, b checks.Warning) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Probe, b.Probe), cmp.Compare(a.Kind, b.Kind))
	})
	score := Evaluate(tr.Outages, st.transitions, tr.Targets)
	score.Warnings = warnings
	return &Result{Trace: tr, Rounds: rounds, Transitions: st.transitions, Score: score}, nil
}

// defaultProbeTimeout is a probe's timeout when its spec gives none, as in
// the bot.
const defaultProbeTimeout = 10 * time.Second

// probeTime is how long a probe that ended with class takes: its whole
// timeout when nothing answered, otherwise a fraction of a second.
func probeTime(class checks.Class, timeout checks.Duration) time.Duration {
	switch class {
	case checks.ClassDNSTimeout, checks.ClassTCPTimeout, checks.ClassHTTPTimeout:
		return cmp.Or(time.Duration(timeout), defaultProbeTimeout)
	}
	return 200 * time.Millisecond
}

// roundTime is how long the probes of the observations took: as long as
// the slowest of them, since they run at once.
func roundTime(obs []checks.Observation, catalog []checks.Service, control []checks.ProbeSpec) time.Duration {
	timeouts := make(map[[2]string]checks.Duration)
	for _, s := range catalog {
		for _, p := range s.Probes {
			timeouts[[2]string{s.ID, p.Name}] = p.Timeout
		}
	}
	for _, p := range control {
		timeouts[[2]string{"", p.Name}] = p.Timeout
	}
	var d time.Duration
	for i, o := range obs {
		for _, r := range o.Results {
			d = max(d, probeTime(r.Class, timeouts[[2]string{o.Service, r.Probe}]))
		}
		if i == 0 {
			for _, r := range o.Control {
				d = max(d, probeTime(r.Class, timeouts[[2]string{"", r.Probe}]))
			}
		}
	}
	return d
}

// Files replays the traces at paths and prints each one, then an overall
// summary when there are several, to out; verbose prints every transition
// even of long traces. It reports whether every trace met its targets. The
// traces are all read before any is replayed: an unreadable or invalid one
// is an error naming its file and line, and nothing is printed.
func Files(ctx context.Context, paths []string, opt Options, verbose bool, out io.Writer) (bool, error) {
	traces := make([]*Trace, 0, len(paths))
	for _, p := range paths {
		tr, err := Load(p, opt.Catalog)
		if err != nil {
			return false, err
		}
		if err := tr.CheckControl(opt.Control); err != nil {
			return false, err
		}
		traces = append(traces, tr.Expand()...)
	}
	results := make([]*Result, 0, len(traces))
	for i, tr := range traces {
		r, err := Run(ctx, tr, opt)
		if err != nil {
			return false, err
		}
		if i > 0 {
			fmt.Fprintln(out)
		}
		if err := r.Print(out, verbose); err != nil {
			return false, err
		}
		results = append(results, r)
	}
	fmt.Fprintln(out)
	if err := PrintOverall(out, results); err != nil {
		return false, err
	}
	return len(Overall(results)) == 0, nil
}

// clock is the replay's virtual time; the Watcher's re-checks advance it.
type clock struct{ now time.Time }

func (c *clock) sleep(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	c.now = c.now.Add(d)
	return true
}

// memStore is a checks.StateStore in memory that keeps every transition.
type memStore struct {
	statuses    map[string]checks.Status
	transitions []checks.Transition
}

func (m *memStore) Statuses() (map[string]checks.Status, error) {
	return maps.Clone(m.statuses), nil
}

func (m *memStore) Commit(statuses []checks.Status, transitions []checks.Transition, _ bool) error {
	for _, s := range statuses {
		m.statuses[s.Service] = s
	}
	m.transitions = append(m.transitions, transitions...)
	return nil
}
