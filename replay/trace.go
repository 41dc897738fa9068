package replay

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
)

// maxProbes bounds the probes of a service in a trace: a real service has
// a handful, and a typo must not make a replay build millions.
const maxProbes = 100

// DefaultInterval is the probe schedule of a trace that gives none: the
// bot's own default.
const DefaultInterval = 30 * time.Second

// Trace is a compact model of a stretch of the world: background noise,
// what was observable when, and the ground truth the detector is scored
// against. It is expanded into observations deterministically from Seed.
type Trace struct {
	File     string // where it was read from, for messages
	Name     string
	Start    time.Time // UTC
	End      time.Time // UTC
	Interval time.Duration
	Seed     uint64
	// Seeds, when the trace gives several, are each replayed as a trace of
	// its own (see Expand); Seed is then the first of them.
	Seeds []uint64
	// Services are the watched services in observation order, each with the
	// probes the detector sees.
	Services []Service
	Noise    Noise
	Outages  []Outage
	Events   []Event
	Targets  Targets
}

// Service is one simulated service.
type Service struct {
	ID     string
	Probes []checks.ProbeSpec
	// Orgs are the products of Meta's status page that speak for the
	// service, from the catalog; Meta's wording in an event applies to each.
	Orgs []string
}

// Noise is what happens everywhere, all the time, when nothing is wrong.
type Noise struct {
	ProbeFailure   float64 // chance that a probe fails hard (a timeout), per probe per round
	Blocked        float64 // chance that an http or websocket probe is throttled (429)
	ReportsPerHour float64 // people reporting about a service per hour
	// ReportsByHour, when given, replaces ReportsPerHour with a rate for
	// each hour of the day (UTC): people report in the evening.
	ReportsByHour []float64
	Reporters
}

// Reporters says how people report: how often each one repeats the report
// and in what languages.
type Reporters struct {
	Repeat      int           // reports sent by each person, 1 or more
	RepeatEvery time.Duration // between one person's reports
	// Languages are the shares of reporters by language code (primary
	// subtag); nil means all English.
	Languages map[string]float64
}

// SeenBy names the kind of evidence that sees an outage first, which
// decides the detection delay it is held to.
type SeenBy string

// The kinds of evidence an outage can be seen by.
const (
	SeenByProbes   SeenBy = "probes"
	SeenByOfficial SeenBy = "official"
	SeenByReports  SeenBy = "reports"
)

// Outage is a real outage: the ground truth.
type Outage struct {
	Name       string
	Services   []string
	Start, End time.Time
	SeenBy     SeenBy
	// Regional is the language code of the people mainly affected, when
	// the outage is regional (a language is the bot's proxy for a region).
	Regional string
}

// Covers reports whether the outage includes service.
func (o Outage) Covers(service string) bool { return slices.Contains(o.Services, service) }

// Event is something observable during [From, To). Every field that is set
// applies to each of Services.
type Event struct {
	Line     int // in the trace file, for messages
	From, To time.Time
	Services []string
	// Failing names the probes that fail with Class: the first N of each
	// service, all of them, or those named.
	Failing Failing
	Class   checks.Class
	// Official is Meta's wording on the services' products ("Major
	// outage"); Product, when set, is the product's name as Meta shows it.
	Official string
	Product  string
	// Rate is the chance that each probe Failing selects fails, at each
	// check; 1 for a steady failure.
	Rate float64
	// Targets, when given, are the only targets (host:port of tcp and tls
	// targets, resolver addresses of dns probes asking several, or a
	// probe's single target) that fail: a probe fails when all of its
	// targets do, and answers through the others otherwise.
	Targets []string
	// ReportsPerHour more people report Kind per service per hour.
	ReportsPerHour float64
	Kind           string
	Reporters
	// Offline cuts the bot's own network: every control probe fails.
	Offline bool
	// Control names control probes that fail, and nothing else.
	Control []string
	// Local names parts of the bot's own network that fail (control
	// roles: system_dns, public_dns, route, web), with what they take
	// down with them.
	Local []string
}

// active reports whether the event covers the moment t.
func (e Event) active(t time.Time) bool { return !t.Before(e.From) && t.Before(e.To) }

