package checks

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as "30s", "1m30s".
type Duration time.Duration

// MarshalYAML writes the duration in Go's notation.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML reads Go's duration notation and names the line on error.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q (use e.g. 10s, 1m30s)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// ProbeSpec describes one probe. Kind selects the prober; the fields of the
// other kinds must be empty.
type ProbeSpec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"` // http, dns, tcp, tls or websocket
	// Role says what a control probe checks of this machine's own path;
	// empty means RoleWeb. Service probes have none.
	Role   Role   `yaml:"role,omitempty"`
	Target string `yaml:"target,omitempty"` // URL (http), DNS name (dns), host:port (tcp, tls), ws:// or wss:// URL (websocket)
	// Targets are several host:port (tcp, tls) tried at once instead of
	// Target: the probe answers when any one of them does, as clients
	// that pick either port do. Result.Failing names those that failed.
	Targets []string `yaml:"targets,omitempty"`
	Timeout Duration `yaml:"timeout,omitempty"`

	// http
	Method       string        `yaml:"method,omitempty"`        // default GET
	Status       []StatusRange `yaml:"status,omitempty"`        // accepted codes and ranges; default 200-299
	BodyContains string        `yaml:"body_contains,omitempty"` // substring the body must contain
	// JSON maps dotted paths to expected values, e.g. error.type:
	// OAuthException; the value AnyJSONValue asks only that the path exist.
	JSON            map[string]string `yaml:"json,omitempty"`
	MaxBytes        int64             `yaml:"max_bytes,omitempty"`        // body read limit; default 64 KiB
	FollowRedirects bool              `yaml:"follow_redirects,omitempty"` // default: a redirect is the answer
	Headers         map[string]string `yaml:"headers,omitempty"`          // http and websocket (Origin, for one)

	// dns
	Resolver   string `yaml:"resolver,omitempty"`    // host:port; default the system's first nameserver
	Record     string `yaml:"record,omitempty"`      // A (default), AAAA, NS, CNAME, TXT
	MinAnswers int    `yaml:"min_answers,omitempty"` // default 1
	// Resolvers are several servers (host:port) asked at once instead of
	// Resolver: the probe fails only when every one of them fails.
	Resolvers []string `yaml:"resolvers,omitempty"`
	// Authoritative asks the zone's own name servers, without recursion,
	// instead of a resolver, which may answer from its cache for hours
	// after they stopped answering.
	Authoritative bool `yaml:"authoritative,omitempty"`

	// tls
	ServerName string `yaml:"server_name,omitempty"` // SNI and the name the certificate must have; default the target's host
}

// AnyJSONValue, as the expected value of a ProbeSpec.JSON path, means that
// the path must exist, whatever its value: Meta's API errors keep their
// shape when their type or code changes.
const AnyJSONValue = "*"

// DisplayTarget is what the probe asks, for people: Target, or Targets
// joined with ", ".
func (s ProbeSpec) DisplayTarget() string {
	if len(s.Targets) > 0 {
		return strings.Join(s.Targets, ", ")
	}
	return s.Target
}

// ControlRole is the role of a control probe: Role, or RoleWeb when it has
// none, as control probes written before roles existed do.
func (s ProbeSpec) ControlRole() Role {
	if s.Role == "" {
		return RoleWeb
	}
	return s.Role
}

// Role is what a control probe checks of the path from this machine to the
// world, so that a failure of our own DNS or route is not read as Meta's.
type Role string

// Control probe roles.
const (
	// RoleWeb probes reach big non-Meta sites over HTTP.
	RoleWeb Role = "web"
	// RolePublicDNS probes ask public resolvers directly.
	RolePublicDNS Role = "public_dns"
	// RoleSystemDNS probes ask this machine's own resolver, the one the
	// probes of Meta's names use.
	RoleSystemDNS Role = "system_dns"
	// RoleRoute probes reach a non-Meta host over general transit rather
	// than through the direct peering of Google or Cloudflare.
	RoleRoute Role = "route"
)

// StatusRange is a span of HTTP status codes, Low to High inclusive. YAML
// writes a single code as a number (301) and a span as "200-499".
type StatusRange struct {
	Low, High int
}

// Contains reports whether code lies in the range.
func (r StatusRange) Contains(code int) bool { return r.Low <= code && code <= r.High }

// String is the range as YAML writes it: "301" or "200-499".
func (r StatusRange) String() string {
	if r.Low == r.High {
		return strconv.Itoa(r.Low)
	}
	return strconv.Itoa(r.Low) + "-" + strconv.Itoa(r.High)
}

// MarshalYAML writes a single code as a number, so that files written before
// ranges existed print back as they were.
func (r StatusRange) MarshalYAML() (any, error) {
	if r.Low == r.High {
		return r.Low, nil
	}
	return r.String(), nil
}

