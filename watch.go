package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// stateStore is what the watcher needs of the database.
type stateStore interface {
	Statuses() (map[string]checks.Status, error)
	Commit(statuses []checks.Status, transitions []checks.Transition, channel bool) error
}

// watcher runs one detection round per cron tick: probe, decide, commit the
// new states together with the notifications they cause, wake the sender.
type watcher struct {
	mon interface {
		Round(ctx context.Context, services []string) ([]checks.Observation, []checks.Result)
	}
	db      stateStore
	th      checks.Thresholds
	channel bool   // whether transitions are also queued for the channel
	notify  func() // wakes the sender
	log     *slog.Logger
}

// round probes every service and, while some service's rounds disagree with
// what was announced, re-checks just those after th.Recheck instead of
// waiting a whole interval: an outage is confirmed (or a blip dismissed)
// seconds after it is first seen. The whole round, re-checks included, is
// bounded by th.RoundTimeout.
func (w *watcher) round(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(w.th.RoundTimeout))
	defer cancel()
	statuses, err := w.db.Statuses()
	if err != nil {
		w.log.Error("cannot read service states; skipping this round", "err", err)
		return
	}
	// Enough re-checks for a streak started in this round to be confirmed.
	rechecks := max(w.th.DownAfter, w.th.UpAfter) - 1
	var services []string // nil: all
	for attempt := 0; ; attempt++ {
		obs, _ := w.mon.Round(ctx, services)
		if ctx.Err() != nil {
			// Probes cut short by the deadline or shutdown would read as
			// timeouts: not evidence of anything.
			w.log.Warn("round cut short; its results are discarded", "err", ctx.Err())
			return
		}
		var next []checks.Status
		var transitions []checks.Transition
		var unsettled []string
		for _, o := range obs {
			s, t, changed := checks.Decide(statuses[o.Service], o, w.th)
			statuses[o.Service] = s
			next = append(next, s)
			if changed {
				transitions = append(transitions, t)
				w.log.Info("service state changed", "service", t.Service, "from", t.From, "to", t.To)
			}
			if s.Unsettled() {
				unsettled = append(unsettled, o.Service)
			}
		}
		if err := w.db.Commit(next, transitions, w.channel); err != nil {
			w.log.Error("cannot store the round; it will be repeated next tick", "err", err)
			return
		}
		if len(transitions) > 0 {
			w.notify()
		}
		if len(unsettled) == 0 || attempt >= rechecks {
			w.log.Debug("round done", "transitions", len(transitions), "unsettled", unsettled)
			return
		}
		services = unsettled
		w.log.Debug("re-checking unsettled services", "services", services, "in", time.Duration(w.th.Recheck))
		t := time.NewTimer(time.Duration(w.th.Recheck))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
