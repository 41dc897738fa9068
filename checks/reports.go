package checks

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// ReportKinds are what people can say is broken when they report a problem,
// in the order they are offered. A report that names none has kind "".
var ReportKinds = []string{"login", "messages", "media", "app", "web"}

// ReportBucketSize is the span of one ReportBucket. Buckets start at
// multiples of it in UTC (…:00, …:05, …:10), so stores and ReportSpike agree
// on which bucket a moment belongs to.
const ReportBucketSize = 5 * time.Minute

// baselinePeriod is the period of report baselines: people report more on a
// Monday evening than on a Sunday night, every week.
const baselinePeriod = 7 * 24 * time.Hour

// ReportBucket counts the reports of one service in one ReportBucketSize.
type ReportBucket struct {
	Start time.Time      // aligned to ReportBucketSize (UTC)
	Count int            // distinct reporters counted in the bucket
	Kinds map[string]int // login, messages, media, app, web, "" (unspecified) -> count
}

// ReportRule tunes when reports from people make a spike. Zero fields take
// the values of DefaultReportRule.
type ReportRule struct {
	Window  Duration `yaml:"window"`   // recent window summed for the signal, in whole buckets
	Floor   int      `yaml:"floor"`    // minimum distinct reporters in Window for a spike
	Ratio   float64  `yaml:"ratio"`    // Window count must be >= Ratio x baseline for Window
	History Duration `yaml:"history"`  // how far back baselines look
	PerUser Duration `yaml:"per_user"` // one counted report per person per service per this
}

// DefaultReportRule is the rule for a small bot, whose baseline is near zero:
// five distinct people within 15 minutes is what makes a spike there, and
// three times the usual count where people report all the time.
func DefaultReportRule() ReportRule {
	return ReportRule{
		Window:  Duration(15 * time.Minute),
		Floor:   5,
		Ratio:   3,
		History: Duration(4 * baselinePeriod),
		PerUser: Duration(30 * time.Minute),
	}
}

// WithDefaults returns r with every zero or negative field replaced by the
// one of DefaultReportRule.
func (r ReportRule) WithDefaults() ReportRule {
	d := DefaultReportRule()
	if r.Window <= 0 {
		r.Window = d.Window
	}
	if r.Floor <= 0 {
		r.Floor = d.Floor
	}
	if r.Ratio <= 0 {
		r.Ratio = d.Ratio
	}
	if r.History <= 0 {
		r.History = d.History
	}
	if r.PerUser <= 0 {
		r.PerUser = d.PerUser
	}
	return r
}

// Since is the oldest moment ReportSpike looks at for now: History back,
// extended to the start of that hour, so that the oldest hour-of-week slot is
// whole. Fetch buckets from Since(now) on.
func (r ReportRule) Since(now time.Time) time.Time {
	r = r.WithDefaults()
	return now.Add(-time.Duration(r.History)).Truncate(time.Hour)
}

// ReportSignal is what people's reports say about a service right now.
type ReportSignal struct {
	Count    int      // distinct reporters in the window
	Baseline float64  // expected count for this window at this hour-of-week
	Spike    bool     // Count >= Floor && Count >= Ratio*Baseline
	Top      string   // most reported kind ("" when none specified)
	TopShare float64  // its share of the specified kinds, 0..1
	Window   Duration // the span Count covers
}

// ReportSpike computes the report signal at now from buckets, given in any
// order and for any range: those that start before r.Since(now) or after now
// are ignored, and several buckets with the same Start add up. Zero fields of
// r take their defaults.
//
// The window is the bucket of now and the ones before it, Window long in
// all. Its baseline is the mean count per Window in the same hour-of-week
// slot (Tuesday 16:00-17:00 for a Tuesday 16:16) in every past week the
// history covers. Buckets exist only where someone reported, so the history
// is taken to begin with the oldest bucket. While no past slot is covered,
// less than a week in, the baseline is the mean count per Window over all the
// history before the window, and 0 when there is none: then only the Floor
// decides.
func ReportSpike(buckets []ReportBucket, now time.Time, r ReportRule) ReportSignal {
	r = r.WithDefaults()
	since := r.Since(now)
	n := max(1, int(math.Ceil(float64(r.Window)/float64(ReportBucketSize))))
	window := time.Duration(n) * ReportBucketSize
	from := now.Truncate(ReportBucketSize).Add(-window + ReportBucketSize)

	var (
		sig     ReportSignal
		kinds   = make(map[string]int)
		oldest  time.Time
		inRange []ReportBucket
	)
	for _, b := range buckets {
		if b.Start.Before(since) || b.Start.After(now) {
			continue
		}
		inRange = append(inRange, b)
		if oldest.IsZero() || b.Start.Before(oldest) {
			oldest = b.Start
		}
		if b.Start.Before(from) {
			continue
		}
		sig.Count += b.Count
		for k, c := range b.Kinds {
			kinds[k] += c
		}
	}
	sig.Window = Duration(window)
	sig.Baseline = reportBaseline(inRange, now, since, oldest, from, window)
	sig.Spike = sig.Count >= r.Floor && float64(sig.Count) >= r.Ratio*sig.Baseline
	sig.Top, sig.TopShare = topKind(kinds)
	return sig
}

// reportBaseline is the expected count per window for the window starting
// at from, from the buckets in range, the oldest of which starts at oldest.
func reportBaseline(buckets []ReportBucket, now, since, oldest, from time.Time, window time.Duration) float64 {
	if len(buckets) == 0 {
		return 0
	}
	// The hour-of-week slots of past weeks, newest first, kept while the
	// history reaches back to their start.
	var slots []time.Time
	for start := now.Truncate(time.Hour).Add(-baselinePeriod); !start.Before(since) && !start.Before(oldest); start = start.Add(-baselinePeriod) {
		slots = append(slots, start)
	}
	if len(slots) > 0 {
		total := 0
		for _, b := range buckets {
			for _, s := range slots {
				if !b.Start.Before(s) && b.Start.Before(s.Add(time.Hour)) {
					total += b.Count
				}
			}
		}
		return float64(total) / float64(len(slots)) * float64(window) / float64(time.Hour)
	}
	span := from.Sub(oldest)
	if span <= 0 {
		return 0
	}
	total := 0
	for _, b := range buckets {
		if b.Start.Before(from) {
			total += b.Count
		}
	}
	return float64(total) * float64(window) / float64(span)
}

// topKind returns the most reported specified kind and its share of the
// specified reports. Ties go to the kind offered first in ReportKinds, then
// to the alphabetically first, so that the answer does not depend on map
// order.
func topKind(kinds map[string]int) (string, float64) {
	names := make([]string, 0, len(kinds))
	total := 0
	for k, c := range kinds {
		if k == "" || c <= 0 {
			continue
		}
		names = append(names, k)
		total += c
	}
	if total == 0 {
		return "", 0
	}
	rank := func(k string) int {
		if i := slices.Index(ReportKinds, k); i >= 0 {
			return i
		}
		return len(ReportKinds)
	}
	best := slices.MinFunc(names, func(a, b string) int {
		return cmp.Or(
			cmp.Compare(kinds[b], kinds[a]),
			cmp.Compare(rank(a), rank(b)),
			cmp.Compare(a, b),
		)
	})
	return best, float64(kinds[best]) / float64(total)
}
