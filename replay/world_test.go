package replay

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
)

// mustParse parses a trace over testCatalog or fails the test.
func mustParse(t testing.TB, yaml string) *Trace {
	t.Helper()
	tr, err := Parse("t.yaml", []byte(yaml), testCatalog())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tr
}

// classes renders results as their classes, comma-separated.
func classes(rs []checks.Result) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(r.Class))
	}
	return b.String()
}

const noisyTrace = `
start: 2024-01-01T10:00:00Z
end: 2024-01-01T12:00:00Z
seed: 42
noise: {probe_failure: 0.1, blocked: 0.1, reports_per_hour: 2}
events:
  - {from: 2024-01-01T10:30:00Z, to: 2024-01-01T11:00:00Z, services: [whatsapp], failing: 1, class: dns_servfail, reports_per_hour: 600, kind: messages}
`

// moments are round times with a re-check 5 s after every third one.
func moments(start time.Time, n int) []time.Time {
	var out []time.Time
	for i := range n {
		t := start.Add(time.Duration(i) * 30 * time.Second)
		out = append(out, t)
		if i%3 == 0 {
			out = append(out, t.Add(5*time.Second))
		}
	}
	return out
}

func TestWorldIsDeterministic(t *testing.T) {
	tr := mustParse(t, noisyTrace)
	times := moments(tr.Start, 200)
	observeAll := func(tr *Trace) [][]checks.Observation {
		w := newWorld(tr, Options{Official: true, OfficialEvery: 2 * time.Minute})
		var out [][]checks.Observation
		for _, at := range times {
			out = append(out, w.observe(nil, at))
		}
		return out
	}
	first := observeAll(tr)
	if diff := cmp.Diff(first, observeAll(tr)); diff != "" {
		t.Errorf("the same trace observed twice differs (-first +second):\n%s", diff)
	}

	// What the probes saw, as one string.
	fingerprint := func(obs [][]checks.Observation) string {
		var b strings.Builder
		for _, round := range obs {
			for _, o := range round {
				b.WriteString(classes(o.Results) + ";")
			}
		}
		return b.String()
	}
	other := *tr
	other.Seed++
	if fingerprint(first) == fingerprint(observeAll(&other)) {
		t.Error("another seed gave the very same probe results")
	}

	// What a probe sees at a moment does not depend on what was observed
	// before, so a re-check cannot change the noise of later rounds.
	w := newWorld(tr, Options{Official: true, OfficialEvery: 2 * time.Minute})
	last := times[len(times)-1]
	got := w.observe([]string{"whatsapp"}, last)
	if diff := cmp.Diff(first[len(first)-1][0].Results, got[0].Results); diff != "" {
		t.Errorf("results at %s depend on the observations before (-with +without):\n%s", last, diff)
	}
}