// Failing selects the probes an event breaks.
type Failing struct {
	All    bool
	N      int      // the first N probes, when not All and no Probes
	Probes []string // by name
}

// IsZero reports whether the event breaks no probe.
func (f Failing) IsZero() bool { return !f.All && f.N == 0 && len(f.Probes) == 0 }

// Selects reports whether probe number i (0-based), named name, fails.
func (f Failing) Selects(i int, name string) bool {
	switch {
	case f.All:
		return true
	case len(f.Probes) > 0:
		return slices.Contains(f.Probes, name)
	}
	return i < f.N
}

// String writes the selection the way a trace does.
func (f Failing) String() string {
	switch {
	case f.All:
		return "all"
	case len(f.Probes) > 0:
		return "[" + strings.Join(f.Probes, ", ") + "]"
	}
	return strconv.Itoa(f.N)
}

// UnmarshalYAML reads a number, "all", or a list of probe names.
func (f *Failing) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == "all" {
			*f = Failing{All: true}
			return nil
		}
		if v, err := strconv.Atoi(n.Value); err == nil && v > 0 {
			*f = Failing{N: v}
			return nil
		}
	case yaml.SequenceNode:
		var names []string
		if err := n.Decode(&names); err == nil && len(names) > 0 {
			*f = Failing{Probes: names}
			return nil
		}
	}
	return fmt.Errorf("line %d: failing: want a positive number, all, or a list of probe names", n.Line)
}

// Targets are what a trace must achieve to pass.
type Targets struct {
	// ProbesDelay bounds the median detection delay of the outages seen by
	// probes, OtherDelay that of those seen only by Meta's status page or
	// people's reports.
	ProbesDelay time.Duration
	OtherDelay  time.Duration
	// Recovery bounds the time from an outage's end until every one of its
	// services is announced operational again.
	Recovery time.Duration
	// FalseAlarms is how many announcements of trouble outside any outage
	// are tolerated.
	FalseAlarms int
	// FalseRecoveries is how many announcements of "operational" during an
	// outage of the service are tolerated.
	FalseRecoveries int
	// Transitions bounds the transitions announced per service per outage,
	// an escalation from degraded to down not counted: people hear of an
	// outage when it starts and when it ends, not in between.
	Transitions int
	// TroubleShare is the least share of each outage, once its delay
	// target has passed, during which each of its services is announced
	// in trouble.
	TroubleShare float64
	// Warnings is how many warnings the operator must get (distinct
	// probes and kinds): exactly that many.
	Warnings int
}

// DefaultTargets are those of the issues that introduced replays and
// tightened them.
func DefaultTargets() Targets {
	return Targets{
		ProbesDelay:  time.Minute,
		OtherDelay:   10 * time.Minute,
		Recovery:     2 * time.Minute,
		Transitions:  2,
		TroubleShare: 0.9,
	}
}

// Error is a mistake in a trace, pinned to its line.
type Error struct {
	File string
	Line int // 0 when no line can be named
	Msg  string
}

// Error formats the error as "FILE:LINE: MSG".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// The trace file as written. Durations and times are checked by the YAML
// decoder; everything else by validate.
type traceFile struct {
	Name     string                  `yaml:"name"`
	Start    timestamp               `yaml:"start"`
	End      timestamp               `yaml:"end"`
	Interval checks.Duration         `yaml:"interval"`
	Seed     uint64                  `yaml:"seed"`
	Seeds    []uint64                `yaml:"seeds"`
	Services map[string]*serviceFile `yaml:"services"`
	Noise    noiseFile               `yaml:"noise"`
	Outages  []outageFile            `yaml:"outages"`
	Events   []eventFile             `yaml:"events"`
	Targets  targetsFile             `yaml:"targets"`
}

// timestamp is a moment written in RFC 3339, read as UTC.
type timestamp time.Time

// UnmarshalYAML reads RFC 3339 and names the line on error.
func (t *timestamp) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.Parse(time.RFC3339, n.Value)
	if err != nil {
		return fmt.Errorf("line %d: invalid time %q (use RFC 3339, e.g. 2021-10-04T15:39:00Z)", n.Line, n.Value)
	}
	*t = timestamp(v.UTC())
	return nil
}

