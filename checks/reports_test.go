package checks

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// reportNow is a Tuesday, 16:16 UTC: the window is the buckets of 16:02 to
// 16:16, the hour of the day and of the week 16:00-17:00.
var reportNow = time.Date(2025, 3, 4, 16, 16, 0, 0, time.UTC)

// at is reportNow's day shifted by daysAgo, at hh:mm.
func at(daysAgo, hh, mm int) time.Time {
	return time.Date(2025, 3, 4-daysAgo, hh, mm, 0, 0, time.UTC)
}

// reports are count reports in the minute starting at start, the last of
// them at its start.
func reports(start time.Time, count int) ReportBucket {
	return ReportBucket{Start: start, Count: count, Kinds: map[string]int{"": count}, Last: start}
}

// every spreads perMinute reports over each minute of [from, to).
func every(from, to time.Time, perMinute int) []ReportBucket {
	var bs []ReportBucket
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		bs = append(bs, reports(t, perMinute))
	}
	return bs
}

func TestReportBaseline(t *testing.T) {
	rule := DefaultReportRule()
	for _, tc := range []struct {
		name      string
		history   []ReportBucket
		mean      float64 // per 15-minute window
		highAbove bool    // the cautious end is above the mean
	}{
		{"no history", nil, 0, false},
		// 8 reports in 16:00-17:00 on each of the last 7 days: 2 per window.
		{"the same hour on past days", dailyAt(16, 8), 2, true},
		// Busy evenings do not raise the afternoon's baseline.
		{"other hours do not count", dailyAt(20, 40), 0, true},
		// Less than a day of history: its mean rate.
		{"less than a day: the mean so far", every(at(0, 10, 0), at(0, 16, 0), 1), 15, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ReportBaseline(tc.history, reportNow, rule)
			if diff := cmp.Diff(tc.mean, b.Mean, cmpopts.EquateApprox(0.01, 0.01)); diff != "" {
				t.Errorf("mean (-want +got):\n%s", diff)
			}
			if tc.highAbove != (b.High > b.Mean) {
				t.Errorf("high %v, mean %v: want high above the mean: %v", b.High, b.Mean, tc.highAbove)
			}
		})
	}
	// The busier of the hour of the day and the hour of the week wins: a
	// Tuesday afternoon rush shows only on Tuesdays.
	weeklyRush := []ReportBucket{reports(at(7, 16, 30), 80), reports(at(14, 16, 30), 80)}
	if b := ReportBaseline(weeklyRush, reportNow, rule); b.Mean < 19 {
		t.Errorf("a weekly rush of 80 an hour gave a baseline of %.1f per window, want about 20", b.Mean)
	}
}

// dailyAt is perHour reports in the hour hh:00 of each of the past 7 days.
func dailyAt(hh, perHour int) []ReportBucket {
	var bs []ReportBucket
	for d := 1; d <= 7; d++ {
		bs = append(bs, reports(at(d, hh, 30), perHour))
	}
	return bs
}

func TestReportSignal(t *testing.T) {
	rule := DefaultReportRule() // floor 5, significance 1e-6
	quiet := Baseline{Mean: 0.25, High: 0.5}
	busy := Baseline{Mean: 4, High: 5}
	now := reportNow
	for _, tc := range []struct {
		name     string
		buckets  []ReportBucket
		baseline Baseline
		spike    bool
		elevated bool
	}{
		{"nothing", nil, quiet, false, false},
		{"under the floor", every(now.Add(-4*time.Minute), now, 1), quiet, false, true},
		{"a flood still coming", every(now.Add(-5*time.Minute), now.Add(time.Minute), 10), quiet, true, true},
		{"the same count is no news on a busy evening", every(now.Add(-10*time.Minute), now.Add(time.Minute), 1), busy, false, false},
		{"a flood that stopped two minutes ago is over",
			every(now.Add(-12*time.Minute), now.Add(-2*time.Minute), 10), quiet, false, false},
		{"a trickle that paused two minutes goes on",
			every(now.Add(-14*time.Minute), now.Add(-2*time.Minute), 1), quiet, true, true},
		{"one report after a flood's end does not bring it back",
			append(every(now.Add(-12*time.Minute), now.Add(-4*time.Minute), 10), reports(now, 1)), quiet, false, false},
		{"a spike falling to half its rate goes on",
			append(every(now.Add(-14*time.Minute), now.Add(-4*time.Minute), 8), every(now.Add(-4*time.Minute), now.Add(time.Minute), 4)...),
			quiet, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := ReportSignalAt(tc.buckets, now, rule, tc.baseline)
			if sig.Spike != tc.spike || sig.Elevated != tc.elevated {
				t.Errorf("spike %v, elevated %v (count %d); want %v, %v", sig.Spike, sig.Elevated, sig.Count, tc.spike, tc.elevated)
			}
			if sig.Baseline != tc.baseline.Mean {
				t.Errorf("baseline shown %v, want the mean %v", sig.Baseline, tc.baseline.Mean)
			}
		})
	}
}

func TestReportSignalKinds(t *testing.T) {
	bs := []ReportBucket{
		{Start: reportNow.Add(-time.Minute), Count: 10, Kinds: map[string]int{"login": 6, "messages": 2, "": 2}, Last: reportNow},
	}
	sig := ReportSignalAt(bs, reportNow, DefaultReportRule(), Baseline{})
	if sig.Top != "login" || sig.TopShare != 0.75 {
		t.Errorf("top %q %v, want login 0.75 of the reports that named a kind", sig.Top, sig.TopShare)
	}
}