func TestWorldResults(t *testing.T) {
	tr := mustParse(t, `
start: 2024-01-01T10:00:00Z
end: 2024-01-01T11:00:00Z
events:
  - {from: 2024-01-01T10:00:00Z, to: 2024-01-01T10:10:00Z, services: [whatsapp], failing: all, class: dns_servfail}
  - {from: 2024-01-01T10:05:00Z, to: 2024-01-01T10:10:00Z, services: [whatsapp], failing: [web], class: http_5xx}
  - {from: 2024-01-01T10:20:00Z, to: 2024-01-01T10:30:00Z, services: [whatsapp, threads], failing: 1, class: tcp_timeout}
  - {from: 2024-01-01T10:40:00Z, to: 2024-01-01T10:42:00Z, offline: true}
`)
	w := newWorld(tr, Options{Control: []checks.ProbeSpec{{Name: "google_204", Kind: "http", Role: checks.RoleWeb}}})
	for _, tc := range []struct {
		at                string
		whatsapp, threads string
		offline           bool
	}{
		{"2024-01-01T10:00:00Z", "dns_servfail,dns_servfail,dns_servfail", "ok,ok", false},
		{"2024-01-01T10:05:00Z", "dns_servfail,dns_servfail,http_5xx", "ok,ok", false},
		{"2024-01-01T10:10:00Z", "ok,ok,ok", "ok,ok", false},
		{"2024-01-01T10:20:05Z", "tcp_timeout,ok,ok", "tcp_timeout,ok", false},
		{"2024-01-01T10:41:00Z", "dns_timeout,tcp_timeout,http_timeout", "dns_timeout,http_timeout", true},
		{"2024-01-01T10:42:00Z", "ok,ok,ok", "ok,ok", false},
	} {
		t.Run(tc.at, func(t *testing.T) {
			obs := w.observe(nil, utc(tc.at))
			if len(obs) != 2 {
				t.Fatalf("observed %d services, want 2", len(obs))
			}
			got := []string{classes(obs[0].Results), classes(obs[1].Results)}
			if diff := cmp.Diff([]string{tc.whatsapp, tc.threads}, got); diff != "" {
				t.Errorf("classes of whatsapp, threads (-want +got):\n%s", diff)
			}
			for _, o := range obs {
				if o.ControlOK == tc.offline {
					t.Errorf("%s: ControlOK = %v, want %v", o.Service, o.ControlOK, !tc.offline)
				}
				if !o.At.Equal(utc(tc.at)) {
					t.Errorf("%s: At = %s, want %s", o.Service, o.At, tc.at)
				}
			}
		})
	}
	if obs := w.observe([]string{"threads"}, utc("2024-01-01T10:00:00Z")); len(obs) != 1 || obs[0].Service != "threads" {
		t.Errorf("observe(threads) = %+v, want threads alone", obs)
	}
}

func TestWorldNoise(t *testing.T) {
	tr := mustParse(t, `
start: 2024-01-01T00:00:00Z
end: 2024-01-03T00:00:00Z
seed: 1
noise: {probe_failure: 0.05, blocked: 0.2}
`)
	w := newWorld(tr, Options{})
	counts := map[string]map[checks.Class]int{} // by probe kind
	n := 0
	for at := tr.Start; at.Before(tr.End); at = at.Add(tr.Interval) {
		n++
		for _, o := range w.observe(nil, at) {
			for _, r := range o.Results {
				if counts[r.Kind] == nil {
					counts[r.Kind] = map[checks.Class]int{}
				}
				counts[r.Kind][r.Class]++
			}
		}
	}
	share := func(kind string, c checks.Class) float64 {
		total := 0
		for _, k := range counts[kind] {
			total += k
		}
		return float64(counts[kind][c]) / float64(total)
	}
	for _, tc := range []struct {
		kind  string
		class checks.Class
		want  float64
	}{
		{"dns", checks.ClassDNSTimeout, 0.05},
		{"tcp", checks.ClassTCPTimeout, 0.05},
		{"http", checks.ClassHTTPTimeout, 0.05},
		{"http", checks.ClassHTTPBlocked, 0.2},
		{"dns", checks.ClassHTTPBlocked, 0}, // a name server cannot answer 429
	} {
		// Over thousands of samples the share is within a few standard
		// deviations of the probability.
		if got := share(tc.kind, tc.class); math.Abs(got-tc.want) > 0.02 {
			t.Errorf("%s probes ended %s in %.3f of %d rounds, want about %.2f", tc.kind, tc.class, got, n, tc.want)
		}
	}
}