// utc returns the moment, zero when it was not given.
func (t timestamp) utc() time.Time { return time.Time(t) }

type serviceFile struct {
	Probes *int `yaml:"probes"`
}

type noiseFile struct {
	ProbeFailure   float64   `yaml:"probe_failure"`
	Blocked        float64   `yaml:"blocked"`
	ReportsPerHour float64   `yaml:"reports_per_hour"`
	ReportsByHour  []float64 `yaml:"reports_by_hour"`
	reportersFile  `yaml:",inline"`
}

type reportersFile struct {
	Repeat      int                `yaml:"repeat"`
	RepeatEvery checks.Duration    `yaml:"repeat_every"`
	Languages   map[string]float64 `yaml:"languages"`
}

type outageFile struct {
	Name     string    `yaml:"name"`
	Services []string  `yaml:"services"`
	Start    timestamp `yaml:"start"`
	End      timestamp `yaml:"end"`
	SeenBy   SeenBy    `yaml:"seen_by"`
	Regional string    `yaml:"regional"`
}

type eventFile struct {
	From           timestamp    `yaml:"from"`
	To             timestamp    `yaml:"to"`
	Services       []string     `yaml:"services"`
	Failing        Failing      `yaml:"failing"`
	Class          checks.Class `yaml:"class"`
	Official       string       `yaml:"official"`
	Product        string       `yaml:"product"`
	ReportsPerHour float64      `yaml:"reports_per_hour"`
	Kind           string       `yaml:"kind"`
	Offline        bool         `yaml:"offline"`
	Rate           *float64     `yaml:"rate"`
	Targets        []string     `yaml:"targets"`
	Control        []string     `yaml:"control"`
	Local          []string     `yaml:"local"`
	reportersFile  `yaml:",inline"`
}

type targetsFile struct {
	ProbesDelay     checks.Duration `yaml:"probes_delay"`
	OtherDelay      checks.Duration `yaml:"other_delay"`
	Recovery        checks.Duration `yaml:"recovery"`
	FalseAlarms     *int            `yaml:"false_alarms"`
	FalseRecoveries *int            `yaml:"false_recoveries"`
	Transitions     *int            `yaml:"transitions"`
	TroubleShare    *float64        `yaml:"trouble_share"`
	Warnings        *int            `yaml:"warnings"`
}

// Load reads and parses the trace at path; see Parse.
func Load(path string, catalog []checks.Service) (*Trace, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading trace: %w", err)
	}
	return Parse(path, data, catalog)
}

// Parse reads a trace strictly: an unknown key, a value of the wrong type
// or an inconsistent one is an *Error naming file and line (several are
// joined with errors.Join). catalog gives the services' probes and official
// products; a trace may name other services if it gives their probe count.
func Parse(file string, data []byte, catalog []checks.Service) (*Trace, error) {
	if line := loneCR(data); line > 0 {
		return nil, &Error{File: file, Line: line, Msg: "carriage return without a line feed: save the file with \\n or \\r\\n line endings"}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err)
	}
	if root.Kind == 0 || len(root.Content) == 1 && root.Content[0].ShortTag() == "!!null" {
		return nil, &Error{File: file, Msg: "empty trace"}
	}
	var tf traceFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&tf); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		// A second document would be silently ignored.
		return nil, &Error{File: file, Line: extra.Line, Msg: "a second YAML document: one file holds one trace"}
	}
	v := validator{file: file, root: &root}
	tr := v.trace(tf, catalog)
	if len(v.errs) == 0 {
		return tr, nil
	}
	slices.SortStableFunc(v.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, len(v.errs))
	for i, e := range v.errs {
		errs[i] = e
	}
	return nil, errors.Join(errs...)
}

// loneCR returns the line of the first carriage return not followed by a
// line feed, or 0. YAML breaks lines there, grep and most tools do not, so
// line numbers in errors would no longer be the ones people look up.
func loneCR(data []byte) int {
	for i, b := range data {
		if b == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			return 1 + bytes.Count(data[:i], []byte("\n"))
		}
	}
	return 0
}