// statusRangeText is a range written as text: "200-499", spaces allowed
// around the dash.
var statusRangeText = regexp.MustCompile(`^\s*(\d{1,9})\s*-\s*(\d{1,9})\s*$`)

// UnmarshalYAML reads a code (301, or "301") or a range ("200-499") and
// names the line on error. Whether the codes are real HTTP statuses is for
// validation to say.
func (r *StatusRange) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: invalid HTTP status (want a code such as 200 or a range such as 200-499)", n.Line)
	}
	var code int
	if n.Decode(&code) == nil {
		*r = StatusRange{code, code}
		return nil
	}
	// A quoted code, '307', is a string to YAML.
	if code, err := strconv.Atoi(strings.TrimSpace(n.Value)); err == nil {
		*r = StatusRange{code, code}
		return nil
	}
	m := statusRangeText.FindStringSubmatch(n.Value)
	if m == nil {
		return fmt.Errorf("line %d: invalid HTTP status %q (want a code such as 200 or a range such as 200-499)", n.Line, n.Value)
	}
	// The pattern admits at most nine digits, which every int holds.
	low, _ := strconv.Atoi(m[1])
	high, _ := strconv.Atoi(m[2])
	*r = StatusRange{low, high}
	return nil
}

// Service is one watched product.
type Service struct {
	ID      string      `yaml:"id"`
	Name    string      `yaml:"name"`
	Aliases []string    `yaml:"aliases,omitempty"`
	Probes  []ProbeSpec `yaml:"probes"`
	// Official lists the metastatus.com products (org ids) whose status
	// counts as evidence about this service.
	Official []string `yaml:"official,omitempty"`
}

// Thresholds tune Decide. Defaults live in the embedded catalog.
//
// Probe evidence is weighed as a sequential test: every check of a proven
// probe adds to its score the log-likelihood ratio of "failing at
// FailureRate" against "healthy, failing at its usual rate" (learned, never
// below Noise), and the score never drops below zero (a CUSUM). DownAfter
// and SingleAfter say where the bar is, in hard failures in a row of a
// probe failing at the Noise rate: a probe that fails more often when all
// is well needs more failures to reach it, and an intermittent failure
// reaches it later than a steady one, whatever the failure class.
type Thresholds struct {
	// DownAfter: two probes of a service that have each failed this many
	// times in a row (or as strongly, counting the checks in between)
	// confirm trouble.
	DownAfter int `yaml:"down_after"`
	// SingleAfter: one probe alone confirms trouble (degraded) after this
	// many.
	SingleAfter int `yaml:"single_after"`
	// UpAfter is the least number of clean checks in a row that confirms a
	// recovery; after an intermittent failure more are needed (see
	// FalseRecovery).
	UpAfter int `yaml:"up_after"`
	// Noise is the share of checks in which a healthy probe fails hard
	// anyway, assumed until each probe's own share is learned and never
	// assumed lower.
	Noise float64 `yaml:"noise"`
	// FailureRate is the least share of failing checks that is an outage.
	FailureRate float64 `yaml:"failure_rate"`
	// FalseRecovery is the chance, per run of clean checks, of announcing
	// a recovery while the failure goes on: the rarer the failure was
	// during the outage, the longer the clean run a recovery needs.
	FalseRecovery float64 `yaml:"false_recovery"`
	// ProveAfter is how many expected answers in a row a probe must give,
	// after it is added or its spec changes, before it counts as evidence:
	// a target this machine cannot reach must never raise an alarm.
	ProveAfter int `yaml:"prove_after"`
	// WarnAfter is how long a probe may stay unproven, or a target of a
	// probe with several stay unreached, before the operator is warned.
	WarnAfter Duration `yaml:"warn_after"`
	// OddFor is how long a proven probe may keep answering, but not as
	// expected (an unexpected status or body), before the operator is
	// warned that Meta changed something. It never alerts users.
	OddFor Duration `yaml:"odd_for"`
	// Recheck is the delay before a service whose checks disagree with its
	// announced state is probed again, instead of waiting a whole interval.
	Recheck Duration `yaml:"recheck"`
	// RoundTimeout bounds a whole round, re-checks included.
	RoundTimeout Duration `yaml:"round_timeout"`
	// WeakFor is how long weak evidence (people's reports alone, or Meta's
	// own "minor" alone) must last before it is announced.
	WeakFor Duration `yaml:"weak_for"`
	// GroupWindow is how close together several services must go bad to
	// be one Meta-wide incident.
	GroupWindow Duration `yaml:"group_window"`
}

// SpecFingerprint identifies what a probe checks: two specs with the same
// fingerprint probe the same thing the same way. It is taken from the YAML
// form, whose optional keys are left out when empty, so that a new option
// in a later version does not make every probe prove itself again.
func SpecFingerprint(p ProbeSpec) string {
	b, err := yaml.Marshal(p)
	if err != nil {
		return "" // a ProbeSpec always marshals
	}
	h := fnv.New64a()
	h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36)
}
