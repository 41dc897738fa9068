package checks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MonitorOptions configures a Monitor. Zero values take the defaults noted.
type MonitorOptions struct {
	Probers        map[string]Prober // by kind, as NewProbers returns them
	DefaultTimeout time.Duration     // per probe when spec.Timeout == 0; default 10s
	Concurrency    int               // max probes in flight, across concurrent rounds; default 16
	Now            func() time.Time  // stamps observations and times back-offs; default time.Now
	Logger         *slog.Logger      // default discards
	// Jitter spreads the starts of a round's service probes at random over
	// this long, so that Meta never sees a burst at a fixed second. Control
	// probes start at once. Default 0: every probe starts at once. A round
	// (re-checks too) takes up to this much longer.
	Jitter time.Duration
	// Interval is the time between rounds. A host that throttles an http
	// or websocket probe (403 or 429) without saying for how long is left
	// alone for one interval, then two, four... up to 10 minutes. Default 30s.
	Interval time.Duration
	// OnResult, when set, is given every result of every round as the round
	// ends: service is the service's id, or "" for a control probe. Rounds
	// may run concurrently, so it must be safe for concurrent use.
	OnResult func(service string, r Result)
}

// Monitor runs rounds of probes. It is safe for concurrent use.
type Monitor struct {
	services []Service
	control  []ProbeSpec
	probers  map[string]Prober
	timeout  time.Duration
	// slots holds one token per probe in flight; it is shared by concurrent
	// rounds (a re-check during a round) so the bound holds for the process.
	slots  chan struct{}
	now    func() time.Time
	log    *slog.Logger
	jitter time.Duration
	// spread picks a probe's start offset in [0, n); tests replace it.
	spread   func(n time.Duration) time.Duration
	interval time.Duration
	onResult func(service string, r Result)

	// prints are the specs' fingerprints, by service id ("" for control
	// probes) and probe name, computed once.
	prints map[[2]string]string

	mu       sync.Mutex
	backoffs map[string]backoff // by host of http and websocket targets
}

// Back-off bounds. A Retry-After is honoured up to an hour, so a broken
// header cannot silence a probe for good.
const (
	maxBackoff    = 10 * time.Minute
	maxRetryAfter = time.Hour
)

// backoff is how long a host that throttled us is left alone.
type backoff struct {
	until      time.Time
	strikes    int  // throttled answers in a row
	retryAfter bool // until comes from the host's Retry-After
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
		jitter:   max(o.Jitter, 0),
		spread:   rand.N[time.Duration],
		interval: o.Interval,
		onResult: o.OnResult,
		backoffs: make(map[string]backoff),
		prints:   make(map[[2]string]string),
	}
	for _, p := range control {
		m.prints[[2]string{"", p.Name}] = SpecFingerprint(p)
	}
	for _, s := range services {
		for _, p := range s.Probes {
			m.prints[[2]string{s.ID, p.Name}] = SpecFingerprint(p)
		}
	}
	if m.interval <= 0 {
		m.interval = 30 * time.Second
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
	if m.onResult == nil {
		m.onResult = func(string, Result) {}
	}
	return m
}

