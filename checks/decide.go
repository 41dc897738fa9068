package checks

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// Kinds is a set of kinds of evidence.
type Kinds uint8

// Kinds of evidence.
const (
	ByProbes Kinds = 1 << iota
	ByOfficial
	ByReports
)

// count returns how many kinds k holds.
func (k Kinds) count() int {
	n := 0
	for ; k != 0; k &= k - 1 {
		n++
	}
	return n
}

// Decision is what Decide makes of one observation.
type Decision struct {
	Status     Status
	Transition Transition
	Changed    bool // a transition was announced
	// Warnings are new operator warnings about the service's probes.
	Warnings []Warning
	// Proven names the probes that proved themselves in this check: from
	// now on they are evidence.
	Proven []string
}

// assessment is what one check says about a service, with the probes'
// evidence so far, before the confirmation rules.
type assessment struct {
	state State // Operational, Degraded, Down, or Unknown when nothing could tell
	// byProbes: the proven probes' evidence alone makes it trouble. That
	// evidence already is the persistence of a failure, so it is announced
	// at once.
	byProbes bool
	// strong: Meta's "major", or two kinds of evidence agreeing. It is
	// announced after two checks in a row; anything else (people's reports
	// alone, Meta's "minor" alone) must last Thresholds.WeakFor.
	strong   bool
	kinds    Kinds
	failing  []string // proven probes whose evidence reaches DownAfter
	evidence []Result // their results that failed hard in this check
	class    Class    // the most common class among those
	official string   // Meta's wording when it reported trouble
}

// Decide folds one observation into a service's status. It is pure: every
// duration it measures comes from the observation's Clock.
//
// Each proven probe carries a score (see Thresholds): two probes whose
// scores reach DownAfter, or one that reaches SingleAfter, are trouble, and
// are announced at once, the score being the persistence. Meta's "major" is
// down, its "minor" and a spike of people's reports degraded; those are
// announced after two checks when two kinds agree or Meta says "major", or
// else after WeakFor. A service is down when every proven probe that could
// tell is failing and they are of several kinds, or another kind of
// evidence agrees: one failing kind of probe (every DNS probe, say) is
// degraded. Once announced, trouble is held by the probes that carried it
// until they have answered cleanly often enough (see cleanNeeded), by Meta
// while it still reports trouble, and by people's reports only when it
// rests on nothing else. A down service is not announced degraded on its
// way back: people hear of it twice, when it breaks and when it is back.
// An observation made while the vantage point is offline changes nothing
// but the state shown, and the time unproven probes have had to prove
// themselves, which starts over.
func Decide(prev Status, o Observation, th Thresholds) Decision {
	next := prev
	next.Service = o.Service
	next.LastCheck, next.Clock = o.At, o.Clock
	next.Probes = cloneTracks(prev.Probes)
	next.Flagged = slices.Clone(prev.Flagged)
	if next.Announced == "" {
		// First sight of this service: assume it works until checks say otherwise.
		next.Announced, next.State, next.Since = Operational, Operational, o.At
	}
	if !o.ControlOK {
		restartUnproven(next.Probes, o.Clock)
		next.setState(Unknown, o.At)
		return Decision{Status: next}
	}
	evidence, proven := next.weigh(o, th)
	a := next.assess(o, evidence, th)
	next.Evidence, next.Official, next.Reports = a.evidence, a.official, o.Reports

	var d Decision
	if next.Announced == Operational {
		d = next.onset(a, o, th)
	} else {
		d = next.ongoing(a, evidence, o, th)
	}
	next = d.Status
	next.setState(next.displayed(a), o.At)
	d.Status = next
	d.Warnings = warnings(o.Service, next.Probes, o.Clock, th)
	d.Proven = proven
	return d
}

// weigh folds the results into the probes' tracks and returns those that
// are evidence (of proven probes, and informative), and the names of the
// probes that proved themselves with this check.
func (s *Status) weigh(o Observation, th Thresholds) (evidence []Result, proven []string) {
	if s.Probes == nil {
		s.Probes = make(map[string]*ProbeTrack, len(o.Results))
	}
	seen := make(map[string]bool, len(o.Results))
	for _, r := range o.Results {
		seen[r.Probe] = true
		t := trackOf(s.Probes, r, o.Clock)
		was := t.Proven
		if t.observe(r, o.Clock, th, s.Announced == Operational, o.PublicDNSDown) {
			evidence = append(evidence, r)
		}
		if t.Proven && !was {
			proven = append(proven, r.Probe)
		}
	}
	for name := range s.Probes {
		if !seen[name] {
			delete(s.Probes, name) // no longer in the catalog
		}
	}
	return evidence, proven
}