func TestWorldOfficial(t *testing.T) {
	tr := mustParse(t, `
start: 2024-01-01T10:00:00Z
end: 2024-01-01T11:00:00Z
events:
  - {from: 2024-01-01T10:01:00Z, to: 2024-01-01T10:09:00Z, services: [whatsapp], official: Major outage, product: WhatsApp Business API}
  - {from: 2024-01-01T10:03:00Z, to: 2024-01-01T10:05:00Z, services: [threads], official: Low disruptions}
  - {from: 2024-01-01T10:05:30Z, to: 2024-01-01T10:06:30Z, offline: true}
`)
	ok := checks.OfficialStatus{Org: "whatsapp-business-api", Name: "whatsapp-business-api", Level: checks.OfficialOK, Text: "No known issues"}
	major := checks.OfficialStatus{Org: "whatsapp-business-api", Name: "WhatsApp Business API", Level: checks.OfficialMajor,
		Text: "Major outage", Since: utc("2024-01-01T10:01:00Z")}
	minor := checks.OfficialStatus{Org: "metastatus", Name: "metastatus", Level: checks.OfficialMinor,
		Text: "Low disruptions", Since: utc("2024-01-01T10:03:00Z")}
	unknown := checks.OfficialStatus{Org: "whatsapp-business-api", Name: "whatsapp-business-api", Err: "timeout"}
	w := newWorld(tr, Options{Official: true, OfficialEvery: 2 * time.Minute})
	for _, tc := range []struct {
		at                string
		whatsapp, threads []checks.OfficialStatus
	}{
		{"2024-01-01T10:00:00Z", []checks.OfficialStatus{ok}, nil},
		// Meta's page is read every 2 minutes: the news of 10:01 waits.
		{"2024-01-01T10:01:30Z", []checks.OfficialStatus{ok}, nil},
		{"2024-01-01T10:02:00Z", []checks.OfficialStatus{major}, nil},
		// A service mapped to no product hears only what an event says.
		{"2024-01-01T10:04:00Z", []checks.OfficialStatus{major}, []checks.OfficialStatus{minor}},
		// Read while offline: unknown until the next read.
		{"2024-01-01T10:06:00Z", []checks.OfficialStatus{unknown}, nil},
		{"2024-01-01T10:07:00Z", []checks.OfficialStatus{unknown}, nil},
		{"2024-01-01T10:08:00Z", []checks.OfficialStatus{major}, nil},
		{"2024-01-01T10:10:00Z", []checks.OfficialStatus{ok}, nil},
	} {
		obs := w.observe(nil, utc(tc.at))
		got := [][]checks.OfficialStatus{obs[0].Official, obs[1].Official}
		if diff := cmp.Diff([][]checks.OfficialStatus{tc.whatsapp, tc.threads}, got); diff != "" {
			t.Errorf("%s: Official of whatsapp, threads (-want +got):\n%s", tc.at, diff)
		}
	}

	if obs := newWorld(tr, Options{}).observe(nil, utc("2024-01-01T10:04:00Z")); obs[0].Official != nil || obs[1].Official != nil {
		t.Errorf("with the status page off, Official = %+v, %+v; want none", obs[0].Official, obs[1].Official)
	}
}

// bucketsUpTo counts the reports sent at or before t into buckets, the
// plain way.
func bucketsUpTo(reports []report, t time.Time) []checks.ReportBucket {
	byStart := map[time.Time]*checks.ReportBucket{}
	var out []checks.ReportBucket
	for _, r := range reports {
		if r.at.After(t) {
			continue
		}
		start := r.at.Truncate(checks.ReportBucketSize)
		if byStart[start] == nil {
			byStart[start] = &checks.ReportBucket{Start: start, Kinds: map[string]int{}}
		}
		byStart[start].Count++
		byStart[start].Kinds[r.kind]++
		byStart[start].Last = r.at
	}
	for _, b := range byStart {
		out = append(out, *b)
	}
	return out
}

func TestWorldReports(t *testing.T) {
	tr := mustParse(t, noisyTrace)
	rule := checks.DefaultReportRule()
	w := newWorld(tr, Options{Reports: rule})
	wa := w.byID["whatsapp"]

	before := 0
	for _, r := range wa.reports {
		if r.at.Before(rule.Since(tr.Start)) || r.at.After(tr.End) {
			t.Fatalf("report at %s, outside the history and the trace", r.at)
		}
		if r.at.Before(tr.Start) {
			before++
		}
	}
	// 2 an hour over four weeks of history.
	if want := 2 * 24 * 28; math.Abs(float64(before-want)) > 0.1*float64(want) {
		t.Errorf("%d reports in the history before the start, want about %d", before, want)
	}

	spikes := 0
	for _, now := range moments(tr.Start.Add(25*time.Minute), 80) {
		got := w.observe([]string{"whatsapp"}, now)[0].Reports
		want := checks.ReportSpike(bucketsUpTo(wa.reports, now), now, rule)
		// The replay skips the baseline when no spike is possible; the
		// count and the verdict must be those of the bot.
		if got.Count != want.Count || got.Spike != want.Spike {
			t.Errorf("%s: count %d spike %v, want count %d spike %v", now.Format(time.TimeOnly), got.Count, got.Spike, want.Count, want.Spike)
		}
		if got.Spike {
			spikes++
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: signal (-want +got):\n%s", now.Format(time.TimeOnly), diff)
			}
		}
	}
	if spikes == 0 {
		t.Error("600 reports an hour never made a spike")
	}
}

