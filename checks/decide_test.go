package checks

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testThresholds are the defaults of the embedded catalog.
func testThresholds() Thresholds {
	return Thresholds{
		DownAfter: 4, SingleAfter: 7, UpAfter: 2, Noise: 0.02, FailureRate: 0.3, FalseRecovery: 0.001,
		ProveAfter: 3, WarnAfter: Duration(10 * time.Minute), OddFor: Duration(time.Hour),
		Recheck: Duration(5 * time.Second), RoundTimeout: Duration(25 * time.Second),
		WeakFor: Duration(3 * time.Minute), GroupWindow: Duration(10 * time.Minute),
	}
}

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// observed builds an observation from a compact code, one letter per probe:
// o = ok, x = http_5xx, t = tcp_timeout, d = dns_timeout, b = throttled
// (http_blocked), s = soft failure (body_mismatch). Probes are named a, b,
// c... and their kinds alternate http and dns, so that "xd" fails two kinds.
// A leading '!' means this machine is offline. The check is the n-th, 10 s
// after the previous one.
func observed(code string, n int) Observation {
	o := Observation{Service: "whatsapp", ControlOK: true, At: t0.Add(time.Duration(n) * 10 * time.Second),
		Clock: time.Second + time.Duration(n)*10*time.Second}
	if strings.HasPrefix(code, "!") {
		o.ControlOK = false
		code = code[1:]
	}
	classes := map[rune]Class{'o': ClassOK, 'x': ClassHTTP5xx, 't': ClassTCPTimeout, 'd': ClassDNSTimeout,
		'b': ClassHTTPBlocked, 's': ClassBodyMismatch}
	for i, c := range code {
		kind := kindHTTP
		if i%2 == 1 {
			kind = kindDNS
		}
		o.Results = append(o.Results, Result{Probe: string(rune('a' + i)), Kind: kind, Class: classes[c], Spec: "v1"})
	}
	return o
}

// replayCodes folds the checks into a status, after enough clean checks for
// every probe to prove itself (unless fresh), and returns the transitions
// as "n:from>to", n counting the checks of codes from 0.
func replayCodes(t *testing.T, th Thresholds, codes []string, fresh bool) (Status, []string) {
	t.Helper()
	var s Status
	n := 0
	if !fresh {
		for range th.ProveAfter {
			s = Decide(s, observed(strings.Repeat("o", len(codes[0])), n), th).Status
			n++
		}
	}
	var got []string
	for i, code := range codes {
		d := Decide(s, observed(code, n), th)
		n++
		if d.Changed {
			got = append(got, fmt.Sprintf("%d:%s>%s", i, d.Transition.From, d.Transition.To))
			if d.Transition.To != Operational && len(d.Transition.Evidence) == 0 && d.Transition.Official == "" && !d.Transition.Reports.Spike {
				t.Errorf("check %d: transition to %s carries no evidence", i, d.Transition.To)
			}
		}
		s = d.Status
	}
	return s, got
}

func repeat(code string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = code
	}
	return out
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDecideProbes(t *testing.T) {
	th := testThresholds()
	for _, tc := range []struct {
		name  string
		codes []string
		fresh bool // the probes have not proven themselves yet
		want  []string
		final State
	}{
		{"healthy", repeat("oooo", 20), false, nil, Operational},
		{"isolated failures are noise", []string{"xooo", "oooo", "otoo", "oooo", "ooxo", "oooo", "xooo", "oooo"}, false, nil, Operational},
		{"two probes failing, whatever their classes, after down_after checks",
			repeat("xtoo", 5), false, []string{"3:operational>degraded"}, Degraded},
		{"one probe alone, after single_after checks",
			repeat("xooo", 8), false, []string{"6:operational>degraded"}, Degraded},
		{"every probe, of two kinds, is down",
			repeat("xdxd", 5), false, []string{"3:operational>down"}, Down},
		{"every probe, of one kind only, is degraded",
			repeat("xbxb", 5), false, []string{"3:operational>degraded"}, Degraded},
		{"a long steady outage recovers after up_after clean checks",
			concat(repeat("xdxd", 40), repeat("oooo", 3)), false, []string{"3:operational>down", "41:down>operational"}, Operational},
		{"a short one needs a few more: it showed in few checks",
			concat(repeat("xdxd", 5), repeat("oooo", 5)), false, []string{"3:operational>down", "8:down>operational"}, Operational},
		{"down is not announced degraded on its way back",
			concat(repeat("xdxd", 40), repeat("xdoo", 4), repeat("oooo", 3)), false,
			[]string{"3:operational>down", "45:down>operational"}, Operational},
		{"degraded escalates to down once the new failures reach the bar",
			concat(repeat("xtoo", 5), repeat("xdxd", 5)), false, []string{"3:operational>degraded", "8:degraded>down"}, Down},
		{"throttled probes are no evidence", repeat("bbbb", 20), false, nil, Unknown},
		{"soft failures are no outage", repeat("ssss", 20), false, nil, Operational},
		{"offline checks neither count nor reset",
			[]string{"xtoo", "xtoo", "!xtoo", "!xtoo", "xtoo", "xtoo"}, false, []string{"5:operational>degraded"}, Degraded},
		{"probes that never answered as expected are no evidence", repeat("xtoo", 20), true, nil, Operational},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, got := replayCodes(t, th, tc.codes, tc.fresh)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
			if s.State != tc.final {
				t.Errorf("final state = %s, want %s", s.State, tc.final)
			}
		})
	}
}

