package checks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// MonitorOptions configures a Monitor. Zero values take the defaults noted.
type MonitorOptions struct {
	Probers        map[string]Prober // by kind, as NewProbers returns them
	DefaultTimeout time.Duration     // per probe when spec.Timeout == 0; default 10s
	Concurrency    int               // max probes in flight, across concurrent rounds; default 16
	Now            func() time.Time  // stamps observations; default time.Now
	Logger         *slog.Logger      // default discards
}

// Monitor runs rounds of probes. It is safe for concurrent use.
type Monitor struct {
	services []Service
	control  []ProbeSpec
	probers  map[string]Prober
	timeout  time.Duration
	// slots holds one token per probe in flight; it is shared by concurrent
	// rounds (a re-check during a round) so the bound holds for the process.
	slots chan struct{}
	now   func() time.Time
	log   *slog.Logger
}

// NewMonitor returns a Monitor of services, guarded by the control probes.
// An empty control list disables the guard.
func NewMonitor(services []Service, control []ProbeSpec, o MonitorOptions) *Monitor {
	m := &Monitor{
		services: services,
		control:  control,
		probers:  o.Probers,
		timeout:  o.DefaultTimeout,
		now:      o.Now,
		log:      o.Logger,
	}
	if m.timeout <= 0 {
		m.timeout = 10 * time.Second
	}
	concurrency := o.Concurrency
	if concurrency <= 0 {
		concurrency = 16
	}
	m.slots = make(chan struct{}, concurrency)
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m
}

// Round probes the given services (nil or empty = all, in catalog order;
// unknown ids are skipped) and the control probes concurrently, each probe
// under its own timeout and under ctx.
//
// ControlOK in every Observation is true when there are no control probes
// (the guard is disabled) or at least one control probe returned ClassOK.
// Observations come back in catalog order, Results within an observation in
// spec order; control holds the control probes' results in spec order, for
// `outagebot check` to show why the status is unknown.
//
// When ctx ends, Round returns as soon as the probes in flight have noticed
// (which the Prober contract makes prompt); probes not yet started get
// ClassHTTPTimeout, ClassTCPTimeout or ClassDNSTimeout as fits their kind.
func (m *Monitor) Round(ctx context.Context, services []string) (obs []Observation, control []Result) {
	selected := m.selectServices(services)
	// Control probes go first so that, under the concurrency bound, a
	// round cut short still knows whether this machine is online.
	specs := append([]ProbeSpec(nil), m.control...)
	for _, s := range selected {
		specs = append(specs, s.Probes...)
	}
	results := m.run(ctx, specs)
	at := m.now()

	control = results[:len(m.control):len(m.control)]
	controlOK := len(control) == 0
	for _, r := range control {
		controlOK = controlOK || r.Class == ClassOK
		m.logFailure("control", r)
	}
	rest := results[len(m.control):]
	obs = make([]Observation, len(selected))
	for i, s := range selected {
		n := len(s.Probes)
		obs[i] = Observation{Service: s.ID, Results: rest[:n:n], ControlOK: controlOK, At: at}
		for _, r := range obs[i].Results {
			m.logFailure(s.ID, r)
		}
		rest = rest[n:]
	}
	return obs, control
}

// Control runs only the control probes and returns their results in spec order.
func (m *Monitor) Control(ctx context.Context) []Result {
	return m.run(ctx, m.control)
}

// selectServices returns the services named by ids in catalog order, or all
// of them when ids is empty.
func (m *Monitor) selectServices(ids []string) []Service {
	if len(ids) == 0 {
		return m.services
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var selected []Service
	for _, s := range m.services {
		if want[s.ID] {
			selected = append(selected, s)
			delete(want, s.ID)
		}
	}
	for id := range want {
		m.log.Warn("round asked for an unknown service", "service", id)
	}
	return selected
}

// run runs every spec, at most cap(m.slots) at a time, and returns their
// results in spec order. It waits for every probe it started.
func (m *Monitor) run(ctx context.Context, specs []ProbeSpec) []Result {
	results := make([]Result, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		if !m.acquire(ctx) {
			for j := i; j < len(specs); j++ {
				results[j] = notStarted(ctx, specs[j])
			}
			break
		}
		wg.Go(func() {
			defer func() { <-m.slots }()
			results[i] = m.probe(ctx, spec)
		})
	}
	wg.Wait()
	return results
}

// acquire takes a slot for one probe, unless ctx ends first.
func (m *Monitor) acquire(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case m.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// probe runs one spec under its timeout.
func (m *Monitor) probe(ctx context.Context, spec ProbeSpec) Result {
	prober, ok := m.probers[spec.Kind]
	if !ok {
		// Config validation rejects unknown kinds; this keeps a mistake from
		// looking like an outage.
		return Result{Probe: spec.Name, Kind: spec.Kind, Target: spec.Target,
			Class: ClassHTTPUnexpected, Detail: fmt.Sprintf("no prober for kind %q", spec.Kind)}
	}
	timeout := time.Duration(spec.Timeout)
	if timeout <= 0 {
		timeout = m.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return prober(ctx, spec)
}

// notStarted is the result of a probe the round ended before it could run.
func notStarted(ctx context.Context, spec ProbeSpec) Result {
	class := ClassHTTPTimeout
	switch spec.Kind {
	case kindDNS:
		class = ClassDNSTimeout
	case kindTCP:
		class = ClassTCPTimeout
	}
	why := "round timed out"
	if errors.Is(ctx.Err(), context.Canceled) {
		why = "round canceled"
	}
	return Result{Probe: spec.Name, Kind: spec.Kind, Target: spec.Target,
		Class: class, Detail: "not started: " + why}
}

func (m *Monitor) logFailure(service string, r Result) {
	if r.Class == ClassOK {
		return
	}
	m.log.Debug("probe failed", "service", service, "probe", r.Probe, "kind", r.Kind,
		"target", r.Target, "class", r.Class, "detail", r.Detail, "latency", r.Latency)
}
