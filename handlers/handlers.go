// Package handlers answers what people do with the bot in Telegram: commands,
// inline-keyboard presses, the bot being added to or removed from chats, and
// groups becoming supergroups.
//
// Every text comes from package locale; this package decides what to say and
// to whom, never how to phrase it.
package handlers

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/store"
)

// Subscriptions records which chats follow which services.
type Subscriptions interface {
	// Subscribe records chat and subscribes it to services, returning those
	// that were not subscribed before.
	Subscribe(chat store.Chat, services []string) (added []string, err error)
	// Unsubscribe returns the services that were subscribed and no longer are.
	Unsubscribe(chatID int64, services []string) (removed []string, err error)
	Subscriptions(chatID int64) ([]string, error)
	// DeleteChat forgets a chat the bot can no longer write to.
	DeleteChat(chatID int64) error
	// MigrateChat moves a group that became a supergroup to its new id.
	MigrateChat(from, to int64) error
}

// Chats keeps the record of every chat, and with it the language the chat
// reads.
type Chats interface {
	Chat(id int64) (store.Chat, bool, error)
	// SetLang records chat.Lang as the chat's language, recording the chat
	// if it is new; the other fields of an existing record stay where chat
	// leaves them empty.
	SetLang(chat store.Chat) error
}

// Statuses reports the detector's current view of every service.
type Statuses interface {
	Statuses() (map[string]checks.Status, error)
}

// Config is what the handlers need.
type Config struct {
	Subs    Subscriptions
	Chats   Chats
	States  Statuses
	Reports Reports
	Prefs   Preferences
	History History
	// ReportRule says how long a person's report of a service stands and
	// what window replies count; zero fields take checks.DefaultReportRule's.
	ReportRule checks.ReportRule
	Catalog    *checks.Catalog
	Text       *locale.Locales  // every reply is in the language of its chat
	Log        *slog.Logger     // nil discards
	Now        func() time.Time // nil means time.Now
	// Flood bounds how fast one person's commands and presses are
	// handled; the zero value sets no limit, DefaultFloodLimit is meant
	// for production.
	Flood FloodLimit
	// ChartRenders is at most how many /history charts are drawn at once;
	// zero means DefaultChartRenders.
	ChartRenders int
	// Interval is how often the schedule runs a probe round: Telegram
	// keeps answers to inline queries until the next round is due, and at
	// most this long. Zero means 30 s, the default schedule's.
	Interval time.Duration
}

// DefaultChartRenders is two charts drawn at once. Drawing is CPU work of
// about a tenth of a second for 30 days of rounds, and the bot is meant to
// run on two cores: more at once would not finish sooner, only hold more
// memory (tens of megabytes each) and take the cores from everything else.
// Charts are drawn once per round and answer anyway, so a queue here is
// rare and short.
const DefaultChartRenders = 2

// handler carries the configuration into every handler.
type handler struct {
	Config
	// token is the bot's token, cut out of logged errors: Go's HTTP errors
	// quote the request URL, which contains it.
	token string
	flood *floodGate  // nil without a flood limit
	quota *groupQuota // reports counted per group
	// signals says what people's reports say, a reply to /report included.
	signals *checks.Reports

	statusTexts *perRound[string]     // /status by language and services
	charts      *perRound[chart]      // /history by service, window, zone and language
	inlineSets  *perRound[*inlineSet] // inline results by language
	// serviceWords are what inline queries match, per service in
	// catalog order (see serviceWords).
	serviceWords [][]string
	renders      chan struct{} // a slot per chart being drawn
	repeats      *repeats      // answers lately sent into groups
}

// audience is who is offered a command in the command menu.
type audience int

const (
	nobody   audience = iota // answered, not offered
	everyone                 // anyone in any chat
	changers                 // whoever may change the chat: anyone in private, admins in groups
)

// command is one bot command.
type command struct {
	name string // without the '/'
	menu audience
	run  func(*handler, tele.Context) error
}

// commands is every command the bot understands, in menu order.
func commands() []command {
	return []command{
		{"start", nobody, (*handler).start},
		{"status", everyone, (*handler).status},
		{"history", everyone, (*handler).showHistory},
		{"report", everyone, (*handler).report},
		{"services", everyone, (*handler).services},
		{"subscribe", changers, (*handler).subscribe},
		{"unsubscribe", changers, (*handler).unsubscribe},
		{"list", everyone, (*handler).list},
		{"lang", changers, (*handler).language},
		{"settings", changers, (*handler).settings},
		{"here", nobody, (*handler).here},
		{"help", everyone, (*handler).help},
	}
}

