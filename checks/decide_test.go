package checks

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// round builds an observation from a compact code, one letter per probe:
// o = ok, x = hard failure (http_5xx), t = another hard failure
// (tcp_timeout), b = throttled (http_blocked),
// s = soft failure (body_mismatch). A leading '!' means the control probes failed.
func round(code string, at time.Time) Observation {
	o := Observation{Service: "whatsapp", ControlOK: true, At: at}
	if strings.HasPrefix(code, "!") {
		o.ControlOK = false
		code = code[1:]
	}
	for i, c := range code {
		cl := map[rune]Class{'o': ClassOK, 'x': ClassHTTP5xx, 't': ClassTCPTimeout, 'b': ClassHTTPBlocked, 's': ClassBodyMismatch}[c]
		o.Results = append(o.Results, Result{Probe: string(rune('a' + i)), Class: cl})
	}
	return o
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		code string
		want State
	}{
		{"ooo", Operational},
		{"xxx", Down},
		{"xxb", Down},
		{"xoo", Degraded},
		{"bbb", Unknown},
		{"sso", Operational},
		{"!xxx", Unknown},
		{"", Unknown},
	} {
		if got := Verdict(round(tc.code, time.Time{})); got != tc.want {
			t.Errorf("Verdict(%q) = %s, want %s", tc.code, got, tc.want)
		}
	}
}

func TestDecideTraces(t *testing.T) {
	th := Thresholds{DownAfter: 2, UpAfter: 3}
	for _, tc := range []struct {
		name  string
		trace []string // one round each
		want  []string // "round:from>to" for every transition
		final State    // State shown at the end
	}{
		{"healthy", []string{"ooo", "ooo", "ooo"}, nil, Operational},
		{"single bad round is noise", []string{"ooo", "xxx", "ooo", "ooo"}, nil, Operational},
		{"flapping never notifies", []string{"xxx", "ooo", "xxx", "ooo", "xoo", "ooo", "xxx", "ooo"}, nil, Operational},
		{"outage and recovery", []string{"ooo", "xxx", "xxx", "xxx", "ooo", "ooo", "ooo"}, []string{"2:operational>down", "6:down>operational"}, Operational},
		{"recovery needs consecutive clean rounds", []string{"xxx", "xxx", "ooo", "ooo", "xxx", "ooo", "ooo", "ooo"}, []string{"1:operational>down", "7:down>operational"}, Operational},
		{"partial failure is degraded", []string{"xoo", "xoo"}, []string{"1:operational>degraded"}, Degraded},
		{"wavering outage is not delayed", []string{"xoo", "xxx"}, []string{"1:operational>down"}, Down},
		{"degraded escalates to down", []string{"xoo", "xoo", "xxx", "xxx"}, []string{"1:operational>degraded", "3:degraded>down"}, Down},
		{"throttling is never down", []string{"bbb", "bbb", "bbb", "bbo", "bbo"}, nil, Operational},
		{"offline vantage point says nothing", []string{"!xxx", "!xxx", "!xxx"}, nil, Unknown},
		{"offline rounds neither count nor reset", []string{"xxx", "!xxx", "xxx"}, []string{"2:operational>down"}, Down},
		{"soft failures are not outages", []string{"sss", "sss", "sss"}, nil, Operational},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
			var s Status
			var got []string
			for i, code := range tc.trace {
				next, tr, changed := Decide(s, round(code, start.Add(time.Duration(i)*30*time.Second)), th)
				if changed {
					got = append(got, fmt.Sprintf("%d:%s>%s", i, tr.From, tr.To))
					if tr.To != Operational && len(tr.Evidence) == 0 {
						t.Errorf("round %d: transition to %s carries no evidence", i, tr.To)
					}
				}
				s = next
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
			if s.State != tc.final {
				t.Errorf("final state = %s, want %s", s.State, tc.final)
			}
		})
	}
}

func TestDecideKeepsSinceAcrossQuietRounds(t *testing.T) {
	th := Thresholds{DownAfter: 1, UpAfter: 1}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s, _, _ := Decide(Status{}, round("xxx", t0), th)
	s, _, _ = Decide(s, round("xxx", t0.Add(time.Minute)), th)
	if s.State != Down || !s.Since.Equal(t0) {
		t.Fatalf("got %s since %v, want down since %v", s.State, s.Since, t0)
	}
	if !s.LastCheck.Equal(t0.Add(time.Minute)) {
		t.Errorf("LastCheck = %v, want %v", s.LastCheck, t0.Add(time.Minute))
	}
	if s.Unsettled() {
		t.Error("a confirmed state must not be unsettled")
	}
}

