package locale

import (
	"html"
	"math"
	"strconv"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// ReportChoose introduces the keyboard of services to report a problem with.
func (p *Printer) ReportChoose() string { return p.fill(p.t.ReportChoose, p.example()) }

// ReportUnknownService answers a report about a name that matches no
// service, the way an unknown name in /subscribe is answered, except that
// "all" is not offered: a report is about one service.
func (p *Printer) ReportUnknownService(name string) string {
	return p.fit(p.unknownAmong([]string{name}, p.t.ValidServices))
}

// ReportUnknownKind answers a report about service id whose kind of problem
// is none of checks.ReportKinds, listing those.
func (p *Printer) ReportUnknownKind(id, kind string) string {
	kinds := make([]string, len(checks.ReportKinds))
	for i, k := range checks.ReportKinds {
		kinds[i] = "<code>" + p.isolate(html.EscapeString(k)) + "</code>"
	}
	return p.fill(p.t.ReportUnknownKind,
		data("kind", clip(kind, maxName)),
		markup("kinds", p.list(kinds)),
		data("service", clip(id, maxName)))
}

// ReportCounted thanks a person whose report about service id counted and
// tells them what sig says about the last window: how many people reported,
// how many usually do, and what they report most.
func (p *Printer) ReportCounted(id string, sig checks.ReportSignal, window time.Duration) string {
	return html.EscapeString(p.ReportCountedAlert(id, sig, window))
}

// ReportCountedAlert is ReportCounted as plain text, for a callback answer.
func (p *Printer) ReportCountedAlert(id string, sig checks.ReportSignal, window time.Duration) string {
	text := p.t.ReportThanks + " " + p.fill(p.t.ReportCount.pick(sig.Count),
		plain("n", strconv.Itoa(sig.Count)),
		plain("service", p.name(id)),
		markup("window", p.duration(window)),
		plain("usual", strconv.Itoa(int(math.Round(sig.Baseline)))))
	if sig.Top != "" {
		text += " " + p.fill(p.t.ReportTop,
			plain("kind", clip(sig.Top, maxName)),
			plain("share", strconv.Itoa(int(math.Round(100*sig.TopShare)))))
	}
	return text
}

// ReportAlready tells a person that their report about service id did not
// count, because they already reported it within period.
func (p *Printer) ReportAlready(id string, period time.Duration) string {
	return html.EscapeString(p.ReportAlreadyAlert(id, period))
}

// ReportAlreadyAlert is ReportAlready as plain text, for a callback answer.
func (p *Printer) ReportAlreadyAlert(id string, period time.Duration) string {
	return p.fill(p.t.ReportAlready, plain("service", p.name(id)), markup("period", p.duration(period)))
}

// AffectedButton is the plain label of the button that reports a problem
// with service id.
func (p *Printer) AffectedButton(id string) string {
	return p.fill(p.t.AffectedButton, plain("service", p.name(id)))
}