// menu is the command menu of p's language: the commands offered to
// everyone and, with changers, those that change the chat too.
func menu(p *locale.Printer, withChangers bool) []tele.Command {
	var cmds []tele.Command
	for _, c := range commands() {
		if c.menu == everyone || c.menu == changers && withChangers {
			cmds = append(cmds, tele.Command{Text: c.name, Description: p.CommandDescription(c.name)})
		}
	}
	return cmds
}

// SetCommands registers the command menus with Telegram (setMyCommands), one
// per language and scope: private chats and group admins see every command,
// other group members those that do not change the group. Telegram picks
// the menu by the user's language; English is also every other language's.
// It stops at the first failure: a Telegram that fails one call is likely to
// fail the next dozens too, and meanwhile it keeps the menus it has.
func SetCommands(b *tele.Bot, texts *locale.Locales) error {
	scopes := []struct {
		scope        tele.CommandScope
		withChangers bool
	}{
		{tele.CommandScope{Type: tele.CommandScopeAllPrivateChats}, true},
		{tele.CommandScope{Type: tele.CommandScopeAllGroupChats}, false},
		{tele.CommandScope{Type: tele.CommandScopeAllChatAdmin}, true},
	}
	fallback := texts.For("")
	for _, tag := range texts.Tags() {
		p := texts.For(tag)
		codes := []string{p.Code()}
		if p == fallback {
			codes = append(codes, "") // the menu of languages without their own
		}
		for _, s := range scopes {
			for _, code := range codes {
				if err := b.SetCommands(menu(p, s.withChangers), s.scope, code); err != nil {
					return fmt.Errorf("set the %s command menu for %q: %w", s.scope.Type, code, err)
				}
			}
		}
	}
	return nil
}

// Register installs every handler on b. For commands addressed to a bot by
// name (/status@SomeBot), telebot ignores those for other bots only when
// b.Me.Username is set, as it is after getMe.
func Register(b *tele.Bot, c Config) {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.ReportRule = c.ReportRule.WithDefaults()
	if c.ChartRenders <= 0 {
		c.ChartRenders = DefaultChartRenders
	}
	if c.Interval <= 0 {
		c.Interval = defaultInterval
	}
	h := &handler{
		Config: c, token: b.Token, flood: newFloodGate(c.Flood), quota: newGroupQuota(c.ReportRule),
		signals:      &checks.Reports{Source: c.Reports, Rule: c.ReportRule},
		statusTexts:  newPerRound[string](maxStatusTexts),
		charts:       newPerRound[chart](maxCharts),
		inlineSets:   newPerRound[*inlineSet](maxInlineSets),
		serviceWords: serviceWords(c.Catalog),
		renders:      make(chan struct{}, c.ChartRenders),
		repeats:      newRepeats(repeatWindow),
	}
	for _, cmd := range commands() {
		b.Handle("/"+cmd.name, h.wrap(cmd.name, cmd.run))
	}
	b.Handle(&tele.Btn{Unique: toggleUnique}, h.wrap("toggle", (*handler).toggle))
	b.Handle(&tele.Btn{Unique: affectedUnique}, h.wrap("affected", (*handler).affected))
	b.Handle(&tele.Btn{Unique: langUnique}, h.wrap("lang", (*handler).chooseLang))
	b.Handle(&tele.Btn{Unique: settingsUnique}, h.wrap("settings", (*handler).chooseSetting))
	b.Handle(tele.OnCallback, h.wrap("callback", (*handler).staleButton))
	b.Handle(tele.OnMyChatMember, h.wrap("my_chat_member", (*handler).membership))
	b.Handle(tele.OnMigration, h.wrap("migration", (*handler).migrate))
	b.Handle(tele.OnQuery, h.wrap("inline_query", (*handler).inline))
}

// wrap runs a handler on the updates that admit lets through, and logs what
// it could not do. Nothing is returned to telebot, whose default error
// handler would print the error, token and all.
func (h *handler) wrap(name string, run func(*handler, tele.Context) error) tele.HandlerFunc {
	return func(c tele.Context) error {
		if !h.admit(c) {
			return nil
		}
		if err := run(h, c); err != nil {
			h.Log.Error("handling update failed", "handler", name, "chat", chatID(c), h.errAttr(err))
		}
		return nil
	}
}

