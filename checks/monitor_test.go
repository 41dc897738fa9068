package checks

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fakeProber answers according to the target: "down" fails at once, "hang"
// waits for its context to end, "slow" takes a second, anything else is up.
// Latency is the time the probe took, which is exact under synctest.
func fakeProber(ctx context.Context, spec ProbeSpec) Result {
	start := time.Now()
	r := Result{Probe: spec.Name, Kind: spec.Kind, Target: spec.Target, Class: ClassOK}
	switch spec.Target {
	case "down":
		r.Class = ClassHTTP5xx
	case "hang":
		<-ctx.Done()
		r.Class, r.Detail = ClassHTTPTimeout, "hung"
	case "slow":
		time.Sleep(time.Second)
	}
	r.Latency = time.Since(start)
	return r
}

func fakeProbers() map[string]Prober {
	return map[string]Prober{"http": fakeProber, "dns": fakeProber, "tcp": fakeProber}
}

func httpSpec(name, target string) ProbeSpec {
	return ProbeSpec{Name: name, Kind: "http", Target: target}
}

func okResult(name string) Result {
	return Result{Probe: name, Kind: "http", Target: "up", Class: ClassOK}
}

func TestRound(t *testing.T) {
	at := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	services := []Service{
		{ID: "whatsapp", Probes: []ProbeSpec{httpSpec("w1", "up"), httpSpec("w2", "down")}},
		{ID: "instagram", Probes: []ProbeSpec{httpSpec("i1", "up")}},
		{ID: "facebook", Probes: []ProbeSpec{httpSpec("f1", "up"), httpSpec("f2", "up"), httpSpec("f3", "up")}},
	}
	whatsapp := []Result{okResult("w1"), {Probe: "w2", Kind: "http", Target: "down", Class: ClassHTTP5xx}}
	instagram := []Result{okResult("i1")}
	facebook := []Result{okResult("f1"), okResult("f2"), okResult("f3")}
	ctrlDown := httpSpec("c-down", "down")
	ctrlUp := httpSpec("c-up", "up")
	ctrlDownResult := Result{Probe: "c-down", Kind: "http", Target: "down", Class: ClassHTTP5xx}
	tests := []struct {
		name        string
		control     []ProbeSpec
		services    []string
		want        []Observation
		wantControl []Result
	}{
		{
			name: "all services, no guard",
			want: []Observation{
				{Service: "whatsapp", Results: whatsapp, ControlOK: true, At: at},
				{Service: "instagram", Results: instagram, ControlOK: true, At: at},
				{Service: "facebook", Results: facebook, ControlOK: true, At: at},
			},
		},
		{
			name:     "chosen services come back in catalog order",
			services: []string{"facebook", "whatsapp", "facebook"},
			want: []Observation{
				{Service: "whatsapp", Results: whatsapp, ControlOK: true, At: at},
				{Service: "facebook", Results: facebook, ControlOK: true, At: at},
			},
		},
		{
			name:     "unknown services are skipped",
			services: []string{"myspace", "instagram"},
			want: []Observation{
				{Service: "instagram", Results: instagram, ControlOK: true, At: at},
			},
		},
		{
			name:     "every control probe fails",
			control:  []ProbeSpec{ctrlDown, ctrlDown},
			services: []string{"instagram"},
			want: []Observation{
				{Service: "instagram", Results: instagram, ControlOK: false, At: at},
			},
			wantControl: []Result{ctrlDownResult, ctrlDownResult},
		},
		{
			name:     "one control probe is enough",
			control:  []ProbeSpec{ctrlDown, ctrlUp},
			services: []string{"instagram"},
			want: []Observation{
				{Service: "instagram", Results: instagram, ControlOK: true, At: at},
			},
			wantControl: []Result{ctrlDownResult, okResult("c-up")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Under synctest the fake probes take no time at all.
			synctest.Test(t, func(t *testing.T) {
				m := NewMonitor(services, tt.control, MonitorOptions{
					Probers: fakeProbers(),
					Now:     func() time.Time { return at },
				})
				obs, control := m.Round(t.Context(), tt.services)
				if diff := cmp.Diff(tt.want, obs, stamped); diff != "" {
					t.Errorf("observations (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantControl, control, cmpopts.EquateEmpty(), stamped); diff != "" {
					t.Errorf("control (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestControl(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMonitor([]Service{{ID: "threads", Probes: []ProbeSpec{httpSpec("t1", "down")}}},
			[]ProbeSpec{httpSpec("c1", "up"), httpSpec("c2", "down")}, MonitorOptions{Probers: fakeProbers()})
		want := []Result{okResult("c1"), {Probe: "c2", Kind: "http", Target: "down", Class: ClassHTTP5xx}}
		if diff := cmp.Diff(want, m.Control(t.Context()), stamped); diff != "" {
			t.Errorf("control (-want +got):\n%s", diff)
		}
	})
}

func TestRoundConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inFlight, peak atomic.Int32
		counting := func(ctx context.Context, spec ProbeSpec) Result {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			defer inFlight.Add(-1)
			return fakeProber(ctx, spec)
		}
		var services []Service
		for _, id := range []string{"whatsapp", "instagram", "facebook", "messenger", "threads"} {
			services = append(services, Service{ID: id, Probes: []ProbeSpec{httpSpec("a", "slow"), httpSpec("b", "slow")}})
		}
		m := NewMonitor(services, []ProbeSpec{httpSpec("c", "slow"), httpSpec("d", "slow")},
			MonitorOptions{Probers: map[string]Prober{"http": counting}, Concurrency: 3})
		start := time.Now()
		m.Round(t.Context(), nil)
		// 12 one-second probes, three at a time.
		if got, want := time.Since(start), 4*time.Second; got != want {
			t.Errorf("round took %v, want %v", got, want)
		}
		if got := peak.Load(); got != 3 {
			t.Errorf("peak of %d probes in flight, want 3", got)
		}
	})
}

func TestRoundTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := httpSpec("own", "hang")
		hang.Timeout = Duration(2 * time.Second)
		m := NewMonitor([]Service{{ID: "whatsapp", Probes: []ProbeSpec{hang, httpSpec("default", "hang")}}}, nil,
			MonitorOptions{Probers: fakeProbers(), DefaultTimeout: 5 * time.Second})
		obs, _ := m.Round(t.Context(), nil)
		var got []time.Duration
		for _, r := range obs[0].Results {
			got = append(got, r.Latency)
		}
		if diff := cmp.Diff([]time.Duration{2 * time.Second, 5 * time.Second}, got); diff != "" {
			t.Errorf("probe latencies (-want +got):\n%s", diff)
		}
	})
}

