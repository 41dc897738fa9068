package replay

import (
	"cmp"
	"hash/fnv"
	"maps"
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
	control  []checks.ProbeSpec // the configuration's control probes
	prints   map[[2]string]string

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
	received int                  // reports looked at so far
	counted  map[uint64]time.Time // the last counted report of each person
	cache    signalCache
}

// report is one report sent by a person (a number, unique in the trace),
// in a language.
type report struct {
	at     time.Time
	kind   string
	person uint64
	lang   string
}

// signalCache holds the last baseline computed and the moments it holds for.
type signalCache struct {
	valid    bool
	key      [2]time.Time
	baseline checks.Baseline
}

func newWorld(tr *Trace, opt Options) *world {
	w := &world{tr: tr, rule: opt.Reports.WithDefaults(), read: opt.Official, every: opt.OfficialEvery,
		byID: make(map[string]*simService), control: opt.Control, prints: make(map[[2]string]string)}
	for _, p := range opt.Control {
		w.prints[[2]string{"", p.Name}] = checks.SpecFingerprint(p)
	}
	var people uint64
	for _, s := range tr.Services {
		h := fnv.New64a()
		h.Write([]byte(s.ID))
		sim := &simService{Service: s, salt: h.Sum64(), counted: make(map[uint64]time.Time)}
		sim.reports = w.reports(sim, &people)
		w.services = append(w.services, sim)
		w.byID[s.ID] = sim
		for _, p := range s.Probes {
			w.prints[[2]string{s.ID, p.Name}] = checks.SpecFingerprint(p)
		}
	}
	return w
}

