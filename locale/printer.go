// Package locale holds every text outagebot shows to people, in every
// language it speaks, and renders it: command replies, inline-keyboard
// labels, callback answers and the outage notifications the sender delivers.
//
// The texts live in one message catalog per language (catalog/, loaded with
// go-i18n, whose CLDR plural rules pick the form of a text for a count). New
// loads them all; Locales.For picks the Printer of a chat's language.
//
// Output meant for messages is Telegram HTML with every piece of data escaped;
// methods documented as plain return text Telegram shows unparsed (button
// labels, callback answers). In right-to-left languages every value a text
// embeds (a name, a number, a time) is a Unicode isolate, so that a Latin
// service name or a number cannot scramble the order of the words around it.
package locale

import (
	"html"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/outagebot/outagebot/checks"
)

// MaxMessage is Telegram's limit for a message text. Telegram counts it after
// entity parsing; this package counts the raw HTML in UTF-16 code units, which
// is never less, so anything within it is accepted.
const MaxMessage = 4096

// Bounds for data echoed into messages: a hostile or broken value must not be
// able to crowd everything else out of a 4096-character message.
const (
	maxName   = 64  // service and probe names, names users typed
	maxDetail = 200 // probe result details
)

// maxEvidence is how many failing probes a message lists per service.
const maxEvidence = 5

// Printer renders texts for one language and time zone. It is safe for
// concurrent use.
type Printer struct {
	cat *checks.Catalog
	loc *time.Location
	t   texts
	tag language.Tag
	rtl bool // the language is written right to left
}

// Tag is the IETF tag of the Printer's language ("pt-BR"), what a chat's
// record keeps.
func (p *Printer) Tag() string { return p.tag.String() }

// Code is the two-letter ISO 639-1 code of the Printer's language ("pt"),
// what the Bot API takes as a language_code.
func (p *Printer) Code() string {
	base, _ := p.tag.Base()
	return base.String()
}

// LanguageName is the plain name of the Printer's language in itself.
func (p *Printer) LanguageName() string { return p.t.LanguageName }

// CommandDescription is the plain command-menu description of a bot command
// (the name without '/'), or "" for a command this package has no text for.
func (p *Printer) CommandDescription(command string) string {
	return p.t.Commands[command]
}

// arg is one placeholder value for fill.
type arg struct {
	key, val string
	// atom marks a value inserted whole into a text (a name, a number):
	// in a right-to-left language it goes in as an isolate.
	atom bool
}

// data is a placeholder value taken from outside (a name, a probe detail,
// something a user typed): it is cleaned of what could disguise it or the
// text around it (see clean), then escaped.
func data(key, s string) arg { return arg{key, html.EscapeString(clean(s)), true} }

// clean returns s without the characters that let a value pretend to be
// something else once echoed: bidirectional embeddings, overrides, isolates
// and marks (an override turns "whatsapp" into a name that reads
// backwards, and an unmatched isolate in one of our right-to-left texts
// spills into the words after it), control characters, and the
// invisible format characters that no language needs. Line breaks and
// tabs become spaces, so that an echoed value stays on its line. The
// joiners (U+200C, U+200D) stay: Persian, Hindi and emoji need them.
func clean(s string) string {
	if !strings.ContainsFunc(s, unwanted) {
		return s // the usual case, without an allocation
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' ||
			r == '\u0085' || r == '\u2028' || r == '\u2029':
			return ' '
		case unwanted(r):
			return -1
		}
		return r
	}, s)
}

