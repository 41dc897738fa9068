package locale

import (
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
)

// texts is every user-visible text of one language, filled from that
// language's catalog (catalog/<tag>.yaml): a message's id is the name of its
// field, and an entry of a map field has the id Field.key.
//
// Texts are trusted Telegram HTML with {name} placeholders. The renderers fill
// placeholders with escaped data, so a text may use <b>, <i> and <code> but
// must escape its own literal '<', '>' and '&'. Two kinds of field are plain
// text instead: words that are inserted into other texts (states, classes,
// NotChecked), which the renderers escape, and fields documented as plain,
// which Telegram shows without parsing (button labels, callback answers).
type texts struct {
	// LanguageName is the language's name in itself ("Italiano"), plain.
	LanguageName string

	// Lists: "A, B and C".
	ListSep, ListLast string

	// TimeLayout formats a moment of today, DateTimeLayout an earlier one
	// (Go reference-time layouts, numbers only: Go knows no month names but
	// English ones).
	TimeLayout, DateTimeLayout string

	// Durations: {n} is a number. DurationPair joins two units of one
	// duration, {major} and {minor}: "2 h 14 min".
	Seconds, Minutes, Hours, Days plural
	DurationPair                  string

	Welcome      string            // {services}: list of service names; {example}: a service id
	GroupWelcome string            // {services}
	Help         string            // {example}: a service id
	Commands     map[string]string // menu description per command, plain, 3-256 characters

	NotAdmin string // plain, also used as a callback alert
	Apology  string // plain, also used as a callback answer
	// Throttled asks a person who floods the bot to wait; plain, also
	// used as a callback answer.
	Throttled string

	Subscribed, AlreadySubscribed plural // {services}
	Unsubscribed, NotSubscribed   plural // {services}
	UnknownName                   string // {name}
	UnknownNameNearest            string // {name}, {nearest}
	ValidNames                    string // {names}
	Name                          string // {id}
	NameWithAliases               string // {id}, {aliases}

	List      string // {services}
	ListEmpty string

	Choose      string
	ButtonOn    string // plain, {service}
	ButtonOff   string // plain, {service}
	NowFollowed string // plain, {service}
	Unfollowed  string // plain, {service}
	ButtonStale string // plain

	// The chat's language.
	LangChoose   string // introduces the keyboard of languages
	LangSet      string // plain: answer to the choice, in the new language
	LangNotAdmin string // plain, also used as a callback alert

	// People's reports. Kinds of problem show as their ids (login, media),
	// which are also what /report accepts.
	ReportChoose      string // {example}: a service id
	ReportThanks      string // plain
	ReportCount       plural // plain: {n}, {service}, {window}, {usual}
	ReportTop         string // plain: {kind}, {share}: a percentage
	ReportAlready     string // plain: {service}, {period}
	ReportGroupFull   string // plain: {service}, {period}: the group's quota of reports is used up
	ReportAsChat      string // {service}: a /report written on behalf of a chat is not counted
	ReportUnknownKind string // {kind}, {kinds}, {service}: a service id
	ValidServices     string // {names}
	AffectedButton    string // plain, {service}

	ServicesHeader string
	ServiceLine    string // {icon}, {service}, {state}, {names}
	ServicesFooter string

	StatusHeader      string // {time}
	StatusLine        string // {icon}, {service}, {state}
	StatusLineSince   string // {icon}, {service}, {state}, {since}, {duration}
	StatusSince       string // {since}, {duration}
	StatusChecked     string // {time}
	StatusUnknownHint string
	StatusUnverified  string // {probes}: probes not counted yet
	StatusLearning    string // a service none of whose probes is counted yet

	States     map[string]string // state in words, by checks.State
	NotChecked string            // in place of a state the monitor has not seen yet
	Headlines  map[string]string // by checks.State, {service}: "WhatsApp is down"

	OpenSince  string // {since}, {duration}
	Back       string // {service}
	MetaWide   string // {services}: heading when several services fail together
	Official   string // {text}: Meta's own wording on its status page
	Reports    plural // {count}, {window}, {usual}: people's reports
	ReportsTop string // {kind}, {share}: appended to Reports
	// Where people's reports come from, appended to Reports: the one or
	// two languages most reporters write in ({languages}, {share}), or
	// the one a regional outage mainly hits ({language}, {share}).
	ReportsWhere    string
	ReportsRegional string
	BackAfter       string            // {service}, {duration}: the channel's short reply to its post
	WasFor          map[string]string // by worst checks.State: {duration}, {time}
	Evidence        string            // {probe}, {class}
	EvidenceFor     string            // {probe}, {class}, {detail}
	MoreLines       string            // {n}
	Classes         map[string]string // probe result class in words, by checks.Class
	Shortened       string

	// The Atom feed of incidents (GET /feed.atom), rendered to plain text:
	// its title, and the title of an entry whose services are all back.
	FeedTitle string // {services}: every watched service
	FeedBack  plural // {services}

	// A chat's alert settings (/settings, /here). The lines describe the
	// settings above the keyboard that changes them.
	SettingsHeader        string
	SettingsAlertsAll     string
	SettingsAlertsDown    string
	SettingsRecoveriesOn  string
	SettingsRecoveriesOff string
	SettingsQuietOff      string
	SettingsQuiet         string            // {from}, {to}: clocks
	SettingsZone          string            // {zone}: an IANA name
	SettingsTopic         string            // alerts go to the topic chosen with /here
	SettingsTopicGeneral  string            // alerts go to the General topic
	SettingsButtons       map[string]string // plain, by choice (locale.Choice*)
	SettingsSaved         string            // plain: answer to a press
	SettingsNotAdmin      string            // plain, also used as a callback alert
	ZoneSet               string            // {zone}
	ZoneUnknown           string            // {zone}: as typed
	ZoneNearest           string            // {zone}: as typed; {nearest}: a zone name that loads
	HereSet               string
	HereGeneral           string
	HereNoTopics          string

	// The announcement channel's pinned status message.
	BoardHeader    string
	BoardLineSince string // {icon}, {service}, {state}, {since}
	BoardFooter    string

	// StartLinks follows the welcome: {subscribe} and {group} are deep
	// links, {service} the service the first one subscribes to.
	StartLinks string

	// /history: the caption of a chart. {percent} is a number written with
	// DecimalSep; HistoryWindows is by history.Window name (24h, 7d, 30d).
	HistoryTitle       string            // {service}, {window}
	HistoryWindows     map[string]string // "last 24 hours"
	HistoryUptime      string            // {percent}
	HistoryNoData      string            // in place of HistoryUptime when nothing was watched
	HistoryIncidents   plural            // {n}
	HistoryNoIncidents string
	HistoryLongest     string // {duration}
	HistoryMTTR        string // {duration}
	HistoryWatched     string // {duration}: when only part of the window was watched
	HistoryLegend      string // the chart's colours, as 🟩 🟧 🟥 ⬜
	HistoryUsage       string // {example}: a service id; {windows}: the windows
	HistoryBadWindow   string // {window}: as typed
	DecimalSep         string // between a number's whole and its fraction

	// Inline mode: the results offered when someone types the bot's name
	// in any chat. A result's title and description are plain.
	InlineAll         string // plain: title of the result that posts every service's status
	InlineNoMatch     string // plain: title of the result offered when no service matches
	InlineNoMatchHint string // {services}: its description, rendered and shown plain
	InlineAlerts      string // plain: the button under a posted status that leads to alerts
}

// plural is a text that depends on a count, with the forms its language
// needs (CLDR's one, two, few, many, other, ...). go-i18n keeps them and
// knows which one a count takes.
type plural struct {
	id string
	l  *i18n.Localizer
}

// pick returns the form of the text for n. Tests check that every catalog
// has every form its language uses; should one be missing all the same,
// go-i18n falls back to the "other" form, which New requires of every
// plural message, and that is the best there is to show.
func (p plural) pick(n int) string {
	s, _ := p.l.Localize(&i18n.LocalizeConfig{
		MessageID:   p.id,
		PluralCount: n,
		// The texts hold {placeholders} for fill, not Go templates.
		TemplateParser: template.IdentityParser{},
	})
	return s
}