// yaml.v3 gives positions only inside its messages, as "line N: ...".
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns the decoder's error into *Error values, one per problem.
func yamlError(file string, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	errs := make([]error, 0, len(msgs))
	for _, m := range msgs {
		e := &Error{File: file, Msg: strings.TrimPrefix(m, "yaml: ")}
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			e.Line, _ = strconv.Atoi(sub[1])
			e.Msg = config.YAMLMessage(sub[2], reflect.TypeFor[traceFile]())
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// validator checks a decoded trace, collecting every problem with the line
// of the key at fault.
type validator struct {
	file string
	root *yaml.Node
	errs []*Error
}

func (v *validator) fail(path []any, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: lineOf(v.root, path...), Msg: pathString(path) + ": " + fmt.Sprintf(format, args...)})
}

func (v *validator) trace(tf traceFile, catalog []checks.Service) *Trace {
	tr := &Trace{
		File:     v.file,
		Name:     cmp.Or(tf.Name, v.file),
		Start:    tf.Start.utc(),
		End:      tf.End.utc(),
		Interval: cmp.Or(time.Duration(tf.Interval), DefaultInterval),
		Seed:     tf.Seed,
		Seeds:    tf.Seeds,
		Noise: Noise{ProbeFailure: tf.Noise.ProbeFailure, Blocked: tf.Noise.Blocked,
			ReportsPerHour: tf.Noise.ReportsPerHour, ReportsByHour: tf.Noise.ReportsByHour,
			Reporters: v.reporters(path("noise"), tf.Noise.reportersFile)},
	}
	switch {
	case len(tf.Seeds) > 0 && tf.Seed != 0:
		v.fail(path("seeds"), "give seed or seeds, not both")
	case len(tf.Seeds) > 0:
		tr.Seed = tf.Seeds[0]
	}
	switch {
	case tr.Start.IsZero():
		v.fail(path("start"), "missing")
	case tr.End.IsZero():
		v.fail(path("end"), "missing")
	case !tr.End.After(tr.Start):
		v.fail(path("end"), "must be after start")
	}
	if tr.Interval < time.Second {
		v.fail(path("interval"), "must be at least 1s")
	}
	tr.Services = v.services(tf.Services, catalog)
	v.noise(tr.Noise)
	tr.Outages = v.outages(tf.Outages, tr)
	tr.Events = v.events(tf.Events, tr)
	tr.Targets = v.targets(tf.Targets)
	return tr
}

// services resolves the watched services in file order, or the whole
// catalog when the trace names none.
func (v *validator) services(given map[string]*serviceFile, catalog []checks.Service) []Service {
	known := make(map[string]checks.Service, len(catalog))
	for _, s := range catalog {
		known[s.ID] = s
	}
	if len(given) == 0 {
		out := make([]Service, len(catalog))
		for i, s := range catalog {
			out[i] = Service{ID: s.ID, Probes: s.Probes, Orgs: s.Official}
		}
		return out
	}
	var out []Service
	for _, id := range mapKeys(v.root, "services") {
		cat, ok := known[id]
		n := len(cat.Probes)
		if p := given[id]; p != nil && p.Probes != nil {
			n = *p.Probes
		}
		switch {
		case !ok && n == 0:
			v.fail(path("services", id), "not in the catalog: give its number of probes, e.g. {probes: 3}")
			continue
		case n < 1 || n > maxProbes:
			v.fail(path("services", id, "probes"), "must be between 1 and %d", maxProbes)
			continue
		}
		probes := slices.Clone(cat.Probes[:min(n, len(cat.Probes))])
		for i := len(probes); i < n; i++ {
			probes = append(probes, checks.ProbeSpec{Name: fmt.Sprintf("probe%d", i+1), Kind: "http"})
		}
		out = append(out, Service{ID: id, Probes: probes, Orgs: cat.Official})
	}
	return out
}

