package replay

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

// maxFuzzTrace bounds a fuzzed trace: the longest shipped one is a few KiB.
const maxFuzzTrace = 64 << 10

// FuzzParseTrace feeds Parse any file. It must never panic nor build more
// than the file describes; what it rejects it rejects with *Error values
// pinned to lines of the file; what it accepts is consistent: events and
// outages inside the trace and about services it watches.
func FuzzParseTrace(f *testing.F) {
	for _, data := range []string{
		"start: 2024-01-01T00:00:00Z\nend: 2024-01-02T00:00:00Z\n",
		"start: 2024-01-01T00:00:00Z\nend: 2024-01-01T01:00:00Z\ninterval: 10s\nseed: 7\n" +
			"services:\n  whatsapp: {}\n  myspace: {probes: 2}\n" +
			"noise: {probe_failure: 0.1, blocked: 0.05, reports_per_hour: 2}\n" +
			"outages:\n  - {name: x, services: [whatsapp], start: 2024-01-01T00:10:00Z, end: 2024-01-01T00:20:00Z, seen_by: probes}\n" +
			"events:\n  - {from: 2024-01-01T00:10:00Z, to: 2024-01-01T00:20:00Z, services: [whatsapp, myspace], failing: 1, class: dns_servfail}\n" +
			"  - {from: 2024-01-01T00:10:00Z, to: 2024-01-01T00:30:00Z, services: [myspace], failing: [probe2], class: http_5xx, official: Major outage, product: My Space}\n" +
			"  - {from: 2024-01-01T00:12:00Z, to: 2024-01-01T00:40:00Z, services: [whatsapp], reports_per_hour: 300, kind: login}\n" +
			"  - {from: 2024-01-01T00:50:00Z, to: 2024-01-01T00:55:00Z, offline: true}\n" +
			"targets: {probes_delay: 2m, other_delay: 15m, recovery: 3m, false_alarms: 1}\n",
		"start: 2024-01-01T00:00:00Z\nend: 2024-01-01T00:00:00Z\ninterval: 500ms\n",
		"start: yesterday\nend: 2024-01-01T00:00:00+02:00\n",
		"start: 2024-01-01T00:00:00Z\nend: 2024-01-02T00:00:00Z\nservices:\n  myspace: {probes: 0}\n",
		"start: 2024-01-01T00:00:00Z\nend: 2024-01-02T00:00:00Z\nevents:\n  - {from: 2023-12-31T00:00:00Z, to: 2024-01-03T00:00:00Z, services: [nope], failing: all}\n",
		"start: 2024-01-01T00:00:00Z\nend: 2024-01-02T00:00:00Z\nnoise: {probe_failure: 2, blocked: -1}\nunknown: 1\n",
		"",
		"[]\n",
		"start: &t 2024-01-01T00:00:00Z\nend: *t\n",
	} {
		f.Add([]byte(data))
	}
	catalog := defaultOptions().Catalog
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzTrace {
			t.Skip("larger than any real trace")
		}
		const name = "fuzz.yaml"
		tr, err := Parse(name, data, catalog)
		if err != nil {
			checkTraceErrors(t, name, data, err)
			return
		}
		if !tr.End.After(tr.Start) || tr.Interval < time.Second {
			t.Fatalf("accepted start %v, end %v, interval %v", tr.Start, tr.End, tr.Interval)
		}
		// A few digits can ask for any number of probes.
		for _, s := range tr.Services {
			if len(s.Probes) > maxProbes {
				t.Fatalf("accepted %d probes for %s", len(s.Probes), s.ID)
			}
		}
		for _, o := range tr.Outages {
			checkSpan(t, tr, "outage "+o.Name, o.Start, o.End, o.Services)
		}
		for _, e := range tr.Events {
			checkSpan(t, tr, "event", e.From, e.To, e.Services)
		}
	})
}

// checkSpan fails unless [from, to) is a non-empty part of the trace and
// every service is one the trace watches.
func checkSpan(t *testing.T, tr *Trace, what string, from, to time.Time, services []string) {
	t.Helper()
	if from.Before(tr.Start) || to.After(tr.End) || !to.After(from) {
		t.Fatalf("accepted %s from %v to %v in a trace from %v to %v", what, from, to, tr.Start, tr.End)
	}
	for _, id := range services {
		if !slices.ContainsFunc(tr.Services, func(s Service) bool { return s.ID == id }) {
			t.Fatalf("accepted %s about %q, which the trace does not watch", what, id)
		}
	}
}

// yamlLineBreak is what YAML 1.1 counts as a line break, and so what the line
// numbers of parse errors count: NEL and the Unicode line and paragraph
// separators end a line too.
var yamlLineBreak = regexp.MustCompile("\r\n|[\r\n\u0085\u2028\u2029]")

// checkTraceErrors holds the error Parse returned for data to its contract:
// every problem is an *Error naming the file and, when it has one, a line of
// it.
func checkTraceErrors(t *testing.T, name string, data []byte, err error) {
	t.Helper()
	lines := len(yamlLineBreak.Split(string(data), -1))
	leaves := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		leaves = joined.Unwrap()
	}
	for _, leaf := range leaves {
		e, ok := leaf.(*Error)
		if !ok {
			t.Fatalf("Parse error %v (%T) is not a *Error", leaf, leaf)
		}
		if e.File != name || e.Msg == "" || e.Line < 0 || e.Line > lines {
			t.Fatalf("Parse error %+v: want file %q, a message and a line in 0..%d", e, name, lines)
		}
	}
}
