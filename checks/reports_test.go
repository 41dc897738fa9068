package checks

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// reportNow is a Tuesday, 16:16 UTC: the window is the buckets of 16:05,
// 16:10 and 16:15, the hour-of-week slot Tuesday 16:00-17:00.
var reportNow = time.Date(2025, 3, 4, 16, 16, 0, 0, time.UTC)

// at is reportNow's day and week shifted by weeksAgo, at hh:mm.
func at(weeksAgo, hh, mm int) time.Time {
	return time.Date(2025, 3, 4-7*weeksAgo, hh, mm, 0, 0, time.UTC)
}

// unspecified is a bucket of count reports that named no kind.
func unspecified(start time.Time, count int) ReportBucket {
	return ReportBucket{Start: start, Count: count, Kinds: map[string]int{"": count}}
}

// window5 is five reports in the window, the default floor.
func window5() []ReportBucket {
	return []ReportBucket{unspecified(at(0, 16, 5), 2), unspecified(at(0, 16, 10), 2), unspecified(at(0, 16, 15), 1)}
}

// weekly is, for each past week (1 = last week), count reports spread over
// that week's Tuesday 16:00-17:00 slot, plus a crowd in other slots of the
// same week that must not count.
func weekly(counts map[int]int) []ReportBucket {
	var bs []ReportBucket
	for w, c := range counts {
		bs = append(bs,
			unspecified(at(w, 16, 0), c/2),
			unspecified(at(w, 16, 55), c-c/2),
			unspecified(at(w, 3, 0), 100),                     // Tuesday night
			unspecified(at(w, 15, 55), 100),                   // the hour before
			unspecified(at(w, 17, 0), 100),                    // the hour after
			unspecified(at(w, 16, 20).Add(24*time.Hour), 100), // Wednesday
		)
	}
	return bs
}

// inWindow is count reports in the window's last bucket.
func inWindow(count int) ReportBucket { return unspecified(at(0, 16, 15), count) }

