package checks

import (
	"fmt"
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
type Thresholds struct {
	// DownAfter is how many consecutive bad rounds (re-checks included)
	// confirm a degraded or down state.
	DownAfter int `yaml:"down_after"`
	// UpAfter is how many consecutive clean rounds confirm a recovery.
	UpAfter int `yaml:"up_after"`
	// Recheck is the delay before a service whose round disagreed with its
	// announced state is probed again, instead of waiting a whole interval.
	Recheck Duration `yaml:"recheck"`
	// RoundTimeout bounds a whole round, re-checks included.
	RoundTimeout Duration `yaml:"round_timeout"`
	// WeakFor is how long weak evidence (one probe of several failing, or
	// reports from people alone, or Meta's own "minor" alone) must last
	// before it is announced; strong evidence needs only DownAfter rounds.
	WeakFor Duration `yaml:"weak_for"`
	// GroupWindow is how close together several services must fail, with
	// the same failure class, to be one Meta-wide incident.
	GroupWindow Duration `yaml:"group_window"`
}
