package handlers_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/handlers"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/locale/localetest"
	"github.com/outagebot/outagebot/store"
)

const token = "123456:SECRET-token"

// The people and chats of the tests. Giulia's Telegram is in Italian,
// Amal's in Arabic; Bob's does not say.
func alice() bottest.User  { return bottest.User{ID: 42, FirstName: "Alice", LanguageCode: "en"} }
func bob() bottest.User    { return bottest.User{ID: 43, FirstName: "Bob"} }
func giulia() bottest.User { return bottest.User{ID: 44, FirstName: "Giulia", LanguageCode: "it"} }
func amal() bottest.User   { return bottest.User{ID: 45, FirstName: "Amal", LanguageCode: "ar-EG"} }
func aliceChat() bottest.Chat {
	return bottest.Chat{ID: 42, Type: "private", FirstName: "Alice"}
}
func giuliaChat() bottest.Chat {
	return bottest.Chat{ID: 44, Type: "private", FirstName: "Giulia"}
}
func group() bottest.Chat      { return bottest.Chat{ID: -5, Type: "group", Title: "Friends"} }
func supergroup() bottest.Chat { return bottest.Chat{ID: -1001234, Type: "supergroup", Title: "Team"} }
func channel() bottest.Chat    { return bottest.Chat{ID: -1009999, Type: "channel", Title: "Outages"} }

// anonymousAdmin is the placeholder user Telegram puts in "from" when a
// group admin posts anonymously.
func anonymousAdmin() bottest.User {
	return bottest.User{ID: 1087968824, IsBot: true, FirstName: "Group", Username: "GroupAnonymousBot"}
}

func testNow() time.Time { return time.Date(2025, 3, 4, 16, 16, 0, 0, time.UTC) }

func testCatalog() *checks.Catalog {
	return checks.NewCatalog([]checks.Service{
		{ID: "whatsapp", Name: "WhatsApp", Aliases: []string{"wa"}},
		{ID: "instagram", Name: "Instagram", Aliases: []string{"ig", "insta"}},
		{ID: "threads", Name: "Threads"},
		{ID: "evil", Name: "<b>&", Aliases: []string{"x<y"}},
	})
}

// fakeSubs is a map-backed Subscriptions and Chats that behaves like the
// store: nothing duplicated, results in input order, subscriptions sorted,
// records merged.
type fakeSubs struct {
	mu       sync.Mutex
	subs     map[int64][]string
	chats    map[int64]store.Chat
	deleted  []int64
	migrated [][2]int64
	err      error // when set, every method fails with it
}

func newFakeSubs() *fakeSubs {
	return &fakeSubs{subs: make(map[int64][]string), chats: make(map[int64]store.Chat)}
}

func (f *fakeSubs) Subscribe(chat store.Chat, services []string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.chats[chat.ID] = merge(f.chats[chat.ID], chat)
	var added []string
	for _, s := range services {
		if !slices.Contains(f.subs[chat.ID], s) {
			f.subs[chat.ID] = append(f.subs[chat.ID], s)
			added = append(added, s)
		}
	}
	slices.Sort(f.subs[chat.ID])
	return added, nil
}

func (f *fakeSubs) Unsubscribe(chatID int64, services []string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var removed []string
	for _, s := range services {
		if i := slices.Index(f.subs[chatID], s); i >= 0 {
			f.subs[chatID] = slices.Delete(f.subs[chatID], i, i+1)
			removed = append(removed, s)
		}
	}
	return removed, nil
}

func (f *fakeSubs) Subscriptions(chatID int64) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return slices.Clone(f.subs[chatID]), nil
}

func (f *fakeSubs) DeleteChat(chatID int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	delete(f.subs, chatID)
	delete(f.chats, chatID)
	f.deleted = append(f.deleted, chatID)
	return nil
}

func (f *fakeSubs) MigrateChat(from, to int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.subs[to] = append(f.subs[to], f.subs[from]...)
	delete(f.subs, from)
	f.migrated = append(f.migrated, [2]int64{from, to})
	return nil
}

