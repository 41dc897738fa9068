package locale

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale/localetest"
)

// testNow is the moment tests render at, 16:16 UTC; their times are given
// relative to it.
func testNow() time.Time { return time.Date(2025, 3, 4, 16, 16, 0, 0, time.UTC) }

func ago(d time.Duration) time.Time { return testNow().Add(-d) }

// testCatalog has a service whose name and alias must be escaped.
func testCatalog() *checks.Catalog {
	return checks.NewCatalog([]checks.Service{
		{ID: "whatsapp", Name: "WhatsApp", Aliases: []string{"wa"}},
		{ID: "instagram", Name: "Instagram", Aliases: []string{"ig", "insta"}},
		{ID: "evil", Name: "<b>&", Aliases: []string{"x<y"}},
	})
}

// testLocales loads every catalog for cat, showing times in loc.
func testLocales(t testing.TB, cat *checks.Catalog, loc *time.Location) *Locales {
	t.Helper()
	l, err := New(cat, loc)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// sharedLocales are the Locales of testCatalog in UTC. Loading the catalogs
// takes tens of milliseconds (far more under -race) and Locales never
// change, so the tests share them.
var sharedLocales = sync.OnceValues(func() (*Locales, error) { return New(testCatalog(), time.UTC) })

// testLocalesUTC is sharedLocales for a test.
func testLocalesUTC(t testing.TB) *Locales {
	t.Helper()
	l, err := sharedLocales()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newPrinter is the English Printer for cat and loc.
func newPrinter(t testing.TB, cat *checks.Catalog, loc *time.Location) *Printer {
	t.Helper()
	return testLocales(t, cat, loc).For("en")
}

// testPrinter is the English Printer for testCatalog.
func testPrinter(t testing.TB) *Printer {
	t.Helper()
	return testLocalesUTC(t).For("en")
}

func TestNotification(t *testing.T) {
	web503 := checks.Result{Probe: "web", Class: checks.ClassHTTP5xx, Detail: "HTTP 503"}
	dns := checks.Result{Probe: "dns", Class: checks.ClassDNSServFail}
	for _, tc := range []struct {
		name string
		incs []checks.Incident
		want string
	}{
		{
			name: "down",
			incs: []checks.Incident{{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(14 * time.Minute),
				Evidence: []checks.Result{web503, dns}}},
			want: "🔴 <b>WhatsApp is down</b>\nsince 16:02 UTC (14 min so far)\n" +
				"• web: server error (HTTP 503)\n• dns: DNS server failure",
		},
		{
			name: "degraded",
			incs: []checks.Incident{{Service: "instagram", State: checks.Degraded, Worst: checks.Degraded, Start: ago(45 * time.Second)}},
			want: "🟠 <b>Instagram is degraded</b>\nsince 16:15 UTC (45 s so far)",
		},
		{
			name: "resolved after down",
			incs: []checks.Incident{{Service: "whatsapp", State: checks.Operational, Worst: checks.Down,
				Start: ago(28 * time.Minute), End: ago(14 * time.Minute), Evidence: []checks.Result{web503}}},
			want: "✅ <b>WhatsApp is back</b>\nwas down for 14 min, back since 16:02 UTC",
		},
		{
			name: "resolved after degraded, started yesterday",
			incs: []checks.Incident{{Service: "instagram", State: checks.Operational, Worst: checks.Degraded,
				Start: ago(27 * time.Hour), End: ago(time.Hour)}},
			want: "✅ <b>Instagram is back</b>\nwas degraded for 1 d 2 h, back since 15:16 UTC",
		},
		{
			name: "several at once",
			incs: []checks.Incident{
				{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(2*time.Hour + 14*time.Minute), Evidence: []checks.Result{dns}},
				{Service: "instagram", State: checks.Operational, Worst: checks.Down, Start: ago(time.Hour), End: ago(5 * time.Minute)},
			},
			want: "🔴 <b>WhatsApp is down</b>\nsince 14:02 UTC (2 h 14 min so far)\n• dns: DNS server failure\n\n" +
				"✅ <b>Instagram is back</b>\nwas down for 55 min, back since 16:11 UTC",
		},
		{
			name: "open since another day shows the date",
			incs: []checks.Incident{{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(17 * time.Hour)}},
			want: "🔴 <b>WhatsApp is down</b>\nsince Mar 3, 23:16 UTC (17 h so far)",
		},
		{
			name: "evidence beyond five is counted",
			incs: []checks.Incident{{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(time.Minute),
				Evidence: []checks.Result{dns, dns, dns, dns, dns, dns, dns}}},
			want: "🔴 <b>WhatsApp is down</b>\nsince 16:15 UTC (1 min so far)\n" +
				strings.Repeat("• dns: DNS server failure\n", 5) + "+2 more",
		},
		{
			name: "data is escaped",
			incs: []checks.Incident{{Service: "evil", State: checks.Down, Worst: checks.Down, Start: ago(time.Minute),
				Evidence: []checks.Result{{Probe: "<i>", Class: "weird<class>", Detail: `body "<html>" & more`}}}},
			want: "🔴 <b>&lt;b&gt;&amp; is down</b>\nsince 16:15 UTC (1 min so far)\n" +
				"• &lt;i&gt;: weird&lt;class&gt; (body &#34;&lt;html&gt;&#34; &amp; more)",
		},
		{
			name: "unknown service id shows as itself",
			incs: []checks.Incident{{Service: "myspace<", State: checks.Degraded, Worst: checks.Degraded, Start: ago(time.Minute)}},
			want: "🟠 <b>myspace&lt; is degraded</b>\nsince 16:15 UTC (1 min so far)",
		},
		{
			name: "nothing",
			want: "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := testPrinter(t).Notification(tc.incs, testNow())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Notification mismatch (-want +got):\n%s", diff)
			}
			if err := localetest.CheckHTML(got); err != nil {
				t.Errorf("bad HTML: %v\n%s", err, got)
			}
		})
	}
}

