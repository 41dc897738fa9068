package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/handlers"
	"github.com/outagebot/outagebot/locale/localetest"
)

// ask types "@outage_test_bot query" as from, in a group, and returns the
// bot's answer: exactly one, with messages in HTML as the house rules want.
func (e *env) ask(from bottest.User, query string) bottest.InlineAnswer {
	e.t.Helper()
	id := e.srv.SendInlineQuery(from, "group", query)
	e.deliver()
	var answers []bottest.InlineAnswer
	for _, a := range e.srv.InlineAnswers() {
		if a.QueryID == id {
			answers = append(answers, a)
		}
	}
	if len(answers) != 1 {
		e.t.Fatalf("inline query %q: %d answers, want 1\nlog:\n%s", query, len(answers), e.log)
	}
	for _, r := range answers[0].Results {
		if r.ParseMode != "HTML" {
			e.t.Errorf("result %s posts a message in parse mode %q, want HTML", r.ID, r.ParseMode)
		}
		if err := localetest.CheckHTML(r.Text); err != nil {
			e.t.Errorf("result %s: %v in %q", r.ID, err, r.Text)
		}
	}
	return answers[0]
}

// ids are the ids of an answer's results.
func ids(a bottest.InlineAnswer) []string {
	out := make([]string, len(a.Results))
	for i, r := range a.Results {
		out[i] = r.ID
	}
	return out
}

// alertsLink is the URL of the one button under a result's message, "" for
// none.
func alertsLink(t *testing.T, r bottest.InlineResult) (text, link string) {
	t.Helper()
	if r.ReplyMarkup == nil {
		return "", ""
	}
	var m struct {
		InlineKeyboard [][]struct{ Text, URL string } `json:"inline_keyboard"`
	}
	if err := json.Unmarshal(r.ReplyMarkup, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.InlineKeyboard) != 1 || len(m.InlineKeyboard[0]) != 1 {
		t.Fatalf("result %s: keyboard %s, want one button", r.ID, r.ReplyMarkup)
	}
	return m.InlineKeyboard[0][0].Text, m.InlineKeyboard[0][0].URL
}

func TestInlineQueryMatchesServices(t *testing.T) {
	all := []string{"all", "svc_whatsapp", "svc_instagram", "svc_threads", "svc_evil"}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", all},
		{"   ", all},
		{"whatsapp", []string{"svc_whatsapp"}},
		{"WhatsApp", []string{"svc_whatsapp"}},
		{"what", []string{"svc_whatsapp"}},
		{"WA", []string{"svc_whatsapp"}},
		{"i", []string{"svc_instagram"}},
		{"insta", []string{"svc_instagram"}},
		{"is whatsapp down?", []string{"svc_whatsapp"}},
		{"wa, ig", []string{"svc_whatsapp", "svc_instagram"}},
		{"threads wa", []string{"svc_whatsapp", "svc_threads"}},
		{"x<", []string{"svc_evil"}},
		{"<b>&", []string{"svc_evil"}},
		{"all", []string{"all"}},
		{"serv", []string{"all"}},
		{"all wa", []string{"all", "svc_whatsapp"}},
		{"telegram", []string{"none"}},
		{"myspace", []string{"none"}},
		// Misspelt names, as /status takes them; short words are not.
		{"whatsappp", []string{"svc_whatsapp"}},
		{"is instagarm down", []string{"svc_instagram"}},
		{"ix", []string{"none"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			e := newEnv(t)
			a := e.ask(alice(), tc.query)
			if diff := cmp.Diff(tc.want, ids(a)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if a.IsPersonal {
				t.Error("the answer is personal: Telegram could not give it to others who type the same")
			}
		})
	}
}

