package locale

import (
	"html"
	"time"
)

// Throttled asks a person who sends commands or presses buttons faster than
// the bot answers anyone to wait a little.
func (p *Printer) Throttled() string { return html.EscapeString(p.t.Throttled) }

// ThrottledAlert is Throttled as plain text, for a callback answer.
func (p *Printer) ThrottledAlert() string { return p.t.Throttled }

// ReportGroupFull tells a person that their report about service id did not
// count because enough people in their group reported it within period, and
// where it would count.
func (p *Printer) ReportGroupFull(id string, period time.Duration) string {
	return html.EscapeString(p.ReportGroupFullAlert(id, period))
}

// ReportGroupFullAlert is ReportGroupFull as plain text, for a callback
// answer.
func (p *Printer) ReportGroupFullAlert(id string, period time.Duration) string {
	return p.fill(p.t.ReportGroupFull, plain("service", p.name(id)), markup("period", p.duration(period)))
}

// ReportAsChat tells whoever sent a /report about service id on behalf of a
// group or a channel that it was not counted, since it names nobody, and
// how to report as themselves: with the "I'm affected" button under it.
func (p *Printer) ReportAsChat(id string) string {
	return p.fill(p.t.ReportAsChat, data("service", p.name(id)))
}