func (v *validator) noise(n Noise) {
	valid := true
	for _, f := range []struct {
		key string
		p   float64
	}{{"probe_failure", n.ProbeFailure}, {"blocked", n.Blocked}} {
		if f.p < 0 || f.p > 1 {
			v.fail(path("noise", f.key), "%v is not a probability between 0 and 1", f.p)
			valid = false
		}
	}
	if valid && n.ProbeFailure+n.Blocked > 1 {
		v.fail(path("noise", "blocked"), "probe_failure + blocked exceeds 1")
	}
	if n.ReportsPerHour < 0 {
		v.fail(path("noise", "reports_per_hour"), "must not be negative")
	}
	if len(n.ReportsByHour) > 0 {
		if len(n.ReportsByHour) != 24 {
			v.fail(path("noise", "reports_by_hour"), "give 24 rates, one for each hour of the day (UTC), not %d", len(n.ReportsByHour))
		}
		if n.ReportsPerHour != 0 {
			v.fail(path("noise", "reports_by_hour"), "replaces reports_per_hour: give one of them")
		}
		if slices.ContainsFunc(n.ReportsByHour, func(r float64) bool { return r < 0 }) {
			v.fail(path("noise", "reports_by_hour"), "rates must not be negative")
		}
	}
}

// reporters reads how people report, at the key path at.
func (v *validator) reporters(at []any, rf reportersFile) Reporters {
	r := Reporters{Repeat: max(rf.Repeat, 1), RepeatEvery: time.Duration(rf.RepeatEvery), Languages: rf.Languages}
	if rf.Repeat < 0 {
		v.fail(append(at, "repeat"), "must be at least 1")
	}
	switch {
	case rf.RepeatEvery < 0:
		v.fail(append(at, "repeat_every"), "must not be negative")
	case rf.RepeatEvery == 0:
		r.RepeatEvery = 10 * time.Minute
	}
	total := 0.0
	for lang, share := range rf.Languages {
		if !languageCode.MatchString(lang) {
			v.fail(append(at, "languages", lang), "%q is not a language code (two or three lower-case letters, e.g. it)", lang)
		}
		if share < 0 {
			v.fail(append(at, "languages", lang), "share must not be negative")
		}
		total += share
	}
	if len(rf.Languages) > 0 && !(total > 0) {
		v.fail(append(at, "languages"), "the shares must add up to more than 0")
	}
	return r
}

// languageCode is a primary language subtag.
var languageCode = regexp.MustCompile(`^[a-z]{2,3}$`)

func (v *validator) outages(given []outageFile, tr *Trace) []Outage {
	var out []Outage
	for i, o := range given {
		at := func(key ...any) []any { return append(path("outages", i), key...) }
		oc := Outage{Name: cmp.Or(o.Name, fmt.Sprintf("outage %d", i+1)), Services: o.Services,
			Start: o.Start.utc(), End: o.End.utc(), SeenBy: o.SeenBy, Regional: o.Regional}
		if o.Regional != "" && !languageCode.MatchString(o.Regional) {
			v.fail(at("regional"), "%q is not a language code (two or three lower-case letters, e.g. it)", o.Regional)
		}
		v.span(at, "start", "end", oc.Start, oc.End, tr)
		if len(o.Services) == 0 {
			v.fail(at("services"), "name at least one service")
		}
		v.known(at, o.Services, tr)
		switch o.SeenBy {
		case SeenByProbes, SeenByOfficial, SeenByReports:
		case "":
			v.fail(at(), "seen_by missing (probes, official or reports)")
		default:
			v.fail(at("seen_by"), "%q is not probes, official or reports", o.SeenBy)
		}
		out = append(out, oc)
	}
	return out
}

