package checks

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"sync"
	"time"
)

// ReportKinds are what people can say is broken when they report a problem,
// in the order they are offered. A report that names none has kind "".
var ReportKinds = []string{"login", "messages", "media", "app", "web"}

// ReportBucketSize is the span of one ReportBucket. Buckets start at
// multiples of it in UTC (…:00, …:01, …:02), so stores and ReportSpike agree
// on which bucket a moment belongs to. A minute is fine enough to tell,
// within a minute or two, that reports stopped coming. (Buckets of five
// minutes, written by earlier versions, read as one-minute buckets at the
// start of their five minutes: their counts, and so the baselines, hold.)
const ReportBucketSize = time.Minute

// baselinePeriod is the period of report baselines: people report more on a
// Monday evening than on a Sunday night, every week.
const baselinePeriod = 7 * 24 * time.Hour

// ReportBucket counts the reports of one service in one ReportBucketSize.
type ReportBucket struct {
	Start time.Time      // aligned to ReportBucketSize (UTC)
	Count int            // distinct reporters counted in the bucket
	Kinds map[string]int // login, messages, media, app, web, "" (unspecified) -> count
	Langs map[string]int // reporters' languages (primary subtags) -> count; unknown ones left out
	// Last is when the latest of them reported; zero when not known (the
	// end of the bucket is assumed then).
	Last time.Time
}

// ReportRule tunes when reports from people make a spike. Zero fields take
// the values of DefaultReportRule.
type ReportRule struct {
	Window  Duration `yaml:"window"`   // recent window summed for the signal, in whole buckets
	Floor   int      `yaml:"floor"`    // minimum distinct reporters in Window for a spike
	Ratio   float64  `yaml:"ratio"`    // Window count must be >= Ratio x baseline for Window
	History Duration `yaml:"history"`  // how far back baselines look
	PerUser Duration `yaml:"per_user"` // one counted report per person per service per this
	// Significance is how unlikely the window's count must be, at the
	// usual rate of reports for that hour, for a spike: the Poisson tail
	// probability of that many or more.
	Significance float64 `yaml:"significance"`
}

