package locale

import (
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// InlineResult is one result of inline mode, offered when someone types the
// bot's name in any chat: its title and description, plain, as the list of
// results shows them, and the HTML message that choosing it posts.
type InlineResult struct {
	Title       string
	Description string
	Text        string
}

// rlm is the right-to-left mark.
const rlm = "\u200f"

// maxInlineDescription bounds a result's description, in characters:
// Telegram shows two short lines of it under the title.
const maxInlineDescription = 120

// InlineService is the result for service id: its state in the title;
// since when and the evidence in short in the description; the message is
// the detailed /status of the service.
func (p *Printer) InlineService(id string, statuses map[string]checks.Status, now time.Time) InlineResult {
	r := InlineResult{Text: p.Status([]string{id}, nil, statuses, now)}
	st, ok := statuses[id]
	if !ok {
		r.Title = plainText(p.statusLine(id, checks.Unknown, p.t.NotChecked))
		return r
	}
	r.Title = plainText(p.statusLine(id, st.State, p.state(st.State)))
	var desc []string
	if !st.Since.IsZero() {
		desc = append(desc, p.statusSince(st.Since, now))
	}
	if e := p.evidenceInShort(st); e != "" {
		desc = append(desc, e)
	}
	r.Description = clipDescription(plainText(strings.Join(desc, "\n")))
	return r
}

// evidenceInShort is the line that best says why a service is in its
// state, as HTML: the first failing probe without its detail and how many
// more fail, else what people report, else Meta's word; "" for none.
func (p *Printer) evidenceInShort(st checks.Status) string {
	switch {
	case len(st.Evidence) > 0:
		first := st.Evidence[0]
		first.Detail = ""
		line := p.evidence([]checks.Result{first})[0]
		if more := len(st.Evidence) - 1; more > 0 {
			line += " " + p.fill(p.t.MoreLines, plain("n", strconv.Itoa(more)))
		}
		return line
	case st.Reports.Count > 0:
		return p.reports(st.Reports)
	case st.Official != "":
		return p.fill(p.t.Official, data("text", clip(st.Official, maxDetail)))
	}
	return ""
}

// InlineAll is the result that posts every service's status: each service's
// state as an icon in the description.
func (p *Printer) InlineAll(statuses map[string]checks.Status, now time.Time) InlineResult {
	ids := p.cat.IDs()
	items := make([]string, len(ids))
	for i, id := range ids {
		ic := icon(checks.Unknown)
		if st, ok := statuses[id]; ok {
			ic = icon(st.State)
		}
		items[i] = ic + " " + p.isolate(p.name(id))
	}
	desc := strings.Join(items, " · ")
	if p.rtl {
		// Nothing but isolated names: the mark makes the line read right
		// to left, as the language's own lines of icons and names do.
		desc = rlm + desc
	}
	return InlineResult{
		Title:       p.t.InlineAll,
		Description: clipDescription(desc),
		Text:        p.StatusAll(statuses, now),
	}
}

// InlineNoMatch is the result offered for a query that matches no service:
// it names the services watched, and posts every service's status.
func (p *Printer) InlineNoMatch(statuses map[string]checks.Status, now time.Time) InlineResult {
	hint := p.fill(p.t.InlineNoMatchHint, markup("services", p.names(p.cat.IDs())))
	return InlineResult{
		Title:       p.t.InlineNoMatch,
		Description: clipDescription(plainText(hint)),
		Text:        p.StatusAll(statuses, now),
	}
}

// InlineAlerts is the plain label of the button under a status posted from
// inline mode, which leads to the bot to get alerts.
func (p *Printer) InlineAlerts() string { return p.t.InlineAlerts }

// clipDescription shortens a plain description to maxInlineDescription
// characters. A cut inside an isolated value closes the isolate, so that the
// mark of the cut reads in the direction of the text around it.
func clipDescription(s string) string {
	c := clip(s, maxInlineDescription)
	if c == s {
		return s
	}
	open := strings.Count(c, fsi) - strings.Count(c, pdi)
	return strings.TrimSuffix(c, "…") + strings.Repeat(pdi, max(open, 0)) + "…"
}

// plainText is HTML this package rendered, as a Telegram client shows it:
// tags dropped, entities decoded. Its texts use only a few tags and escape
// every '<' of their data, so every '<' opens a tag.
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '<')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '>')
		if end < 0 {
			break
		}
		b.WriteString(s[:open])
		s = s[open+end+1:]
	}
	b.WriteString(s)
	return html.UnescapeString(b.String())
}
