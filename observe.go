package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// evidence gathers, for a round, the three kinds of evidence the detector
// fuses: what the probes saw, what Meta says, and what people report.
type evidence struct {
	mon      *checks.Monitor
	catalog  *checks.Catalog
	official *checks.Official // nil when the official status is not polled
	every    time.Duration    // how often Meta's status is fetched
	timeout  time.Duration    // bound of one fetch
	reports  *checks.Reports
	now      func() time.Time
	log      *slog.Logger

	mu      sync.Mutex
	fetched time.Time
	status  map[string]checks.OfficialStatus // by org id
}

// observe is a checks.Watcher's Observe.
func (e *evidence) observe(ctx context.Context, services []string) []checks.Observation {
	obs, _ := e.mon.Round(ctx, services)
	status := e.officialStatus(ctx)
	now := e.now()
	for i := range obs {
		svc, _ := e.catalog.Lookup(obs[i].Service)
		for _, org := range svc.Official {
			if s, ok := status[org]; ok {
				obs[i].Official = append(obs[i].Official, s)
			}
		}
		sig, err := e.reports.Signal(svc.ID, now)
		if err != nil {
			e.log.Error("cannot read reports; this round goes without them", "service", svc.ID, "err", err)
			continue
		}
		obs[i].Reports = sig
	}
	return obs
}

// officialStatus returns Meta's status per org, fetched at most once per
// e.every: the status page moves in minutes, and polling it every round
// would only load it.
func (e *evidence) officialStatus(ctx context.Context) map[string]checks.OfficialStatus {
	if e.official == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.status != nil && e.now().Sub(e.fetched) < e.every {
		return e.status
	}
	var orgs []string
	for _, s := range e.catalog.Services() {
		orgs = append(orgs, s.Official...)
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	e.status = make(map[string]checks.OfficialStatus)
	for _, s := range e.official.Fetch(ctx, orgs) {
		e.status[s.Org] = s
		if s.Level == checks.OfficialUnknown {
			e.log.Debug("Meta's official status unknown", "org", s.Org, "why", s.Err)
		}
	}
	e.fetched = e.now()
	return e.status
}
