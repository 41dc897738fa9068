package history

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
)

// t0 is the end of every test window.
var t0 = time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)

// rounds returns points every 30 s from from (included) to to (excluded),
// all measuring latency.
func rounds(from, to time.Time, latency time.Duration) []Point {
	var pts []Point
	for at := from; at.Before(to); at = at.Add(30 * time.Second) {
		pts = append(pts, Point{At: at, Latency: latency})
	}
	return pts
}

// ago is the moment d before t0.
func ago(d time.Duration) time.Time { return t0.Add(-d) }

func resolved(worst checks.State, start, end time.Time) checks.Incident {
	return checks.Incident{Service: "whatsapp", State: checks.Operational, Worst: worst, Start: start, End: end}
}

func open(worst, state checks.State, start time.Time) checks.Incident {
	return checks.Incident{Service: "whatsapp", State: state, Worst: worst, Start: start}
}

func TestStats(t *testing.T) {
	const day = 24 * time.Hour
	h, m := time.Hour, time.Minute
	full := rounds(ago(day), t0, 80*time.Millisecond)
	tests := []struct {
		name       string
		incidents  []checks.Incident
		points     []Point
		want       Stats
		wantUptime float64
	}{
		{"no incidents", nil, full, Stats{Watched: day, Up: day}, 1},
		{
			"an hour down and two degraded; degraded counts as not up",
			[]checks.Incident{
				resolved(checks.Down, ago(20*h), ago(19*h)),
				resolved(checks.Degraded, ago(10*h), ago(8*h)),
			},
			full,
			Stats{Watched: day, Up: 21 * h, Incidents: 2, Recovered: 2, Longest: 2 * h, MTTR: 90 * m},
			21.0 / 24,
		},
		{
			"an incident begun before the window counts whole for the longest and the mean",
			[]checks.Incident{resolved(checks.Down, ago(day+3*h), ago(day-time.Hour))},
			full,
			Stats{Watched: day, Up: 23 * h, Incidents: 1, Recovered: 1, Longest: 4 * h, MTTR: 4 * h},
			23.0 / 24,
		},
		{
			"an open incident lasts until now and has not recovered",
			[]checks.Incident{
				resolved(checks.Down, ago(5*h), ago(5*h-30*m)),
				open(checks.Down, checks.Degraded, ago(6*h)),
			},
			full,
			Stats{Watched: day, Up: 18 * h, Incidents: 2, Recovered: 1, Longest: 6 * h, MTTR: 30 * m},
			18.0 / 24,
		},
		{
			"incidents over before the window or begun after it are ignored",
			[]checks.Incident{
				resolved(checks.Down, ago(3*day), ago(2*day)),
				resolved(checks.Down, ago(2*day), ago(day)),
				open(checks.Down, checks.Down, t0),
			},
			full,
			Stats{Watched: day, Up: day},
			1,
		},
		{
			"time not watched counts for nothing",
			[]checks.Incident{resolved(checks.Down, ago(3*h), ago(2*h))},
			append(rounds(ago(day), ago(18*h), 0), rounds(ago(6*h), t0, 0)...),
			Stats{Watched: 12 * h, Up: 11 * h, Incidents: 1, Recovered: 1, Longest: h, MTTR: h},
			11.0 / 12,
		},
		{
			"watching began within the window",
			nil,
			rounds(ago(2*h), t0, 80*time.Millisecond),
			Stats{Watched: 2 * h, Up: 2 * h},
			1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hist := History{From: ago(day), To: t0, Incidents: tc.incidents, Points: tc.points}
			got := hist.Stats()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
			if up, ok := got.Uptime(); !ok || up != tc.wantUptime {
				t.Errorf("Uptime() = %v, %v; want %v, true", up, ok, tc.wantUptime)
			}
		})
	}
}

func TestUptimeWithoutData(t *testing.T) {
	hist := History{From: ago(time.Hour), To: t0, Incidents: []checks.Incident{open(checks.Down, checks.Down, ago(2*time.Hour))}}
	s := hist.Stats()
	if _, ok := s.Uptime(); ok {
		t.Errorf("Uptime() of a history with no rounds is defined: %+v", s)
	}
	if s.Incidents != 1 {
		t.Errorf("Incidents = %d, want 1: the incident is known even without rounds", s.Incidents)
	}
}

func TestTimeline(t *testing.T) {
	h := time.Hour
	pts := append(rounds(ago(10*h), ago(6*h), 0), rounds(ago(5*h), t0, 0)...)
	hist := History{From: ago(12 * h), To: t0, Points: pts, Incidents: []checks.Incident{
		resolved(checks.Down, ago(9*h), ago(8*h)),
		resolved(checks.Degraded, ago(5*h-30*time.Minute), ago(4*h)),
		// Open, no longer at its worst: drawn at its worst.
		open(checks.Down, checks.Degraded, ago(time.Hour)),
	}}
	last := ago(6*h + 30*time.Second) // the last round before the silence
	want := []Span{
		{ago(12 * h), ago(10 * h), checks.Unknown},
		{ago(10 * h), ago(9 * h), checks.Operational},
		{ago(9 * h), ago(8 * h), checks.Down},
		{ago(8 * h), last.Add(30 * time.Second), checks.Operational},
		{last.Add(30 * time.Second), ago(5 * h), checks.Unknown},
		{ago(5 * h), ago(5*h - 30*time.Minute), checks.Operational},
		{ago(5*h - 30*time.Minute), ago(4 * h), checks.Degraded},
		{ago(4 * h), ago(h), checks.Operational},
		{ago(h), t0, checks.Down},
	}
	if diff := cmp.Diff(want, hist.Timeline()); diff != "" {
		t.Errorf("Timeline (-want +got):\n%s", diff)
	}
}

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"24h", 24 * time.Hour, true},
		{"7D", 7 * 24 * time.Hour, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"1h", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			w, ok := ParseWindow(tc.in)
			if ok != tc.ok || w.Length != tc.want {
				t.Errorf("ParseWindow(%q) = %v, %v; want length %v, %v", tc.in, w, ok, tc.want, tc.ok)
			}
		})
	}
}
