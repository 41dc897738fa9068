// Package checks probes Meta's services from the outside and decides, as a
// pure function of what it saw, when a service changes state.
package checks

import "time"

// Class says how a single probe ended. The vocabulary is the one of
// docs/probes.md so that logs, messages and config agree.
type Class string

// Probe result classes.
const (
	ClassOK             Class = "ok"
	ClassDNSNXDomain    Class = "dns_nxdomain"
	ClassDNSServFail    Class = "dns_servfail"
	ClassDNSTimeout     Class = "dns_timeout"
	ClassTCPRefused     Class = "tcp_refused"
	ClassTCPTimeout     Class = "tcp_timeout"
	ClassTLSError       Class = "tls_error"
	ClassHTTP5xx        Class = "http_5xx"
	ClassHTTPTimeout    Class = "http_timeout"
	ClassHTTPBlocked    Class = "http_blocked"
	ClassHTTPUnexpected Class = "http_unexpected"
	ClassBodyMismatch   Class = "body_mismatch"
)

// Hard reports whether the class is evidence that the service is down.
// Throttling (http_blocked) and odd-but-alive answers are not: a 403 from
// Meta means "we are being rate limited", never "WhatsApp is down".
func (c Class) Hard() bool {
	switch c {
	case ClassDNSNXDomain, ClassDNSServFail, ClassDNSTimeout,
		ClassTCPRefused, ClassTCPTimeout, ClassTLSError,
		ClassHTTP5xx, ClassHTTPTimeout:
		return true
	}
	return false
}

// Result is the outcome of one probe run.
type Result struct {
	Probe   string        // probe name, unique within its service
	Kind    string        // http, dns, tcp, tls or websocket
	Target  string        // what was probed, for humans: ProbeSpec.DisplayTarget
	Class   Class         // how it ended
	Latency time.Duration // time until the answer or the failure
	Detail  string        // short human explanation, e.g. "HTTP 503" or "SERVFAIL from 1.1.1.1:53"
	// Failing names, in spec order, the targets (tcp, tls) or resolvers
	// (dns) of an any-of probe that failed while another answered, so
	// that the probe as a whole is ok. One failing round after round is
	// one this machine cannot reach (outbound port 5222 blocked, say), not
	// an outage. Empty when all answered, and when the probe failed as a
	// whole: then Class says how.
	Failing []string `json:",omitempty"`

	// Spec is the fingerprint of the probe's spec (SpecFingerprint): trust
	// earned by a probe is lost when its spec changes.
	Spec string `json:"-"`
	// Role is a control probe's role; empty for service probes.
	Role Role `json:"-"`
	// ViaPublicDNS is set for dns probes that ask public resolvers by
	// address: when those resolvers cannot be reached from here, the
	// probe says nothing about Meta.
	ViaPublicDNS bool `json:"-"`
}

// State is a service's externally visible condition.
type State string

// Service states. Only Operational, Degraded and Down are ever announced.
// Suspected and Recovering are what /status shows while rounds disagree with
// the announced state but have not confirmed a change yet. Unknown is used
// when the vantage point itself is offline (every control probe failed).
const (
	Operational State = "operational"
	Suspected   State = "suspected"
	Degraded    State = "degraded"
	Down        State = "down"
	Recovering  State = "recovering"
	Unknown     State = "unknown"
)

// Observation is what one round (or re-check) saw for one service.
type Observation struct {
	Service string
	Results []Result
	// Control holds the control probes' results of the same round, the
	// same slice for every service; the Watcher judges the vantage point
	// from them.
	Control []Result
	// ControlOK is false when this machine looks offline: the results say
	// nothing about Meta. The Monitor sets it when every control probe
	// failed; the Watcher decides it again with the rules of Vantage
	// before anything is decided.
	ControlOK bool
	// Offline says, when ControlOK is false, which of this machine's own
	// checks failed (set by the Watcher).
	Offline string
	// PublicDNSDown says that the public resolvers cannot be reached from
	// here: probes that ask them (Result.ViaPublicDNS) tell nothing.
	PublicDNSDown bool
	// At is the wall-clock time of the observation, for people; Clock the
	// detector's monotonic clock (see Watcher), for every duration the
	// detector measures, so that a jump of the wall clock changes nothing.
	At    time.Time
	Clock time.Duration
	// Official is Meta's own word on the products mapped to this service.
	Official []OfficialStatus
	// Reports is what people report about this service.
	Reports ReportSignal
}

