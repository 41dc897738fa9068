package locale

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale/localetest"
)

func testStatuses() map[string]checks.Status {
	return map[string]checks.Status{
		"whatsapp": {Service: "whatsapp", State: checks.Down, Since: ago(14 * time.Minute), LastCheck: ago(10 * time.Second),
			Evidence: []checks.Result{{Probe: "web", Class: checks.ClassHTTP5xx, Detail: "HTTP 503"}}},
		"instagram": {Service: "instagram", State: checks.Operational, Since: ago(3 * time.Hour), LastCheck: ago(10 * time.Second)},
	}
}

func TestReplies(t *testing.T) {
	p := testPrinter(t)
	validNames := "Valid names: <code>whatsapp</code> (wa), <code>instagram</code> (ig, insta), <code>evil</code> (x&lt;y), or <code>all</code>."
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{
			name: "subscribed one",
			got:  p.Subscribed(Change{Done: []string{"whatsapp"}}),
			want: "✅ Subscribed to <b>WhatsApp</b>. I'll tell you here when it goes down and when it is back.",
		},
		{
			name: "subscribed several, one already, one unknown",
			got:  p.Subscribed(Change{Done: []string{"whatsapp", "instagram", "evil"}, Already: []string{"whatsapp"}, Unknown: []string{"whatsap"}}),
			want: "✅ Subscribed to <b>WhatsApp</b>, <b>Instagram</b> and <b>&lt;b&gt;&amp;</b>. I'll tell you here when they go down and when they are back.\n" +
				"Already subscribed to <b>WhatsApp</b>.\n" +
				"❓ I don't know “whatsap”. Did you mean <code>whatsapp</code>?\n" + validNames,
		},
		{
			name: "unknown without a near name, escaped and clipped",
			got:  p.Subscribed(Change{Unknown: []string{"<script>" + strings.Repeat("z", 100)}}),
			want: "❓ I don't know “&lt;script&gt;" + strings.Repeat("z", 55) + "…”.\n" + validNames,
		},
		{
			name: "placeholders in data stay as typed",
			got:  p.Subscribed(Change{Unknown: []string{"{nearest}{name}"}}),
			want: "❓ I don't know “{nearest}{name}”.\n" + validNames,
		},
		{
			name: "unsubscribed and not subscribed",
			got:  p.Unsubscribed(Change{Done: []string{"instagram"}, Already: []string{"whatsapp", "evil"}}),
			want: "🔕 Unsubscribed from <b>Instagram</b>.\nThis chat wasn't subscribed to <b>WhatsApp</b> and <b>&lt;b&gt;&amp;</b>.",
		},
		{
			name: "list",
			got:  p.List([]string{"whatsapp", "evil"}),
			want: "📋 This chat follows <b>WhatsApp</b> and <b>&lt;b&gt;&amp;</b>.",
		},
		{
			name: "list in catalog order, unknown ids last, no repeats",
			got:  p.List([]string{"gone", "instagram", "whatsapp", "instagram"}),
			want: "📋 This chat follows <b>WhatsApp</b>, <b>Instagram</b> and <b>gone</b>.",
		},
		{
			name: "valid names of a service without aliases",
			got: newPrinter(t, checks.NewCatalog([]checks.Service{{ID: "threads", Name: "Threads"}}), nil).
				Subscribed(Change{Unknown: []string{"x"}}),
			want: "❓ I don't know “x”.\nValid names: <code>threads</code>, or <code>all</code>.",
		},
		{
			name: "list empty",
			got:  p.List(nil),
			want: "This chat follows nothing yet. Send /subscribe to choose.",
		},
		{
			name: "services",
			got:  p.Services(testStatuses()),
			want: "<b>Services I watch</b>\n" +
				"🔴 <b>WhatsApp</b>: down. Names: <code>whatsapp</code> (wa)\n" +
				"🟢 <b>Instagram</b>: operational. Names: <code>instagram</code> (ig, insta)\n" +
				"⚪ <b>&lt;b&gt;&amp;</b>: not checked yet. Names: <code>evil</code> (x&lt;y)\n" +
				"Follow one with /subscribe and any of its names.",
		},
		{
			name: "status of all",
			got:  p.StatusAll(testStatuses(), testNow()),
			want: "<b>Status</b> at 16:16 UTC\n" +
				"🔴 <b>WhatsApp</b>: down since 16:02 UTC (14 min)\n" +
				"🟢 <b>Instagram</b>: operational\n" +
				"⚪ <b>&lt;b&gt;&amp;</b>: not checked yet",
		},
		{
			name: "status of some",
			got:  p.Status([]string{"whatsapp", "instagram", "evil"}, []string{"thread"}, testStatuses(), testNow()),
			want: "🔴 <b>WhatsApp is down</b>\nsince 16:02 UTC (14 min)\nlast checked 16:15 UTC\n• web: server error (HTTP 503)\n\n" +
				"🟢 <b>Instagram is operational</b>\nsince 13:16 UTC (3 h)\nlast checked 16:15 UTC\n\n" +
				"⚪ <b>&lt;b&gt;&amp;</b>: not checked yet\n\n" +
				"❓ I don't know “thread”.\n" + validNames,
		},
		{
			name: "status unknown explains itself",
			got: p.Status([]string{"whatsapp"}, nil, map[string]checks.Status{
				"whatsapp": {State: checks.Unknown, Since: ago(time.Minute)},
			}, testNow()),
			want: "⚪ <b>WhatsApp: status unknown</b>\nsince 16:15 UTC (1 min)\n" +
				"This monitor cannot reach the internet right now, so it cannot tell.",
		},
		{
			name: "welcome names every service",
			got:  p.Welcome(),
			want: "👋 <b>Hi!</b> I watch <b>WhatsApp</b>, <b>Instagram</b> and <b>&lt;b&gt;&amp;</b> from the outside " +
				"and tell you here when one of them goes down and when it is back.\n\n" +
				"Follow a service with <code>/subscribe whatsapp</code>, or send /subscribe alone to pick from a list. " +
				"/status shows how everything is doing right now, /help lists every command.",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if err := localetest.CheckHTML(tc.got); err != nil {
				t.Errorf("bad HTML: %v\n%s", err, tc.got)
			}
		})
	}
}