func TestRoundEndsWithContext(t *testing.T) {
	probes := []ProbeSpec{
		httpSpec("web", "hang"),
		{Name: "name", Kind: "dns", Target: "up"},
		{Name: "port", Kind: "tcp", Target: "up"},
		httpSpec("api", "up"),
	}
	tests := []struct {
		name string
		end  func(context.Context) (context.Context, context.CancelFunc)
		why  string
	}{
		{
			name: "deadline",
			end: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, time.Second)
			},
			why: "round timed out",
		},
		{
			name: "cancel",
			end: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(time.Second, cancel)
				return ctx, cancel
			},
			why: "round canceled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// One probe at a time: the first hangs, so the others never start.
				m := NewMonitor([]Service{{ID: "whatsapp", Probes: probes}}, nil,
					MonitorOptions{Probers: fakeProbers(), Concurrency: 1, DefaultTimeout: time.Minute})
				ctx, cancel := tt.end(t.Context())
				defer cancel()
				start := time.Now()
				obs, _ := m.Round(ctx, nil)
				if got := time.Since(start); got != time.Second {
					t.Errorf("round returned after %v, want 1s", got)
				}
				notStarted := "not started: " + tt.why
				want := []Result{
					{Probe: "web", Kind: "http", Target: "hang", Class: ClassHTTPTimeout, Detail: "hung", Latency: time.Second},
					{Probe: "name", Kind: "dns", Target: "up", Class: ClassDNSTimeout, Detail: notStarted},
					{Probe: "port", Kind: "tcp", Target: "up", Class: ClassTCPTimeout, Detail: notStarted},
					{Probe: "api", Kind: "http", Target: "up", Class: ClassHTTPTimeout, Detail: notStarted},
				}
				if diff := cmp.Diff(want, obs[0].Results, stamped); diff != "" {
					t.Errorf("results (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestRoundUnknownKind(t *testing.T) {
	m := NewMonitor([]Service{{ID: "threads", Probes: []ProbeSpec{{Name: "ws", Kind: "websocket", Target: "wss://x"}}}}, nil,
		MonitorOptions{Probers: fakeProbers()})
	obs, _ := m.Round(t.Context(), nil)
	want := []Result{{Probe: "ws", Kind: "websocket", Target: "wss://x", Class: ClassHTTPUnexpected, Detail: `no prober for kind "websocket"`}}
	if diff := cmp.Diff(want, obs[0].Results, stamped); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if obs[0].Results[0].Class.Hard() {
		t.Error("a config mistake counts as an outage")
	}
}

// TestRoundRealProbers runs a round of every kind against local servers, the
// way `outagebot check` does.
func TestRoundRealProbers(t *testing.T) {
	services, control := localCatalog(t, 2)
	m := NewMonitor(services, control, MonitorOptions{Probers: NewProbers(ProberOptions{}), DefaultTimeout: probeTimeout})
	obs, ctrl := m.Round(t.Context(), nil)
	if len(obs) != 2 || len(ctrl) != 1 {
		t.Fatalf("%d observations and %d control results, want 2 and 1", len(obs), len(ctrl))
	}
	for _, o := range obs {
		if !o.ControlOK {
			t.Errorf("%s: control not OK", o.Service)
		}
		for _, r := range o.Results {
			if r.Class != ClassOK {
				t.Errorf("%s/%s: %s %q", o.Service, r.Probe, r.Class, r.Detail)
			}
		}
	}
}

// localCatalog returns n services of four probes each (two HTTP, DNS, TCP)
// and one control probe, all against servers on 127.0.0.1.
func localCatalog(t testing.TB, n int) ([]Service, []ProbeSpec) {
	site := newTestSite(t)
	dnsSrv := startDNS(t)
	host := strings.TrimPrefix(site.URL, "http://")
	probes := []ProbeSpec{
		{Name: "web", Kind: "http", Target: site.URL + "/ok", BodyContains: "hello"},
		{Name: "graph", Kind: "http", Target: site.URL + "/graph", Status: []StatusRange{{400, 400}},
			JSON: map[string]string{"error.type": "OAuthException", "error.code": "2500"}},
		{Name: "dns", Kind: "dns", Target: "up.example", Resolver: dnsSrv.addr},
		{Name: "tcp", Kind: "tcp", Target: host},
	}
	services := make([]Service, n)
	for i := range services {
		services[i] = Service{ID: "service" + string(rune('a'+i)), Probes: probes}
	}
	return services, []ProbeSpec{{Name: "cdn", Kind: "http", Target: site.URL + "/ok"}}
}

// BenchmarkRound measures a round of 5 services × 4 probes against local
// servers: the Monitor's overhead on top of loopback round trips.
func BenchmarkRound(b *testing.B) {
	services, control := localCatalog(b, 5)
	m := NewMonitor(services, control, MonitorOptions{Probers: NewProbers(ProberOptions{}), DefaultTimeout: probeTimeout})
	b.ReportAllocs()
	for b.Loop() {
		obs, _ := m.Round(b.Context(), nil)
		if r := obs[4].Results[3]; r.Class != ClassOK {
			b.Fatalf("%s: %s %q", r.Probe, r.Class, r.Detail)
		}
	}
}

// startsRecorder is a prober that records when each probe started, as an
// offset from origin, which tests set before the round.
type startsRecorder struct {
	origin time.Time
	mu     sync.Mutex
	starts map[string]time.Duration
}

func (s *startsRecorder) probe(ctx context.Context, spec ProbeSpec) Result {
	s.mu.Lock()
	s.starts[spec.Name] = time.Since(s.origin)
	s.mu.Unlock()
	return fakeProber(ctx, spec)
}

func TestRoundJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &startsRecorder{starts: make(map[string]time.Duration)}
		services := []Service{
			{ID: "whatsapp", Probes: []ProbeSpec{httpSpec("w1", "up"), httpSpec("w2", "slow")}},
			{ID: "threads", Probes: []ProbeSpec{httpSpec("t1", "up")}},
		}
		m := NewMonitor(services, []ProbeSpec{httpSpec("c1", "slow")}, MonitorOptions{
			Probers:     map[string]Prober{"http": rec.probe},
			Jitter:      10 * time.Second,
			Concurrency: 1,
		})
		offsets := []time.Duration{3 * time.Second, 500 * time.Millisecond, 2 * time.Second}
		m.spread = func(n time.Duration) time.Duration {
			if n != 10*time.Second {
				t.Errorf("spread over %v, want 10s", n)
			}
			d := offsets[0]
			offsets = offsets[1:]
			return d
		}
		rec.origin = time.Now()
		m.Round(t.Context(), nil)
		// The control probe goes first and takes a second, so w2 (due at
		// 0.5 s) waits for its slot; the others start when due, in the
		// order of their offsets rather than of the catalog.
		want := map[string]time.Duration{"c1": 0, "w2": time.Second, "t1": 2 * time.Second, "w1": 3 * time.Second}
		if diff := cmp.Diff(want, rec.starts); diff != "" {
			t.Errorf("probe starts (-want +got):\n%s", diff)
		}
	})
}