func TestReportSpike(t *testing.T) {
	hourly := func(perHour int) []ReportBucket {
		// Two days of history before the window, one bucket an hour.
		var bs []ReportBucket
		for h := 1; h <= 48; h++ {
			bs = append(bs, unspecified(at(0, 16, 5).Add(-time.Duration(h)*time.Hour), perHour))
		}
		return bs
	}
	for _, tc := range []struct {
		name    string
		buckets []ReportBucket
		rule    ReportRule
		want    ReportSignal
	}{
		{"nothing", nil, ReportRule{}, ReportSignal{}},
		{"no history: the floor decides", window5(), ReportRule{}, ReportSignal{Count: 5, Spike: true}},
		{"no history, below the floor", window5()[1:], ReportRule{}, ReportSignal{Count: 3}},
		{"configured floor", window5(), ReportRule{Floor: 6}, ReportSignal{Count: 5}},
		{
			name: "bucket before the window is history, not count",
			// 16:00 is 16 minutes ago: outside the 15-minute window.
			buckets: append(window5(), unspecified(at(0, 16, 0), 1)),
			// One report in the 5 minutes of history before the window is
			// three per 15 minutes, and 5 is less than 3 times that.
			want: ReportSignal{Count: 5, Baseline: 3},
		},
		{
			name: "three weeks by hour-of-week, at the ratio",
			// 20, 16 and 12 in the slot: 16 an hour, 4 per 15 minutes.
			buckets: append(weekly(map[int]int{1: 20, 2: 16, 3: 12}), inWindow(12)),
			want:    ReportSignal{Count: 12, Baseline: 4, Spike: true},
		},
		{
			name: "three weeks by hour-of-week, just under the ratio",
			// Averaged over four weeks, as if the missing one were quiet,
			// the baseline would be 3 and 11 a spike.
			buckets: append(weekly(map[int]int{1: 20, 2: 16, 3: 12}), inWindow(11)),
			want:    ReportSignal{Count: 11, Baseline: 4},
		},
		{
			name:    "configured ratio",
			buckets: append(weekly(map[int]int{1: 20, 2: 16, 3: 12}), inWindow(8)),
			rule:    ReportRule{Ratio: 2},
			want:    ReportSignal{Count: 8, Baseline: 4, Spike: true},
		},
		{
			name: "the fourth week's slot counts from its start",
			// Its 16:00 bucket is 672h16m old, beyond History itself.
			// (16+16+16+4)/4 = 13 an hour, 3.25 per 15 minutes; without the
			// fourth week, 10 would be under 3 times 4.
			buckets: append(weekly(map[int]int{1: 16, 2: 16, 3: 16, 4: 4}), inWindow(10)),
			want:    ReportSignal{Count: 10, Baseline: 3.25, Spike: true},
		},
		{
			name:    "history shortened by the rule",
			buckets: append(weekly(map[int]int{1: 16, 2: 0, 3: 0, 4: 0}), inWindow(10)),
			rule:    ReportRule{History: Duration(8 * 24 * time.Hour)},
			want:    ReportSignal{Count: 10, Baseline: 4},
		},
		{
			name:    "fallback with two days of history",
			buckets: append(hourly(1), window5()...),
			// 48 reports in 48 hours: a quarter per 15 minutes.
			want: ReportSignal{Count: 5, Baseline: 0.25, Spike: true},
		},
		{
			name:    "fallback baseline above a third of the count",
			buckets: append(hourly(8), window5()...),
			want:    ReportSignal{Count: 5, Baseline: 2},
		},
		{
			name: "custom window, rounded up to whole buckets",
			// 7 minutes is two buckets, 16:10 and 16:15; the 2 reports of
			// 16:05 are history, 4 per 10 minutes.
			buckets: window5(),
			rule:    ReportRule{Window: Duration(7 * time.Minute), Floor: 3},
			want:    ReportSignal{Count: 3, Baseline: 4, Window: Duration(10 * time.Minute)},
		},
		{
			name: "buckets outside the range are ignored",
			buckets: append(window5(),
				unspecified(at(0, 16, 20), 50),   // after now
				unspecified(at(0, 14, 55), 1000), // before Since
				unspecified(at(0, 15, 0), 13),    // at Since: 13 in 65 minutes before the window
			),
			rule: ReportRule{History: Duration(time.Hour)},
			want: ReportSignal{Count: 5, Baseline: 3},
		},
		{
			name: "unordered and repeated buckets add up",
			buckets: []ReportBucket{
				unspecified(at(0, 16, 15), 1), unspecified(at(0, 16, 5), 2),
				unspecified(at(0, 16, 15), 1), unspecified(at(0, 16, 10), 1),
			},
			want: ReportSignal{Count: 5, Spike: true},
		},
		{
			name: "most reports: login, 76 %",
			buckets: []ReportBucket{
				{Start: at(0, 16, 5), Count: 20, Kinds: map[string]int{"login": 12, "messages": 3, "": 5}},
				{Start: at(0, 16, 15), Count: 15, Kinds: map[string]int{"login": 7, "media": 3, "": 5}},
				// Before the window: does not vote.
				{Start: at(0, 15, 0), Count: 10, Kinds: map[string]int{"messages": 10}},
			},
			want: ReportSignal{Count: 35, Baseline: 10 * 15.0 / 65, Spike: true, Top: "login", TopShare: 0.76},
		},
		{
			name: "a tie goes to the kind offered first",
			buckets: []ReportBucket{
				{Start: at(0, 16, 5), Count: 5, Kinds: map[string]int{"web": 2, "zzz": 2, "messages": 2, "": 3}},
			},
			want: ReportSignal{Count: 5, Spike: true, Top: "messages", TopShare: 2.0 / 6},
		},
		{
			name: "only unspecified kinds",
			buckets: []ReportBucket{
				{Start: at(0, 16, 5), Count: 2, Kinds: map[string]int{"": 2}},
				{Start: at(0, 16, 10), Count: 1},
			},
			want: ReportSignal{Count: 3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ReportSpike(tc.buckets, reportNow, tc.rule)
			want := tc.want
			if want.Window == 0 {
				want.Window = DefaultReportRule().Window // cases state it only when not the default
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("ReportSpike mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReportRuleWithDefaults(t *testing.T) {
	custom := ReportRule{
		Window:  Duration(10 * time.Minute),
		Floor:   2,
		Ratio:   1.5,
		History: Duration(24 * time.Hour),
		PerUser: Duration(time.Hour),
	}
	for _, tc := range []struct {
		name string
		in   ReportRule
		want ReportRule
	}{
		{"zero", ReportRule{}, ReportRule{
			Window:  Duration(15 * time.Minute),
			Floor:   5,
			Ratio:   3,
			History: Duration(672 * time.Hour),
			PerUser: Duration(30 * time.Minute),
		}},
		{"set fields stay", custom, custom},
		{"negative fields", ReportRule{Window: -1, Floor: -1, Ratio: -1, History: -1, PerUser: -1}, DefaultReportRule()},
		{"some fields", ReportRule{Floor: 2}, ReportRule{
			Window:  Duration(15 * time.Minute),
			Floor:   2,
			Ratio:   3,
			History: Duration(672 * time.Hour),
			PerUser: Duration(30 * time.Minute),
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
		{"default: four weeks, from the start of the hour", ReportRule{}, at(4, 16, 0)},
		{"a day", ReportRule{History: Duration(24 * time.Hour)}, time.Date(2025, 3, 3, 16, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.Since(reportNow); !got.Equal(tc.want) {
				t.Errorf("Since = %v, want %v", got, tc.want)
			}
		})
	}
}
