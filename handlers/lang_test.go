package handlers_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/store"
)

func TestRepliesInTheChatsLanguage(t *testing.T) {
	for _, tc := range []struct {
		name string
		chat bottest.Chat
		from bottest.User
		text string
		want string // the start of the reply
	}{
		{"private, the user's language", giuliaChat(), giulia(), "/help", "Comandi\n/status: come vanno tutti i servizi"},
		{"private, a regional tag", bottest.Chat{ID: amal().ID, Type: "private"}, amal(), "/list", "لا تتابع هذه الدردشة شيئًا بعد."},
		{"private, no language", bottest.Chat{ID: bob().ID, Type: "private"}, bob(), "/list", "This chat follows nothing yet."},
		{"private, a language the bot does not speak", bottest.Chat{ID: 46, Type: "private"}, bottest.User{ID: 46, FirstName: "Li", LanguageCode: "zh-hans"}, "/list", "This chat follows nothing yet."},
		// A group reads in one language for all: a member's is not it.
		{"group without a language", group(), giulia(), "/list", "This chat follows nothing yet."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if got := e.reply(tc.chat, tc.from, tc.text); !strings.HasPrefix(got, tc.want) {
				t.Errorf("reply = %q, want it to start with %q", got, tc.want)
			}
		})
	}
}

// langKeyboard is the /lang keyboard with the language whose label is
// current marked.
func langKeyboard(current string) keyboard {
	k := keyboard{
		{{"English", "\flang|en"}, {"العربية", "\flang|ar"}},
		{{"Deutsch", "\flang|de"}, {"Español", "\flang|es"}},
		{{"فارسی", "\flang|fa"}, {"Français", "\flang|fr"}},
		{{"हिन्दी", "\flang|hi"}, {"Bahasa Indonesia", "\flang|id"}},
		{{"Italiano", "\flang|it"}, {"Português (Brasil)", "\flang|pt-BR"}},
		{{"Русский", "\flang|ru"}, {"Türkçe", "\flang|tr"}},
	}
	for _, row := range k {
		for i := range row {
			if row[i].Text == current {
				row[i].Text = "✅ " + current
			}
		}
	}
	return k
}

func TestLangInPrivate(t *testing.T) {
	e := newEnv(t)
	e.reply(giuliaChat(), giulia(), "/subscribe wa")
	msgs := e.say(giuliaChat(), giulia(), "/lang")
	if len(msgs) != 1 {
		t.Fatalf("/lang: %d replies, want 1", len(msgs))
	}
	if got, want := msgs[0].Plain(), "🌐 Scegli la lingua che uso in questa chat."; got != want {
		t.Errorf("/lang = %q, want %q", got, want)
	}
	if diff := cmp.Diff(langKeyboard("Italiano"), parseKeyboard(t, string(msgs[0].ReplyMarkup))); diff != "" {
		t.Errorf("keyboard (-want +got):\n%s", diff)
	}

	answer := e.press(giuliaChat(), giulia(), msgs[0].ID, "\flang|ar")
	if got, want := answer.Param("text"), "سأتحدث العربية في هذه الدردشة."; got != want {
		t.Errorf("answer %q, want %q", got, want)
	}
	if got := e.subs.lang(giuliaChat().ID); got != "ar" {
		t.Errorf("chat language %q, want ar", got)
	}
	edits := e.srv.Calls("editMessageText")
	if len(edits) != 1 {
		t.Fatalf("%d edits, want the question redrawn once", len(edits))
	}
	if got, want := edits[0].Param("message_id"), strconv.Itoa(msgs[0].ID); got != want {
		t.Errorf("edited message %s, want %s", got, want)
	}
	if got, want := edits[0].Param("text"), "🌐 اختر اللغة التي أستخدمها في هذه الدردشة."; got != want {
		t.Errorf("redrawn question %q, want %q", got, want)
	}
	if diff := cmp.Diff(langKeyboard("العربية"), parseKeyboard(t, edits[0].Param("reply_markup"))); diff != "" {
		t.Errorf("redrawn keyboard (-want +got):\n%s", diff)
	}

	// The choice outlasts the user's own language, also when the chat is
	// recorded again.
	if got, want := e.reply(giuliaChat(), giulia(), "/subscribe ig"), "✅ تم الاشتراك في \u2068Instagram\u2069."; !strings.HasPrefix(got, want) {
		t.Errorf("/subscribe after the choice = %q, want it to start with %q", got, want)
	}
	if got := e.subs.lang(giuliaChat().ID); got != "ar" {
		t.Errorf("chat language after /subscribe %q, want ar", got)
	}
	if got, want := e.reply(giuliaChat(), giulia(), "/help"), "الأوامر\n"; !strings.HasPrefix(got, want) {
		t.Errorf("/help after the choice = %q, want it to start with %q", got, want)
	}
}