func TestRoundJitterDefaultSpread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const jitter = 10 * time.Second
		rec := &startsRecorder{starts: make(map[string]time.Duration)}
		var probes []ProbeSpec
		for i := range 50 {
			probes = append(probes, httpSpec(strconv.Itoa(i), "up"))
		}
		m := NewMonitor([]Service{{ID: "facebook", Probes: probes}}, nil,
			MonitorOptions{Probers: map[string]Prober{"http": rec.probe}, Jitter: jitter})
		rec.origin = time.Now()
		m.Round(t.Context(), nil)
		distinct := make(map[time.Duration]bool)
		for name, d := range rec.starts {
			if d < 0 || d >= jitter {
				t.Errorf("probe %s started after %v, want within [0, %v)", name, d, jitter)
			}
			distinct[d] = true
		}
		if len(distinct) < 2 {
			t.Errorf("50 probes started at %d distinct times, want them spread", len(distinct))
		}
	})
}

func TestRoundEndsDuringJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMonitor([]Service{{ID: "whatsapp", Probes: []ProbeSpec{httpSpec("early", "up"), httpSpec("late", "up")}}}, nil,
			MonitorOptions{Probers: fakeProbers(), Jitter: time.Minute})
		offsets := []time.Duration{time.Second, 30 * time.Second}
		m.spread = func(time.Duration) time.Duration {
			d := offsets[0]
			offsets = offsets[1:]
			return d
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		obs, _ := m.Round(ctx, nil)
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("round returned after %v, want 10s", got)
		}
		want := []Result{
			okResult("early"),
			{Probe: "late", Kind: "http", Target: "up", Class: ClassHTTPTimeout, Detail: "not started: round timed out"},
		}
		if diff := cmp.Diff(want, obs[0].Results, stamped); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
	})
}

