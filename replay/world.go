package replay

import (
	"cmp"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// world expands a trace into what the detector would have observed at any
// moment. Probe outcomes are a pure function of the seed, the moment and the
// service, so that a re-check consumes no randomness that another round
// would have seen, and two detectors replayed over one trace see the same
// world.
type world struct {
	tr       *Trace
	rule     checks.ReportRule
	read     bool          // whether Meta's status page is read at all
	every    time.Duration // and how often
	services []*simService
	byID     map[string]*simService

	// Meta's status as last read, by service, and when it was read: the bot
	// reads the page every few minutes, not every round.
	fetched  time.Time
	official map[string][]checks.OfficialStatus
}

// simService is a service with the reports people sent about it.
type simService struct {
	Service
	salt    uint64   // mixes the service into the seed
	reports []report // sorted by time, from the start of the history
	// known are the buckets of the reports received so far, as the bot's
	// store would hold them: the last one may be in progress. Time only
	// moves forward in a replay, so reports are added as it passes them.
	known    []checks.ReportBucket
	received int // reports counted into known
	cache    signalCache
}

type report struct {
	at   time.Time
	kind string
}

// signalCache holds the last report signal with what it depends on: the
// reports received, the bucket in progress and the start of history.
type signalCache struct {
	valid         bool
	received      int
	bucket, since time.Time
	sig           checks.ReportSignal
}

func newWorld(tr *Trace, opt Options) *world {
	w := &world{tr: tr, rule: opt.Reports.WithDefaults(), read: opt.Official, every: opt.OfficialEvery, byID: make(map[string]*simService)}
	for _, s := range tr.Services {
		h := fnv.New64a()
		h.Write([]byte(s.ID))
		sim := &simService{Service: s, salt: h.Sum64()}
		sim.reports = w.reports(sim)
		w.services = append(w.services, sim)
		w.byID[s.ID] = sim
	}
	return w
}

// Salts separating the random streams drawn from one seed.
const (
	saltPhase   = 0x7068617365   // "phase"
	saltReports = 0x7265706f7274 // "report"
)

// phase is when, after the trace's start, the first round runs: a real bot
// is not in step with the outages it meets.
func (w *world) phase() time.Duration {
	rng := rand.New(rand.NewPCG(w.tr.Seed, mix(saltPhase)))
	return time.Duration(rng.Int64N(int64(w.tr.Interval)))
}

// observe is what a round (or a re-check) at now sees of the services ids
// (nil: all of them).
func (w *world) observe(ids []string, now time.Time) []checks.Observation {
	offline := w.offline(now)
	status := w.officialStatus(now, offline)
	sel := w.services
	if ids != nil {
		sel = make([]*simService, 0, len(ids))
		for _, id := range ids {
			if s, ok := w.byID[id]; ok {
				sel = append(sel, s)
			}
		}
	}
	obs := make([]checks.Observation, 0, len(sel))
	for _, s := range sel {
		obs = append(obs, checks.Observation{
			Service:   s.ID,
			Results:   w.results(s, now, offline),
			ControlOK: !offline,
			At:        now,
			Official:  status[s.ID],
			Reports:   s.signal(now, w.rule),
		})
	}
	return obs
}

func (w *world) offline(now time.Time) bool {
	return slices.ContainsFunc(w.tr.Events, func(e Event) bool { return e.Offline && e.active(now) })
}

// results samples every probe of s at now: an event's class where one
// breaks the probe (the last listed wins), timeouts while the bot is
// offline, and otherwise the trace's noise.
func (w *world) results(s *simService, now time.Time, offline bool) []checks.Result {
	var breaking []Event
	for _, e := range w.tr.Events {
		if !e.Failing.IsZero() && e.active(now) && slices.Contains(e.Services, s.ID) {
			breaking = append(breaking, e)
		}
	}
	var rng rand.PCG
	rng.Seed(w.tr.Seed, mix(uint64(now.UnixNano())^s.salt))
	noise := w.tr.Noise
	out := make([]checks.Result, len(s.Probes))
	for i, p := range s.Probes {
		// Drawn for every probe, so that an event on one probe leaves the
		// noise of the others as it was.
		u := float64(rng.Uint64()>>11) / (1 << 53) // uniform in [0, 1)
		r := checks.Result{Probe: p.Name, Kind: p.Kind, Target: p.Target, Class: checks.ClassOK}
		e := lastBreaking(breaking, i, p.Name)
		switch {
		case offline:
			r.Class, r.Detail = timeout(p.Kind), "replay: the bot is offline"
		case e != nil:
			r.Class, r.Detail = e.Class, "replay: event on line "+strconv.Itoa(e.Line)
		case u < noise.ProbeFailure:
			r.Class, r.Detail = timeout(p.Kind), "replay: noise"
		case u < noise.ProbeFailure+noise.Blocked && throttles(p.Kind):
			r.Class, r.Detail = checks.ClassHTTPBlocked, "replay: noise (HTTP 429)"
		}
		out[i] = r
	}
	return out
}

// lastBreaking returns the last of events that breaks probe i, named name,
// or nil.
func lastBreaking(events []Event, i int, name string) *Event {
	for j := len(events) - 1; j >= 0; j-- {
		if events[j].Failing.Selects(i, name) {
			return &events[j]
		}
	}
	return nil
}

// timeout is how a probe of kind fails when nothing answers.
func timeout(kind string) checks.Class {
	switch kind {
	case "dns":
		return checks.ClassDNSTimeout
	case "tcp", "tls":
		return checks.ClassTCPTimeout
	}
	return checks.ClassHTTPTimeout
}

// throttles reports whether a probe of kind can be answered 429.
func throttles(kind string) bool { return kind == "http" || kind == "websocket" }

// officialStatus returns Meta's status per service as the bot would know it
// at now: read again only when the last read is w.every old, like the bot
// does, and unknown when read while offline.
func (w *world) officialStatus(now time.Time, offline bool) map[string][]checks.OfficialStatus {
	if !w.read {
		return nil
	}
	if w.official != nil && now.Sub(w.fetched) < w.every {
		return w.official
	}
	w.fetched = now
	w.official = make(map[string][]checks.OfficialStatus, len(w.services))
	for _, s := range w.services {
		var said *Event
		for i, e := range w.tr.Events {
			if e.Official != "" && e.active(now) && slices.Contains(e.Services, s.ID) {
				said = &w.tr.Events[i]
			}
		}
		orgs := s.Orgs
		if len(orgs) == 0 {
			if said == nil {
				continue // no product of Meta's page speaks for it
			}
			orgs = []string{"metastatus"}
		}
		for _, org := range orgs {
			st := checks.OfficialStatus{Org: org, Name: org}
			switch {
			case offline:
				st.Err = "timeout"
			case said != nil:
				st.Name, st.Text, st.Since = cmp.Or(said.Product, org), said.Official, said.From
			default:
				st.Text = "No known issues"
			}
			st.Level = checks.ParseOfficialStatus(st.Text)
			w.official[s.ID] = append(w.official[s.ID], st)
		}
	}
	return w.official
}

// reports draws the reports people sent about s: a Poisson process of the
// noise's rate over the trace and the history before it that baselines
// need, plus one of each event's rate over the event.
func (w *world) reports(s *simService) []report {
	rng := rand.New(rand.NewPCG(w.tr.Seed, mix(saltReports^s.salt)))
	// Noise reports say anything, or nothing, about what is broken.
	anyKind := func() string {
		if i := rng.IntN(len(checks.ReportKinds) + 1); i < len(checks.ReportKinds) {
			return checks.ReportKinds[i]
		}
		return ""
	}
	out := poisson(rng, nil, w.rule.Since(w.tr.Start), w.tr.End, w.tr.Noise.ReportsPerHour, anyKind)
	for _, e := range w.tr.Events {
		if e.ReportsPerHour > 0 && slices.Contains(e.Services, s.ID) {
			out = poisson(rng, out, e.From, e.To, e.ReportsPerHour, func() string { return e.Kind })
		}
	}
	slices.SortStableFunc(out, func(a, b report) int { return a.at.Compare(b.at) })
	return out
}

// poisson appends to out the reports of a Poisson process of perHour
// reports an hour over [from, to).
func poisson(rng *rand.Rand, out []report, from, to time.Time, perHour float64, kind func() string) []report {
	if perHour <= 0 {
		return out
	}
	mean := float64(time.Hour) / perHour
	for t := from; ; {
		t = t.Add(time.Duration(rng.ExpFloat64() * mean))
		if !t.Before(to) {
			return out
		}
		out = append(out, report{at: t, kind: kind()})
	}
}

// signal is the report signal at now, from the reports received at or
// before now. It is recomputed only when a report arrived or a bucket (or
// the history's start) moved on since the last call.
//
// While the window holds fewer than Floor reports there can be no spike,
// and the detector reads nothing of the signal but Spike: then only the
// window's count is given, and checks.ReportSpike, whose baseline over
// weeks of history is what makes long replays slow, is not called.
func (s *simService) signal(now time.Time, rule checks.ReportRule) checks.ReportSignal {
	s.receive(now)
	bucket := now.Truncate(checks.ReportBucketSize)
	since := rule.Since(now)
	c := s.cache
	if c.valid && c.received == s.received && c.bucket.Equal(bucket) && c.since.Equal(since) {
		return c.sig
	}
	// The window is the bucket of now and the ones before it, Window long
	// in whole buckets (checks.ReportSpike's definition).
	n := (time.Duration(rule.Window) + checks.ReportBucketSize - 1) / checks.ReportBucketSize
	window := max(1, n) * checks.ReportBucketSize
	from := bucket.Add(-window + checks.ReportBucketSize)
	count := 0
	for i := len(s.known) - 1; i >= 0 && !s.known[i].Start.Before(from); i-- {
		count += s.known[i].Count
	}
	sig := checks.ReportSignal{Count: count, Window: checks.Duration(window)}
	if count >= rule.Floor {
		lo := sort.Search(len(s.known), func(i int) bool { return !s.known[i].Start.Before(since) })
		sig = checks.ReportSpike(s.known[lo:], now, rule)
	}
	s.cache = signalCache{valid: true, received: s.received, bucket: bucket, since: since, sig: sig}
	return sig
}

// receive counts the reports sent at or before now into their buckets.
func (s *simService) receive(now time.Time) {
	if s.received > 0 && s.reports[s.received-1].at.After(now) {
		// Asked about an earlier moment: count again from the start.
		s.known, s.received, s.cache = nil, 0, signalCache{}
	}
	for ; s.received < len(s.reports) && !s.reports[s.received].at.After(now); s.received++ {
		r := s.reports[s.received]
		start := r.at.Truncate(checks.ReportBucketSize)
		if n := len(s.known); n == 0 || !s.known[n-1].Start.Equal(start) {
			s.known = append(s.known, checks.ReportBucket{Start: start, Kinds: make(map[string]int)})
		}
		b := &s.known[len(s.known)-1]
		b.Count++
		b.Kinds[r.kind]++
	}
}

// mix is SplitMix64's finalizer: it spreads nearby inputs (consecutive
// times) over unrelated seeds.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