func TestNotificationFitsOneMessage(t *testing.T) {
	// Details that triple when escaped and names in a 2-unit script make the
	// raw length, the escaped length and the UTF-16 length all differ.
	long := checks.Result{Probe: "probe-𝔁", Class: checks.ClassTCPTimeout, Detail: strings.Repeat("&<>𝔁", 100)}
	var many []checks.Result
	for range 200 {
		many = append(many, long)
	}
	var incs []checks.Incident
	for range 200 {
		incs = append(incs, checks.Incident{Service: "evil", State: checks.Down, Worst: checks.Down, Start: ago(time.Minute), Evidence: []checks.Result{long}})
	}
	for _, tc := range []struct {
		name      string
		incs      []checks.Incident
		shortened bool
	}{
		{"one incident with 200 evidence lines", []checks.Incident{{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(time.Minute), Evidence: many}}, false},
		{"200 incidents", incs, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := testPrinter(t).Notification(tc.incs, testNow())
			if n := utf16Len(got); n > MaxMessage {
				t.Errorf("length %d UTF-16 units, want ≤ %d", n, MaxMessage)
			}
			if err := localetest.CheckHTML(got); err != nil {
				t.Errorf("bad HTML: %v", err)
			}
			if s := strings.HasSuffix(got, "… shortened to fit, send /status for the rest"); s != tc.shortened {
				t.Errorf("ends with the shortening note = %v, want %v:\n…%s", s, tc.shortened, got[max(0, len(got)-200):])
			}
			if !tc.shortened && !strings.HasSuffix(got, "\n+195 more") {
				t.Errorf("evidence not capped at 5 with a count:\n%s", got)
			}
		})
	}
}