// unwanted reports whether r is one of the characters clean takes out.
func unwanted(r rune) bool {
	switch {
	case unicode.IsControl(r), // C0, DEL and C1
		r == '\u061c',                // Arabic letter mark
		r == '\u200e', r == '\u200f', // left-to-right and right-to-left marks
		'\u202a' <= r && r <= '\u202e', // embeddings, pop, overrides
		'\u2066' <= r && r <= '\u2069', // isolates and pop
		'\u206a' <= r && r <= '\u206f', // deprecated shaping and swapping controls
		r == '\u2028', r == '\u2029',   // line and paragraph separators
		r == '\ufeff',                  // byte order mark, zero-width no-break space
		'\ufff9' <= r && r <= '\ufffb': // interlinear annotation
		return true
	}
	return false
}

// markup is a placeholder value this package rendered itself: escaped
// already where it goes into HTML, with its own parts isolated.
func markup(key, s string) arg { return arg{key, s, false} }

// plain is a placeholder value that needs no escaping: a number, or any
// value in a text Telegram does not parse as HTML.
func plain(key, s string) arg { return arg{key, s, true} }

// Unicode's first strong isolate and pop directional isolate: what lies
// between them takes the direction of its own first letter and is laid out
// apart from the text around it.
const (
	fsi = "\u2068"
	pdi = "\u2069"
)

// isolate returns s as a directional isolate in a right-to-left language,
// and as it is otherwise.
func (p *Printer) isolate(s string) string {
	if !p.rtl {
		return s
	}
	return fsi + s + pdi
}

// fill replaces the {key} placeholders of text in one pass; a placeholder
// with no argument stays as it is, and values are never scanned again, so a
// value containing "{name}" stays literal. (A strings.Replacer would do the
// same, but building one per call costs a dozen allocations, and a fan-out
// renders thousands of messages a second.)
func (p *Printer) fill(text string, args ...arg) string {
	var b strings.Builder
	b.Grow(len(text) + 16*len(args))
	for {
		open := strings.IndexByte(text, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(text[open:], '}')
		if end < 0 {
			break
		}
		b.WriteString(text[:open])
		a, ok := lookup(args, text[open+1:open+end])
		if !ok {
			// Not a placeholder: keep the brace, look on after it.
			b.WriteByte('{')
			text = text[open+1:]
			continue
		}
		if a.atom {
			b.WriteString(p.isolate(a.val))
		} else {
			b.WriteString(a.val)
		}
		text = text[open+end+1:]
	}
	b.WriteString(text)
	return b.String()
}

func lookup(args []arg, key string) (arg, bool) {
	for _, a := range args {
		if a.key == key {
			return a, true
		}
	}
	return arg{}, false
}

// clip shortens s to at most n runes, marking the cut. It works on raw data,
// before escaping, so it can never split an entity.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// name is the display name of a service id; ids the catalog no longer has
// (a service removed from the config) show as themselves.
func (p *Printer) name(id string) string {
	if s, ok := p.cat.Lookup(id); ok && s.ID == id {
		return clip(s.Name, maxName)
	}
	return clip(id, maxName)
}

// names renders service ids as an escaped list, "A, B and C", in bold.
func (p *Printer) names(ids []string) string {
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = "<b>" + p.isolate(html.EscapeString(p.name(id))) + "</b>"
	}
	return p.list(items)
}

// list joins items the way the language writes an enumeration. The items
// are isolated already where needed: the list itself must not be, or a
// right-to-left "and" would read in the order of the Latin names around it.
func (p *Printer) list(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], p.t.ListSep) + p.t.ListLast + items[len(items)-1]
}

// clock shows a moment in the printer's zone, with the date unless it is on
// the same day as now.
func (p *Printer) clock(at, now time.Time) string {
	at, now = at.In(p.loc), now.In(p.loc)
	ay, am, ad := at.Date()
	ny, nm, nd := now.Date()
	layout := p.t.DateTimeLayout
	if ay == ny && am == nm && ad == nd {
		layout = p.t.TimeLayout
	}
	return p.isolate(at.Format(layout))
}

