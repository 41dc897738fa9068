package locale

import (
	"cmp"
	"html"
	"strings"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// The choices of the settings keyboard that have a label of their own;
// quiet-hours presets are labelled by their clocks (QuietButton).
const (
	ChoiceAll           = "all"            // alerts when degraded or down
	ChoiceOnlyDown      = "only_down"      // alerts only when down
	ChoiceRecoveriesOn  = "recoveries_on"  // recoveries announced
	ChoiceRecoveriesOff = "recoveries_off" // recoveries not announced
	ChoiceQuietOff      = "quiet_off"      // no quiet hours
)

// Settings is what the settings menu shows of a chat's alert settings.
type Settings struct {
	OnlyDown, NoRecoveries bool
	QuietFrom, QuietTo     string // "22:00"; both empty without quiet hours
	TimeZone               string // an IANA name; "" is UTC
	// Forum says that the chat has topics; the menu then says which one
	// gets the alerts: TopicID, or the General topic when it is 0.
	Forum   bool
	TopicID int
}

// SettingsMenu describes a chat's alert settings, above the keyboard that
// changes them.
func (p *Printer) SettingsMenu(s Settings) string {
	alerts := p.t.SettingsAlertsAll
	if s.OnlyDown {
		alerts = p.t.SettingsAlertsDown
	}
	recoveries := p.t.SettingsRecoveriesOn
	if s.NoRecoveries {
		recoveries = p.t.SettingsRecoveriesOff
	}
	quiet := p.t.SettingsQuietOff
	if s.QuietFrom != "" {
		quiet = p.fill(p.t.SettingsQuiet, data("from", s.QuietFrom), data("to", s.QuietTo))
	}
	lines := []string{p.t.SettingsHeader, alerts, recoveries, quiet,
		p.fill(p.t.SettingsZone, data("zone", clip(cmp.Or(s.TimeZone, "UTC"), maxName)))}
	switch {
	case s.Forum && s.TopicID != 0:
		lines = append(lines, p.t.SettingsTopic)
	case s.Forum:
		lines = append(lines, p.t.SettingsTopicGeneral)
	}
	return p.fit(lines)
}

// SettingsButton is the plain label of a settings choice (Choice*), marked
// when it is the chat's.
func (p *Printer) SettingsButton(choice string, chosen bool) string {
	label, ok := p.t.SettingsButtons[choice]
	if !ok {
		label = choice
	}
	if chosen {
		return "✅ " + label
	}
	return label
}

// QuietButton is the plain label of the quiet hours from to: "🌙 22–07",
// or "✅ 22–07" when they are the chat's. Whole hours show without their
// minutes, to keep three such buttons on one row.
func (p *Printer) QuietButton(from, to string, chosen bool) string {
	mark := "🌙 "
	if chosen {
		mark = "✅ "
	}
	return mark + strings.TrimSuffix(from, ":00") + "–" + strings.TrimSuffix(to, ":00")
}

// SettingsSaved is the plain answer to a press that changed a setting.
func (p *Printer) SettingsSaved() string { return p.t.SettingsSaved }

// SettingsNotAdmin refuses a group member who is not an admin a change of
// the group's settings.
func (p *Printer) SettingsNotAdmin() string { return html.EscapeString(p.t.SettingsNotAdmin) }

// SettingsNotAdminAlert is SettingsNotAdmin as plain text, for a callback
// alert.
func (p *Printer) SettingsNotAdminAlert() string { return p.t.SettingsNotAdmin }

// ZoneSet confirms the chat's new time zone.
func (p *Printer) ZoneSet(zone string) string {
	return p.fill(p.t.ZoneSet, data("zone", clip(zone, maxName)))
}

// ZoneUnknown refuses a time zone that is not an IANA zone name, echoing
// what was typed.
func (p *Printer) ZoneUnknown(zone string) string {
	return p.fill(p.t.ZoneUnknown, data("zone", clip(zone, maxName)))
}

// ZoneNearest answers /settings tz with a name, as typed, that is no time
// zone but looks like a mistyped one: nearest.
func (p *Printer) ZoneNearest(zone, nearest string) string {
	return p.fill(p.t.ZoneNearest, data("zone", clip(zone, maxName)), data("nearest", clip(nearest, maxName)))
}

// Here confirms where a forum's alerts go from now on: the topic /here was
// sent in, or the General topic.
func (p *Printer) Here(general bool) string {
	if general {
		return p.t.HereGeneral
	}
	return p.t.HereSet
}

// HereNoTopics answers /here in a chat without topics.
func (p *Printer) HereNoTopics() string { return p.t.HereNoTopics }

// StartLinks are the deep links worth sharing, shown under the welcome:
// subscribe, which subscribes whoever opens it to the service, and group,
// which adds the bot to a group.
func (p *Printer) StartLinks(subscribe, group, service string) string {
	return p.fill(p.t.StartLinks, data("subscribe", subscribe), data("group", group), data("service", p.name(service)))
}

// ChannelStatus is the announcement channel's pinned status message: every
// service with the state last announced, and since when for those in
// trouble. It depends on nothing but the statuses, so that the message is
// edited only when one of them changes: times are always shown with their
// date, which would otherwise appear at midnight.
func (p *Printer) ChannelStatus(statuses map[string]checks.Status) string {
	lines := []string{p.t.BoardHeader}
	for _, id := range p.cat.IDs() {
		st, ok := statuses[id]
		state := cmp.Or(st.Announced, st.State)
		switch {
		case !ok:
			lines = append(lines, p.statusLine(id, checks.Unknown, p.t.NotChecked))
		case state == checks.Operational || st.BadSince.IsZero():
			lines = append(lines, p.statusLine(id, state, p.state(state)))
		default:
			lines = append(lines, p.fill(p.t.BoardLineSince,
				markup("icon", icon(state)),
				data("service", p.name(id)),
				data("state", p.state(state)),
				markup("since", p.moment(st.BadSince))))
		}
	}
	return p.fit(append(lines, p.t.BoardFooter))
}

// moment shows a moment with its date, in the printer's zone.
func (p *Printer) moment(at time.Time) string {
	return p.isolate(at.In(p.loc).Format(p.t.DateTimeLayout))
}

// ChannelStatus is Printer.ChannelStatus in the language that best fits
// lang.
func (l *Locales) ChannelStatus(lang string, statuses map[string]checks.Status) string {
	return l.For(lang).ChannelStatus(statuses)
}