// assess fuses the evidence of one check.
func (s *Status) assess(o Observation, evidence []Result, th Thresholds) assessment {
	var a assessment
	kinds := make(map[string]bool)
	classes := make(map[Class]int)
	single := false
	for _, r := range evidence {
		t := s.Probes[r.Probe]
		if !t.failing(th, th.DownAfter) {
			continue
		}
		a.failing = append(a.failing, r.Probe)
		kinds[r.Kind] = true
		single = single || t.failing(th, th.SingleAfter)
		if r.Class.Hard() {
			a.evidence = append(a.evidence, r)
			classes[r.Class]++
		}
	}
	probes := len(a.failing) >= 2 || single

	official := OfficialUnknown
	for _, st := range o.Official {
		official = max(official, st.Level)
		if st.Level >= OfficialMinor && a.official == "" {
			a.official = officialText(st)
		}
	}
	// A spike of reports goes on until the reports are no longer unusual,
	// not only until they fall below the bar that started it.
	reports := o.Reports.Spike || s.Hot && o.Reports.Elevated
	if s.lingering(o) {
		// Lingering reports count for nothing, and a spike after them
		// must begin afresh.
		reports = false
	}
	s.Hot = reports

	if probes {
		a.kinds |= ByProbes
	}
	if official >= OfficialMinor {
		a.kinds |= ByOfficial
	}
	if reports {
		a.kinds |= ByReports
	}
	// One probe on its way to the bar counts as a kind of evidence beside
	// another kind, never alone.
	agreeing := a.kinds.count()
	if len(a.failing) == 1 && !single {
		agreeing++
	}
	others := a.kinds&^ByProbes != 0
	allFailing := len(a.failing) == len(evidence) && len(evidence) >= 2
	a.byProbes = probes
	a.strong = official == OfficialMajor || agreeing >= 2
	switch {
	case official == OfficialMajor, probes && allFailing && (len(kinds) >= 2 || others):
		a.state = Down
	case probes, a.kinds != 0:
		a.state = Degraded
	case len(evidence) == 0 && official == OfficialUnknown:
		a.state = Unknown // every probe throttled or unproven, and Meta silent
	default:
		a.state = Operational
	}
	a.class = dominant(classes)
	return a
}

// lingering reports whether people's reports may be those of past trouble:
// trouble that probes or Meta confirmed and is still announced (people's
// reports lag behind them, and neither hold it open), or any trouble that
// ended less than a report window ago (its reports are still in the
// window, and do not open it again).
func (s *Status) lingering(o Observation) bool {
	if s.Announced != Operational {
		return s.Basis&(ByProbes|ByOfficial) != 0
	}
	return s.RecoveredAt > 0 && o.Clock-s.RecoveredAt < time.Duration(o.Reports.Window)
}

// onset handles a check while the service is announced operational.
func (s Status) onset(a assessment, o Observation, th Thresholds) Decision {
	switch a.state {
	case Unknown:
		return Decision{Status: s} // says nothing: neither advances nor resets
	case Operational:
		s.clearPending()
		return Decision{Status: s}
	}
	s.pend(a.state, o)
	if !s.confirmed(a, o, th) {
		return Decision{Status: s}
	}
	t := s.transition(a, o)
	s.Basis = a.kinds
	s.Flagged = slices.Clone(a.failing)
	// The failures that confirmed the trouble are its first bad checks.
	s.Clean, s.Checks, s.Bad = 0, 0, 0
	if a.byProbes {
		s.Checks, s.Bad = th.DownAfter, th.DownAfter
	}
	s.Class, s.BadSince, s.BadAt = a.class, o.At, o.Clock
	return Decision{Status: s, Transition: t, Changed: true}
}

