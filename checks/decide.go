package checks

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Assessment is what one round says about a service on its own, before any
// threshold.
type Assessment struct {
	State State // Operational, Degraded, Down, or Unknown when nothing could tell
	// Strong is true when the evidence is enough to act on after
	// Thresholds.DownAfter rounds: hard failures of several probes, or Meta
	// saying "major", or two kinds of evidence agreeing. Weak evidence must
	// also last Thresholds.WeakFor.
	Strong   bool
	Class    Class  // dominant hard failure class when several probes agree, else ""
	Official string // Meta's wording when it reported trouble
	Kinds    Kinds  // which kinds of evidence reported trouble
}

// Kinds is a set of kinds of evidence.
type Kinds uint8

// Kinds of evidence.
const (
	ByProbes Kinds = 1 << iota
	ByOfficial
	ByReports
	ByPeers // the same probe failing the same way for other services
)

// count returns how many kinds k holds.
func (k Kinds) count() int {
	n := 0
	for ; k != 0; k &= k - 1 {
		n++
	}
	return n
}

// Assess fuses the three kinds of evidence of one round:
//
//   - Probes. Only hard failures count (DNS, TCP, TLS, 5xx, timeouts);
//     throttled probes (http_blocked) can tell nothing and are left out.
//     Every informative probe failing hard means down, some of them
//     degraded.
//   - Meta's official status: "major" means down, "minor" degraded.
//   - People's reports: a spike means degraded, never down on its own.
//
// Several probes failing hard (at least two that fail the same way, or at
// least half of those that could tell), or Meta saying "major", is strong
// evidence. Fewer probes, Meta's "minor" or a report spike alone is weak;
// two kinds together are strong, and so is a probe failing the same way for
// several Meta services at once (Observation.Corroborated). When the control
// probes failed, the round says nothing (Unknown).
func Assess(o Observation) Assessment {
	if !o.ControlOK {
		return Assessment{State: Unknown}
	}
	informative, hard := 0, 0
	classes := map[Class]int{}
	for _, r := range o.Results {
		if r.Class == ClassHTTPBlocked {
			continue
		}
		informative++
		if r.Class.Hard() {
			hard++
			classes[r.Class]++
		}
	}
	var a Assessment
	// One failing probe is as often noise as news: its class is no basis
	// for calling several services one outage. Two failing the same way
	// (both chat endpoints timing out) rarely are.
	sameWay := 0
	for _, n := range classes {
		sameWay = max(sameWay, n)
	}
	several := hard >= 2 && (2*hard >= informative || sameWay >= 2)
	if several {
		a.Class = dominant(classes)
	}
	official := OfficialUnknown
	for _, s := range o.Official {
		official = max(official, s.Level)
		if s.Level >= OfficialMinor {
			a.Official = officialText(s)
		}
	}

	probesDown := hard > 0 && hard == informative
	if hard > 0 {
		a.Kinds |= ByProbes
	}
	if official >= OfficialMinor {
		a.Kinds |= ByOfficial
	}
	if o.Reports.Spike {
		a.Kinds |= ByReports
	}
	if o.Corroborated && hard > 0 {
		a.Kinds |= ByPeers
	}
	kinds := a.Kinds.count()
	switch {
	case probesDown && several, official == OfficialMajor:
		a.State, a.Strong = Down, true
	case probesDown:
		a.State, a.Strong = Down, kinds >= 2
	case kinds > 0:
		a.State, a.Strong = Degraded, several || kinds >= 2
	case informative == 0 && official == OfficialUnknown:
		a.State = Unknown // everything throttled, and Meta silent
	default:
		a.State, a.Strong = Operational, true
	}
	return a
}

// Verdict is Assess's state alone.
func Verdict(o Observation) State { return Assess(o).State }

// dominant returns the most frequent class (ties broken by name, so the
// answer is stable).
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

