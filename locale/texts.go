package locale

import "github.com/outagebot/outagebot/checks"

// texts is every user-visible text of one language. A later catalog loader
// (go-i18n) fills one texts value per language; the renderers never change.
//
// Texts are trusted Telegram HTML with {name} placeholders. The renderers fill
// placeholders with escaped data, so a text may use <b>, <i> and <code> but
// must escape its own literal '<', '>' and '&'. Two kinds of field are plain
// text instead: words that are inserted into other texts (states, classes,
// NotChecked), which the renderers escape, and fields documented as plain,
// which Telegram shows without parsing (button labels, callback answers).
type texts struct {
	// Lists: "A, B and C".
	ListSep, ListLast string

	// TimeLayout formats a moment of today, DateTimeLayout an earlier one
	// (Go reference-time layouts).
	TimeLayout, DateTimeLayout string

	// Durations: {n}, {d}, {h}, {m} are numbers.
	Seconds, Minutes, Hours, HoursMinutes, Days, DaysHours string

	Welcome      string            // {services}: list of service names; {example}: a service id
	GroupWelcome string            // {services}
	Help         string            // {example}: a service id
	Commands     map[string]string // menu description per command, plain, 3-256 characters

	NotAdmin string // plain, also used as a callback alert
	Apology  string // plain, also used as a callback answer

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

	// People's reports. Kinds of problem show as their ids (login, media),
	// which are also what /report accepts.
	ReportChoose      string // {example}: a service id
	ReportThanks      string // plain
	ReportCount       plural // plain: {n}, {service}, {window}, {usual}
	ReportTop         string // plain: {kind}, {share}: a percentage
	ReportAlready     string // plain: {service}, {period}
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

	States     map[checks.State]string // state in words
	NotChecked string                  // in place of a state the monitor has not seen yet
	Headlines  map[checks.State]string // {service}: "WhatsApp is down"

	OpenSince   string                  // {since}, {duration}
	Back        string                  // {service}
	MetaWide    string                  // {services}: heading when several services fail together
	Official    string                  // {text}: Meta's own wording on its status page
	Reports     string                  // {count}, {window}, {usual}: people's reports
	ReportsTop  string                  // {kind}, {share}: appended to Reports
	BackAfter   string                  // {service}, {duration}: the channel's short reply to its post
	WasFor      map[checks.State]string // by worst state: {duration}, {time}
	Evidence    string                  // {probe}, {class}
	EvidenceFor string                  // {probe}, {class}, {detail}
	MoreLines   string                  // {n}
	Classes     map[checks.Class]string // probe result class in words
	Shortened   string
}

// plural holds the forms of a text that depends on a count. English needs
// two; go-i18n's CLDR forms (zero, two, few, many) extend this struct.
type plural struct{ One, Other string }

func (p plural) pick(n int) string {
	if n == 1 {
		return p.One
	}
	return p.Other
}

