package locale

import (
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/outagebot/outagebot/checks"
)

// Notification renders the incidents one chat still has to learn as one HTML
// message of at most MaxMessage characters, each incident as it is at now: an
// open one with its state, since when and the failing probes; a resolved one
// with how long it lasted and since when the service is back. Rendering the
// present rather than the queued past is what lets a late delivery tell the
// truth. It returns "" for no incidents.
func (p *Printer) Notification(incs []checks.Incident, now time.Time) string {
	var lines []string
	if wide := p.metaWide(incs); wide != "" {
		lines = append(lines, wide, "")
	}
	for i, inc := range incs {
		if i > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, p.incident(inc, now)...)
	}
	return p.fit(lines)
}

func (p *Printer) incident(inc checks.Incident, now time.Time) []string {
	if inc.Resolved() {
		return p.recovery(inc, p.clock(inc.End, now))
	}
	lines := []string{
		p.headline(inc.Service, inc.State),
		p.fill(p.t.OpenSince,
			markup("since", p.clock(inc.Start, now)),
			markup("duration", p.duration(now.Sub(inc.Start)))),
	}
	return append(lines, p.details(inc)...)
}

// recovery is "✅ WhatsApp is back / was down for 12 min, back since
// {end}", with end the moment the incident ended, rendered by the caller.
func (p *Printer) recovery(inc checks.Incident, end string) []string {
	was, ok := p.t.WasFor[string(inc.Worst)]
	if !ok {
		// An incident always reached degraded or down; an unexpected
		// Worst must not hide the recovery, so call it an outage.
		was = p.t.WasFor[string(checks.Down)]
	}
	return []string{
		"✅ <b>" + p.fill(p.t.Back, data("service", p.name(inc.Service))) + "</b>",
		p.fill(was,
			markup("duration", p.duration(inc.End.Sub(inc.Start))),
			markup("time", end)),
	}
}

// details is the evidence an incident rests on: the failing probes, Meta's
// own word and people's reports, one line each.
func (p *Printer) details(inc checks.Incident) []string {
	lines := p.evidence(inc.Evidence)
	if inc.Official != "" {
		lines = append(lines, p.fill(p.t.Official, data("text", clip(inc.Official, maxDetail))))
	}
	if inc.Reports.Count > 0 {
		lines = append(lines, p.reports(inc.Reports))
	}
	return lines
}

// metaWide is the heading of a message about several open incidents of one
// Meta-wide group, or "".
func (p *Printer) metaWide(incs []checks.Incident) string {
	members := map[uint64][]string{}
	for _, inc := range incs {
		if inc.Group != 0 && !inc.Resolved() {
			members[inc.Group] = append(members[inc.Group], inc.Service)
		}
	}
	for _, ids := range members {
		if len(ids) > 1 {
			return p.fill(p.t.MetaWide, markup("services", p.names(ids)))
		}
	}
	return ""
}

// reports is "• 240 people reported problems in 15 min (usually 3); most:
// login, 76 %".
func (p *Printer) reports(r checks.ReportSignal) string {
	line := p.fill(p.t.Reports.pick(r.Count),
		plain("count", strconv.Itoa(r.Count)),
		markup("window", p.duration(time.Duration(r.Window))),
		plain("usual", strconv.Itoa(int(math.Round(r.Baseline)))))
	if r.Top != "" {
		line += p.fill(p.t.ReportsTop, data("kind", r.Top), plain("share", strconv.Itoa(int(math.Round(r.TopShare*100)))))
	}
	share := plain("share", strconv.Itoa(int(math.Round(r.WhereShare*100))))
	switch {
	case r.Regional && len(r.Where) > 0:
		line += p.fill(p.t.ReportsRegional, data("language", p.languageName(r.Where[0])), share)
	case len(r.Where) > 0:
		names := make([]string, len(r.Where))
		for i, code := range r.Where {
			names[i] = p.languageName(code)
		}
		line += p.fill(p.t.ReportsWhere, data("languages", strings.Join(names, p.t.ListLast)), share)
	}
	return line
}

// languageName is the name of the language code (a primary subtag) in the
// Printer's language, or the code itself when it has none.
func (p *Printer) languageName(code string) string {
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	if name := display.Tags(p.tag).Name(tag); name != "" {
		return name
	}
	return code
}

// BackAfter is the channel's short reply under an incident's post when it is
// resolved: the edit of the post is silent, this reply is what notifies the
// channel's members that the outage is over.
func (p *Printer) BackAfter(inc checks.Incident) string {
	return p.fill(p.t.BackAfter,
		data("service", p.name(inc.Service)),
		markup("duration", p.duration(inc.End.Sub(inc.Start))))
}
