package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
	"github.com/outagebot/outagebot/internal/golden"
)

// defaultOptions are what `outagebot replay` uses without a config file:
// the detector as it ships.
func defaultOptions() Options { return FromConfig(config.Default(), nil) }

// shippedTraces are the traces in testdata, which the README presents.
func shippedTraces(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no traces in testdata: %v", err)
	}
	return paths
}

// testThresholds are the shipped defaults, spelled out so that the exact
// transitions expected below do not move when the defaults are tuned.
func testThresholds() checks.Thresholds {
	return checks.Thresholds{
		DownAfter: 4, SingleAfter: 7, UpAfter: 2, Noise: 0.02, FailureRate: 0.3, FalseRecovery: 0.001,
		ProveAfter: 3, WarnAfter: checks.Duration(10 * time.Minute), OddFor: checks.Duration(time.Hour),
		Recheck: checks.Duration(5 * time.Second), RoundTimeout: checks.Duration(25 * time.Second),
		WeakFor: checks.Duration(3 * time.Minute), GroupWindow: checks.Duration(10 * time.Minute),
	}
}

const smallTrace = `
name: small
start: 2024-01-01T10:00:00Z
end: 2024-01-01T10:30:00Z
seed: 3
outages:
  - {name: refused, services: [whatsapp], start: 2024-01-01T10:10:00Z, end: 2024-01-01T10:20:00Z, seen_by: probes}
events:
  - {from: 2024-01-01T10:10:00Z, to: 2024-01-01T10:20:00Z, services: [whatsapp], failing: all, class: tcp_refused}
`

// brief renders transitions as "15:04:05 service from>to class".
func brief(ts []checks.Transition) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s %s %s>%s %s", t.At.Format(time.TimeOnly), t.Service, t.From, t.To, t.Class))
	}
	return out
}