// merge is c with the fields it leaves empty taken from old, as the store
// merges records.
func merge(old, c store.Chat) store.Chat {
	c.Type = cmp.Or(c.Type, old.Type)
	c.Title = cmp.Or(c.Title, old.Title)
	c.Lang = cmp.Or(c.Lang, old.Lang)
	if !old.Added.IsZero() {
		c.Added = old.Added
	}
	return c
}

func (f *fakeSubs) Chat(id int64) (store.Chat, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return store.Chat{}, false, f.err
	}
	c, ok := f.chats[id]
	return c, ok, nil
}

func (f *fakeSubs) SetLang(chat store.Chat) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.chats[chat.ID] = merge(f.chats[chat.ID], chat)
	return nil
}

// lang returns the language recorded for a chat.
func (f *fakeSubs) lang(chatID int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.chats[chatID].Lang
}

// of returns a chat's subscriptions, nil for none.
func (f *fakeSubs) of(chatID int64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.subs[chatID]) == 0 {
		return nil
	}
	return slices.Clone(f.subs[chatID])
}

// statusesFunc adapts a function to handlers.Statuses.
type statusesFunc func() (map[string]checks.Status, error)

func (f statusesFunc) Statuses() (map[string]checks.Status, error) { return f() }

func testStatuses() map[string]checks.Status {
	return map[string]checks.Status{
		"whatsapp": {Service: "whatsapp", State: checks.Down, Since: testNow().Add(-14 * time.Minute),
			LastCheck: testNow().Add(-10 * time.Second),
			Evidence:  []checks.Result{{Probe: "web", Class: checks.ClassHTTP5xx, Detail: "HTTP 503 <html>"}}},
		// The last round, a re-check, checked Instagram alone.
		"instagram": {Service: "instagram", State: checks.Operational, Since: testNow().Add(-3 * time.Hour), LastCheck: testNow()},
		"evil":      {Service: "evil", State: checks.Degraded, Since: testNow().Add(-time.Minute)},
	}
}

// env is a bot with every handler registered, talking to a fake Bot API.
type env struct {
	t       *testing.T
	srv     *bottest.Server
	bot     *tele.Bot
	subs    *fakeSubs
	reports *fakeReports
	prefs   *fakePrefs
	history *fakeHistory
	log     *bytes.Buffer
	offset  int
	panics  bool // the test makes handlers panic on purpose
}

func newEnv(t *testing.T) *env {
	return newEnvConfig(t, func(*handlers.Config) {})
}

func newEnvWith(t *testing.T, states handlers.Statuses) *env {
	return newEnvConfig(t, func(c *handlers.Config) { c.States = states })
}