// DefaultReportRule is the rule for a small bot, whose baseline is near zero:
// five distinct people within 15 minutes is what makes a spike there, and
// three times the usual count where people report all the time.
func DefaultReportRule() ReportRule {
	return ReportRule{
		Window:       Duration(15 * time.Minute),
		Floor:        5,
		Ratio:        3,
		History:      Duration(4 * baselinePeriod),
		PerUser:      Duration(30 * time.Minute),
		Significance: 1e-6,
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
	if r.Significance <= 0 {
		r.Significance = d.Significance
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
	Count    int     // distinct reporters in the window
	Baseline float64 // usual count for this window at this time of day (the mean seen)
	// Spike says the count is unusual enough to be news: at least Floor,
	// at least Ratio times the baseline, its Poisson tail probability at
	// the baseline below Significance, and reports still coming.
	Spike bool
	// Elevated says a spike that began earlier may still be going on: the
	// count is still unusual and reports are still coming.
	Elevated bool
	Top      string   // most reported kind ("" when none specified)
	TopShare float64  // its share of the specified kinds, 0..1
	Window   Duration // the span Count covers
	// Where names the one or two languages most of a spike's reporters
	// write in, when they are far more of them than usual (WhereShare of
	// the reporters whose language is known), and Regional says that one
	// language alone has most of them: the outage mainly hits people
	// writing in it. A language is a proxy for a region, never a location.
	Where      []string `json:",omitempty"`
	WhereShare float64  `json:",omitempty"`
	Regional   bool     `json:",omitempty"`
}

// ReportSpike computes the report signal at now from buckets, given in any
// order and for any range: those that start before r.Since(now) or after now
// are ignored, and several buckets with the same Start add up. Zero fields of
// r take their defaults. It is ReportSignalAt with the baseline of
// ReportBaseline.
func ReportSpike(buckets []ReportBucket, now time.Time, r ReportRule) ReportSignal {
	return ReportSignalAt(buckets, now, r, ReportBaseline(buckets, now, r))
}

// reportWindow returns the window of the signal at now: its length, and
// the start of its first bucket. The window is the bucket of now and the
// ones before it, Window long in all.
func reportWindow(now time.Time, r ReportRule) (window time.Duration, from time.Time) {
	n := max(1, int(math.Ceil(float64(r.Window)/float64(ReportBucketSize))))
	window = time.Duration(n) * ReportBucketSize
	return window, now.Truncate(ReportBucketSize).Add(-window + ReportBucketSize)
}

// BaselineKey names the moments that share one baseline: ReportBaseline
// changes only when the hours the window touches do. Callers that keep a
// baseline for a while (it reads weeks of history) key it with this.
func BaselineKey(now time.Time, r ReportRule) [2]time.Time {
	_, from := reportWindow(now, r.WithDefaults())
	return [2]time.Time{from.Truncate(time.Hour), now.Truncate(time.Hour)}
}

// recentSpan is how far back the rate at which reports still come is
// taken: long enough to hold a few reports of a small spike, short enough
// to follow one that fades. holdSpan is how far back a spike that goes on
// is counted: a trickle of reports says little in a quarter of an hour
// and more in half an hour.
const (
	recentSpan = 5 * time.Minute
	latestSpan = 2 * time.Minute
	holdSpan   = 30 * time.Minute
)

// ReportSignalAt computes the report signal at now from the buckets of the
// last hour (others are ignored) and the window's usual count, baseline.
// The tests take the usual count at baseline.High, its cautious end.
//
// Reports come in episodes: people keep reporting while an outage lasts,
// and an episode ends when the reports since some moment are ten thousand
// times likelier at the usual rate than at the rate the spike had before
// it: seconds after a flood of reports stops, a quarter of an hour after
// a trickle. Only the current episode's reports count, so a spike that
// stopped is no spike, however many reports the window still holds, and
// one report after the silence does not bring it back.
//
// A spike is a count, in the window, of at least Floor, Ratio times the
// baseline, and so unusual at the baseline that its Poisson tail
// probability is below Significance. It lasts (Elevated) while the
// episode, over up to half an hour, stays unusual at all (a tail below
// 5 %, two reports or more).
func ReportSignalAt(buckets []ReportBucket, now time.Time, r ReportRule, b Baseline) ReportSignal {
	r = r.WithDefaults()
	window, from := reportWindow(now, r)
	sig := ReportSignal{Window: Duration(window), Baseline: b.Mean}
	baseline := b.High
	holdFrom := now.Truncate(ReportBucketSize).Add(-holdSpan + ReportBucketSize)
	var seen []ReportBucket // with reports, in the last hour, oldest first
	for _, b := range buckets {
		if b.Count <= 0 || b.Start.Before(holdFrom) || b.Start.After(now) {
			continue
		}
		seen = append(seen, b)
		if !b.Start.Before(from) {
			sig.Count += b.Count
		}
	}
	if sig.Count == 0 {
		return sig
	}
	slices.SortFunc(seen, func(a, b ReportBucket) int { return a.Start.Compare(b.Start) })
	// Walk back from now to the moment after which reports look like the
	// usual trickle rather than the spike: the log-likelihood of the
	// reports since then is higher by ln(10⁴) at the usual rate than at
	// half the rate the spike had just before (the lower over the five and
	// the two minutes before): reports that drop to half
	// their rate at once, as they do when a fix reaches half the people,
	// do not end it. A lone report in a long silence costs the silence a
	// few minutes; a spike that only fades never ends this way.
	usual := max(baseline, 0.1) / float64(window)
	first, after := 0, 0
	for i := len(seen) - 1; i >= 0; i-- {
		last := seen[i].Last
		if last.IsZero() || last.Before(seen[i].Start) {
			last = seen[i].Start.Add(ReportBucketSize) // the cautious side
		}
		spike := math.Inf(1)
		for _, span := range []time.Duration{recentSpan, latestSpan} {
			spike = min(spike, float64(countSince(seen[:i+1], last.Add(-span)))/float64(span))
		}
		// The spike may have just dropped to a lower rate rather than
		// ended: the test is against half its rate.
		spike /= 2
		if spike > usual {
			evidence := (spike-usual)*float64(max(0, now.Sub(last))) - float64(after)*math.Log(spike/usual)
			if evidence >= math.Log(1e4) {
				first = i + 1
				break
			}
		}
		after += seen[i].Count
	}
	kinds := make(map[string]int)
	langs := make(map[string]int)
	inWindow, held := 0, 0
	for _, b := range seen[first:] {
		held += b.Count
		if !b.Start.Before(from) {
			inWindow += b.Count
			for k, c := range b.Kinds {
				kinds[k] += c
			}
			for l, c := range b.Langs {
				langs[l] += c
			}
		}
	}
	sig.Spike = inWindow >= r.Floor && float64(inWindow) >= r.Ratio*baseline && PoissonTail(inWindow, baseline) <= r.Significance
	sig.Elevated = held >= 2 && PoissonTail(held, baseline*float64(holdSpan)/float64(window)) <= 0.05
	sig.Top, sig.TopShare = topKind(kinds)
	if sig.Spike || sig.Elevated {
		sig.Where, sig.WhereShare, sig.Regional = where(langs, b.Langs, r.Floor)
	}
	return sig
}

// where finds the one or two languages that most of the reporters in langs
// write in, when at least floor of them gave one and those languages hold
// at least 60 % of them and half again their usual share (in usual), so
// far above it that a binomial test gives a chance below 1 in 1,000.
// regional says one language did on its own.
func where(langs, usual map[string]int, floor int) (top []string, share float64, regional bool) {
	n := 0
	for _, c := range langs {
		n += c
	}
	if n < floor {
		return nil, 0, false
	}
	names := slices.Collect(maps.Keys(langs))
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(langs[b], langs[a]), cmp.Compare(a, b)) })
	total := 0
	for _, c := range usual {
		total += c
	}
	for k := 1; k <= min(2, len(names)); k++ {
		seen, before := 0, 0
		for _, l := range names[:k] {
			seen += langs[l]
			before += usual[l]
		}
		// Most of the reporters, and half again their usual share: a bot
		// whose users mostly write Italian hears mostly Italian in every
		// outage.
		usualShare := float64(before+1) / float64(total+2)
		share := float64(seen) / float64(n)
		if share < 0.6 || share < 1.5*usualShare {
			continue
		}
		// The usual share taken about two standard deviations high: a
		// short history says little of what is usual.
		u := min(0.999, usualShare+2*math.Sqrt(usualShare*(1-usualShare)/float64(total+2)))
		if BinomialTail(seen, n, u) <= 1e-3 {
			return slices.Clone(names[:k]), float64(seen) / float64(n), k == 1
		}
	}
	return nil, 0, false
}