func TestFitKeepsWholeLines(t *testing.T) {
	p := testPrinter(t)
	line := strings.Repeat("a", 1000)
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"fits exactly", []string{strings.Repeat("a", 2047), strings.Repeat("b", 2048)}, strings.Repeat("a", 2047) + "\n" + strings.Repeat("b", 2048)},
		{"one unit too long", []string{strings.Repeat("a", 2048), strings.Repeat("b", 2048)}, strings.Repeat("a", 2048) + "\n" + p.t.Shortened},
		{"drops whole lines only", []string{line, line, line, line, line}, strings.Repeat(line+"\n", 4) + p.t.Shortened},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := p.fit(tc.lines)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("fit mismatch (-want +got):\n%s", diff)
			}
			if n := utf16Len(got); n > MaxMessage {
				t.Errorf("length %d, want ≤ %d", n, MaxMessage)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "0 s"},
		{0, "0 s"},
		{45 * time.Second, "45 s"},
		{59*time.Second + 999*time.Millisecond, "59 s"},
		{time.Minute, "1 min"},
		{14*time.Minute + 59*time.Second, "14 min"},
		{time.Hour, "1 h"},
		{2*time.Hour + 14*time.Minute + 30*time.Second, "2 h 14 min"},
		{24 * time.Hour, "1 d"},
		{27*time.Hour + 59*time.Minute, "1 d 3 h"},
		{400 * 24 * time.Hour, "400 d"},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			if got := testPrinter(t).duration(tc.d); got != tc.want {
				t.Errorf("duration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestTimeZone(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	p := newPrinter(t, checks.NewCatalog([]checks.Service{{ID: "whatsapp", Name: "WhatsApp"}}), berlin)
	got := p.Notification([]checks.Incident{{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(time.Minute)}}, testNow())
	if want := "since 17:15 CET (1 min so far)"; !strings.Contains(got, want) {
		t.Errorf("Notification in CET = %q, want it to contain %q", got, want)
	}
}

func TestCommandDescription(t *testing.T) {
	p := testPrinter(t)
	for _, cmd := range []string{"start", "help", "services", "subscribe", "unsubscribe", "list", "status", "report", "lang"} {
		t.Run(cmd, func(t *testing.T) {
			if d := p.CommandDescription(cmd); len(d) < 3 || len(d) > 256 {
				t.Errorf("CommandDescription(%q) = %q, want 3-256 characters", cmd, d)
			}
		})
	}
	if d := p.CommandDescription("nosuch"); d != "" {
		t.Errorf("CommandDescription(nosuch) = %q, want empty", d)
	}
}

func TestBackAfter(t *testing.T) {
	p := newPrinter(t, checks.NewCatalog([]checks.Service{{ID: "evil", Name: "<b>&"}}), time.UTC)
	got := p.BackAfter(checks.Incident{Service: "evil", Start: ago(2*time.Hour + 14*time.Minute), End: testNow()})
	if want := "✅ <b>&lt;b&gt;&amp; is back</b> after 2 h 14 min"; got != want {
		t.Errorf("BackAfter = %q, want %q", got, want)
	}
}

func TestNotificationOtherEvidenceAndMetaWide(t *testing.T) {
	reports := checks.ReportSignal{Count: 240, Baseline: 2.6, Spike: true, Top: "login", TopShare: 0.764, Window: checks.Duration(15 * time.Minute)}
	incs := []checks.Incident{
		{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(time.Minute), Group: 7,
			Official: "WhatsApp Business API: Major outage", Reports: reports},
		{Service: "instagram", State: checks.Down, Worst: checks.Down, Start: ago(time.Minute), Group: 7},
	}
	got := testPrinter(t).Notification(incs, testNow())
	want := "⚠️ <b>Meta-wide outage:</b> <b>WhatsApp</b> and <b>Instagram</b>\n\n" +
		"🔴 <b>WhatsApp is down</b>\nsince 16:15 UTC (1 min so far)\n" +
		"• Meta says: WhatsApp Business API: Major outage\n" +
		"• 240 people reported problems in 15 min (usually 3); most: login, 76 %\n\n" +
		"🔴 <b>Instagram is down</b>\nsince 16:15 UTC (1 min so far)"
	if got != want {
		t.Errorf("Notification =\n%s\nwant\n%s", got, want)
	}
	if err := localetest.CheckHTML(got); err != nil {
		t.Error(err)
	}
}

func TestFill(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"{a} and {b}", "1 and {a}"},
		{"{x {a}}", "{x 1}"},
		{"{missing} {", "{missing} {"},
		{"no placeholders", "no placeholders"},
	} {
		if got := testPrinter(t).fill(tc.text, plain("a", "1"), plain("b", "{a}")); got != tc.want {
			t.Errorf("fill(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
