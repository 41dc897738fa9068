// Package config reads, checks and prints outagebot's YAML configuration.
//
// Every default lives in the embedded default.yaml. A user's file is decoded
// on top of it, strictly: an unknown key is an error that names its line.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/outagebot/outagebot/checks"
)

// defaultYAML is a string rather than a []byte so that nothing can modify it.
//
//go:embed default.yaml
var defaultYAML string

// Limits are Telegram's sending limits the bot stays under.
type Limits struct {
	// GlobalPerSecond bounds messages per second across all chats.
	GlobalPerSecond float64 `yaml:"global_per_second"`
	// ChatPerSecond bounds messages per second into one private chat.
	ChatPerSecond float64 `yaml:"chat_per_second"`
	// GroupPerMinute bounds messages per minute into one group or channel.
	GroupPerMinute float64 `yaml:"group_per_minute"`
	// AlertShare is the least share of GlobalPerSecond that alerts get
	// while they have work; replies to commands get the rest, and whatever
	// alerts leave unused. Strictly between 0 and 1.
	AlertShare float64 `yaml:"alert_share"`
	// PaidBroadcast sends allow_paid_broadcast, which lets GlobalPerSecond
	// go up to 1000 at a price in Stars.
	PaidBroadcast bool `yaml:"paid_broadcast"`
}

// Official says where and how often Meta's own status page is read.
type Official struct {
	// URL is the base of metastatus.com's JSON; empty disables it.
	URL string `yaml:"url"`
	// Every is how often it is fetched: it changes in minutes.
	Every checks.Duration `yaml:"every"`
	// Timeout bounds one fetch.
	Timeout checks.Duration `yaml:"timeout"`
}

// History says how long the rounds behind /history are kept.
type History struct {
	// Retention is how long each round's latency sample of each service
	// is kept: how far back /history can look. Incidents are kept for good.
	Retention checks.Duration `yaml:"retention"`
}

// Config is the bot's whole configuration.
type Config struct {
	// Schedule is a robfig/cron spec (descriptors such as "@every 30s" included)
	// saying when a round of probes starts.
	Schedule string `yaml:"schedule"`
	// Thresholds tune when a change of state is confirmed.
	Thresholds checks.Thresholds `yaml:"thresholds"`
	// Limits are the sending limits.
	Limits Limits `yaml:"limits"`
	// Official is Meta's own status page, one kind of evidence.
	Official Official `yaml:"official"`
	// Reports tunes when people's reports make a spike.
	Reports checks.ReportRule `yaml:"reports"`
	// History is what /history can show.
	History History `yaml:"history"`
	// Control lists probes of non-Meta targets that tell whether this machine
	// is online. Empty disables the offline guard.
	Control []checks.ProbeSpec `yaml:"control"`
	// Services are the watched products, in display order.
	Services []checks.Service `yaml:"services"`
}

// Default returns the embedded default configuration. It panics only if the
// embedded file is broken, which a test rules out.
func Default() Config {
	var c Config
	if err := decodeStrict([]byte(defaultYAML), &c); err != nil {
		panic(fmt.Sprintf("config: embedded default.yaml is broken: %v", err))
	}
	c.normalize()
	return c
}

// Load reads the file at path and parses it like Parse.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes data on top of Default and validates the result. Keys present
// in data replace their defaults and absent keys keep them; a list is replaced
// as a whole, so `control: []` disables the offline guard and `services:`
// replaces every service. Configuration mistakes are returned as *Error
// naming the line in data; when there are several, they are joined with
// errors.Join in file order. name stands for the file in those errors.
func Parse(name string, data []byte) (Config, error) {
	if line := strayCR(data); line > 0 {
		return Config{}, &Error{File: name, Line: line,
			Msg: "a carriage return without a line feed: save the file with \\n or \\r\\n line endings"}
	}
	root, err := parseTree(data)
	if err != nil {
		return Config{}, decodeErrors(name, root, err)
	}
	c := Default()
	// An empty or comment-only file has no tree and changes nothing.
	if root.Kind != 0 {
		if err := decodeStrict(data, &c); err != nil {
			return Config{}, decodeErrors(name, root, err)
		}
	}
	c.normalize()
	problems := c.problems()
	for _, p := range problems {
		p.File = name
		p.Line = lineOf(root, p.Key)
	}
	if err := joinErrors(problems); err != nil {
		return Config{}, err
	}
	return c, nil
}

// strayCR returns the line of the first carriage return that does not end
// a line with a line feed, or 0. YAML breaks lines there and editors do
// not, so the lines that errors name would not be the ones people see.
func strayCR(data []byte) int {
	for n, line := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(bytes.TrimSuffix(line, []byte("\r")), []byte("\r")) {
			return n + 1
		}
	}
	return 0
}

// parseTree reads data into a node tree, which Parse uses to find the lines
// of keys, and rejects a second YAML document that decoding would ignore.
func parseTree(data []byte) (*yaml.Node, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return &root, err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return &root, nil
	case err != nil:
		return &root, err
	}
	line := extra.Line
	// An empty document holds a null that yaml.v3 places on the line after
	// its "---", which may be past the end of the file.
	if c := extra.Content; len(c) > 0 && (c[0].ShortTag() != "!!null" || c[0].Value != "") {
		line = c[0].Line
	}
	return &root, fmt.Errorf("line %d: a second YAML document is not allowed (one file holds one configuration)", line)
}

// decodeStrict decodes data into c, rejecting keys that c has no field for.
// Fields absent from data keep the values c already holds.
func decodeStrict(data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(c)
}

// normalize gives every empty list and map one representation, nil, so that
// a configuration read back from YAML() equals the one written.
func (c *Config) normalize() {
	c.Control = normalizeProbes(c.Control)
	c.Services = emptyToNil(c.Services)
	for i := range c.Services {
		s := &c.Services[i]
		s.Aliases = emptyToNil(s.Aliases)
		s.Official = emptyToNil(s.Official)
		s.Probes = normalizeProbes(s.Probes)
	}
}

func normalizeProbes(ps []checks.ProbeSpec) []checks.ProbeSpec {
	for i := range ps {
		p := &ps[i]
		p.Status = emptyToNil(p.Status)
		p.JSON = emptyMapToNil(p.JSON)
		p.Headers = emptyMapToNil(p.Headers)
		p.Resolvers = emptyToNil(p.Resolvers)
		p.Targets = emptyToNil(p.Targets)
	}
	return emptyToNil(ps)
}

func emptyToNil[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

func emptyMapToNil[M ~map[K]V, K comparable, V any](m M) M {
	if len(m) == 0 {
		return nil
	}
	return m
}

// YAML returns the configuration as YAML that Parse accepts back unchanged.
func (c Config) YAML() ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(c); err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	flowScalarLists(&doc)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	return buf.Bytes(), nil
}

// flowScalarLists writes lists of plain values on one line, as in
// `status: [200, 301]`, which reads far better than one code per line.
func flowScalarLists(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		flow := true
		for _, item := range n.Content {
			flow = flow && item.Kind == yaml.ScalarNode
		}
		if flow {
			n.Style = yaml.FlowStyle
		}
	}
	for _, child := range n.Content {
		flowScalarLists(child)
	}
}