func TestDecideIntermittent(t *testing.T) {
	// Two probes failing in two checks of three: detected, and not over
	// after a couple of clean checks, since such a failure gives a few by
	// chance; over after a clean run long enough for it.
	th := testThresholds()
	var codes []string
	for range 6 {
		codes = append(codes, "xxoo", "xxoo", "oooo")
	}
	s, got := replayCodes(t, th, concat(codes, repeat("oooo", 4)), false)
	if len(got) != 1 || !strings.HasSuffix(got[0], ":operational>degraded") {
		t.Fatalf("transitions = %v, want one to degraded and no recovery after 4 clean checks", got)
	}
	if need := s.cleanNeeded(th); need <= th.UpAfter {
		t.Errorf("clean checks needed after an intermittent failure = %d, want more than up_after (%d)", need, th.UpAfter)
	}
	_, got = replayCodes(t, th, concat(codes, repeat("oooo", s.cleanNeeded(th)+1)), false)
	if n := len(got); n != 2 || !strings.HasSuffix(got[1], ">operational") {
		t.Errorf("transitions = %v, want degraded then operational after a long enough clean run", got)
	}
}

func TestCleanNeeded(t *testing.T) {
	th := testThresholds()
	for _, tc := range []struct {
		name    string
		checks  int
		bad     int
		flagged int
		atLeast int
		atMost  int
	}{
		{"failing in every check", 100, 100, 2, th.UpAfter, th.UpAfter},
		{"failing in 40 % of checks", 100, 40, 1, 10, 20},
		{"few checks yet", 2, 2, 2, th.UpAfter, 10},
	} {
		s := Status{Checks: tc.checks, Bad: tc.bad, Flagged: make([]string, tc.flagged)}
		if got := s.cleanNeeded(th); got < tc.atLeast || got > tc.atMost {
			t.Errorf("%s: cleanNeeded = %d, want %d to %d", tc.name, got, tc.atLeast, tc.atMost)
		}
	}
}

