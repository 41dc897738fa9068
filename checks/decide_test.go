package checks

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// round builds an observation from a compact code, one letter per probe:
// o = ok, x = hard failure (http_5xx), b = throttled (http_blocked),
// s = soft failure (body_mismatch). A leading '!' means the control probes failed.
func round(code string, at time.Time) Observation {
	o := Observation{Service: "whatsapp", ControlOK: true, At: at}
	if strings.HasPrefix(code, "!") {
		o.ControlOK = false
		code = code[1:]
	}
	for i, c := range code {
		cl := map[rune]Class{'o': ClassOK, 'x': ClassHTTP5xx, 'b': ClassHTTPBlocked, 's': ClassBodyMismatch}[c]
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
