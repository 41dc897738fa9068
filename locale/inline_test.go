package locale

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
)

// renderInline renders every inline result of p for renderAll: titles and
// descriptions are plain, the messages HTML.
func renderInline(p *Printer, statuses map[string]checks.Status, now time.Time) []rendering {
	results := map[string]InlineResult{
		"InlineAll":     p.InlineAll(statuses, now),
		"InlineNoMatch": p.InlineNoMatch(statuses, now),
	}
	for _, id := range append(p.cat.IDs(), "gone") {
		results["InlineService "+id] = p.InlineService(id, statuses, now)
	}
	out := []rendering{{"InlineAlerts", p.InlineAlerts(), false}}
	for name, r := range results {
		out = append(out,
			rendering{name + " title", r.Title, false},
			rendering{name + " text", r.Text, true})
		if r.Description != "" {
			out = append(out, rendering{name + " description", r.Description, false})
		}
	}
	return out
}

func TestInlineResults(t *testing.T) {
	p := testPrinter(t)
	now := testNow()
	st := testStatuses()
	withEvidence := func(s checks.Status, edit func(*checks.Status)) map[string]checks.Status {
		edit(&s)
		return map[string]checks.Status{s.Service: s}
	}
	manyProbes := withEvidence(st["whatsapp"], func(s *checks.Status) {
		s.Evidence = append(s.Evidence, checks.Result{Probe: "dns", Class: checks.ClassDNSTimeout}, checks.Result{Probe: "media", Class: checks.ClassTCPRefused})
	})
	reported := withEvidence(st["whatsapp"], func(s *checks.Status) {
		s.State, s.Evidence = checks.Suspected, nil
		s.Reports = checks.ReportSignal{Count: 21, Baseline: 2.6, Top: "login", TopShare: 0.764, Window: checks.Duration(15 * time.Minute)}
	})
	official := withEvidence(st["whatsapp"], func(s *checks.Status) {
		s.State, s.Evidence, s.Official = checks.Degraded, nil, "Some users <may> have trouble"
	})
	allText := p.StatusAll(st, now)
	for _, tc := range []struct {
		name string
		got  InlineResult
		want InlineResult
	}{
		{"down, with a probe's evidence", p.InlineService("whatsapp", st, now), InlineResult{
			Title:       "🔴 WhatsApp: down",
			Description: "since 16:02 UTC (14 min)\n• web: server error",
			Text:        p.Status([]string{"whatsapp"}, nil, st, now),
		}},
		{"operational", p.InlineService("instagram", st, now), InlineResult{
			Title:       "🟢 Instagram: operational",
			Description: "since 13:16 UTC (3 h)",
			Text:        p.Status([]string{"instagram"}, nil, st, now),
		}},
		{"not checked, a name to escape", p.InlineService("evil", st, now), InlineResult{
			Title: "⚪ <b>&: not checked yet",
			Text:  "⚪ <b>&lt;b&gt;&amp;</b>: not checked yet",
		}},
		{"several probes fail", p.InlineService("whatsapp", manyProbes, now), InlineResult{
			Title:       "🔴 WhatsApp: down",
			Description: "since 16:02 UTC (14 min)\n• web: server error +2 more",
			Text:        p.Status([]string{"whatsapp"}, nil, manyProbes, now),
		}},
		{"people's reports", p.InlineService("whatsapp", reported, now), InlineResult{
			Title:       "🟡 WhatsApp: possibly having problems",
			Description: "since 16:02 UTC (14 min)\n• 21 people reported problems in 15 min (usually 3); most: login, 76 %",
			Text:        p.Status([]string{"whatsapp"}, nil, reported, now),
		}},
		{"Meta's word", p.InlineService("whatsapp", official, now), InlineResult{
			Title:       "🟠 WhatsApp: degraded",
			Description: "since 16:02 UTC (14 min)\n• Meta says: Some users <may> have trouble",
			Text:        p.Status([]string{"whatsapp"}, nil, official, now),
		}},
		{"all", p.InlineAll(st, now), InlineResult{
			Title:       "📋 All services",
			Description: "🔴 WhatsApp · 🟢 Instagram · ⚪ <b>&",
			Text:        allText,
		}},
		{"no match", p.InlineNoMatch(st, now), InlineResult{
			Title:       "❓ No service by that name",
			Description: "I watch WhatsApp, Instagram and <b>&. Choose this to post the status of every service.",
			Text:        allText,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
	if got := p.InlineAlerts(); got != "🔔 Get alerts" {
		t.Errorf("InlineAlerts = %q", got)
	}
}

func TestInlineResultsInItalian(t *testing.T) {
	p := testLocalesUTC(t).For("it")
	r := p.InlineService("whatsapp", testStatuses(), testNow())
	want := InlineResult{
		Title:       "🔴 WhatsApp: " + p.t.States["down"],
		Description: "dalle 16:02 UTC (14 min)\n• web: " + p.t.Classes["http_5xx"],
		Text:        p.Status([]string{"whatsapp"}, nil, testStatuses(), testNow()),
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if all := p.InlineAll(testStatuses(), testNow()); all.Title != "📋 Tutti i servizi" {
		t.Errorf("InlineAll title = %q, want it in Italian", all.Title)
	}
}

// TestInlineDescriptionsAreShort renders descriptions for a catalog of
// long names in every language: each is clipped to about two lines, and a
// cut never leaves an isolate open.
func TestInlineDescriptionsAreShort(t *testing.T) {
	var services []checks.Service
	for i := range 12 {
		services = append(services, checks.Service{ID: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("Service number %d of Meta", i)})
	}
	cat := checks.NewCatalog(services)
	l := testLocales(t, cat, time.UTC)
	st := map[string]checks.Status{"s0": {Service: "s0", State: checks.Degraded, Since: ago(time.Hour),
		Official: strings.Repeat("Some users may have trouble sending messages. ", 5)}}
	for _, tag := range l.Tags() {
		p := l.For(tag)
		for name, r := range map[string]InlineResult{
			"all": p.InlineAll(st, testNow()), "no match": p.InlineNoMatch(st, testNow()), "s0": p.InlineService("s0", st, testNow()),
		} {
			d := r.Description
			if n := utf8.RuneCountInString(d); n > maxInlineDescription+2 || !strings.HasSuffix(d, "…") {
				t.Errorf("%s %s: %d characters, want it cut to %d: %q", tag, name, n, maxInlineDescription, d)
			}
			if open, closed := strings.Count(d, fsi), strings.Count(d, pdi); open != closed {
				t.Errorf("%s %s: %d isolates opened, %d closed: %q", tag, name, open, closed, d)
			}
		}
	}
}

func TestPlainText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"🔴 <b>WhatsApp</b>: down", "🔴 WhatsApp: down"},
		{"<b>&lt;b&gt;&amp;</b> <code>x&lt;y</code> &quot;q&quot; &#39;", `<b>& x<y "q" '`},
		{"a < b", "a < b"},
	} {
		if got := plainText(tc.in); got != tc.want {
			t.Errorf("plainText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestInlineAllReadsRightToLeft(t *testing.T) {
	l := testLocalesUTC(t)
	for _, tag := range l.Tags() {
		p := l.For(tag)
		d := p.InlineAll(testStatuses(), testNow()).Description
		if got := strings.HasPrefix(d, rlm); got != p.rtl {
			t.Errorf("%s: description %q starts with a right-to-left mark: %v, want %v", tag, d, got, p.rtl)
		}
	}
}