// Round probes the given services (nil or empty = all, in catalog order;
// unknown ids are skipped) and the control probes concurrently, each probe
// under its own timeout and under ctx.
//
// ControlOK in every Observation is true when there are no control probes
// (the guard is disabled) or at least one control probe returned ClassOK;
// a Watcher judges it again with the roles of the control probes and what
// it knows of them (see Vantage). Every observation holds the control
// results too.
// Observations come back in catalog order, Results within an observation in
// spec order; control holds the control probes' results in spec order, for
// `outagebot check` to show why the status is unknown.
//
// With MonitorOptions.Jitter, service probes start at random moments within
// it. An http or websocket probe of a host that recently answered 403 or 429
// is not run while the back-off lasts: its result is ClassHTTPBlocked, with
// a Detail saying until when.
//
// When ctx ends, Round returns as soon as the probes in flight have noticed
// (which the Prober contract makes prompt); probes not yet started get
// ClassHTTPTimeout, ClassTCPTimeout or ClassDNSTimeout as fits their kind.
func (m *Monitor) Round(ctx context.Context, services []string) (obs []Observation, control []Result) {
	selected := m.selectServices(services)
	// Control probes go first so that, under the concurrency bound, a
	// round cut short still knows whether this machine is online.
	specs := append([]ProbeSpec(nil), m.control...)
	owners := make([]string, len(m.control), len(specs)) // service id of each spec
	for _, s := range selected {
		specs = append(specs, s.Probes...)
		for range s.Probes {
			owners = append(owners, s.ID)
		}
	}
	var delays []time.Duration
	if m.jitter > 0 {
		delays = make([]time.Duration, len(specs))
		for i := len(m.control); i < len(specs); i++ {
			delays[i] = m.spread(m.jitter)
		}
	}
	results := m.run(ctx, specs, delays)
	for i := range results {
		m.stamp(&results[i], owners[i], specs[i])
	}
	at := m.now()

	control = results[:len(m.control):len(m.control)]
	controlOK := len(control) == 0
	for _, r := range control {
		controlOK = controlOK || r.Class == ClassOK
		m.onResult("", r)
		m.logFailure("control", r)
	}
	rest := results[len(m.control):]
	obs = make([]Observation, len(selected))
	for i, s := range selected {
		n := len(s.Probes)
		obs[i] = Observation{Service: s.ID, Results: rest[:n:n], Control: control, ControlOK: controlOK, At: at}
		for _, r := range obs[i].Results {
			m.onResult(s.ID, r)
			m.logFailure(s.ID, r)
		}
		rest = rest[n:]
	}
	return obs, control
}

// Control runs only the control probes and returns their results in spec order.
func (m *Monitor) Control(ctx context.Context) []Result {
	results := m.run(ctx, m.control, nil)
	for i := range results {
		m.stamp(&results[i], "", m.control[i])
	}
	return results
}

// stamp marks a result with what the detector needs to know of its spec.
func (m *Monitor) stamp(r *Result, service string, spec ProbeSpec) {
	r.Spec = m.prints[[2]string{service, spec.Name}]
	if service == "" {
		r.Role = spec.ControlRole()
	}
	r.ViaPublicDNS = spec.Kind == kindDNS && !spec.Authoritative && (spec.Resolver != "" || len(spec.Resolvers) > 0)
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
// results in spec order. delays, when not nil, holds how long after the
// start each spec is due: specs start in that order, without holding a slot
// while they wait. It waits for every probe it started.
func (m *Monitor) run(ctx context.Context, specs []ProbeSpec, delays []time.Duration) []Result {
	results := make([]Result, len(specs))
	order := make([]int, len(specs))
	for i := range order {
		order[i] = i
	}
	if delays != nil {
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(delays[a], delays[b]) })
	}
	start := time.Now()
	var wg sync.WaitGroup
	for k, i := range order {
		var due time.Time
		if delays != nil {
			due = start.Add(delays[i])
		}
		if !waitUntil(ctx, due) || !m.acquire(ctx) {
			for _, j := range order[k:] {
				results[j] = notStarted(ctx, specs[j])
			}
			break
		}
		wg.Go(func() {
			defer func() { <-m.slots }()
			results[i] = m.probe(ctx, specs[i])
		})
	}
	wg.Wait()
	return results
}

