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
	Kind    string        // http, dns, tcp
	Target  string        // what was probed, for humans
	Class   Class         // how it ended
	Latency time.Duration // time until the answer or the failure
	Detail  string        // short human explanation, e.g. "HTTP 503" or "SERVFAIL from 1.1.1.1:53"
}

// State is a service's externally visible condition.
type State string

// Service states. Unknown is used when the vantage point itself is offline
// (every control probe failed) and is never announced as an outage.
const (
	Operational State = "operational"
	Degraded    State = "degraded"
	Down        State = "down"
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
	// Evidence is the failing results of the last round (empty when clean).
	Evidence []Result `json:"evidence,omitempty"`
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
	Version  uint64    `json:"version"`
	Evidence []Result  `json:"evidence,omitempty"` // failing probes when last confirmed bad
	Updated  time.Time `json:"updated"`
}

// Resolved reports whether the incident is over.
func (i Incident) Resolved() bool { return !i.End.IsZero() }
