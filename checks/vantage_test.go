package checks

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// controls builds control results from a code, one letter per probe of the
// roles web, web, system_dns, route, public_dns: o answers, x fails.
func controls(code string) []Result {
	roles := []Role{RoleWeb, RoleWeb, RoleSystemDNS, RoleRoute, RolePublicDNS}
	names := []string{"google_204", "cloudflare_trace", "dns_system", "route_ripe", "dns_google"}
	var out []Result
	for i, c := range code {
		class := ClassOK
		if c == 'x' {
			class = ClassDNSTimeout
		}
		out = append(out, Result{Probe: names[i], Role: roles[i], Class: class, Spec: "v1"})
	}
	return out
}

func TestVantageJudge(t *testing.T) {
	th := testThresholds()
	for _, tc := range []struct {
		name string
		// rounds after the control probes have proven themselves; the
		// service probes: proven, and how many of them answered.
		rounds         []string
		proven, answer int
		offline        []bool
		publicDNSDown  bool
	}{
		{"all well", []string{"ooooo", "ooooo"}, 10, 10, []bool{false, false}, false},
		{"one failing round is chance", []string{"xxxxx", "ooooo"}, 10, 0, []bool{false, false}, false},
		{"two in a row are the network", []string{"xxxxx", "xxxxx", "xxxxx"}, 10, 0, []bool{false, true, true}, true},
		{"this machine's resolver", []string{"ooxoo", "ooxoo"}, 10, 0, []bool{false, true}, false},
		{"the route to Meta", []string{"oooxo", "oooxo"}, 10, 0, []bool{false, true}, false},
		{"one web probe of two is enough", []string{"xoooo", "xoooo"}, 10, 0, []bool{false, false}, false},
		{"public resolvers only silence the probes that ask them", []string{"oooox", "oooox"}, 10, 0, []bool{false, false}, true},
		{"a failing control while Meta answers is the control's fault", []string{"ooxoo", "ooxoo"}, 10, 9, []bool{false, false}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v Vantage
			for range th.ProveAfter {
				v.judge(controls("ooooo"), 0, 0, 0, th)
			}
			var got []bool
			var last vantageVerdict
			for i, code := range tc.rounds {
				last = v.judge(controls(code), tc.proven, tc.answer, time.Duration(i)*time.Minute, th)
				got = append(got, last.offline)
			}
			if diff := cmp.Diff(tc.offline, got); diff != "" {
				t.Errorf("offline by round (-want +got):\n%s", diff)
			}
			if last.publicDNSDown != tc.publicDNSDown {
				t.Errorf("public DNS down = %v, want %v", last.publicDNSDown, tc.publicDNSDown)
			}
		})
	}
}

func TestVantageUnprovenControlsProveNothing(t *testing.T) {
	// A host allowed DNS only to its own resolver: the public_dns controls
	// never work, so they never count, and the operator hears of them once.
	th := testThresholds()
	var v Vantage
	var warned []string
	for i := range 100 {
		verdict := v.judge(controls("oooox"), 10, 10, time.Duration(i)*30*time.Second, th)
		if verdict.offline || verdict.publicDNSDown {
			t.Fatalf("round %d: offline %v, public DNS down %v; an unproven control must count for nothing", i, verdict.offline, verdict.publicDNSDown)
		}
		for _, w := range verdict.warnings {
			warned = append(warned, w.Probe+":"+string(w.Kind))
		}
	}
	if diff := cmp.Diff([]string{"dns_google:unproven"}, warned); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestVantageContradictedControlWarns(t *testing.T) {
	th := testThresholds()
	var v Vantage
	for range th.ProveAfter {
		v.judge(controls("ooooo"), 0, 0, 0, th)
	}
	var warned []string
	for i := range 200 {
		verdict := v.judge(controls("oooxo"), 10, 10, time.Duration(i)*30*time.Second, th)
		for _, w := range verdict.warnings {
			warned = append(warned, w.Probe+":"+string(w.Kind))
		}
	}
	if diff := cmp.Diff([]string{"route:control"}, warned); diff != "" {
		t.Errorf("warnings over 100 min of a failing route probe (-want +got):\n%s", diff)
	}
}

func TestOfflineNow(t *testing.T) {
	for _, tc := range []struct {
		code          string
		offline       bool
		why           string
		publicDNSDown bool
	}{
		{"ooooo", false, "", false},
		{"xxooo", true, "web", false},
		{"ooxoo", true, "system_dns", false},
		{"oooox", false, "", true},
	} {
		offline, why, public := OfflineNow(controls(tc.code))
		if offline != tc.offline || !strings.HasPrefix(why, tc.why) || public != tc.publicDNSDown {
			t.Errorf("OfflineNow(%s) = %v %q %v, want %v %q… %v", tc.code, offline, why, public, tc.offline, tc.why, tc.publicDNSDown)
		}
	}
}

func TestWatcherClockIgnoresTheWallClock(t *testing.T) {
	// The same checks, 30 s apart on a monotonic clock, once with the
	// wall clock steady and once with it jumping back and forth: the
	// decisions, made on the detector's clock, are the same.
	run := func(wall func(i int) time.Time) []string {
		var mono time.Duration
		i := 0
		store := &memStates{statuses: map[string]Status{"whatsapp": provenStatus("whatsapp", "web", "api")}}
		var got []string
		w := &Watcher{
			Observe: func(_ context.Context, _ []string) []Observation {
				return []Observation{{Service: "whatsapp", ControlOK: true, At: wall(i),
					Official: []OfficialStatus{{Name: "Meta", Level: OfficialMinor, Text: "Medium disruptions"}}}}
			},
			Store: store, Thresholds: testThresholds(), Log: slog.New(slog.DiscardHandler),
			Mono:  func() time.Duration { return mono },
			Sleep: func(_ context.Context, d time.Duration) bool { mono += d; return true },
			OnTransition: func(tr Transition) {
				got = append(got, string(tr.From)+">"+string(tr.To)+"@"+tr.Clock.String())
			},
		}
		for i = range 12 {
			start := mono
			w.Round(t.Context())
			mono = start + 30*time.Second
		}
		return got
	}
	steady := run(func(i int) time.Time { return t0.Add(time.Duration(i) * 30 * time.Second) })
	jumpy := run(func(i int) time.Time {
		at := t0.Add(time.Duration(i) * 30 * time.Second)
		switch i % 3 {
		case 1:
			return at.Add(-2 * time.Hour)
		case 2:
			return at.Add(time.Hour)
		}
		return at
	})
	if len(steady) != 1 {
		t.Fatalf("transitions %v, want Meta's minor announced once it lasted weak_for", steady)
	}
	if diff := cmp.Diff(steady, jumpy); diff != "" {
		t.Errorf("a jumping wall clock changed the decisions (-steady +jumpy):\n%s", diff)
	}
}