// Status is a service's persisted detector state. It survives restarts so that
// a restart never announces anything again, and a probe that has proven
// itself stays proven.
type Status struct {
	Service string `json:"service"`
	// State is what /status shows, including Unknown.
	State State `json:"state"`
	// Announced is the last state subscribers were told about: always one of
	// Operational, Degraded or Down. Transitions are changes of Announced.
	Announced State     `json:"announced"`
	Since     time.Time `json:"since"` // when State began
	// Pending is a verdict that differs from Announced and is waiting to be
	// confirmed, Streak the checks in a row that gave it, and StreakAt the
	// detector clock when the first of them ran.
	Pending  State         `json:"pending,omitempty"`
	Streak   int           `json:"streak,omitempty"`
	StreakAt time.Duration `json:"streak_at,omitempty"`
	// Probes is what the detector knows of each probe, by name.
	Probes map[string]*ProbeTrack `json:"probes,omitempty"`
	// Flagged are the probes whose failure carried the announced trouble;
	// Clean counts the checks in a row in which all of them answered since
	// the last failure, and Checks and Bad the checks since the trouble was
	// announced and those in which one of them failed: how intermittent
	// the failure was decides how much clean evidence a recovery needs.
	Flagged []string `json:"flagged,omitempty"`
	Clean   int      `json:"clean,omitempty"`
	Checks  int      `json:"checks,omitempty"`
	Bad     int      `json:"bad,omitempty"`
	// Hot says that people's reports made a spike at the last check: a
	// spike ends only when the reports are no longer unusual at all, not
	// as soon as they fall below the bar that started it.
	Hot bool `json:"hot,omitempty"`
	// Basis is the kinds of evidence the announced trouble rests on.
	// RecoveredAt is the detector clock when trouble last ended: people's
	// reports of it linger for a while.
	Basis       Kinds         `json:"basis,omitempty"`
	RecoveredAt time.Duration `json:"recovered_at,omitempty"`
	// Evidence is the results of the probes failing now (proven ones
	// only); Official and Reports the other kinds of evidence of the last
	// check.
	Evidence []Result     `json:"evidence,omitempty"`
	Official string       `json:"official,omitempty"`
	Reports  ReportSignal `json:"reports,omitzero"`
	// Class is the dominant failure class since the announced state went
	// bad, BadSince when that was (wall clock, for people) and BadAt (the
	// detector clock): services failing together are one Meta-wide
	// incident. Group is the service leading the Meta-wide incident this
	// one belongs to, "" when it is alone.
	Class    Class         `json:"class,omitempty"`
	BadSince time.Time     `json:"bad_since,omitzero"`
	BadAt    time.Duration `json:"bad_at,omitempty"`
	Group    string        `json:"group,omitempty"`
	// LastCheck is when the service was last probed; Clock the detector
	// clock then.
	LastCheck time.Time     `json:"last_check"`
	Clock     time.Duration `json:"clock,omitempty"`
}

// Transition is a change of a service's announced state, the only thing that
// produces notifications.
type Transition struct {
	Service  string
	From, To State
	At       time.Time
	Evidence []Result
	Official string       // Meta's wording, when it was part of the evidence
	Reports  ReportSignal // people's reports at the time
	Class    Class        // dominant failure class
	// GroupWith names a service whose open incident this one joins: several
	// services failing together are one Meta-wide incident.
	GroupWith string
	// Clock is the detector clock at the transition (see Observation).
	Clock time.Duration
}

// Incident is one episode of a service not being operational, from the first
// announced degraded/down state to the recovery. Notifications render the
// incident as it is when they are sent, never as it was when queued.
type Incident struct {
	ID      uint64 `json:"id"`
	Service string `json:"service"`
	// State is the current announced state: Degraded or Down while open,
	// Operational once resolved.
	State State `json:"state"`
	// Worst is the most severe state reached (Down beats Degraded).
	Worst State     `json:"worst"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"` // zero while open
	// Version grows with every change, so a queued notification knows whether
	// the chat has already seen the latest state.
	Version  uint64       `json:"version"`
	Evidence []Result     `json:"evidence,omitempty"` // failing probes when last confirmed bad
	Official string       `json:"official,omitempty"` // Meta's own wording, when it said something
	Reports  ReportSignal `json:"reports,omitzero"`   // people's reports when last confirmed bad
	// Group is the id of the first incident of a Meta-wide outage that this
	// one is part of (its own id when it started one, 0 when alone).
	Group   uint64    `json:"group,omitempty"`
	Updated time.Time `json:"updated"`
}

// Resolved reports whether the incident is over.
func (i Incident) Resolved() bool { return !i.End.IsZero() }