// controlCatalog are control probes of every role.
func controlCatalog() []checks.ProbeSpec {
	return []checks.ProbeSpec{
		{Name: "google_204", Kind: "http", Role: checks.RoleWeb},
		{Name: "dns_google", Kind: "dns", Role: checks.RolePublicDNS, Resolver: "8.8.8.8:53"},
		{Name: "dns_system", Kind: "dns", Role: checks.RoleSystemDNS},
		{Name: "route_ripe", Kind: "tcp", Role: checks.RoleRoute},
	}
}

func TestWorldOwnNetwork(t *testing.T) {
	cat := []checks.Service{{ID: "facebook", Probes: []checks.ProbeSpec{
		{Name: "dns", Kind: "dns", Target: "facebook.com", Resolvers: []string{"1.1.1.1:53", "8.8.8.8:53"}},
		{Name: "dns_authoritative", Kind: "dns", Target: "facebook.com", Authoritative: true},
		{Name: "cdn_dns", Kind: "dns", Target: "static.xx.fbcdn.net"},
		{Name: "web", Kind: "http", Target: "https://www.facebook.com/"},
	}}}
	tr, err := Parse("t.yaml", []byte(`
start: 2024-01-01T10:00:00Z
end: 2024-01-01T11:00:00Z
events:
  - {from: 2024-01-01T10:00:00Z, to: 2024-01-01T10:10:00Z, local: [system_dns]}
  - {from: 2024-01-01T10:10:00Z, to: 2024-01-01T10:20:00Z, local: [public_dns]}
  - {from: 2024-01-01T10:20:00Z, to: 2024-01-01T10:30:00Z, local: [route]}
  - {from: 2024-01-01T10:30:00Z, to: 2024-01-01T10:40:00Z, control: [dns_google]}
`), cat)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(tr, Options{Catalog: cat, Control: controlCatalog()})
	for _, tc := range []struct {
		at, probes, control string
	}{
		// The system resolver: every probe by name, and the controls that
		// need it; the public resolvers still answer.
		{"2024-01-01T10:05:00Z", "ok,dns_timeout,dns_timeout,http_timeout", "http_timeout,ok,dns_timeout,tcp_timeout"},
		// Public resolvers out of reach: the probes that ask them.
		{"2024-01-01T10:15:00Z", "dns_timeout,ok,ok,ok", "ok,dns_timeout,ok,ok"},
		// General transit: everything but plain name lookups.
		{"2024-01-01T10:25:00Z", "ok,dns_timeout,ok,http_timeout", "ok,ok,ok,tcp_timeout"},
		// One control probe on its own.
		{"2024-01-01T10:35:00Z", "ok,ok,ok,ok", "ok,dns_timeout,ok,ok"},
		{"2024-01-01T10:45:00Z", "ok,ok,ok,ok", "ok,ok,ok,ok"},
	} {
		obs := w.observe(nil, utc(tc.at))
		if got := classes(obs[0].Results); got != tc.probes {
			t.Errorf("%s: probes %s, want %s", tc.at, got, tc.probes)
		}
		if got := classes(obs[0].Control); got != tc.control {
			t.Errorf("%s: control %s, want %s", tc.at, got, tc.control)
		}
	}
}