// TestInlineResultsSayTheStatus checks every result of an empty query:
// state, since when and evidence; the message it posts, the same as
// /status; and the button that leads to alerts.
func TestInlineResultsSayTheStatus(t *testing.T) {
	e := newEnv(t)
	a := e.ask(alice(), "")
	type result struct {
		Title, Description, Text, Button, Link string
	}
	var got []result
	for _, r := range a.Results {
		button, link := alertsLink(t, r)
		got = append(got, result{r.Title, r.Description, r.Plain(), button, link})
	}
	status := func(args string) string { return e.reply(aliceChat(), alice(), "/status"+args) }
	link := "https://t.me/outage_test_bot?start=sub_"
	want := []result{
		{"📋 All services", "🔴 WhatsApp · 🟢 Instagram · ⚪ Threads · 🟠 <b>&", status(""), "🔔 Get alerts", link + "all"},
		{"🔴 WhatsApp: down", "since 16:02 UTC (14 min)\n• web: server error", status(" wa"), "🔔 Get alerts", link + "whatsapp"},
		{"🟢 Instagram: operational", "since 13:16 UTC (3 h)", status(" ig"), "🔔 Get alerts", link + "instagram"},
		{"⚪ Threads: not checked yet", "", status(" threads"), "🔔 Get alerts", link + "threads"},
		{"🟠 <b>&: degraded", "since 16:15 UTC (1 min)", status(" evil"), "🔔 Get alerts", link + "evil"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	none := e.ask(alice(), "myspace").Results[0]
	button, _ := alertsLink(t, none)
	if none.Title != "❓ No service by that name" ||
		none.Description != "I watch WhatsApp, Instagram, Threads and <b>&. Choose this to post the status of every service." ||
		none.Plain() != status("") || button != "🔔 Get alerts" {
		t.Errorf("result for no match = %+v", none)
	}
}

// TestInlineQueryInTheUsersLanguage asks the same in four languages: each
// person gets the results in their Telegram's language, with the message
// /status would give them in a private chat.
func TestInlineQueryInTheUsersLanguage(t *testing.T) {
	for _, tc := range []struct {
		who            bottest.User
		chat           bottest.Chat
		title, all, bt string
	}{
		{alice(), aliceChat(), "🔴 WhatsApp: down", "📋 All services", "🔔 Get alerts"},
		{giulia(), giuliaChat(), "🔴 WhatsApp: fuori servizio", "📋 Tutti i servizi", "🔔 Ricevi gli avvisi"},
		{amal(), bottest.Chat{ID: 45, Type: "private"}, "\u200f🔴 \u2068WhatsApp\u2069: \u2068متوقفة\u2069", "📋 كل الخدمات", "🔔 احصل على التنبيهات"},
		// Bob's Telegram does not say: English.
		{bob(), bottest.Chat{ID: 43, Type: "private"}, "🔴 WhatsApp: down", "📋 All services", "🔔 Get alerts"},
	} {
		t.Run(tc.who.FirstName, func(t *testing.T) {
			e := newEnv(t)
			a := e.ask(tc.who, "wa")
			if len(a.Results) != 1 {
				t.Fatalf("results %v, want one", ids(a))
			}
			r := a.Results[0]
			if want := e.reply(tc.chat, tc.who, "/status wa"); r.Plain() != want {
				t.Errorf("message = %q, want /status wa's in a private chat, %q", r.Plain(), want)
			}
			if r.Title != tc.title {
				t.Errorf("title = %q, want %q", r.Title, tc.title)
			}
			if button, _ := alertsLink(t, r); button != tc.bt {
				t.Errorf("button = %q, want %q", button, tc.bt)
			}
			if got := e.ask(tc.who, "").Results[0].Title; got != tc.all {
				t.Errorf("title of every service = %q, want %q", got, tc.all)
			}
		})
	}
}

// TestInlineAllInTheUsersLanguage asks for every service with the words of
// the asker's language.
func TestInlineAllInTheUsersLanguage(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		who   bottest.User
		query string
		want  []string
	}{
		{giulia(), "tutti", []string{"all"}},
		{giulia(), "Servizi", []string{"all"}},
		{giulia(), "all", []string{"all"}},
		{amal(), "الخدمات", []string{"all"}},
		// Another language's words are not this person's.
		{alice(), "tutti", []string{"none"}},
	} {
		if diff := cmp.Diff(tc.want, ids(e.ask(tc.who, tc.query))); diff != "" {
			t.Errorf("%s asking %q (-want +got):\n%s", tc.who.FirstName, tc.query, diff)
		}
	}
}

// TestInlineAlertsLinkSubscribes follows the button under the results: the
// deep link's /start subscribes the person's chat with the bot.
func TestInlineAlertsLinkSubscribes(t *testing.T) {
	e := newEnv(t)
	a := e.ask(alice(), "")
	for i, want := range [][]string{
		{"evil", "instagram", "threads", "whatsapp"}, // every service
		{"evil", "instagram", "threads", "whatsapp"}, // already
	} {
		_, link := alertsLink(t, a.Results[i])
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		e.reply(aliceChat(), alice(), "/start "+u.Query().Get("start"))
		if diff := cmp.Diff(want, e.subs.of(aliceChat().ID)); diff != "" {
			t.Errorf("after %s (-want +got):\n%s", link, diff)
		}
	}
	e.subs.Unsubscribe(aliceChat().ID, []string{"evil", "instagram", "threads", "whatsapp"})
	_, link := alertsLink(t, e.ask(alice(), "wa").Results[0])
	u, _ := url.Parse(link)
	e.reply(aliceChat(), alice(), "/start "+u.Query().Get("start"))
	if diff := cmp.Diff([]string{"whatsapp"}, e.subs.of(aliceChat().ID)); diff != "" {
		t.Errorf("after %s (-want +got):\n%s", link, diff)
	}
}

func TestInlineWithoutTheBotsName(t *testing.T) {
	e := newEnv(t)
	e.bot.Me = &tele.User{ID: 1000, IsBot: true}
	for _, r := range e.ask(alice(), "").Results {
		if r.ReplyMarkup != nil {
			t.Errorf("result %s has a button %s, but the bot's name is not known to link to", r.ID, r.ReplyMarkup)
		}
	}
}

// TestInlineCacheTime asks through a round: Telegram keeps each answer
// until the next round is due, never less than 5 s nor more than the
// interval.
func TestInlineCacheTime(t *testing.T) {
	clk := newClock()
	live := newLiveStatuses()
	e := newEnvConfig(t, func(c *handlers.Config) {
		c.States, c.Now, c.Interval = live, clk.Now, time.Minute
	})
	// The last round checked Instagram at testNow.
	for _, step := range []struct {
		wait time.Duration
		want int
	}{
		{0, 60},
		{20 * time.Second, 40},
		{38 * time.Second, 5}, // 2 s before the next round is due
		{30 * time.Second, 5}, // the round is late
	} {
		clk.Advance(step.wait)
		if got := e.ask(alice(), "wa").CacheTime; got != step.want {
			t.Errorf("%v after the round: cache_time %d, want %d", clk.Now().Sub(testNow()), got, step.want)
		}
	}
	live.commit("whatsapp", checks.Operational, clk.Now())
	clk.Advance(10 * time.Second)
	if got := e.ask(alice(), "wa").CacheTime; got != 50 {
		t.Errorf("10 s after a new round: cache_time %d, want 50", got)
	}
}

func TestInlineBeforeTheFirstRound(t *testing.T) {
	e := newEnvWith(t, statusesFunc(func() (map[string]checks.Status, error) { return nil, nil }))
	a := e.ask(alice(), "wa")
	if a.CacheTime != 5 {
		t.Errorf("cache_time %d before any round, want 5", a.CacheTime)
	}
	if got := a.Results[0].Title; got != "⚪ WhatsApp: not checked yet" {
		t.Errorf("title = %q", got)
	}
}

func TestInlineWhenTheStatusesCannotBeRead(t *testing.T) {
	e := newEnvWith(t, statusesFunc(func() (map[string]checks.Status, error) { return nil, errors.New("disk on fire") }))
	e.srv.SendInlineQuery(alice(), "sender", "wa")
	e.deliver()
	if n := len(e.srv.InlineAnswers()); n != 0 {
		t.Errorf("%d answers, want none", n)
	}
	if !strings.Contains(e.log.String(), "disk on fire") {
		t.Errorf("the failure was not logged:\n%s", e.log)
	}
}

// TestInlineResultsAreAtMostFifty asks a bot that watches 60 services for
// all of them: Telegram takes 50 results.
func TestInlineResultsAreAtMostFifty(t *testing.T) {
	var services []checks.Service
	for i := range 60 {
		services = append(services, checks.Service{ID: fmt.Sprintf("s%02d", i), Name: fmt.Sprintf("Service %d", i)})
	}
	e := newEnvConfig(t, func(c *handlers.Config) { c.Catalog = checks.NewCatalog(services) })
	for _, query := range []string{"", "serv"} {
		got := ids(e.ask(alice(), query))
		if len(got) != 50 || got[0] != "all" || got[49] != "svc_s48" {
			t.Errorf("%q: %d results %v…, want all and the first 49 services", query, len(got), got[:min(len(got), 3)])
		}
	}
}

// renderCounter counts the inline result sets the handlers log having
// rendered, at debug, whatever the level the handler it wraps lets through.
type renderCounter struct {
	slog.Handler
	renders *atomic.Int64
}

func (c renderCounter) Enabled(ctx context.Context, l slog.Level) bool {
	return l == slog.LevelDebug || c.Handler.Enabled(ctx, l)
}

func (c renderCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "rendered the inline results" {
		c.renders.Add(1)
	}
	if !c.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return c.Handler.Handle(ctx, r)
}

// TestInlineRendersOncePerLanguageAndRound asks a hundred times in two
// languages, across two rounds.
func TestInlineRendersOncePerLanguageAndRound(t *testing.T) {
	clk := newClock()
	live := newLiveStatuses()
	var renders atomic.Int64
	e := newEnvConfig(t, func(c *handlers.Config) {
		c.States, c.Now = live, clk.Now
		c.Log = slog.New(renderCounter{c.Log.Handler(), &renders})
	})
	queries := []string{"", "wa", "i", "whatsapp down", "telegram", "all"}
	askMany := func() map[string]string {
		seen := make(map[string]string) // language of the title of "all" → its description
		for i := range 100 {
			who := []bottest.User{alice(), giulia(), bob()}[i%3]
			a := e.ask(who, queries[i%len(queries)])
			if a.Results[0].ID == "all" {
				seen[a.Results[0].Title] = a.Results[0].Description
			}
		}
		return seen
	}
	before := askMany()
	if n := renders.Load(); n != 2 {
		t.Errorf("%d renders for 100 queries in 2 languages, want 2", n)
	}
	live.commit("instagram", checks.Down, clk.Now().Add(time.Second))
	after := askMany()
	if n := renders.Load(); n != 4 {
		t.Errorf("%d renders after a new round, want 4", n)
	}
	if before["📋 All services"] == after["📋 All services"] || !strings.HasPrefix(after["📋 All services"], "🔴 WhatsApp · 🔴 Instagram") {
		t.Errorf("the new round's answer %q did not follow it (was %q)", after["📋 All services"], before["📋 All services"])
	}
}