// duration humanises d at the precision people care about for an outage:
// "45 s", "14 min", "2 h 14 min", "1 d 3 h". Smaller units are dropped, not
// rounded, so "59 min 59 s" never reads as "60 min". Negative durations (clock
// steps) show as zero.
func (p *Printer) duration(d time.Duration) string {
	d = max(d, 0)
	days := int(d / (24 * time.Hour))
	hours := int(d/time.Hour) % 24
	mins := int(d/time.Minute) % 60
	switch {
	case days > 0:
		return p.units(p.t.Days, days, p.t.Hours, hours)
	case hours > 0:
		return p.units(p.t.Hours, hours, p.t.Minutes, mins)
	case mins > 0:
		return p.unit(p.t.Minutes, mins)
	}
	return p.unit(p.t.Seconds, int(d/time.Second))
}

// units is n of a unit and, unless it is zero, m of the next smaller one.
func (p *Printer) units(unit plural, n int, smaller plural, m int) string {
	if m == 0 {
		return p.unit(unit, n)
	}
	return p.fill(p.t.DurationPair, markup("major", p.unit(unit, n)), markup("minor", p.unit(smaller, m)))
}

// unit is n of a unit of time: "14 min".
func (p *Printer) unit(u plural, n int) string {
	return p.fill(u.pick(n), plain("n", strconv.Itoa(n)))
}

// fit joins lines into one message of at most MaxMessage UTF-16 units. When
// they do not fit, it keeps the leading lines that do and ends with a note.
// Every line is well-formed HTML by itself, so cutting between lines can never
// break a tag or an entity.
func (p *Printer) fit(lines []string) string {
	total := -1 // no newline before the first line
	for _, l := range lines {
		total += 1 + utf16Len(l)
	}
	if total <= MaxMessage {
		return strings.Join(lines, "\n")
	}
	note := html.EscapeString(p.t.Shortened)
	budget := MaxMessage - utf16Len(note)
	var b strings.Builder
	used := 0
	for _, l := range lines {
		n := utf16Len(l) + 1 // the line and the newline after it
		if used+n > budget {
			break
		}
		b.WriteString(l)
		b.WriteByte('\n')
		used += n
	}
	b.WriteString(note)
	return b.String()
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// icon is the symbol of a state, the same in every language.
func icon(s checks.State) string {
	switch s {
	case checks.Operational:
		return "🟢"
	case checks.Degraded:
		return "🟠"
	case checks.Down:
		return "🔴"
	case checks.Suspected:
		return "🟡"
	case checks.Recovering:
		return "🔵"
	}
	return "⚪"
}

// state names a state in words; a state this version does not know shows as
// itself.
func (p *Printer) state(s checks.State) string {
	if w, ok := p.t.States[string(s)]; ok {
		return w
	}
	return string(s)
}

// headline is "🔴 <b>WhatsApp is down</b>".
func (p *Printer) headline(id string, s checks.State) string {
	text, ok := p.t.Headlines[string(s)]
	if !ok {
		text = p.t.Headlines[string(checks.Unknown)]
	}
	return icon(s) + " <b>" + p.fill(text, data("service", p.name(id))) + "</b>"
}

// evidence renders failing probe results one line each, at most maxEvidence
// and a count of the rest.
func (p *Printer) evidence(rs []checks.Result) []string {
	lines := make([]string, 0, min(len(rs), maxEvidence)+1)
	for i, r := range rs {
		if i == maxEvidence {
			lines = append(lines, p.fill(p.t.MoreLines, plain("n", strconv.Itoa(len(rs)-i))))
			break
		}
		class, ok := p.t.Classes[string(r.Class)]
		if !ok {
			class = string(r.Class)
		}
		args := []arg{data("probe", clip(r.Probe, maxName)), data("class", class)}
		if r.Detail == "" {
			lines = append(lines, p.fill(p.t.Evidence, args...))
			continue
		}
		lines = append(lines, p.fill(p.t.EvidenceFor, append(args, data("detail", clip(r.Detail, maxDetail)))...))
	}
	return lines
}
