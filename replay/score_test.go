package replay

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/outagebot/outagebot/checks"
)

// trans is a transition at minute m after 10:00 UTC.
func trans(m float64, service string, from, to checks.State) checks.Transition {
	return checks.Transition{Service: service, From: from, To: to, At: minute(m)}
}

func minute(m float64) time.Time {
	return utc("2024-01-01T10:00:00Z").Add(time.Duration(m * float64(time.Minute)))
}

const (
	op   = checks.Operational
	deg  = checks.Degraded
	down = checks.Down
)

func TestEvaluate(t *testing.T) {
	dns := Outage{Name: "dns", Services: []string{"facebook", "whatsapp"}, Start: minute(10), End: minute(70), SeenBy: SeenByProbes}
	login := Outage{Name: "login", Services: []string{"instagram"}, Start: minute(100), End: minute(130), SeenBy: SeenByReports}
	for _, tc := range []struct {
		name    string
		outages []Outage
		ts      []checks.Transition
		want    Score
	}{
		{
			name:    "nothing happens, nothing said",
			outages: []Outage{dns},
			want:    Score{Outages: []OutageScore{{Outage: dns}}},
		},
		{
			name:    "detected by the first service to be announced, recovered when the last is",
			outages: []Outage{dns},
			ts: []checks.Transition{
				trans(10.75, "whatsapp", op, deg), trans(11, "facebook", op, down), trans(12, "whatsapp", deg, down),
				trans(71, "facebook", down, op), trans(72.5, "whatsapp", down, op),
			},
			want: Score{Outages: []OutageScore{{Outage: dns, Detected: true, Delay: 45 * time.Second,
				First: trans(10.75, "whatsapp", op, deg), Recovered: true, Recovery: 150 * time.Second}}},
		},
		{
			name:    "announced after the end: missed, and a false alarm",
			outages: []Outage{dns},
			ts:      []checks.Transition{trans(70.5, "facebook", op, down), trans(75, "facebook", down, op)},
			want: Score{
				Outages:     []OutageScore{{Outage: dns}},
				FalseAlarms: []checks.Transition{trans(70.5, "facebook", op, down)},
			},
		},
		{
			name:    "trouble elsewhere, before, or worse after the end is a false alarm",
			outages: []Outage{dns},
			ts: []checks.Transition{
				trans(5, "facebook", op, deg), trans(6, "facebook", deg, op),
				trans(20, "threads", op, deg), trans(21, "threads", deg, op),
				trans(30, "whatsapp", op, deg), trans(75, "whatsapp", deg, down), trans(80, "whatsapp", down, op),
			},
			want: Score{
				Outages: []OutageScore{{Outage: dns, Detected: true, Delay: 20 * time.Minute,
					First: trans(30, "whatsapp", op, deg), Recovered: true, Recovery: 10 * time.Minute}},
				FalseAlarms: []checks.Transition{trans(5, "facebook", op, deg), trans(20, "threads", op, deg), trans(75, "whatsapp", deg, down)},
			},
		},
		{
			name:    "easing from down to degraded after the end is no alarm, but delays the recovery",
			outages: []Outage{dns},
			ts:      []checks.Transition{trans(11, "whatsapp", op, down), trans(71, "whatsapp", down, deg), trans(80, "whatsapp", deg, op)},
			want: Score{Outages: []OutageScore{{Outage: dns, Detected: true, Delay: time.Minute,
				First: trans(11, "whatsapp", op, down), Recovered: true, Recovery: 10 * time.Minute}}},
		},
		{
			name:    "announced recovered before the end: a false recovery, recovered at once",
			outages: []Outage{dns},
			ts:      []checks.Transition{trans(11, "whatsapp", op, down), trans(40, "whatsapp", down, op)},
			want: Score{Outages: []OutageScore{{Outage: dns, Detected: true, Delay: time.Minute,
				First: trans(11, "whatsapp", op, down), Recovered: true,
				FalseRecoveries: []checks.Transition{trans(40, "whatsapp", down, op)}}}},
		},
		{
			name:    "never announced recovered",
			outages: []Outage{dns, login},
			ts:      []checks.Transition{trans(11, "whatsapp", op, down), trans(103, "instagram", op, deg), trans(131, "instagram", deg, op)},
			want: Score{Outages: []OutageScore{
				{Outage: dns, Detected: true, Delay: time.Minute, First: trans(11, "whatsapp", op, down)},
				{Outage: login, Detected: true, Delay: 3 * time.Minute, First: trans(103, "instagram", op, deg), Recovered: true, Recovery: time.Minute},
			}},
		},
		{
			name:    "a service still down from an earlier outage detects the next at once",
			outages: []Outage{dns, {Name: "again", Services: []string{"whatsapp"}, Start: minute(80), End: minute(90), SeenBy: SeenByProbes}},
			ts:      []checks.Transition{trans(11, "whatsapp", op, down), trans(91, "whatsapp", down, op)},
			want: Score{Outages: []OutageScore{
				{Outage: dns, Detected: true, Delay: time.Minute, First: trans(11, "whatsapp", op, down), Recovered: true, Recovery: 21 * time.Minute},
				{Outage: Outage{Name: "again", Services: []string{"whatsapp"}, Start: minute(80), End: minute(90), SeenBy: SeenByProbes},
					Detected: true, First: trans(11, "whatsapp", op, down), Recovered: true, Recovery: time.Minute},
			}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Transitions and shares have a test of their own.
			ignore := cmpopts.IgnoreFields(OutageScore{}, "Transitions", "Busiest", "Share", "Thinnest", "HasShare")
			if diff := cmp.Diff(tc.want, Evaluate(tc.outages, tc.ts, DefaultTargets()), ignore); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateTransitionsAndShare(t *testing.T) {
	// An outage seen by probes from minute 10 to 70: its share is judged
	// from minute 11, past its delay target.
	dns := Outage{Name: "dns", Services: []string{"facebook", "whatsapp"}, Start: minute(10), End: minute(70), SeenBy: SeenByProbes}
	for _, tc := range []struct {
		name        string
		ts          []checks.Transition
		transitions int
		busiest     string
		share       float64
		thinnest    string
	}{
		{"announced at once and recovered after the end",
			[]checks.Transition{trans(10.5, "facebook", op, down), trans(10.5, "whatsapp", op, deg), trans(20, "whatsapp", deg, down),
				trans(71, "facebook", down, op), trans(71, "whatsapp", down, op)},
			2, "facebook", 1, "facebook"},
		{"flapping counts every transition but the escalation",
			[]checks.Transition{trans(11, "facebook", op, deg), trans(30, "facebook", deg, op), trans(41, "facebook", op, deg),
				trans(71, "facebook", deg, op), trans(11, "whatsapp", op, deg), trans(71, "whatsapp", deg, op)},
			4, "facebook", 48.0 / 59, "facebook"},
		{"a service announced late",
			[]checks.Transition{trans(11, "facebook", op, deg), trans(40, "whatsapp", op, deg), trans(71, "facebook", deg, op), trans(71, "whatsapp", deg, op)},
			2, "facebook", 30.0 / 59, "whatsapp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate([]Outage{dns}, tc.ts, DefaultTargets()).Outages[0]
			if got.Transitions != tc.transitions || got.Busiest != tc.busiest {
				t.Errorf("transitions %d (%s), want %d (%s)", got.Transitions, got.Busiest, tc.transitions, tc.busiest)
			}
			if !got.HasShare || math.Abs(got.Share-tc.share) > 1e-9 || got.Thinnest != tc.thinnest {
				t.Errorf("share %v (%s, judged %v), want %v (%s)", got.Share, got.Thinnest, got.HasShare, tc.share, tc.thinnest)
			}
		})
	}
	short := Outage{Name: "short", Services: []string{"instagram"}, Start: minute(0), End: minute(5), SeenBy: SeenByReports}
	if got := Evaluate([]Outage{short}, nil, DefaultTargets()).Outages[0]; got.HasShare {
		t.Error("an outage shorter than its delay target has a share judged")
	}
}

func TestFiguresAndMisses(t *testing.T) {
	probes := func(d time.Duration) OutageScore {
		return OutageScore{Outage: Outage{SeenBy: SeenByProbes}, Detected: true, Delay: d, Recovered: true, Recovery: time.Minute}
	}
	other := func(by SeenBy, d, recovery time.Duration, recovered bool) OutageScore {
		return OutageScore{Outage: Outage{SeenBy: by}, Detected: true, Delay: d, Recovered: recovered, Recovery: recovery}
	}
	for _, tc := range []struct {
		name       string
		score      Score
		targets    Targets
		want       Figures
		wantMisses []string
	}{
		{
			name:    "all met",
			score:   Score{Outages: []OutageScore{probes(20 * time.Second), probes(40 * time.Second), probes(3 * time.Minute), other(SeenByOfficial, 5*time.Minute, 90*time.Second, true)}},
			targets: DefaultTargets(),
			want: Figures{Outages: 4, Detected: 4, ProbesDelay: 40 * time.Second, HasProbes: true,
				OtherDelay: 5 * time.Minute, HasOther: true, WorstRecovery: 90 * time.Second, WorstShare: 1},
		},
		{
			name: "everything missed",
			score: Score{
				Outages: []OutageScore{
					probes(50 * time.Second), probes(80 * time.Second), {Outage: Outage{SeenBy: SeenByProbes}},
					other(SeenByReports, 8*time.Minute, 3*time.Minute, true), other(SeenByOfficial, 14*time.Minute, 0, false),
				},
				FalseAlarms: make([]checks.Transition, 3),
				Warnings:    make([]checks.Warning, 1),
			},
			targets: Targets{ProbesDelay: time.Minute, OtherDelay: 10 * time.Minute, Recovery: 2 * time.Minute, FalseAlarms: 2,
				Transitions: 2, TroubleShare: 0.9},
			want: Figures{Outages: 5, Detected: 4, FalseAlarms: 3, ProbesDelay: 65 * time.Second, HasProbes: true,
				OtherDelay: 11 * time.Minute, HasOther: true, WorstRecovery: 3 * time.Minute, Unrecovered: 1,
				WorstShare: 1, Warnings: 1},
			wantMisses: []string{
				"1 of 5 outages missed",
				"3 false alarms (at most 2)",
				"median delay of outages seen by probes 1m5s (at most 1m0s)",
				"median delay of outages seen by the official page or reports 11m0s (at most 10m0s)",
				"1 outages never announced recovered",
				"worst recovery 3m0s (at most 2m0s)",
				"1 operator warnings (expected 0)",
			},
		},
		{
			name:    "no outages",
			score:   Score{},
			targets: DefaultTargets(),
			want:    Figures{WorstShare: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.score.Figures()
			if diff := cmp.Diff(tc.want, f); diff != "" {
				t.Errorf("Figures (-want +got):\n%s", diff)
			}
			// Trace by trace, medians are not judged; over all traces,
			// only they are.
			var perTrace, medians []string
			for _, m := range tc.wantMisses {
				if strings.HasPrefix(m, "median") {
					medians = append(medians, m)
				} else {
					perTrace = append(perTrace, m)
				}
			}
			if diff := cmp.Diff(perTrace, f.Misses(tc.targets)); diff != "" {
				t.Errorf("Misses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(medians, f.MedianMisses(tc.targets)); diff != "" {
				t.Errorf("MedianMisses (-want +got):\n%s", diff)
			}
		})
	}
}