// errAttr is err for the log, without the token.
func (h *handler) errAttr(err error) slog.Attr {
	msg := err.Error()
	if h.token != "" {
		msg = strings.ReplaceAll(msg, h.token, "[token]")
	}
	return slog.String("err", msg)
}

func chatID(c tele.Context) int64 {
	if chat := c.Chat(); chat != nil {
		return chat.ID
	}
	return 0
}

// send sends an HTML text (or a photo with an HTML caption) to the chat of
// c, into the forum topic of the message it answers: without
// message_thread_id, Telegram puts the answer in the General topic, away
// from the question.
func (h *handler) send(c tele.Context, what any, opts ...any) error {
	if m := c.Message(); m != nil && m.TopicMessage {
		// First: a *SendOptions replaces the options before it.
		opts = append([]any{&tele.SendOptions{ThreadID: m.ThreadID}}, opts...)
	}
	return c.Send(what, append(opts, tele.ModeHTML, tele.NoPreview)...)
}

// fail logs a failure on our side and apologises to the chat, which learns
// nothing about the cause.
func (h *handler) fail(c tele.Context, err error) error {
	h.Log.Error("request failed", "chat", chatID(c), h.errAttr(err))
	return h.send(c, h.text(c).Apology())
}

// text is the Printer of the language of the chat of c: the one the chat
// reads, else in a private chat its user's, else English.
func (h *handler) text(c tele.Context) *locale.Printer {
	if lang, ok := h.storedLang(c); ok {
		return h.Text.For(lang)
	}
	return h.clientText(c)
}

// clientText is the Printer of a chat that has no language recorded: in a
// private chat its user's, else English.
func (h *handler) clientText(c tele.Context) *locale.Printer {
	if chat := c.Chat(); chat != nil && chat.Type != tele.ChatPrivate {
		// A group reads in one language for all; until it has one, the
		// bot does not pick a member's.
		return h.Text.For("")
	}
	if u := c.Sender(); u != nil {
		return h.Text.For(u.LanguageCode)
	}
	return h.Text.For("")
}

// storedLang returns the language recorded for the chat of c, if any. A
// failure to read it is logged and taken for none: the reply is still worth
// sending, in whatever language.
func (h *handler) storedLang(c tele.Context) (string, bool) {
	chat := c.Chat()
	if chat == nil {
		return "", false
	}
	rec, ok, err := h.Chats.Chat(chat.ID)
	if err != nil {
		h.Log.Warn("cannot read the chat's language", "chat", chat.ID, h.errAttr(err))
		return "", false
	}
	return rec.Lang, ok && rec.Lang != ""
}

// args splits what follows the command into names: separated by spaces,
// newlines or commas, so "/subscribe wa, ig" and "/subscribe wa ig" agree.
// telebot's payload stops at the first newline, so the text is split here.
func args(text string) []string {
	i := strings.IndexFunc(text, unicode.IsSpace)
	if i < 0 {
		return nil
	}
	return strings.FieldsFunc(text[i:], separator)
}

// separator reports whether r separates the names people type.
func separator(r rune) bool { return r == ',' || unicode.IsSpace(r) }

// resolve turns names into service ids, in the order given and without
// repeats; "all" means every service. Names that match nothing come back as
// typed, once each.
func (h *handler) resolve(names []string) (ids, unknown []string) {
	seen := make(map[string]bool)
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	unseen := make(map[string]bool)
	for _, n := range names {
		if strings.EqualFold(n, "all") {
			for _, id := range h.Catalog.IDs() {
				add(id)
			}
			continue
		}
		if s, ok := h.Catalog.Lookup(n); ok {
			add(s.ID)
			continue
		}
		if k := strings.ToLower(n); !unseen[k] {
			unseen[k] = true
			unknown = append(unknown, n)
		}
	}
	return ids, unknown
}

// minus returns the elements of all that are not in some, in order.
func minus(all, some []string) []string {
	skip := make(map[string]bool, len(some))
	for _, s := range some {
		skip[s] = true
	}
	var out []string
	for _, s := range all {
		if !skip[s] {
			out = append(out, s)
		}
	}
	return out
}