// english is the source catalog every translation is made from.
func english() texts {
	return texts{
		ListSep:  ", ",
		ListLast: " and ",

		TimeLayout:     "15:04 MST",
		DateTimeLayout: "Jan 2, 15:04 MST",

		Seconds:      "{n} s",
		Minutes:      "{n} min",
		Hours:        "{h} h",
		HoursMinutes: "{h} h {m} min",
		Days:         "{d} d",
		DaysHours:    "{d} d {h} h",

		Welcome: "👋 <b>Hi!</b> I watch {services} from the outside and tell you here " +
			"when one of them goes down and when it is back.\n\n" +
			"Follow a service with <code>/subscribe {example}</code>, or send /subscribe alone " +
			"to pick from a list. /status shows how everything is doing right now, " +
			"/help lists every command.",
		GroupWelcome: "👋 Thanks for adding me! I can post here when {services} go down " +
			"and when they are back.\n\n" +
			"Group admins choose what this group follows with /subscribe. " +
			"Anyone can ask for /status.",
		Help: "<b>Commands</b>\n" +
			"/status: how every service is doing; <code>/status {example}</code> for details\n" +
			"/report: tell me a service fails for you, e.g. <code>/report {example} login</code>; " +
			"the problems I count are login, messages, media, app and web\n" +
			"/services: the services I watch and the names they go by\n" +
			"/subscribe: get alerts, e.g. <code>/subscribe wa ig</code> or <code>/subscribe all</code>; " +
			"alone, it shows a list to tap\n" +
			"/unsubscribe: stop alerts, e.g. <code>/unsubscribe threads</code> or <code>/unsubscribe all</code>\n" +
			"/list: what this chat follows\n" +
			"/help: this message\n\n" +
			"In groups anyone may ask for the status or report a problem; only admins change what the group follows.",
		Commands: map[string]string{
			"start":       "Welcome and how to use the bot",
			"status":      "Current state of every service",
			"report":      "Report a problem with a service",
			"services":    "Services watched and their names",
			"subscribe":   "Get alerts for a service",
			"unsubscribe": "Stop alerts for a service",
			"list":        "What this chat follows",
			"help":        "How to use the bot",
		},

		NotAdmin: "Only group admins can change what this group follows.",
		Apology:  "Something went wrong, please try again.",

		Subscribed: plural{
			One:   "✅ Subscribed to {services}. I'll tell you here when it goes down and when it is back.",
			Other: "✅ Subscribed to {services}. I'll tell you here when they go down and when they are back.",
		},
		AlreadySubscribed: plural{
			One:   "Already subscribed to {services}.",
			Other: "Already subscribed to {services}.",
		},
		Unsubscribed: plural{
			One:   "🔕 Unsubscribed from {services}.",
			Other: "🔕 Unsubscribed from {services}.",
		},
		NotSubscribed: plural{
			One:   "This chat wasn't subscribed to {services}.",
			Other: "This chat wasn't subscribed to {services}.",
		},
		UnknownName:        "❓ I don't know “{name}”.",
		UnknownNameNearest: "❓ I don't know “{name}”. Did you mean <code>{nearest}</code>?",
		ValidNames:         "Valid names: {names}, or <code>all</code>.",
		Name:               "<code>{id}</code>",
		NameWithAliases:    "<code>{id}</code> ({aliases})",

		List:      "📋 This chat follows {services}.",
		ListEmpty: "This chat follows nothing yet. Send /subscribe to choose.",

		Choose:      "Choose what this chat follows: ✅ followed, ➕ not followed. Tap to switch.",
		ButtonOn:    "✅ {service}",
		ButtonOff:   "➕ {service}",
		NowFollowed: "Following {service}",
		Unfollowed:  "No longer following {service}",
		ButtonStale: "This button is out of date. Send /subscribe for a fresh list.",

		ReportChoose: "🙋 Which service is giving you trouble? Tap it to report it. " +
			"To say what fails, send e.g. <code>/report {example} login</code>.",
		ReportThanks: "Thanks — counted.",
		ReportCount: plural{
			One:   "{n} person reported {service} problems in the last {window} (usually {usual}).",
			Other: "{n} people reported {service} problems in the last {window} (usually {usual}).",
		},
		ReportTop:         "Most reports: {kind}, {share} %.",
		ReportAlready:     "You already reported {service} in the last {period}.",
		ReportUnknownKind: "❓ I don't know the problem “{kind}”. I count {kinds}, e.g. <code>/report {service} login</code>.",
		ValidServices:     "Valid names: {names}.",
		AffectedButton:    "🙋 I'm affected: {service}",

		ServicesHeader: "<b>Services I watch</b>",
		ServiceLine:    "{icon} <b>{service}</b>: {state}. Names: {names}",
		ServicesFooter: "Follow one with /subscribe and any of its names.",

		StatusHeader:      "<b>Status</b> at {time}",
		StatusLine:        "{icon} <b>{service}</b>: {state}",
		StatusLineSince:   "{icon} <b>{service}</b>: {state} since {since} ({duration})",
		StatusSince:       "since {since} ({duration})",
		StatusChecked:     "last checked {time}",
		StatusUnknownHint: "This monitor cannot reach the internet right now, so it cannot tell.",

		States: map[checks.State]string{
			checks.Operational: "operational",
			checks.Degraded:    "degraded",
			checks.Down:        "down",
			checks.Unknown:     "unknown",
			checks.Suspected:   "possibly having problems",
			checks.Recovering:  "recovering",
		},
		NotChecked: "not checked yet",
		Headlines: map[checks.State]string{
			checks.Operational: "{service} is operational",
			checks.Degraded:    "{service} is degraded",
			checks.Down:        "{service} is down",
			checks.Unknown:     "{service}: status unknown",
			checks.Suspected:   "{service} may be having problems (checking)",
			checks.Recovering:  "{service} is recovering (checking)",
		},

		OpenSince:  "since {since} ({duration} so far)",
		Back:       "{service} is back",
		MetaWide:   "⚠️ <b>Meta-wide outage:</b> {services}",
		Official:   "• Meta says: {text}",
		Reports:    "• {count} people reported problems in {window} (usually {usual})",
		ReportsTop: "; most: {kind}, {share} %",
		BackAfter:  "✅ <b>{service} is back</b> after {duration}",
		WasFor: map[checks.State]string{
			checks.Degraded: "was degraded for {duration}, back since {time}",
			checks.Down:     "was down for {duration}, back since {time}",
		},
		Evidence:    "• {probe}: {class}",
		EvidenceFor: "• {probe}: {class} ({detail})",
		MoreLines:   "+{n} more",
		Classes: map[checks.Class]string{
			checks.ClassOK:             "ok",
			checks.ClassDNSNXDomain:    "DNS name not found",
			checks.ClassDNSServFail:    "DNS server failure",
			checks.ClassDNSTimeout:     "DNS timeout",
			checks.ClassTCPRefused:     "connection refused",
			checks.ClassTCPTimeout:     "connection timeout",
			checks.ClassTLSError:       "TLS error",
			checks.ClassHTTP5xx:        "server error",
			checks.ClassHTTPTimeout:    "no answer in time",
			checks.ClassHTTPBlocked:    "blocked or rate limited",
			checks.ClassHTTPUnexpected: "unexpected answer",
			checks.ClassBodyMismatch:   "unexpected content",
		},
		Shortened: "… shortened to fit, send /status for the rest",
	}
}

// CommandDescription is the command-menu description of a bot command (the
// name without '/'), or "" for a command this package has no text for.
func CommandDescription(command string) string {
	return english().Commands[command]
}