func TestRunDrivesTheWatcherInVirtualTime(t *testing.T) {
	tr := mustParse(t, smallTrace)
	opt := Options{Thresholds: testThresholds(), Official: true, OfficialEvery: 2 * time.Minute}
	r, err := Run(context.Background(), tr, opt)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The first round that sees the outage runs a phase after 10:10, and
	// re-checks follow every 5 s in virtual time; each check is stamped
	// when its probes answer, 0.2 s after it starts. Every probe refused
	// four times (down_after) confirms it: the third re-check. After
	// 10:20, a run of three clean checks ends it: the failure showed in
	// every check, and seven probes failing by chance at once is rare.
	phase := newWorld(tr, opt).phase()
	want := brief([]checks.Transition{
		{Service: "whatsapp", From: op, To: down, At: utc("2024-01-01T10:10:15.2Z").Add(phase), Class: checks.ClassTCPRefused},
		{Service: "whatsapp", From: down, To: op, At: utc("2024-01-01T10:20:10.2Z").Add(phase)},
	})
	if diff := cmp.Diff(want, brief(r.Transitions)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if want := 60 + boolInt(phase == 0); r.Rounds != want {
		t.Errorf("Rounds = %d, want %d", r.Rounds, want)
	}
	f := r.Score.Figures()
	detect, recover := 15200*time.Millisecond+phase, 10200*time.Millisecond+phase
	if f.Detected != 1 || f.ProbesDelay != detect || f.WorstRecovery != recover || f.FalseAlarms != 0 {
		t.Errorf("figures = %+v, want the outage detected %s after its start and recovered %s after its end", f, detect, recover)
	}
	if m := r.Misses(); len(m) != 0 {
		t.Errorf("Misses = %q, want none", m)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRunStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, mustParse(t, smallTrace), Options{Thresholds: testThresholds()}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a canceled context: err = %v, want context.Canceled", err)
	}
}

func TestPrint(t *testing.T) {
	tr := mustParse(t, smallTrace+`
  - {from: 2024-01-01T10:11:00Z, to: 2024-01-01T10:20:00Z, services: [whatsapp], reports_per_hour: 600, kind: messages}
  - {from: 2024-01-01T10:12:00Z, to: 2024-01-01T10:20:00Z, services: [threads], failing: all, class: tcp_refused}
  - {from: 2024-01-01T10:24:00Z, to: 2024-01-01T10:30:00Z, services: [threads], official: Major outage, product: Threads status}
`)
	r, err := Run(context.Background(), tr, Options{Thresholds: testThresholds(), Official: true, OfficialEvery: 2 * time.Minute})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var out bytes.Buffer
	if err := r.Print(&out, false); err != nil {
		t.Fatalf("Print: %v", err)
	}
	golden.Check(t, filepath.Join("testdata", "print.golden"), out.Bytes())
}

func TestPrintLongTraces(t *testing.T) {
	alarms := make([]checks.Transition, falseAlarmsListed+3)
	for i := range alarms {
		alarms[i] = trans(float64(i), "threads", op, deg)
	}
	r := &Result{
		Trace:       mustParse(t, "start: 2024-01-01T00:00:00Z\nend: 2024-01-02T00:00:00Z\n"),
		Rounds:      longTrace + 1,
		Transitions: alarms,
		Score:       Score{FalseAlarms: alarms},
	}
	for _, tc := range []struct {
		verbose bool
		lines   int // transition lines
		summary string
	}{
		{false, falseAlarmsListed, "  transitions: 23 (-v lists them)\n"},
		{true, 2 * len(alarms), "  transitions (23):\n"},
	} {
		var out bytes.Buffer
		if err := r.Print(&out, tc.verbose); err != nil {
			t.Fatalf("Print: %v", err)
		}
		s := out.String()
		if got := strings.Count(s, "threads    operational → degraded"); got != tc.lines {
			t.Errorf("verbose=%v: %d transition lines, want %d:\n%s", tc.verbose, got, tc.lines, s)
		}
		if !strings.Contains(s, tc.summary) {
			t.Errorf("verbose=%v: output lacks %q:\n%s", tc.verbose, tc.summary, s)
		}
		if more := strings.Contains(s, "… and 3 more (-v lists them)"); more == tc.verbose {
			t.Errorf("verbose=%v: says there are more false alarms: %v, want %v", tc.verbose, more, !tc.verbose)
		}
		if !strings.Contains(s, "FAIL: 23 false alarms (at most 0)") {
			t.Errorf("verbose=%v: output does not fail the trace:\n%s", tc.verbose, s)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, yaml string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", smallTrace)
	// An outage that left nothing to see.
	missed := write("missed.yaml", `start: 2024-01-01T10:00:00Z
end: 2024-01-01T10:30:00Z
outages:
  - {services: [threads], start: 2024-01-01T10:05:00Z, end: 2024-01-01T10:06:00Z, seen_by: reports}
`)
	bad := write("bad.yaml", smallTrace+"colour: red\n")
	opt := Options{Thresholds: testThresholds(), Catalog: testCatalog()}

	for _, tc := range []struct {
		name     string
		paths    []string
		pass     bool
		err      string
		contains []string
	}{
		{name: "one passes", paths: []string{good}, pass: true, contains: []string{"  PASS\n"}},
		{name: "one of two misses", paths: []string{good, missed}, contains: []string{"  PASS\n", "MISSED", "overall, 2 traces:\n", missed + " missed its targets"}},
		{name: "a bad trace stops everything", paths: []string{good, bad}, err: bad + ":10: unknown key \"colour\" (want one of name, start, end, interval, seed, seeds, services, noise, outages, events, targets)"},
		{name: "a missing file", paths: []string{filepath.Join(dir, "nope.yaml")}, err: "reading trace: open " + filepath.Join(dir, "nope.yaml")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			pass, err := Files(context.Background(), tc.paths, opt, false, &out)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Errorf("Files: err = %v, want %q", err, tc.err)
				}
				if out.Len() > 0 {
					t.Errorf("Files printed before failing:\n%s", out.String())
				}
				return
			}
			if err != nil || pass != tc.pass {
				t.Fatalf("Files = %v, %v; want %v, nil", pass, err, tc.pass)
			}
			for _, s := range tc.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

// TestShippedTraces replays every shipped trace through the detector as it
// ships and holds it to the targets of the issue: every outage detected, no
// false alarm, median delays of 60 s (outages probes can see) and 10 min
// (the others), recoveries announced within 2 min.
func TestShippedTraces(t *testing.T) {
	opt := defaultOptions()
	var traces []*Trace
	for _, path := range shippedTraces(t) {
		tr, err := Load(path, opt.Catalog)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.CheckControl(opt.Control); err != nil {
			t.Fatal(err)
		}
		traces = append(traces, tr.Expand()...)
	}
	results := make([]*Result, len(traces))
	t.Run("each", func(t *testing.T) {
		for i, tr := range traces {
			t.Run(fmt.Sprintf("%s/%d", filepath.Base(tr.File), tr.Seed), func(t *testing.T) {
				t.Parallel()
				r, err := Run(context.Background(), tr, opt)
				if err != nil {
					t.Fatal(err)
				}
				results[i] = r
				var out strings.Builder
				if err := r.Print(&out, false); err != nil {
					t.Fatal(err)
				}
				t.Logf("\n%s", out.String())
				for _, m := range r.Misses() {
					t.Errorf("target missed: %s", m)
				}
			})
		}
	})
	if t.Failed() {
		return
	}
	// The median delays are over every outage of every trace.
	var out strings.Builder
	if err := PrintOverall(&out, results); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())
	for _, m := range Overall(results) {
		t.Errorf("target missed: %s", m)
	}
}

func BenchmarkReplayNoisy30d(b *testing.B) {
	opt := defaultOptions()
	tr, err := Load(filepath.Join("testdata", "noisy-30d.yaml"), opt.Catalog)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Run(context.Background(), tr, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRegionalReports replays the same report-only outage twice: once with
// nine reporters in ten writing Italian where one in ten usually does, once
// with the usual mix. Only the first is announced as regional, and both
// degraded: reports alone never make a service down.
func TestRegionalReports(t *testing.T) {
	const trace = `
start: 2024-01-01T10:00:00Z
end: 2024-01-01T12:00:00Z
seed: 11
noise: {reports_per_hour: 2, languages: {en: 0.6, es: 0.2, it: 0.1, de: 0.1}}
outages:
  - {services: [whatsapp], start: 2024-01-01T10:30:00Z, end: 2024-01-01T11:30:00Z, seen_by: reports%s}
events:
  - {from: 2024-01-01T10:30:00Z, to: 2024-01-01T11:30:00Z, services: [whatsapp], reports_per_hour: 300, kind: media,
     languages: %s}
targets: {recovery: 10m}
`
	for _, tc := range []struct {
		name, regional, langs string
	}{
		{"Italian", ", regional: it", "{it: 0.9, en: 0.1}"},
		{"everyone", "", "{en: 0.6, es: 0.2, it: 0.1, de: 0.1}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Run(context.Background(), mustParse(t, fmt.Sprintf(trace, tc.regional, tc.langs)), defaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			o := r.Score.Outages[0]
			if !o.Detected || o.First.To != checks.Degraded {
				t.Fatalf("outage detected %v as %s, want degraded", o.Detected, o.First.To)
			}
			if want := strings.TrimPrefix(tc.regional, ", regional: "); o.RegionalAs != want {
				t.Errorf("announced as regional %q, want %q", o.RegionalAs, want)
			}
			if m := r.Misses(); len(m) != 0 {
				t.Errorf("misses: %q", m)
			}
		})
	}
}