func TestFixedRepliesAreHTML(t *testing.T) {
	p := testPrinter(t)
	for name, got := range map[string]string{
		"GroupWelcome": p.GroupWelcome(),
		"Help":         p.Help(),
		"NotAdmin":     p.NotAdmin(),
		"Apology":      p.Apology(),
		"Choose":       p.Choose(),
	} {
		t.Run(name, func(t *testing.T) {
			if got == "" {
				t.Fatal("empty")
			}
			if err := localetest.CheckHTML(got); err != nil {
				t.Errorf("bad HTML: %v\n%s", err, got)
			}
		})
	}
}

func TestPlainTextsAreNotEscaped(t *testing.T) {
	p := testPrinter(t)
	for _, tc := range []struct {
		name, got, want string
	}{
		{"button on", p.Button("evil", true), "✅ <b>&"},
		{"button off", p.Button("whatsapp", false), "➕ WhatsApp"},
		{"toggled on", p.Toggled("evil", true), "Following <b>&"},
		{"toggled off", p.Toggled("whatsapp", false), "No longer following WhatsApp"},
		{"not admin", p.NotAdminAlert(), "Only group admins can change what this group follows."},
		{"apology", p.ApologyAlert(), "Something went wrong, please try again."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestStatusShowsEveryKindOfEvidence(t *testing.T) {
	st := map[string]checks.Status{"whatsapp": {
		Service: "whatsapp", State: checks.Suspected, Since: ago(time.Minute), LastCheck: ago(time.Minute),
		Official: "WhatsApp Business API: Major outage",
		Reports:  checks.ReportSignal{Count: 12, Baseline: 1, Spike: true, Top: "messages", TopShare: 0.5, Window: checks.Duration(15 * time.Minute)},
	}}
	got := testPrinter(t).Status([]string{"whatsapp"}, nil, st, testNow())
	want := "🟡 <b>WhatsApp may be having problems (checking)</b>\nsince 16:15 UTC (1 min)\nlast checked 16:15 UTC\n" +
		"• Meta says: WhatsApp Business API: Major outage\n" +
		"• 12 people reported problems in 15 min (usually 1); most: messages, 50 %"
	if got != want {
		t.Errorf("Status =\n%s\nwant\n%s", got, want)
	}
}

func TestStatusShowsUnverifiedProbes(t *testing.T) {
	proven, unproven := &checks.ProbeTrack{Proven: true}, &checks.ProbeTrack{}
	for _, tc := range []struct {
		name   string
		probes map[string]*checks.ProbeTrack
		state  checks.State
		want   string
	}{
		{"some not counted yet", map[string]*checks.ProbeTrack{"web": proven, "chat_tcp": unproven, "chat_ws": unproven},
			checks.Operational, "Not counted yet, never answered as expected from here: chat_tcp, chat_ws"},
		{"none counted yet", map[string]*checks.ProbeTrack{"web": unproven, "chat_tcp": unproven},
			checks.Unknown, "Just started watching it: its checks must work a few times before they count."},
		{"offline", map[string]*checks.ProbeTrack{"web": proven},
			checks.Unknown, "This monitor cannot reach the internet right now, so it cannot tell."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := map[string]checks.Status{"whatsapp": {Service: "whatsapp", State: tc.state, Probes: tc.probes,
				Since: ago(time.Minute), LastCheck: ago(time.Minute)}}
			got := testPrinter(t).Status([]string{"whatsapp"}, nil, st, testNow())
			if !strings.HasSuffix(got, "\n"+tc.want) {
				t.Errorf("Status =\n%s\nwant it to end with\n%s", got, tc.want)
			}
		})
	}
}

func TestReportsSayWhereTheyComeFrom(t *testing.T) {
	regional := checks.ReportSignal{Count: 30, Baseline: 1, Spike: true, Window: checks.Duration(15 * time.Minute),
		Where: []string{"it"}, WhereShare: 0.9, Regional: true}
	mixed := regional
	mixed.Where, mixed.WhereShare, mixed.Regional = []string{"pt", "es"}, 0.71, false
	for _, tc := range []struct {
		lang string
		sig  checks.ReportSignal
		want string
	}{
		{"en", regional, "mainly people writing in Italian: 90 % of the reports (a language, not a place)"},
		{"it", regional, "soprattutto chi scrive in italiano: il 90% delle segnalazioni"},
		{"en", mixed, "most reports in Portuguese and Spanish, 71 %"},
	} {
		st := map[string]checks.Status{"whatsapp": {Service: "whatsapp", State: checks.Degraded, Reports: tc.sig,
			Since: ago(time.Minute), LastCheck: ago(time.Minute)}}
		got := testLocalesUTC(t).For(tc.lang).Status([]string{"whatsapp"}, nil, st, testNow())
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: Status =\n%s\nwant it to say %q", tc.lang, got, tc.want)
		}
	}
}