func (v *validator) events(given []eventFile, tr *Trace) []Event {
	var out []Event
	for i, e := range given {
		at := func(key ...any) []any { return append(path("events", i), key...) }
		ev := Event{Line: lineOf(v.root, at()...), From: e.From.utc(), To: e.To.utc(), Services: e.Services,
			Failing: e.Failing, Class: e.Class, Official: strings.TrimSpace(e.Official), Product: e.Product,
			ReportsPerHour: e.ReportsPerHour, Kind: e.Kind, Offline: e.Offline, Rate: 1, Targets: e.Targets,
			Control: e.Control, Local: e.Local, Reporters: v.reporters(at(), e.reportersFile)}
		v.span(at, "from", "to", ev.From, ev.To, tr)
		v.known(at, e.Services, tr)
		own := ev.Offline || len(ev.Control) > 0 || len(ev.Local) > 0
		switch {
		case own && len(ev.Services) > 0:
			v.fail(at("services"), "an event about the bot's own network (offline, control, local) names no service")
		case !own && len(ev.Services) == 0:
			v.fail(at(), "name the services it affects, or the bot's own trouble (offline: true, control or local)")
		case !own && ev.Failing.IsZero() && ev.Class == "" && ev.Official == "" && ev.ReportsPerHour == 0:
			v.fail(at(), "does nothing: give failing and class, official, or reports_per_hour")
		}
		for j, role := range ev.Local {
			if !slices.Contains([]checks.Role{checks.RoleWeb, checks.RolePublicDNS, checks.RoleSystemDNS, checks.RoleRoute}, checks.Role(role)) {
				v.fail(at("local", j), "%q is not a part of the bot's own network (system_dns, public_dns, route or web)", role)
			}
		}
		if e.Rate != nil {
			ev.Rate = *e.Rate
			switch {
			case !(ev.Rate > 0 && ev.Rate <= 1):
				v.fail(at("rate"), "%v is not a chance above 0 and at most 1", ev.Rate)
			case ev.Failing.IsZero():
				v.fail(at("rate"), "is the rate at which the probes of failing fail, which is not given")
			}
		}
		if len(ev.Targets) > 0 && ev.Failing.IsZero() {
			v.fail(at("targets"), "are the targets of the probes of failing, which is not given")
		}
		switch {
		case !ev.Failing.IsZero() && ev.Class == "":
			v.fail(at("failing"), "give the class the probes fail with")
		case ev.Failing.IsZero() && ev.Class != "":
			v.fail(at("class"), "say which probes fail with it (failing: N, all or [names])")
		case ev.Class != "" && !validClass(ev.Class):
			v.fail(at("class"), "unknown class %q", ev.Class)
		}
		v.failing(at, ev, tr)
		if ev.ReportsPerHour < 0 {
			v.fail(at("reports_per_hour"), "must not be negative")
		}
		if ev.Kind != "" && !slices.Contains(checks.ReportKinds, ev.Kind) {
			v.fail(at("kind"), "unknown report kind %q (want one of %s)", ev.Kind, strings.Join(checks.ReportKinds, ", "))
		}
		if ev.Kind != "" && ev.ReportsPerHour == 0 {
			v.fail(at("kind"), "is the kind of reports_per_hour, which is not given")
		}
		if (e.Repeat != 0 || e.RepeatEvery != 0 || e.Languages != nil) && ev.ReportsPerHour == 0 {
			v.fail(at(), "repeat, repeat_every and languages say how the people of reports_per_hour report, which is not given")
		}
		if ev.Product != "" && ev.Official == "" {
			v.fail(at("product"), "is the product of official, which is not given")
		}
		out = append(out, ev)
	}
	return out
}

// failing checks that the probes an event breaks exist in every service.
func (v *validator) failing(at func(...any) []any, ev Event, tr *Trace) {
	for _, id := range ev.Services {
		i := slices.IndexFunc(tr.Services, func(s Service) bool { return s.ID == id })
		if i < 0 {
			continue // reported by known
		}
		probes := tr.Services[i].Probes
		if ev.Failing.N > len(probes) {
			v.fail(at("failing"), "%s has only %d probes", id, len(probes))
		}
		for _, name := range ev.Failing.Probes {
			if !slices.ContainsFunc(probes, func(p checks.ProbeSpec) bool { return p.Name == name }) {
				v.fail(at("failing"), "%s has no probe %q", id, name)
			}
		}
	}
}