func TestWorldRateAndTargets(t *testing.T) {
	cat := []checks.Service{{ID: "whatsapp", Probes: []checks.ProbeSpec{
		{Name: "chat_tcp", Kind: "tcp", Targets: []string{"g.whatsapp.net:5222", "g.whatsapp.net:443"}},
		{Name: "web", Kind: "http", Target: "https://www.whatsapp.com/"},
	}}}
	tr, err := Parse("t.yaml", []byte(`
start: 2024-01-01T10:00:00Z
end: 2024-01-01T20:00:00Z
events:
  - {from: 2024-01-01T10:00:00Z, to: 2024-01-01T20:00:00Z, services: [whatsapp], failing: [chat_tcp], class: tcp_timeout, targets: ["g.whatsapp.net:5222"]}
  - {from: 2024-01-01T10:00:00Z, to: 2024-01-01T20:00:00Z, services: [whatsapp], failing: [web], class: http_5xx, rate: 0.4}
`), cat)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(tr, Options{Catalog: cat})
	failed, n := 0, 0
	for at := tr.Start; at.Before(tr.End); at = at.Add(30 * time.Second) {
		r := w.observe(nil, at)[0].Results
		if r[0].Class != checks.ClassOK || !slices.Equal(r[0].Failing, []string{"g.whatsapp.net:5222"}) {
			t.Fatalf("%s: chat_tcp %s failing %v, want ok through 443 with 5222 failing", at, r[0].Class, r[0].Failing)
		}
		n++
		if r[1].Class == checks.ClassHTTP5xx {
			failed++
		}
	}
	if share := float64(failed) / float64(n); math.Abs(share-0.4) > 0.05 {
		t.Errorf("web failed in %.2f of the checks, want about 0.4", share)
	}
}

func TestWorldReporters(t *testing.T) {
	// People who report three times, ten minutes apart, count once per
	// half hour; their languages follow the shares.
	tr := mustParse(t, `
start: 2024-01-01T10:00:00Z
end: 2024-01-01T14:00:00Z
seed: 9
events:
  - {from: 2024-01-01T10:00:00Z, to: 2024-01-01T13:00:00Z, services: [whatsapp], reports_per_hour: 200, kind: media,
     repeat: 3, repeat_every: 10m, languages: {it: 0.75, en: 0.25}}
`)
	rule := checks.DefaultReportRule()
	w := newWorld(tr, Options{Reports: rule})
	wa := w.byID["whatsapp"]
	people := map[uint64]int{}
	langs := map[string]int{}
	for _, r := range wa.reports {
		if people[r.person] == 0 {
			langs[r.lang]++
		}
		people[r.person]++
	}
	if len(people) < 500 || len(people) > 700 {
		t.Errorf("%d people, want about 600", len(people))
	}
	if it := float64(langs["it"]) / float64(len(people)); math.Abs(it-0.75) > 0.05 {
		t.Errorf("%.2f of the people report in Italian, want about 0.75", it)
	}
	counted := 0
	wa.receive(tr.End, time.Duration(rule.PerUser))
	for _, b := range wa.known {
		counted += b.Count
	}
	if counted != len(people) {
		t.Errorf("%d reports counted, want one per person (%d): the repeats fall within per_user", counted, len(people))
	}
}

func TestWorldReportRhythm(t *testing.T) {
	hours := make([]string, 24)
	for h := range hours {
		hours[h] = "0"
	}
	hours[20] = "60"
	tr := mustParse(t, `
start: 2024-01-02T00:00:00Z
end: 2024-01-03T00:00:00Z
noise: {reports_by_hour: [`+strings.Join(hours, ", ")+`]}
`)
	w := newWorld(tr, Options{Reports: checks.DefaultReportRule()})
	for _, r := range w.byID["whatsapp"].reports {
		if r.at.UTC().Hour() != 20 {
			t.Fatalf("a report at %s, outside the only hour with a rate", r.at)
		}
	}
	if n := len(w.byID["whatsapp"].reports); n < 29*40 || n > 29*80 {
		t.Errorf("%d reports in 29 evenings of history and trace, want about %d", n, 29*60)
	}
}