// Decide folds one observation into a service's status. It is pure: the
// clock is the observation's time. A change of the announced state needs
// th.DownAfter consecutive rounds that agree on trouble (th.UpAfter clean
// rounds for a recovery), and weak evidence must also have lasted
// th.WeakFor, so a single bad round, a flapping probe or a handful of
// reports never notifies anybody. An Unknown round neither advances nor
// resets the count: an offline vantage point says nothing about Meta.
func Decide(prev Status, o Observation, th Thresholds) (next Status, t Transition, changed bool) {
	next = prev
	next.Service = o.Service
	next.LastCheck = o.At
	if next.Announced == "" {
		// First sight of this service: assume it works until rounds say otherwise.
		next.Announced = Operational
		next.State = Operational
		next.Since = o.At
	}
	a := Assess(o)
	if a.State == Unknown {
		next.setState(Unknown, o.At)
		return next, Transition{}, false
	}
	if o.Reports.Spike && lingering(next, o) {
		// People's reports of an outage the probes or Meta confirmed stay
		// in the report window (15 min) after it is over: they neither keep
		// it open nor, with a stray probe failure, open it again.
		quiet := o
		quiet.Reports.Spike = false
		a = Assess(quiet)
	}
	next.Evidence = failures(o.Results)
	next.Official = a.Official
	next.Reports = o.Reports
	next.Strong = a.Strong

	switch {
	case a.State == next.Announced:
		next.Pending, next.Streak, next.StrongStreak, next.StreakStart = "", 0, 0, time.Time{}
		if a.State != Operational {
			next.Basis |= a.Kinds
		}
	case next.Streak > 0 && sameTrend(a.State, next.Pending, next.Announced):
		next.Pending = a.State
		next.Streak++
	default:
		next.Pending, next.Streak, next.StrongStreak, next.StreakStart = a.State, 1, 0, o.At
	}
	if a.Strong {
		next.StrongStreak++
	} else {
		next.StrongStreak = 0
	}

	if next.Streak > 0 && confirmed(next, a, o.At, th) {
		t = Transition{
			Service: o.Service, From: next.Announced, To: a.State, At: o.At,
			Evidence: next.Evidence, Official: a.Official, Reports: o.Reports, Class: a.Class,
		}
		if next.Announced == Operational {
			next.BadSince = o.At
		}
		if next.Announced == Operational {
			next.Basis = 0
		}
		next.Announced = a.State
		next.Class = a.Class
		next.Basis |= a.Kinds
		if a.State == Operational {
			if next.Basis&(ByProbes|ByOfficial) != 0 {
				next.Recovered = o.At
			}
			next.Class, next.BadSince, next.Basis = "", time.Time{}, 0
		}
		next.Pending, next.Streak, next.StrongStreak, next.StreakStart = "", 0, 0, time.Time{}
		changed = true
	}
	next.setState(displayed(next), o.At)
	return next, t, changed
}

// lingering reports whether the reports of o may be those of an outage the
// probes or Meta confirmed: it is still announced, or it ended less than a
// report window ago.
func lingering(s Status, o Observation) bool {
	if s.Announced != Operational {
		return s.Basis&(ByProbes|ByOfficial) != 0
	}
	return !s.Recovered.IsZero() && o.At.Sub(s.Recovered) < time.Duration(o.Reports.Window)
}

// confirmed reports whether the pending streak is enough to announce:
// DownAfter strong rounds in a row, or DownAfter rounds of any strength that
// have lasted WeakFor. (One strong round after a weak one is not enough:
// two probes failing by chance in the same round would be.)
func confirmed(s Status, a Assessment, at time.Time, th Thresholds) bool {
	if a.State == Operational {
		return s.Streak >= th.UpAfter
	}
	if s.Streak < th.DownAfter {
		return false
	}
	return s.StrongStreak >= th.DownAfter || at.Sub(s.StreakStart) >= time.Duration(th.WeakFor)
}

// displayed is the state /status shows: the announced one, or Suspected or
// Recovering while rounds disagree with it.
func displayed(s Status) State {
	switch {
	case s.Streak == 0:
		return s.Announced
	case s.Announced == Operational:
		return Suspected
	case s.Pending == Operational:
		return Recovering
	}
	return s.Announced
}

// Unsettled reports whether recent rounds disagree with the announced state,
// which is when an immediate re-check pays off.
func (s Status) Unsettled() bool { return s.Streak > 0 }

func (s *Status) setState(st State, at time.Time) {
	if s.State != st {
		s.State = st
		s.Since = at
	}
}

// sameTrend says whether verdict v continues a streak pending toward p. While
// a service is announced operational, degraded and down rounds both count
// toward trouble (the latest one decides which is announced), so an outage
// that wavers between them is not delayed.
func sameTrend(v, p, announced State) bool {
	if v == p {
		return true
	}
	return announced == Operational && v != Operational && p != Operational
}

// failures returns the results that were not ok, in probe order.
func failures(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if r.Class != ClassOK {
			out = append(out, r)
		}
	}
	return out
}

// Group marks the transitions of one round that make a Meta-wide incident:
// a service going from operational to trouble joins the incident of another
// service that went bad within window before (or in this very round) with
// the same failure class. statuses are the services' statuses after the
// round. The first service to go bad leads the group.
func Group(ts []Transition, statuses map[string]Status, window time.Duration) []Transition {
	type lead struct {
		service string
		since   time.Time
	}
	leads := map[Class]lead{}
	consider := func(service string, class Class, since time.Time) {
		if class == "" {
			return // no failure class (official or reports only): nothing to compare
		}
		l, ok := leads[class]
		if !ok || since.Before(l.since) || since.Equal(l.since) && service < l.service {
			leads[class] = lead{service, since}
		}
	}
	for _, s := range sortedStatuses(statuses) {
		if s.Announced != Operational && !s.BadSince.IsZero() {
			consider(s.Service, s.Class, s.BadSince)
		}
	}
	out := slices.Clone(ts)
	for i, t := range out {
		if t.From != Operational || t.To == Operational {
			continue
		}
		l, ok := leads[t.Class]
		if ok && l.service != t.Service && t.At.Sub(l.since) <= window {
			out[i].GroupWith = l.service
		}
	}
	// Leads first, so that a store creating incidents in order meets the
	// lead's incident before the ones that join it.
	slices.SortStableFunc(out, func(a, b Transition) int {
		return cmp.Compare(boolInt(a.GroupWith != ""), boolInt(b.GroupWith != ""))
	})
	return out
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
