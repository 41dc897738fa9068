package checks

import (
	"fmt"
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
	Name    string   `yaml:"name"`
	Kind    string   `yaml:"kind"`   // http, dns, tcp, tls or websocket
	Target  string   `yaml:"target"` // URL (http), DNS name (dns), host:port (tcp, tls), ws:// or wss:// URL (websocket)
	Timeout Duration `yaml:"timeout,omitempty"`

	// http
	Method          string            `yaml:"method,omitempty"`           // default GET
	Status          []int             `yaml:"status,omitempty"`           // accepted codes; default 200-299
	BodyContains    string            `yaml:"body_contains,omitempty"`    // substring the body must contain
	JSON            map[string]string `yaml:"json,omitempty"`             // dotted path -> expected value, e.g. error.type: OAuthException
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