// span checks that [from, to) is a non-empty part of the trace.
func (v *validator) span(at func(...any) []any, fromKey, toKey string, from, to time.Time, tr *Trace) {
	switch {
	case from.IsZero():
		v.fail(at(), "%s missing", fromKey)
	case to.IsZero():
		v.fail(at(), "%s missing", toKey)
	case !to.After(from):
		v.fail(at(toKey), "must be after %s", fromKey)
	case from.Before(tr.Start) || to.After(tr.End):
		v.fail(at(fromKey), "%s to %s is not within the trace's start and end", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
}

// known checks that every service named is watched in the trace.
func (v *validator) known(at func(...any) []any, services []string, tr *Trace) {
	for j, id := range services {
		if !slices.ContainsFunc(tr.Services, func(s Service) bool { return s.ID == id }) {
			v.fail(at("services", j), "unknown service %q", id)
		}
	}
}

func (v *validator) targets(tf targetsFile) Targets {
	t := DefaultTargets()
	for _, d := range []struct {
		key string
		val checks.Duration
		dst *time.Duration
	}{{"probes_delay", tf.ProbesDelay, &t.ProbesDelay}, {"other_delay", tf.OtherDelay, &t.OtherDelay}, {"recovery", tf.Recovery, &t.Recovery}} {
		switch {
		case d.val < 0:
			v.fail(path("targets", d.key), "must not be negative")
		case d.val > 0:
			*d.dst = time.Duration(d.val)
		}
	}
	for _, c := range []struct {
		key string
		val *int
		dst *int
	}{
		{"false_alarms", tf.FalseAlarms, &t.FalseAlarms},
		{"false_recoveries", tf.FalseRecoveries, &t.FalseRecoveries},
		{"transitions", tf.Transitions, &t.Transitions},
		{"warnings", tf.Warnings, &t.Warnings},
	} {
		if c.val == nil {
			continue
		}
		if *c.val < 0 {
			v.fail(path("targets", c.key), "must not be negative")
		}
		*c.dst = *c.val
	}
	if tf.TroubleShare != nil {
		t.TroubleShare = *tf.TroubleShare
		if !(t.TroubleShare >= 0 && t.TroubleShare <= 1) {
			v.fail(path("targets", "trouble_share"), "%v is not a share between 0 and 1", t.TroubleShare)
		}
	}
	return t
}

// Expand returns the trace once per seed it gives: a trace with several
// seeds is replayed, and scored, once for each.
func (tr *Trace) Expand() []*Trace {
	if len(tr.Seeds) <= 1 {
		return []*Trace{tr}
	}
	out := make([]*Trace, len(tr.Seeds))
	for i, seed := range tr.Seeds {
		c := *tr
		c.Seed, c.Seeds = seed, nil
		c.Name = fmt.Sprintf("%s (seed %d)", tr.Name, seed)
		out[i] = &c
	}
	return out
}

// CheckControl checks that the control probes the trace's events name are
// among control, the configuration's.
func (tr *Trace) CheckControl(control []checks.ProbeSpec) error {
	var errs []error
	for _, e := range tr.Events {
		for _, name := range e.Control {
			if !slices.ContainsFunc(control, func(p checks.ProbeSpec) bool { return p.Name == name }) {
				errs = append(errs, &Error{File: tr.File, Line: e.Line, Msg: fmt.Sprintf("control: the configuration has no control probe %q", name)})
			}
		}
	}
	return errors.Join(errs...)
}

// validClass reports whether c is one of the probe result classes.
func validClass(c checks.Class) bool {
	switch c {
	case checks.ClassOK, checks.ClassHTTPBlocked, checks.ClassHTTPUnexpected, checks.ClassBodyMismatch:
		return true
	}
	return c.Hard()
}

// path builds a key path: strings are mapping keys, ints sequence indexes.
func path(keys ...any) []any { return keys }

func pathString(p []any) string {
	var b strings.Builder
	for _, k := range p {
		switch k := k.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, k)
		}
	}
	return b.String()
}

// lineOf returns the line of the deepest node of the path that the document
// has: the key itself when present, else its closest ancestor.
func lineOf(root *yaml.Node, keys ...any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, k := range keys {
		var next *yaml.Node
		switch k := k.(type) {
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						line = n.Content[i].Line
						break
					}
				}
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// mapKeys returns the keys of the mapping at key of the top-level mapping,
// in file order.
func mapKeys(root *yaml.Node, key string) []string {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.MappingNode {
			m := n.Content[i+1]
			keys := make([]string, 0, len(m.Content)/2)
			for j := 0; j+1 < len(m.Content); j += 2 {
				keys = append(keys, m.Content[j].Value)
			}
			return keys
		}
	}
	return nil
}