func TestPoissonTail(t *testing.T) {
	for _, tc := range []struct {
		k    int
		mean float64
		want float64
	}{
		{0, 3, 1},
		{1, 0, 0},
		{1, 1, 1 - math.Exp(-1)},
		{3, 0.5, 1 - math.Exp(-0.5)*(1+0.5+0.125)},
		{20, 1, 4.1e-19}, // far in the tail, where 1 - CDF would round to 0
	} {
		if got := PoissonTail(tc.k, tc.mean); math.Abs(got-tc.want) > 1e-3*tc.want+1e-15 {
			t.Errorf("PoissonTail(%d, %v) = %g, want %g", tc.k, tc.mean, got, tc.want)
		}
	}
}

// countingSource is a ReportSource that counts its reads of history.
type countingSource struct {
	buckets []ReportBucket
	history int // reads reaching back more than an hour
}

func (c *countingSource) ReportBuckets(_ string, from, to time.Time) ([]ReportBucket, error) {
	if to.Sub(from) > 2*time.Hour {
		c.history++
	}
	var out []ReportBucket
	for _, b := range c.buckets {
		if !b.Start.Before(from) && b.Start.Before(to) {
			out = append(out, b)
		}
	}
	return out, nil
}

func TestReportsKeepTheBaselineForTheHour(t *testing.T) {
	src := &countingSource{buckets: append(dailyAt(16, 8), every(reportNow.Add(-5*time.Minute), reportNow, 3)...)}
	r := &Reports{Source: src, Rule: DefaultReportRule()}
	for i := range 20 {
		sig, err := r.Signal("whatsapp", reportNow.Add(time.Duration(i)*10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if sig.Baseline < 1.9 || sig.Baseline > 2.1 {
			t.Fatalf("baseline %v, want about 2", sig.Baseline)
		}
	}
	if src.history != 1 {
		t.Errorf("history read %d times within the hour, want once", src.history)
	}
	if _, err := r.Signal("whatsapp", reportNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if src.history != 2 {
		t.Errorf("history read %d times after the hour changed, want twice", src.history)
	}
}

func TestReportRuleWithDefaults(t *testing.T) {
	custom := ReportRule{
		Window:       Duration(10 * time.Minute),
		Floor:        2,
		Ratio:        1.5,
		History:      Duration(24 * time.Hour),
		PerUser:      Duration(time.Hour),
		Significance: 1e-3,
	}
	for _, tc := range []struct {
		name string
		in   ReportRule
		want ReportRule
	}{
		{"zero", ReportRule{}, ReportRule{
			Window:       Duration(15 * time.Minute),
			Floor:        5,
			Ratio:        3,
			History:      Duration(672 * time.Hour),
			PerUser:      Duration(30 * time.Minute),
			Significance: 1e-6,
		}},
		{"set fields stay", custom, custom},
		{"negative fields", ReportRule{Window: -1, Floor: -1, Ratio: -1, History: -1, PerUser: -1, Significance: -1}, DefaultReportRule()},
		{"some fields", ReportRule{Floor: 2}, ReportRule{
			Window:       Duration(15 * time.Minute),
			Floor:        2,
			Ratio:        3,
			History:      Duration(672 * time.Hour),
			PerUser:      Duration(30 * time.Minute),
			Significance: 1e-6,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.in.WithDefaults()); diff != "" {
				t.Errorf("WithDefaults mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReportRuleSince(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule ReportRule
		want time.Time
	}{
		{"default: four weeks, from the start of the hour", ReportRule{}, at(28, 16, 0)},
		{"a day", ReportRule{History: Duration(24 * time.Hour)}, time.Date(2025, 3, 3, 16, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.Since(reportNow); !got.Equal(tc.want) {
				t.Errorf("Since = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReportsWhere(t *testing.T) {
	usual := map[string]int{"en": 500, "es": 150, "pt": 100, "it": 100, "de": 100, "fr": 50}
	for _, tc := range []struct {
		name     string
		langs    map[string]int
		usual    map[string]int
		where    []string
		regional bool
	}{
		{"nine in ten write Italian", map[string]int{"it": 27, "en": 3}, usual, []string{"it"}, true},
		{"Portuguese and Spanish together", map[string]int{"pt": 12, "es": 10, "en": 6, "fr": 2}, usual, []string{"pt", "es"}, false},
		{"the usual mix", map[string]int{"en": 15, "es": 5, "pt": 3, "it": 3, "de": 3, "fr": 1}, usual, nil, false},
		{"a bot of Italians hears Italian", map[string]int{"it": 27, "en": 3}, map[string]int{"it": 900, "en": 100}, nil, false},
		{"too few to tell", map[string]int{"it": 4}, usual, nil, false},
		{"no history: nothing is unusual", map[string]int{"it": 27, "en": 3}, nil, nil, false},
	} {
		got, _, regional := where(tc.langs, tc.usual, 5)
		if diff := cmp.Diff(tc.where, got); diff != "" || regional != tc.regional {
			t.Errorf("%s: where %v regional %v, want %v %v", tc.name, got, regional, tc.where, tc.regional)
		}
	}
}

func TestBinomialTail(t *testing.T) {
	for _, tc := range []struct {
		k, n int
		p    float64
		want float64
	}{
		{0, 10, 0.5, 1},
		{11, 10, 0.5, 0},
		{10, 10, 0.5, 1.0 / 1024},
		{9, 10, 0.5, 11.0 / 1024},
	} {
		if got := BinomialTail(tc.k, tc.n, tc.p); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("BinomialTail(%d, %d, %v) = %v, want %v", tc.k, tc.n, tc.p, got, tc.want)
		}
	}
}