// throttler is a prober of hosts that may throttle: an http or websocket
// probe of a host in retryAfter reports a 429 with that Retry-After ("" for
// none) and is http_blocked; anything else is ok. It records the probes it
// ran.
type throttler struct {
	retryAfter map[string]string // changed only between rounds
	mu         sync.Mutex
	ran        []string
}

func (f *throttler) probe(ctx context.Context, spec ProbeSpec) Result {
	f.mu.Lock()
	f.ran = append(f.ran, spec.Name)
	f.mu.Unlock()
	r := Result{Probe: spec.Name, Kind: spec.Kind, Target: spec.Target, Class: ClassOK}
	u, err := url.Parse(spec.Target)
	if err != nil || (spec.Kind != "http" && spec.Kind != "websocket") {
		return r
	}
	if ra, ok := f.retryAfter[u.Hostname()]; ok {
		resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}}
		if ra != "" {
			resp.Header.Set("Retry-After", ra)
		}
		reportThrottle(ctx, resp)
		r.Class, r.Detail = ClassHTTPBlocked, "HTTP 429"
	}
	return r
}

// takeRan returns the names of the probes run since the last call, sorted.
func (f *throttler) takeRan() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ran := f.ran
	f.ran = nil
	slices.Sort(ran)
	return ran
}

func TestBackoffRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// synctest's clock starts at midnight UTC, 2000-01-01.
		f := &throttler{retryAfter: map[string]string{"www.instagram.com": "120"}}
		probers := map[string]Prober{"http": f.probe, "websocket": f.probe, "tcp": f.probe}
		m := NewMonitor([]Service{{ID: "instagram", Probes: []ProbeSpec{
			{Name: "web", Kind: "http", Target: "https://www.instagram.com/"},
			{Name: "chat", Kind: "websocket", Target: "wss://WWW.Instagram.com/chat"},
			{Name: "api", Kind: "http", Target: "https://graph.instagram.com/me"},
			{Name: "tcp", Kind: "tcp", Target: "https://www.instagram.com/"},
		}}}, nil, MonitorOptions{Probers: probers, Concurrency: 1})
		blocked := func(name, kind, target, detail string) Result {
			return Result{Probe: name, Kind: kind, Target: target, Class: ClassHTTPBlocked, Detail: detail}
		}
		round := func(wantRan []string, want []Result) {
			t.Helper()
			obs, _ := m.Round(t.Context(), nil)
			if diff := cmp.Diff(wantRan, f.takeRan()); diff != "" {
				t.Errorf("at %s, probes run (-want +got):\n%s", time.Now().UTC().Format(time.TimeOnly), diff)
			}
			if diff := cmp.Diff(want, obs[0].Results, stamped); diff != "" {
				t.Errorf("at %s, results (-want +got):\n%s", time.Now().UTC().Format(time.TimeOnly), diff)
			}
		}
		api := Result{Probe: "api", Kind: "http", Target: "https://graph.instagram.com/me", Class: ClassOK}
		tcp := Result{Probe: "tcp", Kind: "tcp", Target: "https://www.instagram.com/", Class: ClassOK}

		// One probe at a time, in catalog order: once web has been told to
		// slow down, chat, another probe of the same host, waits too.
		waiting := "backing off until 00:02:00 UTC (Retry-After)"
		round([]string{"api", "tcp", "web"}, []Result{
			blocked("web", "http", "https://www.instagram.com/", "HTTP 429"),
			blocked("chat", "websocket", "wss://WWW.Instagram.com/chat", waiting),
			api, tcp,
		})
		time.Sleep(time.Minute)
		// The other host and the tcp probe (no HTTP, no Retry-After) go on.
		round([]string{"api", "tcp"}, []Result{
			blocked("web", "http", "https://www.instagram.com/", waiting),
			blocked("chat", "websocket", "wss://WWW.Instagram.com/chat", waiting),
			api, tcp,
		})
		time.Sleep(time.Minute)
		delete(f.retryAfter, "www.instagram.com")
		round([]string{"api", "chat", "tcp", "web"}, []Result{
			{Probe: "web", Kind: "http", Target: "https://www.instagram.com/", Class: ClassOK},
			{Probe: "chat", Kind: "websocket", Target: "wss://WWW.Instagram.com/chat", Class: ClassOK},
			api, tcp,
		})
		// The recovery reset the count: a throttle without Retry-After now
		// waits one interval (30 s by default).
		f.retryAfter["www.instagram.com"] = ""
		waiting = "backing off until 00:02:30 UTC (throttled)"
		round([]string{"api", "tcp", "web"}, []Result{
			blocked("web", "http", "https://www.instagram.com/", "HTTP 429"),
			blocked("chat", "websocket", "wss://WWW.Instagram.com/chat", waiting),
			api, tcp,
		})
		time.Sleep(29 * time.Second)
		round([]string{"api", "tcp"}, []Result{
			blocked("web", "http", "https://www.instagram.com/", waiting),
			blocked("chat", "websocket", "wss://WWW.Instagram.com/chat", waiting),
			api, tcp,
		})
	})
}

