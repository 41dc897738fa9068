package checks

import "time"

// Verdict is what one round says about a service on its own, before any
// threshold: Operational when no probe failed hard, Down when every probe
// that could tell failed hard, Degraded when only some did. Throttled probes
// (http_blocked) cannot tell either way and are left out; when every probe
// was throttled, or the control probes failed, the verdict is Unknown.
func Verdict(o Observation) State {
	if !o.ControlOK {
		return Unknown
	}
	informative, hard := 0, 0
	for _, r := range o.Results {
		if r.Class == ClassHTTPBlocked {
			continue
		}
		informative++
		if r.Class.Hard() {
			hard++
		}
	}
	switch {
	case informative == 0:
		return Unknown
	case hard == 0:
		return Operational
	case hard == informative:
		return Down
	default:
		return Degraded
	}
}

// Decide folds one observation into a service's status. It is pure: the
// clock is the observation's time. A change of the announced state needs
// th.DownAfter consecutive rounds that agree on trouble (th.UpAfter clean
// rounds for a recovery), so a single bad round, or a flapping probe, never
// notifies anybody. An Unknown verdict neither advances nor resets the count:
// an offline vantage point says nothing about Meta.
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
	v := Verdict(o)
	if v == Unknown {
		next.setState(Unknown, o.At)
		return next, Transition{}, false
	}
	next.Evidence = failures(o.Results)

	switch {
	case v == next.Announced:
		next.Pending, next.Streak = "", 0
	case next.Streak > 0 && sameTrend(v, next.Pending, next.Announced):
		next.Pending = v
		next.Streak++
	default:
		next.Pending, next.Streak = v, 1
	}

	need := th.DownAfter
	if v == Operational {
		need = th.UpAfter
	}
	if next.Streak > 0 && next.Streak >= need {
		t = Transition{Service: o.Service, From: next.Announced, To: v, At: o.At, Evidence: next.Evidence}
		next.Announced = v
		next.Pending, next.Streak = "", 0
		changed = true
	}
	next.setState(next.Announced, o.At)
	return next, t, changed
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
