package locale

import (
	"slices"
	"strings"

	"github.com/outagebot/outagebot/checks"
)

// FeedTitle is the title of the incident feed, in plain text: "Outages of
// WhatsApp, Instagram and Threads".
func (p *Printer) FeedTitle() string {
	return plainText(p.fill(p.t.FeedTitle, markup("services", p.names(p.cat.IDs()))))
}

// FeedEntry renders one entry of the incident feed: the incidents of one
// Meta-wide group, or one incident alone, as they are now. The title is
// plain text that names the services and their state ("🔴 WhatsApp is
// down", "⚠️ Meta-wide outage: WhatsApp and Instagram", "✅ WhatsApp is
// back"). The content is HTML like a notification's, with a line break at
// every "\n": each incident with its state and since when, or how long it
// lasted and when it ended, then its evidence.
//
// Unlike a notification, an entry depends on the incidents alone, not on the
// clock: it says "down since Mar 4, 14:02", never "12 min so far", and shows
// every time with its date. So an entry changes only when its incidents do,
// and a reader that polls the feed finds nothing new in between.
func (p *Printer) FeedEntry(incs []checks.Incident) (title, content string) {
	var (
		lines []string
		open  []checks.Incident
	)
	for i, inc := range incs {
		if i > 0 {
			lines = append(lines, "")
		}
		if inc.Resolved() {
			lines = append(lines, p.recovery(inc, p.moment(inc.End))...)
		} else {
			open = append(open, inc)
			lines = append(lines, p.fill(p.t.BoardLineSince,
				markup("icon", icon(inc.State)),
				data("service", p.name(inc.Service)),
				data("state", p.state(inc.State)),
				markup("since", p.moment(inc.Start))))
		}
		lines = append(lines, p.details(inc)...)
	}
	return plainText(p.feedHeadline(incs, open)), strings.Join(lines, "\n")
}

// feedHeadline says what an entry is about: the one service still in
// trouble, the Meta-wide outage of several, or, once every incident is
// over, the services that are back.
func (p *Printer) feedHeadline(incs, open []checks.Incident) string {
	switch len(open) {
	case 0:
		var back []string // a service can fail twice in one Meta-wide outage
		for _, inc := range incs {
			if !slices.Contains(back, inc.Service) {
				back = append(back, inc.Service)
			}
		}
		return "✅ " + p.fill(p.t.FeedBack.pick(len(back)), markup("services", p.names(back)))
	case 1:
		return p.headline(open[0].Service, open[0].State)
	}
	return p.metaWide(open) // several open incidents in one entry are one group
}