func TestLangInGroups(t *testing.T) {
	e := newEnv(t)
	e.srv.SetChatMember(supergroup().ID, giulia().ID, "administrator")
	e.srv.SetChatMember(supergroup().ID, bob().ID, "member")

	if got, want := e.reply(supergroup(), bob(), "/lang"), "Only group admins can change the language of this group."; got != want {
		t.Errorf("/lang by a member = %q, want %q", got, want)
	}
	msgs := e.say(supergroup(), giulia(), "/lang")
	if len(msgs) != 1 {
		t.Fatalf("/lang by an admin: %d replies, want 1", len(msgs))
	}
	// The group has no language yet: it reads English, not its admin's.
	if diff := cmp.Diff(langKeyboard("English"), parseKeyboard(t, string(msgs[0].ReplyMarkup))); diff != "" {
		t.Errorf("keyboard (-want +got):\n%s", diff)
	}

	answer := e.press(supergroup(), bob(), msgs[0].ID, "\flang|ru")
	if got, want := answer.Param("text"), "Only group admins can change the language of this group."; got != want || answer.Param("show_alert") != "true" {
		t.Errorf("press by a member: answer %q (alert %s), want the alert %q", got, answer.Param("show_alert"), want)
	}
	if got := e.subs.lang(supergroup().ID); got != "" {
		t.Errorf("a member's press set the language to %q", got)
	}

	answer = e.press(supergroup(), giulia(), msgs[0].ID, "\flang|ru")
	if got, want := answer.Param("text"), "Теперь я пишу в этом чате по-русски."; got != want {
		t.Errorf("press by an admin: answer %q, want %q", got, want)
	}
	want := store.Chat{ID: supergroup().ID, Type: "supergroup", Title: "Team", Lang: "ru", Added: testNow()}
	if diff := cmp.Diff(want, e.subs.chats[supergroup().ID]); diff != "" {
		t.Errorf("group record (-want +got):\n%s", diff)
	}
	if got, want := e.reply(supergroup(), bob(), "/list"), "Этот чат пока ни на что не подписан."; !strings.HasPrefix(got, want) {
		t.Errorf("/list by a member after the choice = %q, want it to start with %q", got, want)
	}
}

func TestGroupTakesTheLanguageOfWhoAddedTheBot(t *testing.T) {
	e := newEnv(t)
	e.srv.PushMyChatMember(group(), giulia(), "left", "member")
	e.deliver()
	msgs := e.srv.MessagesTo(group().ID)
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Plain(), "👋 Grazie per avermi aggiunto!") {
		t.Errorf("welcome %+v, want one in Italian", msgs)
	}
	if got := e.subs.lang(group().ID); got != "it" {
		t.Errorf("group language %q, want it", got)
	}
	// An admin who subscribes it later does not change it.
	e.srv.SetChatMember(group().ID, amal().ID, "administrator")
	e.reply(group(), amal(), "/subscribe wa")
	if got := e.subs.lang(group().ID); got != "it" {
		t.Errorf("group language after an admin subscribed %q, want it", got)
	}
}

func TestTamperedLangButton(t *testing.T) {
	for _, data := range []string{"\flang|", "\flang|xx", "\flang|AR", "\flang|pt-br", "\flang|ar|x", "\flang|" + strings.Repeat("a", 58)} {
		t.Run(strconv.Quote(data), func(t *testing.T) {
			e := newEnv(t)
			msgs := e.say(giuliaChat(), giulia(), "/lang")
			answer := e.press(giuliaChat(), giulia(), msgs[0].ID, data)
			if got, want := answer.Param("text"), "Questo pulsante non è più valido. Invia /subscribe per un elenco aggiornato."; got != want {
				t.Errorf("answer %q, want %q", got, want)
			}
			if got := e.subs.lang(giuliaChat().ID); got != "" {
				t.Errorf("language set to %q", got)
			}
			if n := len(e.srv.Calls("editMessageText")); n != 0 {
				t.Errorf("%d edits, want none", n)
			}
		})
	}
}

func TestLangStoreFailure(t *testing.T) {
	e := newEnv(t)
	msgs := e.say(giuliaChat(), giulia(), "/lang")
	secret := errors.New("bolt: write /var/lib/outagebot.db: no space")
	e.subs.mu.Lock()
	e.subs.err = secret
	e.subs.mu.Unlock()
	answer := e.press(giuliaChat(), giulia(), msgs[0].ID, "\flang|de")
	// The chat's language cannot be read either: the apology is in the
	// presser's own.
	if got, want := answer.Param("text"), "Qualcosa è andato storto, riprova."; got != want || answer.Param("show_alert") != "true" {
		t.Errorf("answer %q (alert %s), want the alert %q", got, answer.Param("show_alert"), want)
	}
	if !strings.Contains(e.log.String(), "no space") {
		t.Errorf("failure not logged:\n%s", e.log)
	}
}
