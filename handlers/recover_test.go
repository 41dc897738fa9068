package handlers_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/handlers"
	"github.com/outagebot/outagebot/store"
)

// apology is the apology of a language, as the user reads it.
func apology(t *testing.T, lang string) string {
	t.Helper()
	return testLocales(t).For(lang).ApologyAlert()
}

func TestRecover(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value any
		want  string
	}{
		{"error", errors.New("cannot happen"), "cannot happen"},
		{"string", "boom", "boom"},
		{"other value", 42, "42"},
		{"runtime error", nil, "index out of range [13] with length 0"},
		{"token in the value", fmt.Errorf("post https://api.telegram.org/bot%s/sendMessage: EOF", token), "/bot[token]/sendMessage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.panics = true
			e.bot.Handle("/boom", func(tele.Context) error {
				if tc.value == nil {
					var none []int
					_ = none[len(tc.name)] // a real runtime panic
				}
				panic(tc.value)
			})

			// Without Recover the panic would end the test binary here.
			if got, want := e.reply(aliceChat(), alice(), "/boom"), apology(t, "en"); got != want {
				t.Errorf("answer to the panic = %q, want the apology %q", got, want)
			}
			log := e.log.String()
			for _, want := range []string{"handler panicked", "chat=42", tc.want, "recover_test.go"} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
			if strings.Contains(log, token) {
				t.Errorf("log holds the token:\n%s", log)
			}
			if got := e.reply(aliceChat(), alice(), "/help"); !strings.HasPrefix(got, "Commands") {
				t.Errorf("the update after the panic got %q, want the help", got)
			}
		})
	}
}

func TestRecoverApologisesInTheChatsLanguage(t *testing.T) {
	e := newEnv(t)
	e.panics = true
	boom := func(tele.Context) error { panic("boom") }
	e.bot.Handle("/boom", boom)
	e.bot.Handle(&tele.Btn{Unique: "boom"}, boom)
	for _, c := range []store.Chat{{ID: group().ID, Lang: "de"}, {ID: giuliaChat().ID, Lang: "fr"}} {
		if err := e.subs.SetLang(c); err != nil {
			t.Fatal(err)
		}
	}

	// Giulia's Telegram is in Italian, but her chat reads French.
	if got, want := e.reply(giuliaChat(), giulia(), "/boom"), apology(t, "fr"); got != want {
		t.Errorf("command in Giulia's chat: %q, want %q", got, want)
	}
	if got, want := e.reply(group(), giulia(), "/boom"), apology(t, "de"); got != want {
		t.Errorf("command in the German group: %q, want %q", got, want)
	}
	answer := e.press(group(), alice(), 77, "\fboom|x")
	if got, want := answer.Param("text"), apology(t, "de"); got != want {
		t.Errorf("button in the German group: %q, want %q", got, want)
	}
	if answer.Param("show_alert") != "true" {
		t.Errorf("the apology for a button is not an alert: %v", answer.Params)
	}
}

// panickingChats is the chats of a database whose chats bucket is damaged:
// the store used to panic on every read of it.
type panickingChats struct{}

func (panickingChats) Chat(int64) (store.Chat, bool, error) {
	panic("assertion failed: Page expected to be: 34, but self identifies as 0")
}
func (panickingChats) SetLang(store.Chat) error { panic("unreachable") }

// TestRecoverApologisesWhenTheChatsCannotBeRead: every handler reads the
// chat's language, so with the chats damaged every command panicked, and the
// apology, which read it too, panicked in turn: nobody got an answer.
func TestRecoverApologisesWhenTheChatsCannotBeRead(t *testing.T) {
	e := newEnvConfig(t, func(c *handlers.Config) { c.Chats = panickingChats{} })
	e.panics = true
	for _, tc := range []struct {
		chat bottest.Chat
		from bottest.User
		want string
	}{
		{giuliaChat(), giulia(), apology(t, "it")}, // her Telegram's language
		{group(), giulia(), apology(t, "en")},      // a group has none but its own
	} {
		if got := e.reply(tc.chat, tc.from, "/status"); got != tc.want {
			t.Errorf("/status in chat %d: %q, want %q", tc.chat.ID, got, tc.want)
		}
	}
	// Nobody asked for a membership change: nothing to apologise for.
	msgs, _ := e.push(map[string]any{"my_chat_member": map[string]any{
		"chat": group(), "from": alice(), "date": testNow().Unix(),
		"old_chat_member": map[string]any{"user": map[string]any{"id": 1000, "is_bot": true, "first_name": "Bot"}, "status": "left"},
		"new_chat_member": map[string]any{"user": map[string]any{"id": 1000, "is_bot": true, "first_name": "Bot"}, "status": "member"},
	}})
	if len(msgs) != 0 {
		t.Errorf("a membership change that panicked was answered: %+v", msgs)
	}
	if n := strings.Count(e.log.String(), "handler panicked"); n != 3 {
		t.Errorf("%d panics logged, want 3:\n%s", n, e.log)
	}
}