// ongoing handles a check while trouble is announced: whether it gets worse
// or is over.
func (s Status) ongoing(a assessment, evidence []Result, o Observation, th Thresholds) Decision {
	for _, p := range a.failing {
		if !slices.Contains(s.Flagged, p) {
			s.Flagged = append(s.Flagged, p)
		}
	}
	s.count(evidence)
	s.Basis |= a.kinds

	if s.Announced == Degraded && a.state == Down {
		s.pend(Down, o)
		if s.confirmed(a, o, th) {
			t := s.transition(a, o)
			return Decision{Status: s, Transition: t, Changed: true}
		}
		return Decision{Status: s}
	}
	held := len(s.Flagged) > 0 && s.Clean < s.cleanNeeded(th) || a.kinds&(ByOfficial|ByReports) != 0
	if held || a.state == Unknown {
		if s.Pending == Operational || a.state != Down {
			s.clearPending()
		}
		return Decision{Status: s}
	}
	// Nothing holds the trouble any more. After probe evidence, the run of
	// clean checks was the confirmation; Meta's word must be quiet for
	// UpAfter checks, and people for a minute as well: reports come in
	// bursts, and a lull is not an end.
	s.pend(Operational, o)
	if len(s.Flagged) == 0 && (s.Streak < th.UpAfter || s.Basis&ByOfficial == 0 && o.Clock-s.StreakAt < reportsQuiet) {
		return Decision{Status: s}
	}
	t := s.transition(assessment{state: Operational}, o)
	s.RecoveredAt = o.Clock
	for _, p := range s.Flagged {
		if tr := s.Probes[p]; tr != nil {
			tr.Score = 0 // their failure is over: new evidence starts afresh
		}
	}
	s.Flagged, s.Clean, s.Checks, s.Bad = nil, 0, 0, 0
	s.Basis, s.Class, s.BadSince, s.BadAt, s.Group = 0, "", time.Time{}, 0, ""
	return Decision{Status: s, Transition: t, Changed: true}
}

// reportsQuiet is how long people's reports must have stopped before the
// trouble they alone carried is announced over.
const reportsQuiet = time.Minute

// count tallies a check of the flagged probes while trouble is announced:
// it is clean when one of them answered and none failed hard.
func (s *Status) count(evidence []Result) {
	answered, failed := false, false
	for _, r := range evidence {
		if slices.Contains(s.Flagged, r.Probe) {
			answered = true
			failed = failed || r.Class.Hard()
		}
	}
	if !answered {
		return
	}
	s.Checks++
	if failed {
		s.Bad++
		s.Clean = 0
	} else {
		s.Clean++
	}
}

// cleanNeeded is how many clean checks in a row end trouble carried by the
// flagged probes. A failure seen in every check is over after UpAfter; one
// seen in 40 % of them could give that many clean checks by chance, so the
// run must be long enough that a failure at the rate seen during the
// trouble would give it with a chance of at most FalseRecovery.
func (s Status) cleanNeeded(th Thresholds) int {
	// The share of checks in which the trouble showed up to its last
	// failure (Laplace-smoothed, never below FailureRate; the clean run
	// under way is what is being judged), against the share in which the
	// flagged probes fail when all is well.
	p1 := min(0.99, max(th.FailureRate, float64(s.Bad+1)/float64(s.Checks-s.Clean+2)))
	p0 := min(0.5, float64(len(s.Flagged))*th.Noise)
	if p1 <= p0 {
		return th.UpAfter
	}
	n := math.Ceil(math.Log(1/th.FalseRecovery) / math.Log((1-p0)/(1-p1)))
	return max(th.UpAfter, int(n))
}

// pend records a check whose verdict differs from the announced state.
func (s *Status) pend(v State, o Observation) {
	if s.Streak > 0 && sameTrend(v, s.Pending, s.Announced) {
		s.Pending = v
		s.Streak++
		return
	}
	s.Pending, s.Streak, s.StreakAt = v, 1, o.Clock
}

func (s *Status) clearPending() { s.Pending, s.Streak, s.StreakAt = "", 0, 0 }

// confirmed reports whether the pending trouble may be announced.
func (s Status) confirmed(a assessment, o Observation, th Thresholds) bool {
	return a.byProbes || a.strong && s.Streak >= 2 ||
		s.Streak >= 2 && o.Clock-s.StreakAt >= time.Duration(th.WeakFor)
}

// transition announces the pending verdict a.state and clears the streak.
func (s *Status) transition(a assessment, o Observation) Transition {
	t := Transition{
		Service: o.Service, From: s.Announced, To: a.state, At: o.At, Clock: o.Clock,
		Evidence: a.evidence, Official: a.official, Reports: o.Reports, Class: a.class,
	}
	if a.state == Operational {
		t.Evidence, t.Official, t.Reports, t.Class = nil, "", ReportSignal{}, ""
	}
	s.Announced = a.state
	s.clearPending()
	return t
}

// displayed is the state /status shows: the announced one, or Suspected or
// Recovering while checks disagree with it, or Unknown when the last check
// could tell nothing.
func (s Status) displayed(a assessment) State {
	switch {
	case a.state == Unknown:
		return Unknown
	case s.Announced == Operational && (s.Streak > 0 || len(a.failing) > 0):
		return Suspected
	case s.Announced != Operational && (s.Pending == Operational || s.Clean > 0):
		return Recovering
	}
	return s.Announced
}

