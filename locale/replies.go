package locale

import (
	"html"
	"strings"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// Welcome is the answer to /start in a private chat.
func (p *Printer) Welcome() string {
	return p.fill(p.t.Welcome, markup("services", p.names(p.cat.IDs())), p.example())
}

// example is a service id for the examples in Welcome and Help.
func (p *Printer) example() arg {
	if ids := p.cat.IDs(); len(ids) > 0 {
		return data("example", clip(ids[0], maxName))
	}
	return data("example", "")
}

// GroupWelcome greets a group the bot was just added to.
func (p *Printer) GroupWelcome() string {
	return p.fill(p.t.GroupWelcome, markup("services", p.names(p.cat.IDs())))
}

// Help lists the commands.
func (p *Printer) Help() string { return p.fill(p.t.Help, p.example()) }

// NotAdmin refuses a group member who is not an admin a change of the group's
// subscriptions.
func (p *Printer) NotAdmin() string { return html.EscapeString(p.t.NotAdmin) }

// NotAdminAlert is NotAdmin as plain text, for a callback alert.
func (p *Printer) NotAdminAlert() string { return p.t.NotAdmin }

// Apology answers a request that failed on our side. It deliberately says
// nothing about the cause: errors belong in the log.
func (p *Printer) Apology() string { return html.EscapeString(p.t.Apology) }

// ApologyAlert is Apology as plain text, for a callback answer.
func (p *Printer) ApologyAlert() string { return p.t.Apology }

// Change is what a /subscribe or /unsubscribe request did.
type Change struct {
	Done    []string // service ids whose subscription changed
	Already []string // service ids that already were as asked
	Unknown []string // names, as typed, that matched no service
}

// Subscribed reports the outcome of a subscribe request.
func (p *Printer) Subscribed(c Change) string {
	return p.change(c, p.t.Subscribed, p.t.AlreadySubscribed)
}

// Unsubscribed reports the outcome of an unsubscribe request.
func (p *Printer) Unsubscribed(c Change) string {
	return p.change(c, p.t.Unsubscribed, p.t.NotSubscribed)
}

func (p *Printer) change(c Change, done, already plural) string {
	var lines []string
	if len(c.Done) > 0 {
		lines = append(lines, p.fill(done.pick(len(c.Done)), markup("services", p.names(c.Done))))
	}
	if len(c.Already) > 0 {
		lines = append(lines, p.fill(already.pick(len(c.Already)), markup("services", p.names(c.Already))))
	}
	return p.fit(append(lines, p.unknown(c.Unknown)...))
}

// unknown renders the names that matched no service, each with the nearest
// valid name when it looks like a typo, then every valid name.
func (p *Printer) unknown(names []string) []string {
	return p.unknownAmong(names, p.t.ValidNames)
}

// unknownAmong is unknown with valid, the text that lists the valid names,
// for commands that do not take "all".
func (p *Printer) unknownAmong(names []string, valid string) []string {
	if len(names) == 0 {
		return nil
	}
	lines := make([]string, 0, len(names)+1)
	for _, n := range names {
		shown := data("name", clip(n, maxName))
		if near, ok := p.cat.Nearest(n); ok {
			lines = append(lines, p.fill(p.t.UnknownNameNearest, shown, data("nearest", near)))
			continue
		}
		lines = append(lines, p.fill(p.t.UnknownName, shown))
	}
	items := make([]string, len(p.cat.Services()))
	for i, s := range p.cat.Services() {
		items[i] = p.serviceNames(s)
	}
	return append(lines, p.fill(valid, markup("names", strings.Join(items, p.t.ListSep))))
}

// serviceNames is "<code>whatsapp</code> (wa)": the id and the aliases a
// service answers to.
func (p *Printer) serviceNames(s checks.Service) string {
	id := data("id", clip(s.ID, maxName))
	if len(s.Aliases) == 0 {
		return p.fill(p.t.Name, id)
	}
	aliases := make([]string, len(s.Aliases))
	for i, a := range s.Aliases {
		aliases[i] = p.isolate(html.EscapeString(clip(a, maxName)))
	}
	return p.fill(p.t.NameWithAliases, id, markup("aliases", strings.Join(aliases, p.t.ListSep)))
}

// List shows the services a chat follows, in catalog order.
func (p *Printer) List(ids []string) string {
	if len(ids) == 0 {
		return p.t.ListEmpty
	}
	return p.fit([]string{p.fill(p.t.List, markup("services", p.names(p.ordered(ids))))})
}

// ordered returns ids in catalog order, followed by the ids the catalog no
// longer has.
func (p *Printer) ordered(ids []string) []string {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := make([]string, 0, len(ids))
	for _, id := range p.cat.IDs() {
		if want[id] {
			out = append(out, id)
			delete(want, id)
		}
	}
	for _, id := range ids {
		if want[id] {
			out = append(out, id)
			delete(want, id)
		}
	}
	return out
}

// Choose introduces the keyboard of services to follow or unfollow.
func (p *Printer) Choose() string { return p.t.Choose }

// Button is the plain label of a service's keyboard button.
func (p *Printer) Button(id string, followed bool) string {
	text := p.t.ButtonOff
	if followed {
		text = p.t.ButtonOn
	}
	return p.fill(text, plain("service", p.name(id)))
}

// Toggled is the plain callback answer after a button press changed whether
// the chat follows a service.
func (p *Printer) Toggled(id string, followed bool) string {
	text := p.t.Unfollowed
	if followed {
		text = p.t.NowFollowed
	}
	return p.fill(text, plain("service", p.name(id)))
}

// ButtonStale is the plain callback answer to a button the bot cannot act on:
// from an older keyboard, for a service no longer watched, or forged.
func (p *Printer) ButtonStale() string { return p.t.ButtonStale }

// Services lists every watched service with the names it answers to and its
// current state.
func (p *Printer) Services(statuses map[string]checks.Status) string {
	lines := []string{p.t.ServicesHeader}
	for _, s := range p.cat.Services() {
		ic, state := icon(checks.Unknown), p.t.NotChecked
		if st, ok := statuses[s.ID]; ok {
			ic, state = icon(st.State), p.state(st.State)
		}
		lines = append(lines, p.fill(p.t.ServiceLine,
			markup("icon", ic),
			data("service", p.name(s.ID)),
			data("state", state),
			markup("names", p.serviceNames(s))))
	}
	return p.fit(append(lines, p.t.ServicesFooter))
}

// StatusAll shows every service's state, one line each.
func (p *Printer) StatusAll(statuses map[string]checks.Status, now time.Time) string {
	lines := []string{p.fill(p.t.StatusHeader, markup("time", p.clock(now, now)))}
	for _, id := range p.cat.IDs() {
		st, ok := statuses[id]
		switch {
		case !ok:
			lines = append(lines, p.statusLine(id, checks.Unknown, p.t.NotChecked))
		case st.State == checks.Operational || st.Since.IsZero():
			lines = append(lines, p.statusLine(id, st.State, p.state(st.State)))
		default:
			lines = append(lines, p.fill(p.t.StatusLineSince,
				markup("icon", icon(st.State)),
				data("service", p.name(id)),
				data("state", p.state(st.State)),
				markup("since", p.clock(st.Since, now)),
				markup("duration", p.duration(now.Sub(st.Since)))))
		}
	}
	return p.fit(lines)
}

func (p *Printer) statusLine(id string, s checks.State, words string) string {
	return p.fill(p.t.StatusLine, markup("icon", icon(s)), data("service", p.name(id)), data("state", words))
}

// Status details the given services: state, since when, when last checked
// and the failing probes; then the names that matched no service.
func (p *Printer) Status(ids, unknown []string, statuses map[string]checks.Status, now time.Time) string {
	var lines []string
	for i, id := range ids {
		if i > 0 {
			lines = append(lines, "")
		}
		st, ok := statuses[id]
		if !ok {
			lines = append(lines, p.statusLine(id, checks.Unknown, p.t.NotChecked))
			continue
		}
		lines = append(lines, p.headline(id, st.State))
		if !st.Since.IsZero() {
			lines = append(lines, p.statusSince(st.Since, now))
		}
		if !st.LastCheck.IsZero() {
			lines = append(lines, p.fill(p.t.StatusChecked, markup("time", p.clock(st.LastCheck, now))))
		}
		unverified := st.Unverified()
		switch {
		case len(unverified) > 0 && len(unverified) == len(st.Probes):
			lines = append(lines, p.t.StatusLearning)
		case st.State == checks.Unknown:
			lines = append(lines, p.t.StatusUnknownHint)
		}
		if len(unverified) > 0 && len(unverified) < len(st.Probes) {
			lines = append(lines, p.fill(p.t.StatusUnverified, data("probes", strings.Join(unverified, ", "))))
		}
		lines = append(lines, p.evidence(st.Evidence)...)
		if st.Official != "" {
			lines = append(lines, p.fill(p.t.Official, data("text", clip(st.Official, maxDetail))))
		}
		if st.Reports.Count > 0 {
			lines = append(lines, p.reports(st.Reports))
		}
	}
	if len(ids) > 0 && len(unknown) > 0 {
		lines = append(lines, "")
	}
	return p.fit(append(lines, p.unknown(unknown)...))
}

// statusSince is "since 16:02 UTC (14 min)": since when a service is in its
// state, and how long that is at now.
func (p *Printer) statusSince(since, now time.Time) string {
	return p.fill(p.t.StatusSince, markup("since", p.clock(since, now)), markup("duration", p.duration(now.Sub(since))))
}

// LangChoose introduces the keyboard of languages a chat can read in.
func (p *Printer) LangChoose() string { return p.t.LangChoose }

// LangButton is the plain label of the Printer's language on that
// keyboard: its name in itself, marked when it is the chat's language.
func (p *Printer) LangButton(current bool) string {
	if current {
		return "✅ " + p.t.LanguageName
	}
	return p.t.LanguageName
}

// LangSet is the plain callback answer, in the new language, after a chat's
// language changed to the Printer's.
func (p *Printer) LangSet() string { return p.t.LangSet }

// LangNotAdmin refuses a group member who is not an admin a change of the
// group's language.
func (p *Printer) LangNotAdmin() string { return html.EscapeString(p.t.LangNotAdmin) }

// LangNotAdminAlert is LangNotAdmin as plain text, for a callback alert.
func (p *Printer) LangNotAdminAlert() string { return p.t.LangNotAdmin }