func TestBackoffExponential(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &throttler{retryAfter: map[string]string{"www.facebook.com": ""}}
		m := NewMonitor([]Service{{ID: "facebook", Probes: []ProbeSpec{{Name: "web", Kind: "http", Target: "https://www.facebook.com/"}}}},
			nil, MonitorOptions{Probers: map[string]Prober{"http": f.probe}, Interval: time.Minute})
		// Rounds every minute for an hour: the host is asked after waits of
		// 1, 2, 4, 8 minutes, then every 10 minutes.
		var ran []int
		var details []string
		for minute := range 60 {
			obs, _ := m.Round(t.Context(), nil)
			if len(f.takeRan()) > 0 {
				ran = append(ran, minute)
			} else if minute == 8 || minute == 40 {
				details = append(details, obs[0].Results[0].Detail)
			}
			time.Sleep(time.Minute) // the rounds themselves take no time under synctest
		}
		if diff := cmp.Diff([]int{0, 1, 3, 7, 15, 25, 35, 45, 55}, ran); diff != "" {
			t.Errorf("minutes the host was asked (-want +got):\n%s", diff)
		}
		want := []string{
			"backing off until 00:15:00 UTC (throttled 4 times in a row)",
			"backing off until 00:45:00 UTC (throttled 7 times in a row)",
		}
		if diff := cmp.Diff(want, details); diff != "" {
			t.Errorf("details (-want +got):\n%s", diff)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"0", 0, true},
		{"86400", time.Hour, true},
		{"Thu, 05 Mar 2026 12:01:30 GMT", 90 * time.Second, true},
		{"Thu, 05 Mar 2026 11:00:00 GMT", 0, true},
		{"Fri, 06 Mar 2026 12:00:00 GMT", time.Hour, true},
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.header, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestWebHost(t *testing.T) {
	tests := []struct {
		spec ProbeSpec
		want string
	}{
		{ProbeSpec{Kind: "http", Target: "https://WWW.Facebook.com/login"}, "www.facebook.com"},
		{ProbeSpec{Kind: "websocket", Target: "wss://web.whatsapp.com:443/ws/chat"}, "web.whatsapp.com"},
		{ProbeSpec{Kind: "tls", Target: "edge-chat.facebook.com:443"}, ""},
		{ProbeSpec{Kind: "dns", Target: "facebook.com"}, ""},
		{ProbeSpec{Kind: "http", Target: "https://exa mple.com/"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.spec.Kind+" "+tt.spec.Target, func(t *testing.T) {
			if got := webHost(tt.spec); got != tt.want {
				t.Errorf("webHost = %q, want %q", got, tt.want)
			}
		})
	}
}

// stamped leaves out of comparisons what the Monitor marks every result
// and observation with for the detector: the specs' fingerprints, the
// control probes' roles, and the round's control results in every
// observation (TestStamp checks them).
var stamped = cmp.Options{
	cmpopts.IgnoreFields(Result{}, "Spec", "Role"),
	cmpopts.IgnoreFields(Observation{}, "Control"),
}

func TestStamp(t *testing.T) {
	web := ProbeSpec{Name: "web", Kind: kindHTTP, Target: "https://example.com/"}
	public := ProbeSpec{Name: "dns", Kind: kindDNS, Target: "example.com", Resolvers: []string{"1.1.1.1:53"}}
	ctrl := ProbeSpec{Name: "dns_system", Kind: kindDNS, Target: "example.com", Role: RoleSystemDNS}
	m := NewMonitor([]Service{{ID: "whatsapp", Probes: []ProbeSpec{web, public}}}, []ProbeSpec{ctrl, web}, MonitorOptions{
		Probers: map[string]Prober{
			kindHTTP: func(_ context.Context, s ProbeSpec) Result { return Result{Probe: s.Name, Class: ClassOK} },
			kindDNS:  func(_ context.Context, s ProbeSpec) Result { return Result{Probe: s.Name, Class: ClassOK} },
		},
	})
	obs, control := m.Round(t.Context(), nil)
	for _, tc := range []struct {
		r         Result
		spec      ProbeSpec
		role      Role
		viaPublic bool
	}{
		{obs[0].Results[0], web, "", false},
		{obs[0].Results[1], public, "", true},
		{control[0], ctrl, RoleSystemDNS, false},
		{control[1], web, RoleWeb, false}, // a control probe without a role is a web one
	} {
		if tc.r.Spec != SpecFingerprint(tc.spec) || tc.r.Role != tc.role || tc.r.ViaPublicDNS != tc.viaPublic {
			t.Errorf("%s: spec %q role %q via public DNS %v; want %q %q %v", tc.r.Probe, tc.r.Spec, tc.r.Role, tc.r.ViaPublicDNS,
				SpecFingerprint(tc.spec), tc.role, tc.viaPublic)
		}
	}
	if len(obs[0].Control) != 2 {
		t.Errorf("the observation holds %d control results, want the round's 2", len(obs[0].Control))
	}
}