func TestDecideOfficialAndReports(t *testing.T) {
	th := testThresholds()
	major := []OfficialStatus{{Name: "WhatsApp Business API", Level: OfficialMajor, Text: "Major outage"}}
	minor := []OfficialStatus{{Name: "Facebook Login", Level: OfficialMinor, Text: "Medium disruptions"}}
	spike := ReportSignal{Count: 40, Baseline: 1, Spike: true, Elevated: true, Window: Duration(15 * time.Minute)}
	tail := ReportSignal{Count: 9, Baseline: 1, Elevated: true, Window: Duration(15 * time.Minute)}
	for _, tc := range []struct {
		name  string
		steps []func(*Observation) // each a check, 30 s apart
		want  []string
	}{
		{"Meta's major is down after two checks", []func(*Observation){
			func(o *Observation) { o.Official = major },
			func(o *Observation) { o.Official = major },
		}, []string{"1:operational>down"}},
		{"Meta's minor alone must last weak_for", repeatStep(8, func(o *Observation) { o.Official = minor }),
			[]string{"6:operational>degraded"}},
		{"reports alone must last weak_for", repeatStep(8, func(o *Observation) { o.Reports = spike }),
			[]string{"6:operational>degraded"}},
		{"reports and Meta's minor agree: two checks", repeatStep(3, func(o *Observation) { o.Official, o.Reports = minor, spike }),
			[]string{"1:operational>degraded"}},
		{"a spike that goes on holds the trouble, and its end ends it", concat2(
			repeatStep(7, func(o *Observation) { o.Reports = spike }),
			repeatStep(10, func(o *Observation) { o.Reports = tail }),
			repeatStep(4, func(*Observation) {}),
		), []string{"6:operational>degraded", "19:degraded>operational"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Status
			for range th.ProveAfter {
				s = Decide(s, observed("oooo", 0), th).Status
			}
			var got []string
			for i, step := range tc.steps {
				o := observed("oooo", 0)
				o.At, o.Clock = t0.Add(time.Duration(i)*30*time.Second), time.Minute+time.Duration(i)*30*time.Second
				step(&o)
				d := Decide(s, o, th)
				if d.Changed {
					got = append(got, fmt.Sprintf("%d:%s>%s", i, d.Transition.From, d.Transition.To))
				}
				s = d.Status
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
		})
	}
}

func repeatStep(n int, f func(*Observation)) []func(*Observation) {
	out := make([]func(*Observation), n)
	for i := range out {
		out[i] = f
	}
	return out
}

func concat2(parts ...[]func(*Observation)) []func(*Observation) {
	var out []func(*Observation)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDecideLingeringReports(t *testing.T) {
	// Probes confirm an outage; people's reports come in and outlast it.
	// They neither hold it open nor open it again within a window.
	th := testThresholds()
	spike := ReportSignal{Count: 40, Baseline: 1, Spike: true, Elevated: true, Window: Duration(15 * time.Minute)}
	var codes []string
	codes = append(codes, repeat("xdxd", 6)...)
	codes = append(codes, repeat("oooo", 30)...)
	var s Status
	for range th.ProveAfter {
		s = Decide(s, observed("oooo", 0), th).Status
	}
	var got []string
	for i, code := range codes {
		o := observed(code, i+th.ProveAfter)
		if i >= 2 {
			o.Reports = spike // from the third check on, through the recovery
		}
		d := Decide(s, o, th)
		if d.Changed {
			got = append(got, fmt.Sprintf("%d:%s>%s", i, d.Transition.From, d.Transition.To))
		}
		s = d.Status
	}
	want := []string{"3:operational>down", "9:down>operational"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
}

func TestDecideIsPure(t *testing.T) {
	th := testThresholds()
	s, _ := replayCodes(t, th, repeat("xtoo", 2), false)
	before := fmt.Sprintf("%+v", *s.Probes["a"])
	Decide(s, observed("xtoo", 99), th)
	if after := fmt.Sprintf("%+v", *s.Probes["a"]); after != before {
		t.Errorf("Decide changed the status it was given:\n%s\n%s", before, after)
	}
}

func TestDecideSpecChangeStartsOver(t *testing.T) {
	th := testThresholds()
	s, _ := replayCodes(t, th, repeat("oooo", 1), false)
	if len(s.Unverified()) != 0 {
		t.Fatalf("unverified = %v, want none after proving", s.Unverified())
	}
	o := observed("xxxx", 10)
	for i := range o.Results {
		o.Results[i].Spec = "v2"
	}
	d := Decide(s, o, th)
	if diff := cmp.Diff([]string{"a", "b", "c", "d"}, d.Status.Unverified()); diff != "" {
		t.Errorf("unverified after a change of every spec (-want +got):\n%s", diff)
	}
	if d.Changed {
		t.Errorf("probes with a new spec failed at once and %s was announced", d.Transition.To)
	}
}

// warnedOver folds n checks into a status, the code of check i being
// before for i < switchAt and after from then on, and returns the
// operator warnings given as "check:probe:kind".
func warnedOver(th Thresholds, n, switchAt int, before, after string) []string {
	var s Status
	var warned []string
	for i := range n {
		code := before
		if i >= switchAt {
			code = after
		}
		d := Decide(s, observed(code, i), th)
		for _, w := range d.Warnings {
			warned = append(warned, fmt.Sprintf("%d:%s:%s", i, w.Probe, w.Kind))
		}
		s = d.Status
	}
	return warned
}

func TestDecideWarnings(t *testing.T) {
	th := testThresholds()
	// Probe b never answers as expected; probe c, once proven, answers
	// oddly for good.
	warned := warnedOver(th, 400, 10, "otoo", "otso")
	// Checks are 10 s apart: warn_after (10 min) is 60 checks, odd_for
	// (1 h) 360 checks after c began answering oddly.
	want := []string{"60:b:unproven", "370:c:odd"}
	if diff := cmp.Diff(want, warned); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if !strings.Contains(warnings("whatsapp", map[string]*ProbeTrack{
		"chat_tcp": {Kind: kindTCP, Class: ClassTCPTimeout}}, time.Hour, th)[0].Text, "outbound") {
		t.Error("an unproven tcp probe timing out should ask whether outbound traffic is blocked")
	}
}

func TestOfflineTimeDoesNotCountAsUnproven(t *testing.T) {
	// The machine starts offline for 20 minutes, twice warn_after: no
	// probe can prove itself, and none is to blame. Back online, probe b
	// still never answers: it is reported warn_after later, not at once.
	warned := warnedOver(testThresholds(), 200, 120, "!tttt", "otoo")
	if diff := cmp.Diff([]string{"180:b:unproven"}, warned); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestGlance(t *testing.T) {
	for _, tc := range []struct {
		code string
		want State
	}{
		{"oooo", Operational},
		{"xdxd", Down},
		{"xbxb", Degraded}, // one kind only
		{"xooo", Degraded},
		{"bbbb", Unknown},
		{"ssoo", Operational},
		{"!xdxd", Unknown},
	} {
		if got := Glance(observed(tc.code, 0)); got != tc.want {
			t.Errorf("Glance(%q) = %s, want %s", tc.code, got, tc.want)
		}
	}
}

func TestGroupMetaWide(t *testing.T) {
	const window = 10 * time.Minute
	bad := func(service string, class Class, at time.Duration, evidence ...Result) Status {
		return Status{Service: service, Announced: Degraded, Class: class, BadAt: at, Evidence: evidence}
	}
	auth := Result{Probe: "dns_authoritative", Class: ClassDNSTimeout}
	for _, tc := range []struct {
		name     string
		ts       []Transition
		statuses map[string]Status
		want     map[string]string // service -> GroupWith
	}{
		{"same class",
			[]Transition{{Service: "instagram", From: Operational, To: Down, Class: ClassDNSServFail, Clock: 5 * time.Minute}},
			map[string]Status{"facebook": bad("facebook", ClassDNSServFail, time.Minute), "instagram": bad("instagram", ClassDNSServFail, 5*time.Minute)},
			map[string]string{"instagram": "facebook"}},
		{"same probe failing the same way, other dominant class",
			[]Transition{{Service: "messenger", From: Operational, To: Degraded, Class: ClassHTTP5xx, Clock: 2 * time.Minute, Evidence: []Result{auth}}},
			map[string]Status{"facebook": bad("facebook", ClassDNSServFail, time.Minute, auth), "messenger": bad("messenger", ClassHTTP5xx, 2*time.Minute, auth)},
			map[string]string{"messenger": "facebook"}},
		{"a running Meta-wide incident takes any class",
			[]Transition{{Service: "threads", From: Operational, To: Degraded, Class: ClassHTTP5xx, Clock: 3 * time.Minute}},
			map[string]Status{"instagram": func() Status { s := bad("instagram", ClassDNSServFail, 2*time.Minute); s.Group = "facebook"; return s }(),
				"threads": bad("threads", ClassHTTP5xx, 3*time.Minute)},
			map[string]string{"threads": "facebook"}},
		{"unrelated failures stay apart",
			[]Transition{{Service: "whatsapp", From: Operational, To: Degraded, Class: ClassTCPTimeout, Clock: 2 * time.Minute}},
			map[string]Status{"facebook": bad("facebook", ClassHTTP5xx, time.Minute), "whatsapp": bad("whatsapp", ClassTCPTimeout, 2*time.Minute)},
			map[string]string{}},
		{"too far apart",
			[]Transition{{Service: "instagram", From: Operational, To: Down, Class: ClassDNSServFail, Clock: time.Hour}},
			map[string]Status{"facebook": bad("facebook", ClassDNSServFail, time.Minute), "instagram": bad("instagram", ClassDNSServFail, time.Hour)},
			map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			for _, tr := range Group(tc.ts, tc.statuses, window) {
				if tr.GroupWith != "" {
					got[tr.Service] = tr.GroupWith
					if g := tc.statuses[tr.Service].Group; g != tr.GroupWith {
						t.Errorf("status of %s has group %q, want %q", tr.Service, g, tr.GroupWith)
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}
}
