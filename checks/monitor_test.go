package checks

import (
	"context"
	"strings"
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
				if diff := cmp.Diff(tt.want, obs); diff != "" {
					t.Errorf("observations (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantControl, control, cmpopts.EquateEmpty()); diff != "" {
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
		if diff := cmp.Diff(want, m.Control(t.Context())); diff != "" {
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
				if diff := cmp.Diff(want, obs[0].Results); diff != "" {
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
	if diff := cmp.Diff(want, obs[0].Results); diff != "" {
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
		{Name: "graph", Kind: "http", Target: site.URL + "/graph", Status: []int{400},
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
