package locale

import (
	"html"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/outagebot/outagebot/history"
)

// Location is the time zone the Printer shows times in, which charts
// should use too.
func (p *Printer) Location() *time.Location { return p.loc }

// HistoryCaption is the caption of the /history chart of service id over
// window w: uptime, incidents, the longest, the mean time to recover, how
// much of the window was watched, and the legend of the chart's colours.
func (p *Printer) HistoryCaption(id string, w history.Window, s history.Stats) string {
	lines := []string{p.fill(p.t.HistoryTitle, data("service", p.name(id)), data("window", p.window(w)))}
	if up, ok := s.Uptime(); ok {
		lines = append(lines, p.fill(p.t.HistoryUptime, plain("percent", p.percent(up))))
	} else {
		lines = append(lines, p.t.HistoryNoData)
	}
	if s.Incidents == 0 {
		lines = append(lines, p.t.HistoryNoIncidents)
	} else {
		lines = append(lines,
			p.fill(p.t.HistoryIncidents.pick(s.Incidents), plain("n", strconv.Itoa(s.Incidents))),
			p.fill(p.t.HistoryLongest, markup("duration", p.duration(s.Longest))))
	}
	if s.Recovered > 0 {
		lines = append(lines, p.fill(p.t.HistoryMTTR, markup("duration", p.duration(s.MTTR))))
	}
	if s.Watched > 0 && s.Watched < w.Length {
		lines = append(lines, p.fill(p.t.HistoryWatched, markup("duration", p.duration(s.Watched))))
	}
	return strings.Join(append(lines, p.t.HistoryLegend), "\n")
}

// window names a window in words ("24 hours"), or by its name for one this
// version has no words for.
func (p *Printer) window(w history.Window) string {
	if words, ok := p.t.HistoryWindows[w.Name]; ok {
		return words
	}
	return w.Name
}

// percent shows a share as a percentage with two decimals, cut rather than
// rounded: 99.999 % of the time up is not 100 %.
func (p *Printer) percent(share float64) string {
	hundredths := int(math.Floor(share * 10000))
	whole, frac := hundredths/100, hundredths%100
	return strconv.Itoa(whole) + p.t.DecimalSep + strconv.Itoa(frac/10) + strconv.Itoa(frac%10)
}

// HistoryUsage explains /history, for a request without a service.
func (p *Printer) HistoryUsage() string {
	return p.fill(p.t.HistoryUsage, p.example(), markup("windows", p.windows()))
}

// HistoryBadWindow answers a /history whose window, as typed, is none of
// history.Windows, listing those.
func (p *Printer) HistoryBadWindow(typed string) string {
	return p.fill(p.t.HistoryBadWindow, data("window", clip(typed, maxName))) + "\n" + p.HistoryUsage()
}

// windows lists the windows /history takes, as typed.
func (p *Printer) windows() string {
	ws := history.Windows()
	items := make([]string, len(ws))
	for i, w := range ws {
		items[i] = "<code>" + p.isolate(html.EscapeString(w.Name)) + "</code>"
	}
	return p.list(items)
}

// HistoryUnknownService answers a /history about a name that matches no
// service, the way /report does: with the nearest name and the valid ones.
func (p *Printer) HistoryUnknownService(name string) string {
	return p.ReportUnknownService(name)
}
