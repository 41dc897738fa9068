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
				v.judge(controls("ooooo"), metaAnswers{}, 0, th)
			}
			var got []bool
			var last vantageVerdict
			for i, code := range tc.rounds {
				last = v.judge(controls(code), metaAnswers{proven: tc.proven, answered: tc.answer, reached: tc.answer}, time.Duration(i)*time.Minute, th)
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
		verdict := v.judge(controls("oooox"), metaAnswers{10, 10, 10}, time.Duration(i)*30*time.Second, th)
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

func TestVantageStartsWithNothingAnswering(t *testing.T) {
	// First start ever, with this machine's resolver dead for 12 minutes:
	// no control probe has proven itself, and neither has any of Meta's,
	// and nothing answers. That is this machine: offline from the second
	// round, with no per-probe warning then or after it comes back.
	th := testThresholds()
	var v Vantage
	var offline []int
	var warned []string
	var why string
	for i := range 100 {
		code, meta := "xxxxx", metaAnswers{}
		if i >= 24 {
			code, meta = "ooooo", metaAnswers{reached: 10}
		}
		verdict := v.judge(controls(code), meta, time.Duration(i)*30*time.Second, th)
		if verdict.offline {
			offline = append(offline, i)
			why = verdict.why
		}
		for _, w := range verdict.warnings {
			warned = append(warned, w.Probe+":"+string(w.Kind))
		}
	}
	if len(offline) != 23 || offline[0] != 1 || offline[22] != 23 {
		t.Errorf("offline in rounds %v, want 1 to 23", offline)
	}
	if want := "system_dns (dns_system: dns_timeout)"; !strings.Contains(why, want) {
		t.Errorf("offline because %q, want it to name %q", why, want)
	}
	if len(warned) > 0 {
		t.Errorf("warnings %q, want none: going offline is told once, by the watcher", warned)
	}
	for name, track := range v.Probes {
		if !track.Proven {
			t.Errorf("control probe %s unproven after 76 clean rounds", name)
		}
	}
}

func TestVantageUnprovenControlsAndMetaAnswers(t *testing.T) {
	// Every control probe fails from the first round, but Meta's probes
	// answer: the control probes are wrong here, not the network.
	th := testThresholds()
	var v Vantage
	var warned []string
	for i := range 40 {
		verdict := v.judge(controls("xxxxx"), metaAnswers{reached: 3}, time.Duration(i)*30*time.Second, th)
		if verdict.offline {
			t.Fatalf("round %d: offline while Meta's probes answer", i)
		}
		for _, w := range verdict.warnings {
			warned = append(warned, w.Probe+":"+string(w.Kind))
		}
	}
	if len(warned) != 5 {
		t.Errorf("warnings %q, want one unproven warning per control probe", warned)
	}
}

func TestVantageContradictedControlWarns(t *testing.T) {
	th := testThresholds()
	var v Vantage
	for range th.ProveAfter {
		v.judge(controls("ooooo"), metaAnswers{}, 0, th)
	}
	var warned []string
	for i := range 200 {
		verdict := v.judge(controls("oooxo"), metaAnswers{10, 10, 10}, time.Duration(i)*30*time.Second, th)
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
