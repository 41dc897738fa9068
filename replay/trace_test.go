package replay

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
)

// testCatalog is a small catalog: two services, a few probes each.
func testCatalog() []checks.Service {
	return []checks.Service{
		{ID: "whatsapp", Official: []string{"whatsapp-business-api"}, Probes: []checks.ProbeSpec{
			{Name: "dns", Kind: "dns", Target: "whatsapp.net"},
			{Name: "chat_tcp", Kind: "tcp", Target: "g.whatsapp.net:5222"},
			{Name: "web", Kind: "http", Target: "https://www.whatsapp.com/"},
		}},
		{ID: "threads", Probes: []checks.ProbeSpec{
			{Name: "dns", Kind: "dns", Target: "threads.com"},
			{Name: "web", Kind: "http", Target: "https://www.threads.com/"},
		}},
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse(t *testing.T) {
	cat := testCatalog()
	for _, tc := range []struct {
		name string
		yaml string
		want *Trace
	}{
		{
			name: "defaults",
			yaml: `
start: 2024-01-01T10:00:00Z
end: 2024-01-01T12:30:00+01:00
`,
			want: &Trace{
				File: "t.yaml", Name: "t.yaml", Start: utc("2024-01-01T10:00:00Z"), End: utc("2024-01-01T11:30:00Z"),
				Interval: DefaultInterval,
				Services: []Service{
					{ID: "whatsapp", Probes: cat[0].Probes, Orgs: []string{"whatsapp-business-api"}},
					{ID: "threads", Probes: cat[1].Probes},
				},
				Noise:   Noise{Reporters: oneReport},
				Targets: DefaultTargets(),
			},
		},
		{
			name: "everything",
			yaml: `
name: a day
start: 2024-01-01T10:00:00Z
end: 2024-01-01T12:00:00Z
interval: 1m
seed: 7
services:
  threads: {}
  whatsapp: {probes: 4}
  lab: {probes: 1}
noise: {probe_failure: 0.02, blocked: 0.01, reports_per_hour: 2}
outages:
  - {name: chat, services: [whatsapp], start: 2024-01-01T10:30:00Z, end: 2024-01-01T11:00:00Z, seen_by: probes}
events:
  - {from: 2024-01-01T10:30:00Z, to: 2024-01-01T11:00:00Z, services: [whatsapp], failing: [chat_tcp, probe4], class: tcp_timeout}
  - {from: 2024-01-01T10:30:00Z, to: 2024-01-01T11:00:00Z, services: [whatsapp, threads], failing: 1, class: dns_servfail,
     official: Major outage, product: WhatsApp Business API, reports_per_hour: 300, kind: messages}
  - {from: 2024-01-01T11:10:00Z, to: 2024-01-01T11:12:00Z, offline: true}
  - {from: 2024-01-01T11:20:00Z, to: 2024-01-01T11:30:00Z, services: [lab], failing: all, class: http_blocked}
targets: {probes_delay: 40s, false_alarms: 2}
`,
			want: &Trace{
				File: "t.yaml", Name: "a day", Start: utc("2024-01-01T10:00:00Z"), End: utc("2024-01-01T12:00:00Z"),
				Interval: time.Minute, Seed: 7,
				Services: []Service{
					{ID: "threads", Probes: cat[1].Probes},
					{ID: "whatsapp", Probes: append(cat[0].Probes[:3:3], checks.ProbeSpec{Name: "probe4", Kind: "http"}), Orgs: []string{"whatsapp-business-api"}},
					{ID: "lab", Probes: []checks.ProbeSpec{{Name: "probe1", Kind: "http"}}},
				},
				Noise: Noise{ProbeFailure: 0.02, Blocked: 0.01, ReportsPerHour: 2, Reporters: oneReport},
				Outages: []Outage{{Name: "chat", Services: []string{"whatsapp"}, Start: utc("2024-01-01T10:30:00Z"),
					End: utc("2024-01-01T11:00:00Z"), SeenBy: SeenByProbes}},
				Events: []Event{
					{Line: 15, From: utc("2024-01-01T10:30:00Z"), To: utc("2024-01-01T11:00:00Z"), Services: []string{"whatsapp"},
						Failing: Failing{Probes: []string{"chat_tcp", "probe4"}}, Class: checks.ClassTCPTimeout, Rate: 1, Reporters: oneReport},
					{Line: 16, From: utc("2024-01-01T10:30:00Z"), To: utc("2024-01-01T11:00:00Z"), Services: []string{"whatsapp", "threads"},
						Failing: Failing{N: 1}, Class: checks.ClassDNSServFail, Official: "Major outage", Product: "WhatsApp Business API",
						ReportsPerHour: 300, Kind: "messages", Rate: 1, Reporters: oneReport},
					{Line: 18, From: utc("2024-01-01T11:10:00Z"), To: utc("2024-01-01T11:12:00Z"), Offline: true, Rate: 1, Reporters: oneReport},
					{Line: 19, From: utc("2024-01-01T11:20:00Z"), To: utc("2024-01-01T11:30:00Z"), Services: []string{"lab"},
						Failing: Failing{All: true}, Class: checks.ClassHTTPBlocked, Rate: 1, Reporters: oneReport},
				},
				Targets: Targets{ProbesDelay: 40 * time.Second, OtherDelay: 10 * time.Minute, Recovery: 2 * time.Minute, FalseAlarms: 2,
					Transitions: 2, TroubleShare: 0.9},
			},
		},
		{
			name: "the world of version 2",
			yaml: `
start: 2024-01-01T10:00:00Z
end: 2024-01-01T12:00:00Z
seeds: [5, 6]
noise:
  reports_by_hour: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 1, 0]
  repeat: 3
  repeat_every: 5m
  languages: {en: 0.7, it: 0.3}
outages:
  - {services: [whatsapp], start: 2024-01-01T10:30:00Z, end: 2024-01-01T11:00:00Z, seen_by: reports, regional: it}
events:
  - {from: 2024-01-01T10:30:00Z, to: 2024-01-01T11:00:00Z, services: [whatsapp], failing: [chat_tcp], class: tcp_timeout,
     rate: 0.4, targets: ["g.whatsapp.net:5222"], reports_per_hour: 90, languages: {it: 1}}
  - {from: 2024-01-01T11:10:00Z, to: 2024-01-01T11:12:00Z, local: [system_dns], control: [dns_google]}
targets: {warnings: 1, transitions: 3, trouble_share: 0.5, false_recoveries: 1}
`,
			want: &Trace{
				File: "t.yaml", Name: "t.yaml", Start: utc("2024-01-01T10:00:00Z"), End: utc("2024-01-01T12:00:00Z"),
				Interval: DefaultInterval, Seed: 5, Seeds: []uint64{5, 6},
				Services: []Service{
					{ID: "whatsapp", Probes: cat[0].Probes, Orgs: []string{"whatsapp-business-api"}},
					{ID: "threads", Probes: cat[1].Probes},
				},
				Noise: Noise{ReportsByHour: []float64{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 1, 0},
					Reporters: Reporters{Repeat: 3, RepeatEvery: 5 * time.Minute, Languages: map[string]float64{"en": 0.7, "it": 0.3}}},
				Outages: []Outage{{Name: "outage 1", Services: []string{"whatsapp"}, Start: utc("2024-01-01T10:30:00Z"),
					End: utc("2024-01-01T11:00:00Z"), SeenBy: SeenByReports, Regional: "it"}},
				Events: []Event{
					{Line: 13, From: utc("2024-01-01T10:30:00Z"), To: utc("2024-01-01T11:00:00Z"), Services: []string{"whatsapp"},
						Failing: Failing{Probes: []string{"chat_tcp"}}, Class: checks.ClassTCPTimeout, Rate: 0.4,
						Targets: []string{"g.whatsapp.net:5222"}, ReportsPerHour: 90,
						Reporters: Reporters{Repeat: 1, RepeatEvery: 10 * time.Minute, Languages: map[string]float64{"it": 1}}},
					{Line: 15, From: utc("2024-01-01T11:10:00Z"), To: utc("2024-01-01T11:12:00Z"), Rate: 1, Reporters: oneReport,
						Local: []string{"system_dns"}, Control: []string{"dns_google"}},
				},
				Targets: Targets{ProbesDelay: time.Minute, OtherDelay: 10 * time.Minute, Recovery: 2 * time.Minute,
					FalseRecoveries: 1, Transitions: 3, TroubleShare: 0.5, Warnings: 1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("t.yaml", []byte(tc.yaml), cat)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

// oneReport is how people report unless a trace says otherwise.
var oneReport = Reporters{Repeat: 1, RepeatEvery: 10 * time.Minute}

func TestExpandSeeds(t *testing.T) {
	tr := &Trace{Name: "month", Seed: 1, Seeds: []uint64{1, 2, 3}}
	var got []string
	for _, e := range tr.Expand() {
		got = append(got, fmt.Sprintf("%s:%d:%d", e.Name, e.Seed, len(e.Seeds)))
	}
	want := []string{"month (seed 1):1:0", "month (seed 2):2:0", "month (seed 3):3:0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Expand (-want +got):\n%s", diff)
	}
	if one := (&Trace{Seed: 4}).Expand(); len(one) != 1 || one[0].Seed != 4 {
		t.Errorf("a trace with one seed expands to %+v", one)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "start: 2024-01-01T10:00:00Z\nend: 2024-01-01T12:00:00Z\n" // lines 1-2
	ev := func(fields string) string {
		return head + "events:\n  - {from: 2024-01-01T10:00:00Z, to: 2024-01-01T11:00:00Z, " + fields + "}\n" // event on line 4
	}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"empty file", "# nothing\n", "t.yaml: empty trace"},
		{"empty document", "---\n", "t.yaml: empty trace"},
		{"two documents", head + "---\n" + head, "t.yaml:3: a second YAML document: one file holds one trace"},
		{"Windows line endings", "start: 2024-01-01T10:00:00Z\r\nend: 2024-01-01T12:00:00Z\r\ninterval: soon\r\n", `t.yaml:3: invalid duration "soon" (use e.g. 10s, 1m30s)`},
		{"old Mac line endings", head + "seed: 1\rinterval: 1m\n", `t.yaml:3: carriage return without a line feed: save the file with \n or \r\n line endings`},
		{"syntax", head + "events: [\n", "t.yaml:3: did not find expected node content"},
		{"unknown key", head + "noise:\n  probe_failures: 0.1\n", `t.yaml:4: unknown key "probe_failures" (want one of probe_failure, blocked, reports_per_hour, reports_by_hour, repeat, repeat_every, languages)`},
		{"unknown event key", ev("services: [whatsapp], failing: all, class: http_5xx, colour: red"), `t.yaml:4: unknown key "colour" (want one of from, to, services, failing, class, official, product, reports_per_hour, kind, offline, rate, targets, control, local, repeat, repeat_every, languages)`},
		{"seed and seeds", head + "seed: 1\nseeds: [2]\n", "t.yaml:4: seeds: give seed or seeds, not both"},
		{"a rhythm of 23 hours", head + "noise: {reports_by_hour: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}\n",
			"t.yaml:3: noise.reports_by_hour: give 24 rates, one for each hour of the day (UTC), not 23"},
		{"a language that is not a code", head + "noise: {languages: {Italian: 1}}\n",
			`t.yaml:3: noise.languages.Italian: "Italian" is not a language code (two or three lower-case letters, e.g. it)`},
		{"a rate of 2", ev("services: [whatsapp], failing: all, class: http_5xx, rate: 2"), "t.yaml:4: events[0].rate: 2 is not a chance above 0 and at most 1"},
		{"targets without failing", ev("services: [whatsapp], official: Major outage, targets: [a:1]"), "t.yaml:4: events[0].targets: are the targets of the probes of failing, which is not given"},
		{"an unknown part of the network", ev("local: [wifi]"), `t.yaml:4: events[0].local[0]: "wifi" is not a part of the bot's own network (system_dns, public_dns, route or web)`},
		{"own trouble with services", ev("local: [route], services: [whatsapp]"), "t.yaml:4: events[0].services: an event about the bot's own network (offline, control, local) names no service"},
		{"languages without reports", ev("services: [whatsapp], official: Major outage, languages: {it: 1}"),
			"t.yaml:4: events[0]: repeat, repeat_every and languages say how the people of reports_per_hour report, which is not given"},
		{"a share above one", head + "targets: {trouble_share: 2}\n", "t.yaml:3: targets.trouble_share: 2 is not a share between 0 and 1"},
		{"bad duration", head + "interval: soon\n", `t.yaml:3: invalid duration "soon" (use e.g. 10s, 1m30s)`},
		{"bad time", "start: yesterday\nend: 2024-01-01T12:00:00Z\n", `t.yaml:1: invalid time "yesterday" (use RFC 3339, e.g. 2021-10-04T15:39:00Z)`},
		{"missing start", "end: 2024-01-01T12:00:00Z\n", "t.yaml:1: start: missing"},
		{"end before start", "start: 2024-01-01T10:00:00Z\nend: 2024-01-01T09:00:00Z\n", "t.yaml:2: end: must be after start"},
		{"tiny interval", head + "interval: 10ms\n", "t.yaml:3: interval: must be at least 1s"},
		{"unknown service without probes", head + "services:\n  myspace: {}\n", `t.yaml:4: services.myspace: not in the catalog: give its number of probes, e.g. {probes: 3}`},
		{"zero probes", head + "services:\n  whatsapp: {probes: 0}\n", "t.yaml:4: services.whatsapp.probes: must be between 1 and 100"},
		{"a million probes", head + "services:\n  lab: {probes: 1000000}\n", "t.yaml:4: services.lab.probes: must be between 1 and 100"},
		{"probability", head + "noise: {probe_failure: 1.5}\n", "t.yaml:3: noise.probe_failure: 1.5 is not a probability between 0 and 1"},
		{"probabilities add up", head + "noise: {probe_failure: 0.6, blocked: 0.6}\n", "t.yaml:3: noise.blocked: probe_failure + blocked exceeds 1"},
		{"outage without seen_by", head + "outages:\n  - {services: [whatsapp], start: 2024-01-01T10:00:00Z, end: 2024-01-01T11:00:00Z}\n",
			"t.yaml:4: outages[0]: seen_by missing (probes, official or reports)"},
		{"outage seen by a crystal ball", head + "outages:\n  - services: [whatsapp]\n    start: 2024-01-01T10:00:00Z\n    end: 2024-01-01T11:00:00Z\n    seen_by: magic\n",
			`t.yaml:7: outages[0].seen_by: "magic" is not probes, official or reports`},
		{"outage outside the trace", head + "outages:\n  - {services: [whatsapp], start: 2024-01-01T09:00:00Z, end: 2024-01-01T11:00:00Z, seen_by: probes}\n",
			"t.yaml:4: outages[0].start: 2024-01-01T09:00:00Z to 2024-01-01T11:00:00Z is not within the trace's start and end"},
		{"outage of an unknown service", head + "outages:\n  - services:\n      - whatsapp\n      - myspace\n    start: 2024-01-01T10:00:00Z\n    end: 2024-01-01T11:00:00Z\n    seen_by: probes\n",
			`t.yaml:6: outages[0].services[1]: unknown service "myspace"`},
		{"failing without class", ev("services: [whatsapp], failing: all"), "t.yaml:4: events[0].failing: give the class the probes fail with"},
		{"class without failing", ev("services: [whatsapp], class: http_5xx"), "t.yaml:4: events[0].class: say which probes fail with it (failing: N, all or [names])"},
		{"unknown class", ev("services: [whatsapp], failing: all, class: http_418"), `t.yaml:4: events[0].class: unknown class "http_418"`},
		{"bad failing", ev("services: [whatsapp], failing: most, class: http_5xx"), "t.yaml:4: failing: want a positive number, all, or a list of probe names"},
		{"too many failing", ev("services: [whatsapp, threads], failing: 3, class: http_5xx"), "t.yaml:4: events[0].failing: threads has only 2 probes"},
		{"unknown probe", ev("services: [threads], failing: [web, api], class: http_5xx"), `t.yaml:4: events[0].failing: threads has no probe "api"`},
		{"does nothing", ev("services: [whatsapp]"), "t.yaml:4: events[0]: does nothing: give failing and class, official, or reports_per_hour"},
		{"no services", ev("official: Major outage"), "t.yaml:4: events[0]: name the services it affects, or the bot's own trouble (offline: true, control or local)"},
		{"offline with services", ev("offline: true, services: [whatsapp]"), "t.yaml:4: events[0].services: an event about the bot's own network (offline, control, local) names no service"},
		{"unknown kind", ev("services: [whatsapp], reports_per_hour: 10, kind: vibes"), `t.yaml:4: events[0].kind: unknown report kind "vibes" (want one of login, messages, media, app, web)`},
		{"kind without reports", ev("services: [whatsapp], official: Major outage, kind: login"), "t.yaml:4: events[0].kind: is the kind of reports_per_hour, which is not given"},
		{"event after the end", head + "events:\n  - {from: 2024-01-01T11:00:00Z, to: 2024-01-01T13:00:00Z, offline: true}\n",
			"t.yaml:4: events[0].from: 2024-01-01T11:00:00Z to 2024-01-01T13:00:00Z is not within the trace's start and end"},
		{"negative target", head + "targets: {recovery: -1m}\n", "t.yaml:3: targets.recovery: must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml), testCatalog())
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Parse error:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestParseReportsEveryMistake(t *testing.T) {
	yaml := `start: 2024-01-01T10:00:00Z
end: 2024-01-01T12:00:00Z
noise: {blocked: -0.1}
events:
  - {from: 2024-01-01T10:00:00Z, to: 2024-01-01T11:00:00Z, services: [myspace], official: Major outage}
`
	_, err := Parse("t.yaml", []byte(yaml), testCatalog())
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	want := []string{
		"t.yaml:3: noise.blocked: -0.1 is not a probability between 0 and 1",
		`t.yaml:5: events[0].services[0]: unknown service "myspace"`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestShippedTracesParse(t *testing.T) {
	for _, path := range shippedTraces(t) {
		if _, err := Load(path, defaultOptions().Catalog); err != nil {
			t.Errorf("%v", err)
		}
	}
}
