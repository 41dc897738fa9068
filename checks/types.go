// Package checks probes Meta's services from the outside and decides, as a
// pure function of what it saw, when a service changes state.
package checks

import "time"

// Class says how a single probe ended. The vocabulary is the one of
// shared/notes/meta-signals.md so that logs, messages and config agree.
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
	// ControlOK is false when every control probe failed: this machine looks
	// offline and the results say nothing about Meta.
	ControlOK bool
	At        time.Time
	// Official is Meta's own word on the products mapped to this service.
	Official []OfficialStatus
	// Reports is what people report about this service.
	Reports ReportSignal
	// Corroborated is set by the Watcher when a probe of this service failed
	// the same way (same probe name, same class) for several services in
	// the same round: Meta-wide outages look like that, noise does not.
	Corroborated bool
}

// Status is a service's persisted detector state. It survives restarts so that
// a restart never announces anything again.
type Status struct {
	Service string `json:"service"`
	// State is what /status shows, including Unknown.
	State State `json:"state"`
	// Announced is the last state subscribers were told about: always one of
	// Operational, Degraded or Down. Transitions are changes of Announced.
	Announced State     `json:"announced"`
	Since     time.Time `json:"since"` // when State began
	// Streak counts consecutive rounds whose verdict differs from Announced
	// (Pending is that verdict); it resets when a round agrees with Announced.
	Pending State `json:"pending,omitempty"`
	Streak  int   `json:"streak,omitempty"`
	// Strong says whether the last round's trouble was strong evidence;
	// StreakStart is when the pending streak began. Weak evidence must last
	// Thresholds.WeakFor before it is announced.
	Strong       bool      `json:"strong,omitempty"`
	StrongStreak int       `json:"strong_streak,omitempty"` // strong rounds at the end of the streak
	StreakStart  time.Time `json:"streak_start,omitzero"`
	// Basis is the kinds of evidence the announced trouble rests on, and
	// Recovered when trouble that probes or Meta confirmed last ended.
	Basis     Kinds     `json:"basis,omitempty"`
	Recovered time.Time `json:"recovered,omitzero"`
	// Evidence is the failing results of the last round (empty when clean);
	// Official and Reports the other kinds of evidence of that round.
	Evidence []Result     `json:"evidence,omitempty"`
	Official string       `json:"official,omitempty"`
	Reports  ReportSignal `json:"reports,omitzero"`
	// Class is the dominant failure class since the announced state went
	// bad, and BadSince when that was: services failing together with the
	// same class are one Meta-wide incident.
	Class    Class     `json:"class,omitempty"`
	BadSince time.Time `json:"bad_since,omitzero"`
	// LastCheck is when the service was last probed.
	LastCheck time.Time `json:"last_check"`
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