// newEnvConfig is newEnv with the handlers' Config changed by edit before
// they are registered. As in production, Recover guards every handler; a
// test fails if any of them panicked all the same.
func newEnvConfig(t *testing.T, edit func(*handlers.Config)) *env {
	t.Helper()
	srv := bottest.NewServer(token)
	t.Cleanup(srv.Close)
	// No ParseMode in the settings: the handlers must ask for HTML themselves.
	b, err := tele.NewBot(tele.Settings{URL: srv.URL, Token: srv.Token, Offline: true, Synchronous: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Me = &tele.User{ID: 1000, IsBot: true, Username: "outage_test_bot"}
	e := &env{t: t, srv: srv, bot: b, subs: newFakeSubs(), reports: newFakeReports(), prefs: newFakePrefs(), history: &fakeHistory{}, log: new(bytes.Buffer)}
	log := slog.New(slog.NewTextHandler(e.log, nil))
	cfg := handlers.Config{
		Subs:    e.subs,
		Chats:   e.subs,
		States:  statusesFunc(func() (map[string]checks.Status, error) { return testStatuses(), nil }),
		Reports: e.reports,
		Prefs:   e.prefs,
		History: e.history,
		Catalog: testCatalog(),
		Text:    testLocales(t),
		Log:     log,
		Now:     testNow,
	}
	edit(&cfg)
	b.Use(handlers.Recover(cfg))
	handlers.Register(b, cfg)
	t.Cleanup(e.checkMessages)
	t.Cleanup(e.checkNoPanic)
	return e
}

// sharedLocales are the texts of testCatalog. Loading the catalogs takes
// tens of milliseconds (far more under -race) and Locales never change, so
// every test, and every fuzz input, shares them.
var sharedLocales = sync.OnceValues(func() (*locale.Locales, error) { return locale.New(testCatalog(), time.UTC) })

// testLocales is sharedLocales for a test.
func testLocales(t testing.TB) *locale.Locales {
	t.Helper()
	l, err := sharedLocales()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// deliver hands every update queued on the fake server to the bot, the way
// a poller would, and returns once the (synchronous) handlers are done.
func (e *env) deliver() {
	e.t.Helper()
	for _, u := range e.updates() {
		e.bot.ProcessUpdate(u)
	}
}

// updates takes the updates queued on the fake server, as a poller would.
func (e *env) updates() []tele.Update {
	e.t.Helper()
	raw, err := e.bot.Raw("getUpdates", map[string]any{"offset": e.offset, "timeout": 0})
	if err != nil {
		e.t.Fatalf("getUpdates: %v", err)
	}
	var resp struct{ Result []tele.Update }
	if err := json.Unmarshal(raw, &resp); err != nil {
		e.t.Fatalf("decode updates: %v", err)
	}
	if n := len(resp.Result); n > 0 {
		e.offset = resp.Result[n-1].ID + 1
	}
	return resp.Result
}

// say sends text from a user into a chat and returns what the bot sent in
// response.
func (e *env) say(chat bottest.Chat, from bottest.User, text string) []bottest.Message {
	e.t.Helper()
	before := len(e.srv.Messages())
	e.srv.SendText(chat, from, text)
	e.deliver()
	return e.srv.Messages()[before:]
}

// reply is say for exactly one answer, returned as the user sees it.
func (e *env) reply(chat bottest.Chat, from bottest.User, text string) string {
	e.t.Helper()
	msgs := e.say(chat, from, text)
	if len(msgs) != 1 {
		e.t.Fatalf("%q in chat %d: got %d messages, want 1: %+v\nlog:\n%s", text, chat.ID, len(msgs), msgs, e.log)
	}
	return msgs[0].Plain()
}

// press presses a button with data under the bot's message in chat and
// returns the answer to the callback query.
func (e *env) press(chat bottest.Chat, from bottest.User, messageID int, data string) bottest.Call {
	e.t.Helper()
	before := len(e.srv.Calls("answerCallbackQuery"))
	id := e.srv.PressButton(chat, from, messageID, data)
	e.deliver()
	answers := e.srv.Calls("answerCallbackQuery")[before:]
	if len(answers) != 1 || answers[0].Param("callback_query_id") != id {
		e.t.Fatalf("press %q: answers %+v, want exactly one for query %s\nlog:\n%s", data, answers, id, e.log)
	}
	return answers[0]
}

// checkMessages holds every message the bot sent to the house rules: HTML
// parse mode and well-formed HTML, with every piece of data escaped.
func (e *env) checkMessages() {
	for _, m := range e.srv.Messages() {
		if m.ParseMode != "HTML" {
			e.t.Errorf("message %q sent with parse mode %q, want HTML", m.Text, m.ParseMode)
		}
		if err := localetest.CheckHTML(m.Text); err != nil {
			e.t.Errorf("message %q: %v", m.Text, err)
		}
	}
}

// storeChat is the record of a test chat.
func storeChat(c bottest.Chat) store.Chat {
	return store.Chat{ID: c.ID, Type: c.Type, Title: c.Title, Added: testNow()}
}