func TestAssessFusesEvidence(t *testing.T) {
	major := []OfficialStatus{{Name: "WhatsApp Business API", Level: OfficialMajor, Text: "Major outage"}}
	minor := []OfficialStatus{{Name: "Facebook Login", Level: OfficialMinor, Text: "Medium disruptions"}}
	ok := []OfficialStatus{{Name: "Graph API", Level: OfficialOK, Text: "No known issues"}}
	spike := ReportSignal{Count: 40, Baseline: 2, Spike: true}
	for _, tc := range []struct {
		name     string
		probes   string
		official []OfficialStatus
		reports  ReportSignal
		want     Assessment
	}{
		{"all clean", "ooo", ok, ReportSignal{}, Assessment{State: Operational, Strong: true}},
		{"several probes down", "xxx", nil, ReportSignal{}, Assessment{State: Down, Strong: true, Class: ClassHTTP5xx, Kinds: ByProbes}},
		{"the only informative probe down is weak", "xbb", nil, ReportSignal{}, Assessment{State: Down, Kinds: ByProbes}},
		{"one probe of three is weak", "xoo", nil, ReportSignal{}, Assessment{State: Degraded, Kinds: ByProbes}},
		{"two probes of three are strong", "xxo", nil, ReportSignal{}, Assessment{State: Degraded, Strong: true, Class: ClassHTTP5xx, Kinds: ByProbes}},
		{"two probes of six failing differently are weak", "xtoooo", nil, ReportSignal{}, Assessment{State: Degraded, Kinds: ByProbes}},
		{"two probes of six failing the same way are strong", "xxoooo", nil, ReportSignal{}, Assessment{State: Degraded, Strong: true, Class: ClassHTTP5xx, Kinds: ByProbes}},
		{"three probes of six are strong", "xxxooo", nil, ReportSignal{}, Assessment{State: Degraded, Strong: true, Class: ClassHTTP5xx, Kinds: ByProbes}},
		{"one probe confirmed by reports", "xoo", nil, spike, Assessment{State: Degraded, Strong: true, Kinds: ByProbes | ByReports}},
		{"Meta says major", "ooo", major, ReportSignal{}, Assessment{State: Down, Strong: true, Official: "WhatsApp Business API: Major outage", Kinds: ByOfficial}},
		{"Meta says minor, alone", "ooo", minor, ReportSignal{}, Assessment{State: Degraded, Official: "Facebook Login: Medium disruptions", Kinds: ByOfficial}},
		{"Meta's minor confirmed by reports", "ooo", minor, spike, Assessment{State: Degraded, Strong: true, Official: "Facebook Login: Medium disruptions", Kinds: ByOfficial | ByReports}},
		{"reports alone are weak and never down", "ooo", nil, spike, Assessment{State: Degraded, Kinds: ByReports}},
		{"throttled everywhere, Meta silent", "bbb", nil, ReportSignal{}, Assessment{State: Unknown}},
		{"offline vantage point", "!xxx", major, spike, Assessment{State: Unknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := round(tc.probes, time.Time{})
			o.Official, o.Reports = tc.official, tc.reports
			if diff := cmp.Diff(tc.want, Assess(o)); diff != "" {
				t.Errorf("Assess (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideWeakEvidenceMustLast(t *testing.T) {
	// Reports alone, rounds every 30 s: announced once they have lasted
	// WeakFor (3 min), not after DownAfter rounds.
	th := Thresholds{DownAfter: 2, UpAfter: 2, WeakFor: Duration(3 * time.Minute)}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var s Status
	var at []time.Duration
	var states []State
	for i := range 10 {
		o := round("ooo", t0.Add(time.Duration(i)*30*time.Second))
		o.Reports = ReportSignal{Count: 12, Spike: true, Top: "login", TopShare: 0.76}
		var tr Transition
		var changed bool
		s, tr, changed = Decide(s, o, th)
		states = append(states, s.State)
		if changed {
			at = append(at, o.At.Sub(t0))
			if tr.To != Degraded || tr.Reports.Top != "login" {
				t.Errorf("transition %+v, want degraded carrying the reports", tr)
			}
		}
	}
	if diff := cmp.Diff([]time.Duration{3 * time.Minute}, at); diff != "" {
		t.Errorf("announcements at (-want +got):\n%s", diff)
	}
	if states[0] != Suspected || states[9] != Degraded {
		t.Errorf("states = %v, want suspected first and degraded at the end", states)
	}
}

func TestAssessCorroborated(t *testing.T) {
	o := round("xoooo", time.Time{})
	if a := Assess(o); a.Strong {
		t.Fatalf("one probe of five failing is strong on its own: %+v", a)
	}
	o.Corroborated = true
	if a := Assess(o); !a.Strong || a.Kinds != ByProbes|ByPeers {
		t.Errorf("corroborated by other services: %+v, want strong, probes and peers", a)
	}
}

func TestCorroborate(t *testing.T) {
	mk := func(service string, probes ...string) Observation {
		o := Observation{Service: service, ControlOK: true, Results: []Result{{Probe: "web", Class: ClassOK}}}
		for _, p := range probes {
			o.Results = append(o.Results, Result{Probe: p, Class: ClassDNSTimeout})
		}
		return o
	}
	round := []Observation{
		mk("facebook", "dns_authoritative"),
		mk("instagram", "dns_authoritative"),
		mk("whatsapp", "dns_authoritative", "dns"),
		mk("messenger", "dns"),
		mk("threads"),
	}
	corroborate(round, 3)
	var got []string
	for _, o := range round {
		if o.Corroborated {
			got = append(got, o.Service)
		}
	}
	if diff := cmp.Diff([]string{"facebook", "instagram", "whatsapp"}, got); diff != "" {
		t.Errorf("corroborated (-want +got):\n%s", diff)
	}
}

func TestDecideOneStrongRoundAfterAWeakOneIsNotEnough(t *testing.T) {
	// Two probes of three failing by chance in a re-check after one failed
	// by chance: still noise until the strong evidence repeats.
	th := Thresholds{DownAfter: 2, UpAfter: 2, WeakFor: Duration(3 * time.Minute)}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var s Status
	var announced []int
	for i, code := range []string{"xoo", "xxo", "ooo", "xoo", "xxo", "xxo"} {
		var changed bool
		s, _, changed = Decide(s, round(code, t0.Add(time.Duration(i)*5*time.Second)), th)
		if changed {
			announced = append(announced, i)
		}
	}
	if diff := cmp.Diff([]int{5}, announced); diff != "" {
		t.Errorf("announced at rounds (-want +got):\n%s", diff)
	}
}

func TestDecideReportsDoNotHoldAConfirmedOutageOpen(t *testing.T) {
	th := Thresholds{DownAfter: 2, UpAfter: 2, WeakFor: Duration(3 * time.Minute)}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	spike := ReportSignal{Count: 300, Spike: true}
	var s Status
	var got []string
	for i, r := range []struct {
		probes string
		spike  bool
	}{{"xxx", true}, {"xxx", true}, {"ooo", true}, {"ooo", true}} {
		o := round(r.probes, t0.Add(time.Duration(i)*30*time.Second))
		if r.spike {
			o.Reports = spike
		}
		var tr Transition
		var changed bool
		s, tr, changed = Decide(s, o, th)
		if changed {
			got = append(got, fmt.Sprintf("%d:%s", i, tr.To))
		}
	}
	if diff := cmp.Diff([]string{"1:down", "3:operational"}, got); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
}

func TestDecideShowsRecovering(t *testing.T) {
	th := Thresholds{DownAfter: 1, UpAfter: 3}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s, _, _ := Decide(Status{}, round("xxx", t0), th)
	s, _, _ = Decide(s, round("ooo", t0.Add(time.Minute)), th)
	if s.State != Recovering || s.Announced != Down {
		t.Errorf("after one clean round: state %s, announced %s; want recovering, down", s.State, s.Announced)
	}
}

func TestGroupMetaWideOutage(t *testing.T) {
	t0 := time.Date(2021, 10, 4, 15, 40, 0, 0, time.UTC)
	bad := func(service string, class Class, since time.Time) Status {
		return Status{Service: service, Announced: Down, Class: class, BadSince: since}
	}
	statuses := map[string]Status{
		"facebook":  bad("facebook", ClassDNSServFail, t0),
		"instagram": bad("instagram", ClassDNSServFail, t0),
		"whatsapp":  bad("whatsapp", ClassDNSServFail, t0.Add(3*time.Minute)),
		"threads":   bad("threads", ClassHTTP5xx, t0.Add(3*time.Minute)),
		"messenger": bad("messenger", ClassDNSServFail, t0.Add(25*time.Minute)),
	}
	down := func(service string, class Class, at time.Time) Transition {
		return Transition{Service: service, From: Operational, To: Down, Class: class, At: at}
	}
	got := Group([]Transition{
		down("whatsapp", ClassDNSServFail, t0.Add(3*time.Minute)),
		down("threads", ClassHTTP5xx, t0.Add(3*time.Minute)),
		down("messenger", ClassDNSServFail, t0.Add(25*time.Minute)),
		down("instagram", ClassDNSServFail, t0),
		down("facebook", ClassDNSServFail, t0),
	}, statuses, 10*time.Minute)
	var joined []string
	for _, tr := range got {
		joined = append(joined, tr.Service+">"+tr.GroupWith)
	}
	want := []string{
		"threads>",   // another class: its own incident
		"messenger>", // 25 min later: too late to be the same outage
		"facebook>",  // the lead: first to fail, first by name
		"whatsapp>facebook",
		"instagram>facebook",
	}
	if diff := cmp.Diff(want, joined); diff != "" {
		t.Errorf("grouping (-want +got):\n%s", diff)
	}
}