// Unsettled reports whether the last check left something to confirm or
// dismiss, which is when an immediate re-check pays off: a verdict pending,
// a recovery under way, or a proven probe of an operational service that
// has just failed.
func (s Status) Unsettled() bool {
	switch {
	case s.Streak > 0:
		return true
	case s.Announced != Operational:
		return s.Clean > 0
	}
	for _, t := range s.Probes {
		if t.Proven && t.Class.Hard() && t.Score > 0 {
			return true
		}
	}
	return false
}

func (s *Status) setState(st State, at time.Time) {
	if s.State != st {
		s.State = st
		s.Since = at
	}
}

// sameTrend says whether verdict v continues a streak pending toward p. While
// a service is announced operational, degraded and down checks both count
// toward trouble (the latest one decides which is announced), so an outage
// that wavers between them is not delayed.
func sameTrend(v, p, announced State) bool {
	if v == p {
		return true
	}
	return announced == Operational && v != Operational && p != Operational
}

// dominant returns the most frequent class (ties broken by name, so the
// answer is stable), "" for none.
func dominant(counts map[Class]int) Class {
	var best Class
	for c, n := range counts {
		if n > counts[best] || n == counts[best] && c < best {
			best = c
		}
	}
	return best
}

func officialText(s OfficialStatus) string {
	t := s.Name + ": " + s.Text
	if s.Detail != "" {
		t += " — " + s.Detail
	}
	return t
}

// Group marks the transitions of one round that make a Meta-wide incident: a
// service going from operational to trouble joins a service that went bad
// within window before it (or in this very round) when they fail alike: with
// the same dominant class, with the same probe failing the same way, or
// with the same words from Meta; and it joins a Meta-wide incident that is
// already running whatever its evidence. statuses are the services'
// statuses after the round; the Group of those that join or lead is set.
// The first service to go bad leads the group.
func Group(ts []Transition, statuses map[string]Status, window time.Duration) []Transition {
	var troubled []Status
	for _, s := range sortedStatuses(statuses) {
		if s.Announced != Operational && s.BadAt > 0 {
			troubled = append(troubled, s)
		}
	}
	out := slices.Clone(ts)
	for i, t := range out {
		if t.From != Operational || t.To == Operational {
			continue
		}
		var lead *Status
		for j := range troubled {
			l := &troubled[j]
			if l.Service == t.Service || t.Clock-l.BadAt > window || !alike(t, *l) {
				continue
			}
			if lead == nil || l.BadAt < lead.BadAt {
				lead = l
			}
		}
		if lead == nil {
			continue
		}
		leader := cmp.Or(lead.Group, lead.Service)
		out[i].GroupWith = leader
		for _, id := range []string{t.Service, leader} {
			s := statuses[id]
			s.Group = leader
			statuses[id] = s
		}
	}
	// Leads first, so that a store creating incidents in order meets the
	// lead's incident before the ones that join it.
	slices.SortStableFunc(out, func(a, b Transition) int {
		return cmp.Compare(boolInt(a.GroupWith != ""), boolInt(b.GroupWith != ""))
	})
	return out
}

// alike reports whether the trouble of t and of the troubled service l look
// like one outage.
func alike(t Transition, l Status) bool {
	switch {
	case l.Group != "":
		return true // a Meta-wide incident already running
	case t.Class != "" && t.Class == l.Class:
		return true
	case t.Official != "" && t.Official == l.Official:
		return true
	}
	for _, r := range t.Evidence {
		if slices.ContainsFunc(l.Evidence, func(e Result) bool { return e.Probe == r.Probe && e.Class == r.Class }) {
			return true
		}
	}
	return false
}

func sortedStatuses(m map[string]Status) []Status {
	out := make([]Status, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Service, b.Service) })
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Glance is what one round alone says of a service, with nothing known of
// its probes' past: trouble when a probe that could tell failed hard, down
// when every one of them did and they are of several kinds. `outagebot
// check` uses it; the bot never does, since a probe failing once, or a
// target this machine cannot reach, says little.
func Glance(o Observation) State {
	if !o.ControlOK {
		return Unknown
	}
	n, hard := 0, 0
	kinds := make(map[string]bool)
	for _, r := range o.Results {
		if !informative(r, o.PublicDNSDown) {
			continue
		}
		n++
		if r.Class.Hard() {
			hard++
			kinds[r.Kind] = true
		}
	}
	switch {
	case n == 0:
		return Unknown
	case hard == n && n >= 2 && len(kinds) >= 2:
		return Down
	case hard > 0:
		return Degraded
	}
	return Operational
}

// Hint suggests what about this machine may make a probe fail as r did,
// when it is not Meta: "" when there is nothing to suggest.
func Hint(r Result) string { return hint(r.Kind, r.Class, r.Detail) }
