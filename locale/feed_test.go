package locale

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
)

func TestFeedTitle(t *testing.T) {
	p := testLocalesUTC(t).For("en")
	if got, want := p.FeedTitle(), "Outages of WhatsApp, Instagram and <b>&"; got != want {
		t.Errorf("FeedTitle() = %q, want %q", got, want)
	}
}

func TestFeedEntry(t *testing.T) {
	p := testLocalesUTC(t).For("en")
	web := []checks.Result{{Probe: "web", Class: checks.ClassHTTP5xx, Detail: "HTTP 503"}}
	start := time.Date(2025, 3, 4, 14, 2, 0, 0, time.UTC)
	end := start.Add(72 * time.Minute)
	tests := []struct {
		name    string
		incs    []checks.Incident
		title   string
		content []string // lines
	}{
		{
			name: "one open incident",
			incs: []checks.Incident{{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: start,
				Evidence: web, Official: "Partial outage"}},
			title: "🔴 WhatsApp is down",
			content: []string{
				"🔴 <b>WhatsApp</b>: down since Mar 4, 14:02 UTC",
				"• web: server error (HTTP 503)",
				"• Meta says: Partial outage",
			},
		},
		{
			name:  "a name to escape",
			incs:  []checks.Incident{{Service: "evil", State: checks.Degraded, Worst: checks.Degraded, Start: start}},
			title: "🟠 <b>& is degraded",
			content: []string{
				"🟠 <b>&lt;b&gt;&amp;</b>: degraded since Mar 4, 14:02 UTC",
			},
		},
		{
			name: "resolved, with its evidence",
			incs: []checks.Incident{{Service: "instagram", State: checks.Operational, Worst: checks.Down, Start: start, End: end,
				Evidence: web}},
			title: "✅ Instagram is back",
			content: []string{
				"✅ <b>Instagram is back</b>",
				"was down for 1 h 12 min, back since Mar 4, 15:14 UTC",
				"• web: server error (HTTP 503)",
			},
		},
		{
			name: "Meta-wide, two still open",
			incs: []checks.Incident{
				{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: start, Group: 3, Evidence: web},
				{Service: "evil", State: checks.Operational, Worst: checks.Degraded, Start: start, End: end, Group: 3},
				{Service: "instagram", State: checks.Degraded, Worst: checks.Degraded, Start: end, Group: 3},
			},
			title: "⚠️ Meta-wide outage: WhatsApp and Instagram",
			content: []string{
				"🔴 <b>WhatsApp</b>: down since Mar 4, 14:02 UTC",
				"• web: server error (HTTP 503)",
				"",
				"✅ <b>&lt;b&gt;&amp; is back</b>",
				"was degraded for 1 h 12 min, back since Mar 4, 15:14 UTC",
				"",
				"🟠 <b>Instagram</b>: degraded since Mar 4, 15:14 UTC",
			},
		},
		{
			name: "Meta-wide, one still open",
			incs: []checks.Incident{
				{Service: "whatsapp", State: checks.Operational, Worst: checks.Down, Start: start, End: end, Group: 3},
				{Service: "instagram", State: checks.Degraded, Worst: checks.Down, Start: start, Group: 3},
			},
			title: "🟠 Instagram is degraded",
			content: []string{
				"✅ <b>WhatsApp is back</b>",
				"was down for 1 h 12 min, back since Mar 4, 15:14 UTC",
				"",
				"🟠 <b>Instagram</b>: degraded since Mar 4, 14:02 UTC",
			},
		},
		{
			name: "Meta-wide, all back, one service twice",
			incs: []checks.Incident{
				{Service: "whatsapp", State: checks.Operational, Worst: checks.Down, Start: start, End: start.Add(time.Minute), Group: 3},
				{Service: "instagram", State: checks.Operational, Worst: checks.Down, Start: start, End: end, Group: 3},
				{Service: "whatsapp", State: checks.Operational, Worst: checks.Degraded, Start: start.Add(2 * time.Minute), End: end, Group: 3},
			},
			title: "✅ WhatsApp and Instagram are back",
			content: []string{
				"✅ <b>WhatsApp is back</b>",
				"was down for 1 min, back since Mar 4, 14:03 UTC",
				"",
				"✅ <b>Instagram is back</b>",
				"was down for 1 h 12 min, back since Mar 4, 15:14 UTC",
				"",
				"✅ <b>WhatsApp is back</b>",
				"was degraded for 1 h 10 min, back since Mar 4, 15:14 UTC",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			title, content := p.FeedEntry(tc.incs)
			if title != tc.title {
				t.Errorf("title %q, want %q", title, tc.title)
			}
			if diff := cmp.Diff(tc.content, strings.Split(content, "\n")); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
		})
	}
}