// BinomialTail is the probability of k or more successes in n trials of
// chance p.
func BinomialTail(k, n int, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n || p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	sum := 0.0
	for i := k; i <= n; i++ {
		lgI, _ := math.Lgamma(float64(i + 1))
		lgR, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lgN - lgI - lgR + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return min(1, sum)
}

// Baseline is the usual count of reports per window: the mean seen, and
// the upper end of what the reports seen allow (about two standard
// deviations up), which the tests use so that a baseline learnt from
// little history errs toward fewer alarms.
type Baseline struct {
	Mean, High float64
	// Langs counts the reporters' languages over the history: the usual
	// mix, which a spike's is compared with.
	Langs map[string]int
}

// ReportBaseline is the usual count of reports per window at now, from
// buckets given in any order and for any range (those that start before
// r.Since(now) count not).
//
// It is the usual count per Window for that time of day, in the past days
// the history covers, or for that hour of the week in past weeks, whichever
// is higher, each taken at the upper end of what its reports allow (about
// two standard deviations up): a spike must stand out from the evening's
// rhythm, not from the night's. Buckets exist only where someone reported,
// so the history is taken to begin with the oldest bucket. Less than a day
// in, the baseline is the mean over all the history before the window; with
// none, it is 0 and only the Floor decides.
func ReportBaseline(buckets []ReportBucket, now time.Time, r ReportRule) Baseline {
	r = r.WithDefaults()
	since := r.Since(now)
	window, from := reportWindow(now, r)
	var oldest time.Time
	inRange := make([]ReportBucket, 0, len(buckets))
	for _, b := range buckets {
		if b.Start.Before(since) || !b.Start.Before(from) {
			continue
		}
		inRange = append(inRange, b)
		if oldest.IsZero() || b.Start.Before(oldest) {
			oldest = b.Start
		}
	}
	b := reportBaseline(inRange, now, since, oldest, from, window)
	for _, bucket := range inRange {
		for lang, n := range bucket.Langs {
			if b.Langs == nil {
				b.Langs = make(map[string]int)
			}
			b.Langs[lang] += n
		}
	}
	return b
}

// countSince adds up the reports of the buckets (oldest first) that start
// at or after t.
func countSince(buckets []ReportBucket, t time.Time) int {
	n := 0
	for i := len(buckets) - 1; i >= 0 && !buckets[i].Start.Before(t.Truncate(ReportBucketSize)); i-- {
		n += buckets[i].Count
	}
	return n
}

// PoissonTail is the probability that a Poisson variable of mean mean is k
// or more.
func PoissonTail(k int, mean float64) float64 {
	switch {
	case k <= 0:
		return 1
	case mean <= 0:
		return 0
	}
	// Summed from the k-th term up, which stays accurate however small the
	// tail is (1 - CDF would not).
	lg, _ := math.Lgamma(float64(k) + 1)
	term := math.Exp(-mean + float64(k)*math.Log(mean) - lg)
	sum := 0.0
	for i := k; term > sum*1e-15 && i < k+100000; i++ {
		sum += term
		term *= mean / float64(i+1)
	}
	return min(1, sum)
}

// reportBaseline is the usual count per window for the window starting
// at from, from the buckets in range, the oldest of which starts at oldest.
func reportBaseline(buckets []ReportBucket, now, since, oldest, from time.Time, window time.Duration) Baseline {
	if len(buckets) == 0 {
		return Baseline{}
	}
	start := since
	if oldest.After(start) {
		start = oldest
	}
	// Every hour the window touches, in past days and in past weeks; the
	// busiest of them sets the usual rate.
	var best rate
	covered := false
	for hour := from.Truncate(time.Hour); !hour.After(now); hour = hour.Add(time.Hour) {
		for _, period := range []time.Duration{24 * time.Hour, baselinePeriod} {
			if r, ok := slotRate(buckets, hour, period, start, from); ok {
				best, covered = best.max(r), true
			}
		}
	}
	if !covered {
		span := from.Sub(oldest)
		if span <= 0 {
			return Baseline{}
		}
		total := 0
		for _, b := range buckets {
			if b.Start.Before(from) {
				total += b.Count
			}
		}
		best = rate{total, span}
	}
	return Baseline{Mean: best.mean() * float64(window), High: best.high() * float64(window)}
}

// rate is a count of reports over a span.
type rate struct {
	n    int
	span time.Duration
}

// mean is the rate per nanosecond.
func (r rate) mean() float64 { return float64(r.n) / float64(r.span) }

// high is the rate taken about two standard deviations high.
func (r rate) high() float64 {
	return (float64(r.n) + 2*math.Sqrt(float64(r.n)) + 1) / float64(r.span)
}

// max is the busier of two rates, judged by their high ends.
func (r rate) max(o rate) rate {
	if r.span == 0 || o.high() > r.high() {
		return o
	}
	return r
}

// slotRate is the rate of reports in the hour starting at hour in every
// past period (day or week) that the history from start covers and that
// ends before the window at from. ok is false when no past period is
// covered.
func slotRate(buckets []ReportBucket, hour time.Time, period time.Duration, start, from time.Time) (rate, bool) {
	slots := 0
	for s := hour.Add(-period); !s.Before(start); s = s.Add(-period) {
		slots++
	}
	if slots == 0 {
		return rate{}, false
	}
	total := 0
	for _, b := range buckets {
		if !b.Start.Before(from) || b.Start.Before(start) {
			continue
		}
		// The past slot b may fall in is the one that starts a whole
		// number of periods before hour, at or before b.
		back := hour.Sub(b.Start)
		k := (back + period - 1) / period
		if k < 1 || k > time.Duration(slots) {
			continue
		}
		if b.Start.Before(hour.Add(-k*period + time.Hour)) {
			total += b.Count
		}
	}
	return rate{total, time.Duration(slots) * time.Hour}, true
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

// ReportSource reads a service's report buckets that start in [from, to).
type ReportSource interface {
	ReportBuckets(service string, from, to time.Time) ([]ReportBucket, error)
}

// Reports computes report signals from a source. Each service's baseline
// reads weeks of history, so it is kept for as long as it holds
// (BaselineKey); a signal reads only the last hour besides. It is safe for
// concurrent use.
type Reports struct {
	Source ReportSource
	Rule   ReportRule

	mu    sync.Mutex
	cache map[string]cachedBaseline // by service
}

type cachedBaseline struct {
	key [2]time.Time
	b   Baseline
}

// Signal is what people's reports say about service at now.
func (r *Reports) Signal(service string, now time.Time) (ReportSignal, error) {
	rule := r.Rule.WithDefaults()
	key := BaselineKey(now, rule)
	r.mu.Lock()
	c, ok := r.cache[service]
	r.mu.Unlock()
	if !ok || c.key != key {
		_, from := reportWindow(now, rule)
		history, err := r.Source.ReportBuckets(service, rule.Since(now), from)
		if err != nil {
			return ReportSignal{}, err
		}
		c = cachedBaseline{key: key, b: ReportBaseline(history, now, rule)}
		r.mu.Lock()
		if r.cache == nil {
			r.cache = make(map[string]cachedBaseline)
		}
		r.cache[service] = c
		r.mu.Unlock()
	}
	recent, err := r.Source.ReportBuckets(service, now.Add(-holdSpan), now.Add(ReportBucketSize))
	if err != nil {
		return ReportSignal{}, err
	}
	return ReportSignalAt(recent, now, rule, c.b), nil
}