// waitUntil waits until the time t, and reports false if ctx ends first.
func waitUntil(ctx context.Context, t time.Time) bool {
	if d := time.Until(t); d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	return ctx.Err() == nil
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
		return Result{Probe: spec.Name, Kind: spec.Kind, Target: spec.DisplayTarget(),
			Class: ClassHTTPUnexpected, Detail: fmt.Sprintf("no prober for kind %q", spec.Kind)}
	}
	host := webHost(spec)
	if host != "" {
		if until, why, ok := m.backingOff(host); ok {
			return Result{Probe: spec.Name, Kind: spec.Kind, Target: spec.DisplayTarget(), Class: ClassHTTPBlocked,
				Detail: "backing off until " + until.UTC().Format("15:04:05") + " UTC (" + why + ")"}
		}
	}
	timeout := time.Duration(spec.Timeout)
	if timeout <= 0 {
		timeout = m.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if host == "" {
		return prober(ctx, spec)
	}
	// The hook runs before the prober returns, on its goroutine.
	throttled, retryAfter := false, ""
	r := prober(withThrottleHook(ctx, func(ra string) { throttled, retryAfter = true, ra }), spec)
	m.learn(host, throttled, retryAfter)
	return r
}

// webHost is the host an http or websocket probe asks, in lower case, or ""
// for other kinds: hosts answer 403 and 429 to say "slow down", and a
// back-off applies to every probe of the host.
func webHost(spec ProbeSpec) string {
	if spec.Kind != kindHTTP && spec.Kind != kindWebSocket {
		return ""
	}
	u, err := url.Parse(spec.Target)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// backingOff reports whether probes of host must wait, until when and why.
func (m *Monitor) backingOff(host string) (until time.Time, why string, ok bool) {
	m.mu.Lock()
	b := m.backoffs[host]
	m.mu.Unlock()
	if !m.now().Before(b.until) {
		return time.Time{}, "", false
	}
	why = "Retry-After"
	if !b.retryAfter {
		why = "throttled " + strconv.Itoa(b.strikes) + " times in a row"
		if b.strikes == 1 {
			why = "throttled"
		}
	}
	return b.until, why, true
}

// learn records how a probe of host ended. A throttled answer starts a
// back-off: until the time its Retry-After names, or else for twice as long
// as the last one. Probes of the host running alongside may lengthen that
// back-off but do not count as more strikes. Any other answer ends the
// back-off, unless a probe running alongside has just begun a new one.
func (m *Monitor) learn(host string, throttled bool, retryAfter string) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.backoffs[host]
	active := now.Before(b.until)
	if !throttled {
		if !active {
			delete(m.backoffs, host)
		}
		return
	}
	if !active {
		b.strikes++
	}
	wait, ok := parseRetryAfter(retryAfter, now)
	if !ok {
		wait = m.interval
		for range b.strikes - 1 {
			if wait >= maxBackoff {
				break
			}
			wait *= 2
		}
		wait = min(wait, maxBackoff)
	}
	if until := now.Add(wait); until.After(b.until) {
		b.until, b.retryAfter = until, ok
	}
	m.backoffs[host] = b
	m.log.Info("backing off from a host that throttles the probes", "host", host,
		"until", b.until, "retry_after", retryAfter, "strikes", b.strikes)
}

// parseRetryAfter reads a Retry-After header, in seconds or an HTTP date,
// as a wait from now of at most maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return min(time.Duration(secs)*time.Second, maxRetryAfter), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// notStarted is the result of a probe the round ended before it could run.
func notStarted(ctx context.Context, spec ProbeSpec) Result {
	class := ClassHTTPTimeout
	switch spec.Kind {
	case kindDNS:
		class = ClassDNSTimeout
	case kindTCP, kindTLS:
		// A tls probe that never started never connected either.
		class = ClassTCPTimeout
	}
	why := "round timed out"
	if errors.Is(ctx.Err(), context.Canceled) {
		why = "round canceled"
	}
	return Result{Probe: spec.Name, Kind: spec.Kind, Target: spec.DisplayTarget(),
		Class: class, Detail: "not started: " + why}
}

func (m *Monitor) logFailure(service string, r Result) {
	if r.Class == ClassOK {
		return
	}
	m.log.Debug("probe failed", "service", service, "probe", r.Probe, "kind", r.Kind,
		"target", r.Target, "class", r.Class, "detail", r.Detail, "latency", r.Latency)
}