// Salts separating the random streams drawn from one seed.
const (
	saltPhase   = 0x7068617365   // "phase"
	saltReports = 0x7265706f7274 // "report"
	saltControl = 0x636f6e74726f // "contro"
	saltRate    = 0x72617465     // "rate"
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
	local := w.local(now)
	control := w.controlResults(now, offline, local)
	controlOK := len(control) == 0
	for _, r := range control {
		controlOK = controlOK || r.Class == checks.ClassOK
	}
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
			Results:   w.results(s, now, offline, local),
			Control:   control,
			ControlOK: controlOK,
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

// local returns the parts of the bot's own network failing at now, and the
// control probes failing by name.
func (w *world) local(now time.Time) localTrouble {
	lt := localTrouble{roles: map[checks.Role]bool{}, names: map[string]bool{}}
	for _, e := range w.tr.Events {
		if !e.active(now) {
			continue
		}
		for _, role := range e.Local {
			lt.roles[checks.Role(role)] = true
		}
		for _, name := range e.Control {
			lt.names[name] = true
		}
	}
	return lt
}

// localTrouble is what fails of the bot's own network at a moment.
type localTrouble struct {
	roles map[checks.Role]bool // system_dns, public_dns, route, web
	names map[string]bool      // control probes failing on their own
}

// breaks says whether the local trouble stops probe p (a control probe
// when control) from answering. The system resolver is what every probe
// by name needs (Meta's name servers are found through it too); general
// transit carries everything to Meta but plain name lookups.
func (lt localTrouble) breaks(p checks.ProbeSpec, control bool) bool {
	publicDNS := p.Kind == "dns" && !p.Authoritative && (p.Resolver != "" || len(p.Resolvers) > 0)
	role := p.ControlRole()
	switch {
	case control && lt.names[p.Name]:
		return true
	case lt.roles[checks.RoleSystemDNS] && !publicDNS:
		return true
	case lt.roles[checks.RolePublicDNS] && publicDNS:
		return true
	case lt.roles[checks.RoleRoute] && (control && role == checks.RoleRoute || !control && (p.Kind != "dns" || p.Authoritative)):
		return true
	case lt.roles[checks.RoleWeb] && control && role == checks.RoleWeb:
		return true
	}
	return false
}

// controlResults samples the control probes at now: they fail while the bot
// is offline or their part of its network fails, and otherwise with the
// trace's noise.
func (w *world) controlResults(now time.Time, offline bool, local localTrouble) []checks.Result {
	var rng rand.PCG
	rng.Seed(w.tr.Seed, mix(uint64(now.UnixNano())^saltControl))
	out := make([]checks.Result, len(w.control))
	for i, p := range w.control {
		u := float64(rng.Uint64()>>11) / (1 << 53)
		r := w.result("", p)
		switch {
		case offline:
			r.Class, r.Detail = timeout(p), "replay: the bot is offline"
		case local.breaks(p, true):
			r.Class, r.Detail = timeout(p), "replay: the bot's own network"
		case u < w.tr.Noise.ProbeFailure:
			r.Class, r.Detail = timeout(p), "replay: noise"
		}
		out[i] = r
	}
	return out
}

// result is a probe's result before it is sampled: ok, marked as the
// Monitor marks it.
func (w *world) result(service string, p checks.ProbeSpec) checks.Result {
	return checks.Result{Probe: p.Name, Kind: p.Kind, Target: p.DisplayTarget(), Class: checks.ClassOK,
		Spec: w.prints[[2]string{service, p.Name}], Role: p.Role,
		ViaPublicDNS: p.Kind == "dns" && !p.Authoritative && (p.Resolver != "" || len(p.Resolvers) > 0)}
}

// results samples every probe of s at now: an event's class where one
// breaks the probe (the last listed whose rate strikes wins), timeouts
// while the bot is offline or its own network fails the probe, and
// otherwise the trace's noise.
func (w *world) results(s *simService, now time.Time, offline bool, local localTrouble) []checks.Result {
	var breaking []Event
	for _, e := range w.tr.Events {
		if !e.Failing.IsZero() && e.active(now) && slices.Contains(e.Services, s.ID) {
			breaking = append(breaking, e)
		}
	}
	var rng, strikes rand.PCG
	rng.Seed(w.tr.Seed, mix(uint64(now.UnixNano())^s.salt))
	strikes.Seed(w.tr.Seed, mix(uint64(now.UnixNano())^s.salt^saltRate))
	noise := w.tr.Noise
	out := make([]checks.Result, len(s.Probes))
	for i, p := range s.Probes {
		// Drawn for every probe, so that an event on one probe leaves the
		// noise of the others as it was.
		u := float64(rng.Uint64()>>11) / (1 << 53) // uniform in [0, 1)
		r := w.result(s.ID, p)
		e, unreached := lastBreaking(breaking, i, p, &strikes)
		switch {
		case offline:
			r.Class, r.Detail = timeout(p), "replay: the bot is offline"
		case local.breaks(p, false):
			r.Class, r.Detail = timeout(p), "replay: the bot's own network"
		case e != nil:
			r.Class, r.Detail = e.Class, "replay: event on line "+strconv.Itoa(e.Line)
		case u < noise.ProbeFailure:
			r.Class, r.Detail = timeout(p), "replay: noise"
		case u < noise.ProbeFailure+noise.Blocked && throttles(p.Kind):
			r.Class, r.Detail = checks.ClassHTTPBlocked, "replay: noise (HTTP 429)"
		}
		if r.Class == checks.ClassOK || r.Class == checks.ClassHTTPBlocked {
			r.Failing = unreached
		}
		out[i] = r
	}
	return out
}

// lastBreaking returns the last of events that breaks probe number i, p, at
// this check: it selects the probe, its rate strikes (one draw from strikes
// per event and probe) and it takes down all of the probe's targets. It also
// returns the targets events took down when the probe answered through
// another.
func lastBreaking(events []Event, i int, p checks.ProbeSpec, strikes *rand.PCG) (*Event, []string) {
	var hit *Event
	var unreached []string
	for j := range events {
		e := &events[j]
		u := float64(strikes.Uint64()>>11) / (1 << 53)
		if !e.Failing.Selects(i, p.Name) || u >= e.Rate {
			continue
		}
		targets := probeTargets(p)
		down := targets
		if len(e.Targets) > 0 {
			down = slices.DeleteFunc(slices.Clone(targets), func(t string) bool { return !slices.Contains(e.Targets, t) })
		}
		switch {
		case len(down) == len(targets):
			hit = e
		case len(down) > 0 && len(targets) > 1:
			for _, t := range down {
				if !slices.Contains(unreached, t) {
					unreached = append(unreached, t)
				}
			}
		}
	}
	if hit != nil {
		unreached = nil
	}
	return hit, unreached
}

// probeTargets are what a probe asks: the resolvers of a dns probe that
// asks several, the targets of a tcp or tls probe that tries several, or
// its one target.
func probeTargets(p checks.ProbeSpec) []string {
	switch {
	case p.Kind == "dns" && len(p.Resolvers) > 0:
		return p.Resolvers
	case len(p.Targets) > 0:
		return p.Targets
	}
	return []string{p.Target}
}

// timeout is how a probe fails when nothing answers.
func timeout(p checks.ProbeSpec) checks.Class {
	switch p.Kind {
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

// reports draws the reports people sent about s: people arriving as a
// Poisson process at the noise's rate (by hour of the day when the trace
// gives a rhythm) over the trace and the history before it that baselines
// need, plus those of each event over the event; each person sends Repeat
// reports, RepeatEvery apart, in a language drawn from the shares. people
// numbers the persons across services.
func (w *world) reports(s *simService, people *uint64) []report {
	rng := rand.New(rand.NewPCG(w.tr.Seed, mix(saltReports^s.salt)))
	noise := w.tr.Noise
	// Noise reports say anything, or nothing, about what is broken.
	anyKind := func() string {
		if i := rng.IntN(len(checks.ReportKinds) + 1); i < len(checks.ReportKinds) {
			return checks.ReportKinds[i]
		}
		return ""
	}
	from := w.rule.Since(w.tr.Start)
	rate := func(time.Time) float64 { return noise.ReportsPerHour }
	if len(noise.ReportsByHour) == 24 {
		rate = func(t time.Time) float64 { return noise.ReportsByHour[t.UTC().Hour()] }
	}
	var out []report
	out = w.people(rng, out, people, from, w.tr.End, rate, anyKind, noise.Reporters)
	for _, e := range w.tr.Events {
		if e.ReportsPerHour > 0 && slices.Contains(e.Services, s.ID) {
			out = w.people(rng, out, people, e.From, e.To, func(time.Time) float64 { return e.ReportsPerHour },
				func() string { return e.Kind }, e.Reporters)
		}
	}
	slices.SortStableFunc(out, func(a, b report) int { return a.at.Compare(b.at) })
	return out
}

// people appends the reports of people arriving over [from, to) as a
// Poisson process whose rate per hour may change on the hour.
func (w *world) people(rng *rand.Rand, out []report, people *uint64, from, to time.Time, perHour func(time.Time) float64,
	kind func() string, how Reporters) []report {
	langs := slices.Sorted(maps.Keys(how.Languages))
	total := 0.0
	for _, l := range langs {
		total += how.Languages[l]
	}
	lang := func() string {
		if total == 0 {
			return "en"
		}
		x := rng.Float64() * total
		for _, l := range langs {
			if x -= how.Languages[l]; x < 0 {
				return l
			}
		}
		return langs[len(langs)-1]
	}
	for t := from; t.Before(to); {
		// Within one hour the rate is constant; the exponential gap is
		// memoryless, so starting afresh at the hour is exact.
		end := t.Truncate(time.Hour).Add(time.Hour)
		if end.After(to) {
			end = to
		}
		r := perHour(t)
		if r <= 0 {
			t = end
			continue
		}
		t = t.Add(time.Duration(rng.ExpFloat64() * float64(time.Hour) / r))
		if !t.Before(end) {
			t = end
			continue
		}
		*people++
		k, l := kind(), lang()
		for n := 0; n < max(how.Repeat, 1); n++ {
			at := t.Add(time.Duration(n) * how.RepeatEvery)
			if !at.Before(w.tr.End) {
				break
			}
			out = append(out, report{at: at, kind: k, person: *people, lang: l})
		}
	}
	return out
}

// signal is the report signal at now, from the reports received at or
// before now. The baseline, which reads weeks of history and is what makes
// long replays slow, is computed once for all the moments that share it
// (checks.BaselineKey), and not at all while the window holds fewer than
// two reports: then there can be neither a spike nor its tail (an episode
// with none in the window has ended), and the detector reads nothing of
// the signal but Spike and Elevated.
func (s *simService) signal(now time.Time, rule checks.ReportRule) checks.ReportSignal {
	s.receive(now, time.Duration(rule.PerUser))
	window := time.Duration(rule.Window)
	from := now.Truncate(checks.ReportBucketSize).Add(-window)
	lo := sort.Search(len(s.known), func(i int) bool { return s.known[i].Start.After(from) })
	count := 0
	for _, b := range s.known[lo:] {
		count += b.Count
	}
	if count < 2 {
		return checks.ReportSignal{Count: count, Window: rule.Window}
	}
	// The signal reads the last hour: a spike that goes on is held over it.
	hour := sort.Search(len(s.known), func(i int) bool { return s.known[i].Start.After(now.Add(-time.Hour)) })
	key := checks.BaselineKey(now, rule)
	if !s.cache.valid || s.cache.key != key {
		since := rule.Since(now)
		first := sort.Search(len(s.known), func(i int) bool { return !s.known[i].Start.Before(since) })
		s.cache = signalCache{valid: true, key: key, baseline: checks.ReportBaseline(s.known[first:lo], now, rule)}
	}
	return checks.ReportSignalAt(s.known[hour:], now, rule, s.cache.baseline)
}

// receive counts the reports sent at or before now into their buckets,
// each person once per rule.PerUser, as the bot's store does.
func (s *simService) receive(now time.Time, perUser time.Duration) {
	if s.received > 0 && s.reports[s.received-1].at.After(now) {
		// Asked about an earlier moment: count again from the start.
		s.known, s.received, s.cache = nil, 0, signalCache{}
		clear(s.counted)
	}
	for ; s.received < len(s.reports) && !s.reports[s.received].at.After(now); s.received++ {
		r := s.reports[s.received]
		if last, ok := s.counted[r.person]; ok && r.at.Sub(last) < perUser {
			continue
		}
		s.counted[r.person] = r.at
		start := r.at.Truncate(checks.ReportBucketSize)
		if n := len(s.known); n == 0 || !s.known[n-1].Start.Equal(start) {
			s.known = append(s.known, checks.ReportBucket{Start: start, Kinds: make(map[string]int)})
		}
		b := &s.known[len(s.known)-1]
		b.Count++
		b.Kinds[r.kind]++
		if b.Langs == nil {
			b.Langs = make(map[string]int)
		}
		b.Langs[r.lang]++
		b.Last = r.at
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
