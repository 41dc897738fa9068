package locale

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale/localetest"
)

func TestReportReplies(t *testing.T) {
	p := testPrinter(t)
	const window, period = 15 * time.Minute, 30 * time.Minute
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{
			name: "counted",
			got:  p.ReportCounted("whatsapp", checks.ReportSignal{Count: 12, Baseline: 1.4}, window),
			want: "Thanks — counted. 12 people reported WhatsApp problems in the last 15 min (usually 1).",
		},
		{
			name: "counted, one person, what people report most",
			got:  p.ReportCounted("instagram", checks.ReportSignal{Count: 1, Baseline: 0.5, Top: "login", TopShare: 0.764}, window),
			want: "Thanks — counted. 1 person reported Instagram problems in the last 15 min (usually 1). Most reports: login, 76 %.",
		},
		{
			name: "counted, name escaped",
			got:  p.ReportCounted("evil", checks.ReportSignal{Count: 3, Top: "<x>", TopShare: 1}, 10*time.Minute),
			want: "Thanks — counted. 3 people reported &lt;b&gt;&amp; problems in the last 10 min (usually 0). Most reports: &lt;x&gt;, 100 %.",
		},
		{
			name: "already",
			got:  p.ReportAlready("evil", period),
			want: "You already reported &lt;b&gt;&amp; in the last 30 min.",
		},
		{
			name: "choose",
			got:  p.ReportChoose(),
			want: "🙋 Which service is giving you trouble? Tap it to report it. " +
				"To say what fails, send e.g. <code>/report whatsapp login</code>.",
		},
		{
			name: "unknown service, with the nearest and without all",
			got:  p.ReportUnknownService("whatsap"),
			want: "❓ I don't know “whatsap”. Did you mean <code>whatsapp</code>?\n" +
				"Valid names: <code>whatsapp</code> (wa), <code>instagram</code> (ig, insta), <code>evil</code> (x&lt;y).",
		},
		{
			name: "unknown kind",
			got:  p.ReportUnknownKind("whatsapp", "<crash>"),
			want: "❓ I don't know the problem “&lt;crash&gt;”. I count <code>login</code>, <code>messages</code>, " +
				"<code>media</code>, <code>app</code> and <code>web</code>, e.g. <code>/report whatsapp login</code>.",
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

func TestReportPlainTexts(t *testing.T) {
	p := testPrinter(t)
	for _, tc := range []struct {
		name, got, want string
	}{
		{"counted", p.ReportCountedAlert("evil", checks.ReportSignal{Count: 2, Baseline: 2.5, Top: "media", TopShare: 0.5}, 15*time.Minute),
			"Thanks — counted. 2 people reported <b>& problems in the last 15 min (usually 3). Most reports: media, 50 %."},
		{"already", p.ReportAlreadyAlert("evil", time.Hour), "You already reported <b>& in the last 1 h."},
		{"button", p.AffectedButton("evil"), "🙋 I'm affected: <b>&"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
			// Callback answers hold at most 200 characters.
			if n := len([]rune(tc.got)); n > 200 {
				t.Errorf("%d characters, too long for a callback answer", n)
			}
		})
	}
}

func TestHelpMentionsReport(t *testing.T) {
	if got := testPrinter(t).Help(); !strings.Contains(got, "<code>/report whatsapp login</code>") {
		t.Errorf("Help does not show how to report:\n%s", got)
	}
}
