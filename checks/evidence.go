package checks

import (
	"math"
	"slices"
	"time"
)

// ProbeTrack is what the detector knows about one probe, of a service or of
// the vantage point's control: whether it has ever answered as expected
// from here (only then is it evidence of anything), how often it fails when
// all is well, and how strongly its recent checks say that it is failing.
type ProbeTrack struct {
	// Spec is the fingerprint of the spec the rest was learned with: a
	// probe whose spec changed starts over, unproven.
	Spec string `json:"spec"`
	Kind string `json:"kind,omitempty"`
	// Proven is set once the probe has answered as expected ProveAfter
	// times in a row; OKRun counts them until then. Seen is the detector
	// clock when the probe was first seen with this spec.
	Proven bool          `json:"proven,omitempty"`
	OKRun  int           `json:"ok_run,omitempty"`
	Seen   time.Duration `json:"seen"`
	// Class and Detail are how its last check ended.
	Class  Class  `json:"class,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Checks and Fails are decayed counts of its checks while its service
	// was announced operational and of the hard failures among them: its
	// usual failure rate.
	Checks float64 `json:"checks,omitempty"`
	Fails  float64 `json:"fails,omitempty"`
	// Score is the evidence that it is failing now, in natural-log
	// likelihood-ratio units (see Thresholds).
	Score float64 `json:"score,omitempty"`
	// OddAt is the detector clock when it began answering, but not as
	// expected (0: it is not), and UnreachedAt when the targets in
	// Unreached (of a probe with several, which answered through another)
	// began failing.
	OddAt       time.Duration `json:"odd_at,omitempty"`
	Unreached   []string      `json:"unreached,omitempty"`
	UnreachedAt time.Duration `json:"unreached_at,omitempty"`
	// Warned lists the warnings the operator has had about this probe and
	// whose cause is still there, so that each is given once.
	Warned []WarningKind `json:"warned,omitempty"`
}

// learnSpan is the memory, in checks, of a probe's usual failure rate:
// about a day of rounds every 30 s. priorChecks is the weight, in checks, of
// Thresholds.Noise: a third of a day's, so that what a probe shows over
// hours moves its usual rate, and the first failures of an outage, learnt
// before it is confirmed, barely do.
const (
	learnSpan   = 2880
	priorChecks = 1000
)

// usual is the probe's failure rate when all is well: what it has been
// seen to be, and never less than th.Noise.
func (t *ProbeTrack) usual(th Thresholds) float64 {
	return max(th.Noise, (t.Fails+priorChecks*th.Noise)/(t.Checks+priorChecks))
}

// bar converts n hard failures in a row into score units. It sits half a
// failure below n failures of a probe failing at the Noise rate, so that n
// failures reach it though the probe's learnt rate is a little above Noise;
// a clearly noisier probe needs more.
func bar(th Thresholds, n int) float64 {
	return (float64(n) - 0.5) * math.Log(th.FailureRate/th.Noise)
}

// informative reports whether a result says anything about the service:
// throttled probes tell nothing, and neither do probes asking public
// resolvers while those cannot be reached from here.
func informative(r Result, publicDNSDown bool) bool {
	return r.Class != ClassHTTPBlocked && !(publicDNSDown && r.ViaPublicDNS)
}

// observe folds one check of the probe into its track. learn says whether
// the check may teach the probe's usual failure rate (its service was
// announced operational). It reports whether the check is evidence: the
// probe was proven before it and the result is informative.
func (t *ProbeTrack) observe(r Result, clock time.Duration, th Thresholds, learn, publicDNSDown bool) bool {
	t.Class, t.Detail, t.Kind = r.Class, r.Detail, r.Kind
	t.unreached(r.Failing, clock)
	if !informative(r, publicDNSDown) {
		return false
	}
	if !t.Proven {
		// Only the expected answer, again and again, proves a probe: a
		// target this machine cannot reach, or that answers something
		// else, must never raise an alarm.
		t.OKRun++
		if r.Class != ClassOK {
			t.OKRun = 0
		}
		t.Proven = t.OKRun >= th.ProveAfter
		return false
	}
	hard := r.Class.Hard()
	switch {
	case hard || r.Class == ClassOK:
		t.OddAt = 0
	case t.OddAt == 0:
		t.OddAt = clock
	}
	p0 := t.usual(th)
	if p0 < th.FailureRate {
		fail, pass := math.Log(th.FailureRate/p0), math.Log((1-th.FailureRate)/(1-p0))
		if hard {
			t.Score += fail
		} else {
			t.Score = max(0, t.Score+pass)
		}
		// Capped one failure above the single-probe bar, so that the
		// evidence of a long outage does not outlive it for hours.
		t.Score = min(t.Score, bar(th, th.SingleAfter)+fail)
	} else {
		t.Score = 0 // too noisy to tell anything (the operator is warned)
	}
	if learn {
		decay := 1 - 1.0/learnSpan
		t.Checks = t.Checks*decay + 1
		t.Fails *= decay
		if hard {
			t.Fails++
		}
	}
	return true
}

// unreached records which of the probe's several targets failed while it
// answered through another.
func (t *ProbeTrack) unreached(targets []string, clock time.Duration) {
	switch {
	case len(targets) == 0:
		t.Unreached, t.UnreachedAt = nil, 0
	case !slices.Equal(targets, t.Unreached):
		t.Unreached, t.UnreachedAt = slices.Clone(targets), clock
	}
}

// failing reports whether the probe's evidence of failing reaches n hard
// failures in a row.
func (t *ProbeTrack) failing(th Thresholds, n int) bool {
	return t.Proven && t.Score >= bar(th, n)
}

// newTrack starts the track of a probe first seen, or seen with a new spec.
func newTrack(spec string, clock time.Duration) *ProbeTrack {
	return &ProbeTrack{Spec: spec, Seen: clock}
}

// restartUnproven starts the time to prove themselves over for the probes
// in tracks that never have: while this machine is offline nothing can, and
// a probe is reported unproven only after Thresholds.WarnAfter online.
func restartUnproven(tracks map[string]*ProbeTrack, clock time.Duration) {
	for _, t := range tracks {
		if !t.Proven {
			t.Seen, t.OKRun = clock, 0
		}
	}
}

// trackOf returns the track of r in tracks, starting it over when the
// probe is new or its spec changed.
func trackOf(tracks map[string]*ProbeTrack, r Result, clock time.Duration) *ProbeTrack {
	t := tracks[r.Probe]
	if t == nil || t.Spec != r.Spec {
		t = newTrack(r.Spec, clock)
		tracks[r.Probe] = t
	}
	return t
}

// cloneTracks copies tracks deeply, so that Decide never changes the
// status it was given.
func cloneTracks(tracks map[string]*ProbeTrack) map[string]*ProbeTrack {
	out := make(map[string]*ProbeTrack, len(tracks))
	for name, t := range tracks {
		c := *t
		c.Unreached = slices.Clone(t.Unreached)
		c.Warned = slices.Clone(t.Warned)
		out[name] = &c
	}
	return out
}

// Unverified returns the names of the service's probes that have not proven
// themselves yet, in name order: /status and `check` show them apart.
func (s Status) Unverified() []string {
	var out []string
	for name, t := range s.Probes {
		if !t.Proven {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
