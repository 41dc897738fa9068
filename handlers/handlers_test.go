package handlers_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/handlers"
)

func TestSubscribeByName(t *testing.T) {
	valid := "Valid names: whatsapp (wa), instagram (ig, insta), threads, evil (x<y), or all."
	for _, tc := range []struct {
		text  string
		want  []string // subscriptions afterwards
		reply string
	}{
		{"/subscribe whatsapp", []string{"whatsapp"}, "✅ Subscribed to WhatsApp. I'll tell you here when it goes down and when it is back."},
		{"/subscribe WA", []string{"whatsapp"}, "✅ Subscribed to WhatsApp. I'll tell you here when it goes down and when it is back."},
		{"/subscribe wa, instagram", []string{"instagram", "whatsapp"},
			"✅ Subscribed to WhatsApp and Instagram. I'll tell you here when they go down and when they are back."},
		{"/subscribe wa ig", []string{"instagram", "whatsapp"},
			"✅ Subscribed to WhatsApp and Instagram. I'll tell you here when they go down and when they are back."},
		{"/subscribe  Insta,wa\nthreads", []string{"instagram", "threads", "whatsapp"},
			"✅ Subscribed to Instagram, WhatsApp and Threads. I'll tell you here when they go down and when they are back."},
		{"/subscribe wa whatsapp WA", []string{"whatsapp"}, "✅ Subscribed to WhatsApp. I'll tell you here when it goes down and when it is back."},
		{"/subscribe all", []string{"evil", "instagram", "threads", "whatsapp"},
			"✅ Subscribed to WhatsApp, Instagram, Threads and <b>&. I'll tell you here when they go down and when they are back."},
		// Unknown names are listed with the valid ones and the nearest match.
		{"/subscribe whatsap", nil, "❓ I don't know “whatsap”. Did you mean whatsapp?\n" + valid},
		{"/subscribe telegram", nil, "❓ I don't know “telegram”.\n" + valid},
		{"/subscribe ig <i>x", []string{"instagram"},
			"✅ Subscribed to Instagram. I'll tell you here when it goes down and when it is back.\n❓ I don't know “<i>x”.\n" + valid},
		{"/subscribe foo FOO", nil, "❓ I don't know “foo”.\n" + valid},
	} {
		t.Run(tc.text, func(t *testing.T) {
			e := newEnv(t)
			if got := e.reply(aliceChat(), alice(), tc.text); got != tc.reply {
				t.Errorf("reply = %q, want %q", got, tc.reply)
			}
			if diff := cmp.Diff(tc.want, e.subs.of(42)); diff != "" {
				t.Errorf("subscriptions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubscribeRecordsTheChat(t *testing.T) {
	e := newEnv(t)
	e.reply(giuliaChat(), giulia(), "/subscribe wa")
	e.srv.SetChatMember(group().ID, bob().ID, "administrator")
	e.reply(group(), bob(), "/subscribe wa")
	e.srv.SetChatMember(supergroup().ID, amal().ID, "creator")
	e.srv.SetChatMember(supergroup().ID, giulia().ID, "administrator")
	e.reply(supergroup(), amal(), "/subscribe wa")
	e.reply(supergroup(), giulia(), "/subscribe ig")
	for _, tc := range []struct {
		id             int64
		typ, title, lg string
	}{
		{44, "private", "", "it"},
		{-5, "group", "Friends", ""},
		// The admin who set the group up chose its language.
		{-1001234, "supergroup", "Team", "ar-EG"},
	} {
		c := e.subs.chats[tc.id]
		if c.Type != tc.typ || c.Title != tc.title || c.Lang != tc.lg || !c.Added.Equal(testNow()) {
			t.Errorf("chat %d recorded as %+v, want type %q, title %q, lang %q, added %v", tc.id, c, tc.typ, tc.title, tc.lg, testNow())
		}
	}
}

func TestSubscribeTwice(t *testing.T) {
	e := newEnv(t)
	e.reply(aliceChat(), alice(), "/subscribe whatsapp")
	got := e.reply(aliceChat(), alice(), "/subscribe wa instagram")
	want := "✅ Subscribed to Instagram. I'll tell you here when it goes down and when it is back.\nAlready subscribed to WhatsApp."
	if got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"instagram", "whatsapp"}, e.subs.of(42)); diff != "" {
		t.Errorf("subscriptions (-want +got):\n%s", diff)
	}
}

func TestUnsubscribe(t *testing.T) {
	for _, tc := range []struct {
		text  string
		want  []string
		reply string
	}{
		{"/unsubscribe wa", []string{"instagram"}, "🔕 Unsubscribed from WhatsApp."},
		{"/unsubscribe WhatsApp, threads", []string{"instagram"},
			"🔕 Unsubscribed from WhatsApp.\nThis chat wasn't subscribed to Threads."},
		{"/unsubscribe all", nil,
			"🔕 Unsubscribed from WhatsApp and Instagram.\nThis chat wasn't subscribed to Threads and <b>&."},
		{"/unsubscribe whatsap", []string{"instagram", "whatsapp"},
			"❓ I don't know “whatsap”. Did you mean whatsapp?\nValid names: whatsapp (wa), instagram (ig, insta), threads, evil (x<y), or all."},
	} {
		t.Run(tc.text, func(t *testing.T) {
			e := newEnv(t)
			e.reply(aliceChat(), alice(), "/subscribe wa ig")
			if got := e.reply(aliceChat(), alice(), tc.text); got != tc.reply {
				t.Errorf("reply = %q, want %q", got, tc.reply)
			}
			if diff := cmp.Diff(tc.want, e.subs.of(42)); diff != "" {
				t.Errorf("subscriptions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestList(t *testing.T) {
	e := newEnv(t)
	if got, want := e.reply(aliceChat(), alice(), "/list"), "This chat follows nothing yet. Send /subscribe to choose."; got != want {
		t.Errorf("/list before = %q, want %q", got, want)
	}
	e.reply(aliceChat(), alice(), "/subscribe threads evil wa")
	if got, want := e.reply(aliceChat(), alice(), "/list"), "📋 This chat follows WhatsApp, Threads and <b>&."; got != want {
		t.Errorf("/list after = %q, want %q", got, want)
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		text string
		want string
	}{
		{"/status", "Status at 16:16 UTC\n" +
			"🔴 WhatsApp: down since 16:02 UTC (14 min)\n" +
			"🟢 Instagram: operational\n" +
			"⚪ Threads: not checked yet\n" +
			"🟠 <b>&: degraded since 16:15 UTC (1 min)"},
		{"/status wa", "🔴 WhatsApp is down\nsince 16:02 UTC (14 min)\nlast checked 16:15 UTC\n• web: server error (HTTP 503 <html>)"},
		{"/status evil", "🟠 <b>& is degraded\nsince 16:15 UTC (1 min)"},
		{"/status threads", "⚪ Threads: not checked yet"},
		{"/status whatsup", "❓ I don't know “whatsup”. Did you mean whatsapp?\n" +
			"Valid names: whatsapp (wa), instagram (ig, insta), threads, evil (x<y), or all."},
	} {
		t.Run(tc.text, func(t *testing.T) {
			e := newEnv(t)
			if got := e.reply(group(), bob(), tc.text); got != tc.want {
				t.Errorf("reply = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestServices(t *testing.T) {
	e := newEnv(t)
	got := e.reply(group(), bob(), "/services")
	want := "Services I watch\n" +
		"🔴 WhatsApp: down. Names: whatsapp (wa)\n" +
		"🟢 Instagram: operational. Names: instagram (ig, insta)\n" +
		"⚪ Threads: not checked yet. Names: threads\n" +
		"🟠 <b>&: degraded. Names: evil (x<y)\n" +
		"Follow one with /subscribe and any of its names."
	if got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
}

func TestStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		chat bottest.Chat
		text string
		want []string
		// reply is the start of the answer.
		reply string
	}{
		{"welcome", aliceChat(), "/start", nil, "👋 Hi! I watch WhatsApp, Instagram, Threads and <b>& from the outside"},
		{"subscribe payload", aliceChat(), "/start sub_whatsapp", []string{"whatsapp"}, "✅ Subscribed to WhatsApp."},
		{"subscribe payload with alias", aliceChat(), "/start sub_ig", []string{"instagram"}, "✅ Subscribed to Instagram."},
		{"unknown service in payload", aliceChat(), "/start sub_myspace", nil, "❓ I don't know “myspace”."},
		{"other payload", aliceChat(), "/start ref_123", nil, "👋 Hi!"},
		{"in a group", group(), "/start@outage_test_bot", nil, "👋 Thanks for adding me!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if got := e.reply(tc.chat, alice(), tc.text); !strings.HasPrefix(got, tc.reply) {
				t.Errorf("reply = %q, want it to start with %q", got, tc.reply)
			}
			if diff := cmp.Diff(tc.want, e.subs.of(tc.chat.ID)); diff != "" {
				t.Errorf("subscriptions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	e := newEnv(t)
	if err := handlers.SetCommands(e.bot, testLocales(t)); err != nil {
		t.Fatal(err)
	}
	got := e.reply(aliceChat(), alice(), "/help")
	for _, cmd := range menuOf(t, e.srv.Calls("setMyCommands")[0]) {
		if !strings.Contains(got, "/"+cmd.Command) {
			t.Errorf("/help does not mention /%s:\n%s", cmd.Command, got)
		}
	}
}

// keyboard is an inline keyboard as sent: button labels and callback data.
type keyboard [][]struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
}

func parseKeyboard(t *testing.T, raw string) keyboard {
	t.Helper()
	var m struct {
		InlineKeyboard keyboard `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("reply markup %s: %v", raw, err)
	}
	return m.InlineKeyboard
}

// labels flattens a keyboard into its button labels.
func (k keyboard) labels() []string {
	var out []string
	for _, row := range k {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

func TestKeyboard(t *testing.T) {
	for _, cmd := range []string{"/subscribe", "/unsubscribe"} {
		t.Run(cmd, func(t *testing.T) {
			e := newEnv(t)
			e.reply(aliceChat(), alice(), "/subscribe ig")
			msgs := e.say(aliceChat(), alice(), cmd)
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			msg := msgs[0]
			kb := parseKeyboard(t, string(msg.ReplyMarkup))
			want := keyboard{
				{{"➕ WhatsApp", "\ftog|whatsapp|on"}, {"✅ Instagram", "\ftog|instagram|off"}},
				{{"➕ Threads", "\ftog|threads|on"}, {"➕ <b>&", "\ftog|evil|on"}},
			}
			if diff := cmp.Diff(want, kb); diff != "" {
				t.Fatalf("keyboard (-want +got):\n%s", diff)
			}

			for _, step := range []struct {
				data   string
				answer string
				subs   []string
				labels []string
			}{
				{"\ftog|whatsapp|on", "Following WhatsApp", []string{"instagram", "whatsapp"},
					[]string{"✅ WhatsApp", "✅ Instagram", "➕ Threads", "➕ <b>&"}},
				// The same press again, as after a crash or a double tap:
				// it changes nothing.
				{"\ftog|whatsapp|on", "Following WhatsApp", []string{"instagram", "whatsapp"},
					[]string{"✅ WhatsApp", "✅ Instagram", "➕ Threads", "➕ <b>&"}},
				{"\ftog|instagram|off", "No longer following Instagram", []string{"whatsapp"},
					[]string{"✅ WhatsApp", "➕ Instagram", "➕ Threads", "➕ <b>&"}},
				// A button of a keyboard sent by an older version switches.
				{"\ftog|whatsapp", "No longer following WhatsApp", nil,
					[]string{"➕ WhatsApp", "➕ Instagram", "➕ Threads", "➕ <b>&"}},
				{"\ftog|threads", "Following Threads", []string{"threads"},
					[]string{"➕ WhatsApp", "➕ Instagram", "✅ Threads", "➕ <b>&"}},
			} {
				before := len(e.srv.Calls("editMessageReplyMarkup"))
				answer := e.press(aliceChat(), alice(), msg.ID, step.data)
				if got := answer.Param("text"); got != step.answer {
					t.Errorf("press %q: answer %q, want %q", step.data, got, step.answer)
				}
				if diff := cmp.Diff(step.subs, e.subs.of(42)); diff != "" {
					t.Errorf("press %q: subscriptions (-want +got):\n%s", step.data, diff)
				}
				edits := e.srv.Calls("editMessageReplyMarkup")[before:]
				if len(edits) != 1 {
					t.Fatalf("press %q: %d keyboard edits, want 1", step.data, len(edits))
				}
				if got, want := edits[0].Param("message_id"), strconv.Itoa(msg.ID); got != want {
					t.Errorf("press %q: edited message %s, want %s", step.data, got, want)
				}
				if diff := cmp.Diff(step.labels, parseKeyboard(t, edits[0].Param("reply_markup")).labels()); diff != "" {
					t.Errorf("press %q: redrawn keyboard (-want +got):\n%s", step.data, diff)
				}
			}
			if n := len(e.srv.Messages()); n != 2 {
				t.Errorf("%d messages sent, want 2: presses edit in place", n)
			}
		})
	}
}

func TestTamperedButton(t *testing.T) {
	for _, data := range []string{
		"",
		"whatsapp",
		"\ftog",
		"\ftog|",
		"\ftog|WhatsApp",
		"\ftog|wa",
		"\ftog|nosuch",
		"\ftog|whatsapp|-5",
		"\ftog|whatsapp|ON",
		"\ftog|whatsapp|on|off",
		"\ftog|wa|on",
		"\ftog|-5|whatsapp",
		"\fother|whatsapp",
		"\f\f\f",
		strings.Repeat("\xff", 64),
	} {
		t.Run(strconv.Quote(data), func(t *testing.T) {
			e := newEnv(t)
			msgs := e.say(aliceChat(), alice(), "/subscribe")
			answer := e.press(aliceChat(), alice(), msgs[0].ID, data)
			if got, want := answer.Param("text"), "This button is out of date. Send /subscribe for a fresh list."; got != want {
				t.Errorf("answer %q, want %q", got, want)
			}
			if got := e.subs.of(42); got != nil {
				t.Errorf("subscriptions changed to %v", got)
			}
			if n := len(e.srv.Calls("editMessageReplyMarkup")); n != 0 {
				t.Errorf("%d keyboard edits, want none", n)
			}
		})
	}
}

func TestButtonActsOnItsOwnChat(t *testing.T) {
	e := newEnv(t)
	e.srv.SetChatMember(group().ID, alice().ID, "administrator")
	msgs := e.say(group(), alice(), "/subscribe")
	// The same button data pressed in the private chat changes only that
	// chat, and in the group only the group.
	e.press(aliceChat(), alice(), 999, "\ftog|threads")
	e.press(group(), alice(), msgs[0].ID, "\ftog|whatsapp")
	if diff := cmp.Diff([]string{"threads"}, e.subs.of(42)); diff != "" {
		t.Errorf("private chat (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"whatsapp"}, e.subs.of(group().ID)); diff != "" {
		t.Errorf("group (-want +got):\n%s", diff)
	}
}

func TestGroupAdmins(t *testing.T) {
	notAdmin := "Only group admins can change what this group follows."
	for _, tc := range []struct {
		name   string
		chat   bottest.Chat
		status string // of bob in the chat
		text   string
		want   []string
		reply  string
	}{
		{"creator", group(), "creator", "/subscribe wa", []string{"whatsapp"}, "✅ Subscribed to WhatsApp."},
		{"administrator", supergroup(), "administrator", "/subscribe wa", []string{"whatsapp"}, "✅ Subscribed to WhatsApp."},
		{"member", group(), "member", "/subscribe wa", nil, notAdmin},
		{"restricted", supergroup(), "restricted", "/subscribe wa", nil, notAdmin},
		{"member asks for the keyboard", group(), "member", "/subscribe", nil, notAdmin},
		{"member unsubscribes", group(), "member", "/unsubscribe all", nil, notAdmin},
		{"member deep link", group(), "member", "/start@outage_test_bot sub_whatsapp", nil, notAdmin},
		{"member may ask for status", group(), "member", "/status wa", nil, "🔴 WhatsApp is down"},
		{"member may list", group(), "member", "/list", nil, "This chat follows nothing yet."},
		{"member may list services", group(), "member", "/services", nil, "Services I watch"},
		{"member may ask for help", group(), "member", "/help", nil, "Commands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.SetChatMember(tc.chat.ID, bob().ID, tc.status)
			if got := e.reply(tc.chat, bob(), tc.text); !strings.HasPrefix(got, tc.reply) {
				t.Errorf("reply = %q, want it to start with %q", got, tc.reply)
			}
			if diff := cmp.Diff(tc.want, e.subs.of(tc.chat.ID)); diff != "" {
				t.Errorf("subscriptions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNonAdminButton(t *testing.T) {
	e := newEnv(t)
	e.srv.SetChatMember(group().ID, alice().ID, "administrator")
	e.srv.SetChatMember(group().ID, bob().ID, "member")
	msgs := e.say(group(), alice(), "/subscribe")

	answer := e.press(group(), bob(), msgs[0].ID, "\ftog|whatsapp")
	if got, want := answer.Param("text"), "Only group admins can change what this group follows."; got != want {
		t.Errorf("answer %q, want %q", got, want)
	}
	if got := answer.Param("show_alert"); got != "true" {
		t.Errorf("show_alert = %q, want true", got)
	}
	if got := e.subs.of(group().ID); got != nil {
		t.Errorf("subscriptions changed to %v", got)
	}
	if n := len(e.srv.Calls("editMessageReplyMarkup")); n != 0 {
		t.Errorf("%d keyboard edits, want none", n)
	}
}

// sendAs pushes a group message written on behalf of a chat, as anonymous
// admins and channels post.
func (e *env) sendAs(chat bottest.Chat, senderChat bottest.Chat, text string) []bottest.Message {
	e.t.Helper()
	before := len(e.srv.Messages())
	e.srv.PushUpdate(map[string]any{"message": map[string]any{
		"message_id":  500,
		"date":        testNow().Unix(),
		"chat":        chat,
		"from":        anonymousAdmin(),
		"sender_chat": senderChat,
		"text":        text,
	}})
	e.deliver()
	return e.srv.Messages()[before:]
}

func TestAnonymousAdmin(t *testing.T) {
	e := newEnv(t)
	msgs := e.sendAs(supergroup(), supergroup(), "/subscribe wa")
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Plain(), "✅ Subscribed to WhatsApp.") {
		t.Errorf("replies %+v, want one confirming the subscription", msgs)
	}
	if diff := cmp.Diff([]string{"whatsapp"}, e.subs.of(supergroup().ID)); diff != "" {
		t.Errorf("subscriptions (-want +got):\n%s", diff)
	}
	if calls := e.srv.Calls("getChatMember"); len(calls) != 0 {
		t.Errorf("asked getChatMember %d times; the placeholder user must not be looked up", len(calls))
	}
}

func TestOtherSenderChatsAreNotAdmins(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(e *env) []bottest.Message
	}{
		{"a channel posting in the group", func(e *env) []bottest.Message {
			return e.sendAs(supergroup(), channel(), "/subscribe wa")
		}},
		{"another group's id", func(e *env) []bottest.Message {
			return e.sendAs(supergroup(), group(), "/subscribe wa")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			msgs := tc.send(e)
			if len(msgs) != 1 || msgs[0].Plain() != "Only group admins can change what this group follows." {
				t.Errorf("replies %+v, want the refusal", msgs)
			}
			if got := e.subs.of(supergroup().ID); got != nil {
				t.Errorf("subscriptions changed to %v", got)
			}
		})
	}
}

func TestCommandAddressedToABot(t *testing.T) {
	for _, tc := range []struct {
		text    string
		replies int
	}{
		{"/status@outage_test_bot", 1},
		{"/status@Outage_Test_Bot", 1},
		{"/status@OtherBot", 0},
		{"/subscribe@OtherBot wa", 0},
		{"/status", 1},
	} {
		t.Run(tc.text, func(t *testing.T) {
			e := newEnv(t)
			e.srv.SetChatMember(group().ID, bob().ID, "administrator")
			if got := e.say(group(), bob(), tc.text); len(got) != tc.replies {
				t.Errorf("%d replies, want %d: %+v", len(got), tc.replies, got)
			}
			if got := e.subs.of(group().ID); got != nil {
				t.Errorf("subscriptions changed to %v", got)
			}
		})
	}
}

func TestMembership(t *testing.T) {
	for _, tc := range []struct {
		name          string
		chat          bottest.Chat
		from, to      string
		deleted       []int64
		welcomed      bool
		subscriptions []string // of the chat afterwards
	}{
		{"added to a group", group(), "left", "member", nil, true, []string{"whatsapp"}},
		{"added to a supergroup as admin", supergroup(), "left", "administrator", nil, true, []string{"whatsapp"}},
		{"promoted", group(), "member", "administrator", nil, false, []string{"whatsapp"}},
		{"removed from a group", group(), "member", "left", []int64{-5}, false, nil},
		{"kicked from a supergroup", supergroup(), "administrator", "kicked", []int64{-1001234}, false, nil},
		{"blocked in private", aliceChat(), "member", "kicked", []int64{42}, false, nil},
		{"unblocked in private", aliceChat(), "kicked", "member", nil, false, []string{"whatsapp"}},
		{"added to a channel", channel(), "left", "administrator", nil, false, []string{"whatsapp"}},
		{"removed from a channel", channel(), "administrator", "left", nil, false, []string{"whatsapp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if _, err := e.subs.Subscribe(storeChat(tc.chat), []string{"whatsapp"}); err != nil {
				t.Fatal(err)
			}
			e.srv.PushMyChatMember(tc.chat, alice(), tc.from, tc.to)
			e.deliver()
			if diff := cmp.Diff(tc.deleted, e.subs.deleted); diff != "" {
				t.Errorf("deleted chats (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.subscriptions, e.subs.of(tc.chat.ID)); diff != "" {
				t.Errorf("subscriptions (-want +got):\n%s", diff)
			}
			msgs := e.srv.MessagesTo(tc.chat.ID)
			if welcomed := len(msgs) == 1 && strings.HasPrefix(msgs[0].Plain(), "👋 Thanks for adding me!"); welcomed != tc.welcomed || len(msgs) > 1 {
				t.Errorf("messages %+v, want welcome %v", msgs, tc.welcomed)
			}
		})
	}
}

func TestMigration(t *testing.T) {
	e := newEnv(t)
	e.srv.SetChatMember(group().ID, bob().ID, "creator")
	e.reply(group(), bob(), "/subscribe wa ig")
	e.srv.PushMigration(group().ID, -1005555)
	e.deliver()
	if diff := cmp.Diff([][2]int64{{-5, -1005555}}, e.subs.migrated); diff != "" {
		t.Errorf("migrations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"instagram", "whatsapp"}, e.subs.of(-1005555)); diff != "" {
		t.Errorf("supergroup subscriptions (-want +got):\n%s", diff)
	}
}

func TestStoreFailure(t *testing.T) {
	const secret = "bolt: write /var/lib/outagebot.db: <no space> & more"
	apology := "Something went wrong, please try again."
	for _, text := range []string{"/subscribe wa", "/unsubscribe wa", "/subscribe", "/list", "/start sub_whatsapp"} {
		t.Run(text, func(t *testing.T) {
			e := newEnv(t)
			e.subs.err = errors.New(secret)
			if got := e.reply(aliceChat(), alice(), text); got != apology {
				t.Errorf("reply = %q, want %q", got, apology)
			}
			if !strings.Contains(e.log.String(), "no space") {
				t.Errorf("error not logged:\n%s", e.log)
			}
		})
	}
	for _, text := range []string{"/status", "/status wa", "/services"} {
		t.Run(text, func(t *testing.T) {
			e := newEnvWith(t, statusesFunc(func() (map[string]checks.Status, error) { return nil, errors.New(secret) }))
			if got := e.reply(aliceChat(), alice(), text); got != apology {
				t.Errorf("reply = %q, want %q", got, apology)
			}
			if !strings.Contains(e.log.String(), "no space") {
				t.Errorf("error not logged:\n%s", e.log)
			}
		})
	}
	t.Run("button", func(t *testing.T) {
		e := newEnv(t)
		msgs := e.say(aliceChat(), alice(), "/subscribe")
		e.subs.err = errors.New(secret)
		answer := e.press(aliceChat(), alice(), msgs[0].ID, "\ftog|whatsapp")
		if got := answer.Param("text"); got != apology {
			t.Errorf("answer %q, want %q", got, apology)
		}
		if !strings.Contains(e.log.String(), "no space") {
			t.Errorf("error not logged:\n%s", e.log)
		}
	})
	t.Run("membership", func(t *testing.T) {
		e := newEnv(t)
		e.subs.err = errors.New(secret)
		e.srv.PushMyChatMember(group(), alice(), "member", "kicked")
		e.deliver()
		if !strings.Contains(e.log.String(), "no space") {
			t.Errorf("error not logged:\n%s", e.log)
		}
	})
}

func TestAdminCheckFailure(t *testing.T) {
	e := newEnv(t)
	// A dropped connection makes Go's HTTP client quote the request URL,
	// token included, in its error.
	e.srv.Fail("getChatMember", bottest.Fault{CloseConn: true})
	if got, want := e.reply(group(), bob(), "/subscribe wa"), "Something went wrong, please try again."; got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
	if got := e.subs.of(group().ID); got != nil {
		t.Errorf("subscriptions changed to %v", got)
	}
	log := e.log.String()
	if !strings.Contains(log, "getChatMember") {
		t.Errorf("failure not logged:\n%s", log)
	}
	if strings.Contains(log, token) {
		t.Errorf("log contains the token:\n%s", log)
	}
}

// menuCommand is one command of a menu as setMyCommands sent it.
type menuCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// menuOf decodes the commands of a setMyCommands call.
func menuOf(t *testing.T, c bottest.Call) []menuCommand {
	t.Helper()
	var cmds []menuCommand
	if err := json.Unmarshal([]byte(c.Param("commands")), &cmds); err != nil {
		t.Fatalf("commands %s: %v", c.Param("commands"), err)
	}
	return cmds
}

func TestCommands(t *testing.T) {
	e := newEnv(t)
	texts := testLocales(t)
	// The fake server checks names and descriptions the way Telegram does.
	if err := handlers.SetCommands(e.bot, texts); err != nil {
		t.Fatalf("SetCommands: %v", err)
	}
	type menu struct{ scope, lang string }
	got := map[menu][]menuCommand{}
	for _, c := range e.srv.Calls("setMyCommands") {
		m := menu{c.Param("scope"), c.Param("language_code")}
		if _, dup := got[m]; dup {
			t.Errorf("menu %+v set twice", m)
		}
		got[m] = menuOf(t, c)
	}
	all := []string{"status", "history", "report", "services", "subscribe", "unsubscribe", "list", "lang", "settings", "help"}
	members := []string{"status", "history", "report", "services", "list", "help"}
	scopes := []struct {
		scope string
		want  []string
	}{
		{`{"type":"all_private_chats"}`, all},
		{`{"type":"all_group_chats"}`, members},
		{`{"type":"all_chat_administrators"}`, all},
	}
	codes := []string{""} // English is the menu of every other language too
	for _, tag := range texts.Tags() {
		codes = append(codes, texts.For(tag).Code())
	}
	if want := len(scopes) * len(codes); len(got) != want {
		t.Errorf("%d menus set, want %d: one per scope and language, and English for the rest", len(got), want)
	}
	for _, code := range codes {
		p := texts.For(code)
		for _, s := range scopes {
			m := menu{s.scope, code}
			var names []string
			for _, c := range got[m] {
				names = append(names, c.Command)
				if c.Description != p.CommandDescription(c.Command) {
					t.Errorf("menu %+v: /%s described %q, want %q", m, c.Command, c.Description, p.CommandDescription(c.Command))
				}
			}
			if diff := cmp.Diff(s.want, names); diff != "" {
				t.Errorf("menu %+v (-want +got):\n%s", m, diff)
			}
		}
	}
	if d := got[menu{`{"type":"all_private_chats"}`, "it"}][0].Description; d != "Stato attuale di ogni servizio" {
		t.Errorf("Italian menu describes /status as %q", d)
	}
	// Every command in a menu must also be answered.
	for _, name := range all {
		if msgs := e.say(aliceChat(), alice(), "/"+name); len(msgs) != 1 {
			t.Errorf("/%s: %d replies, want 1", name, len(msgs))
		}
	}
}

func TestSetCommandsStopsAtAFailure(t *testing.T) {
	e := newEnv(t)
	e.srv.Fail("setMyCommands", bottest.Fault{Code: 502, Description: "Bad Gateway"})
	err := handlers.SetCommands(e.bot, testLocales(t))
	if err == nil || !strings.Contains(err.Error(), "Bad Gateway") {
		t.Errorf("SetCommands = %v, want the failure", err)
	}
	// An unwell Telegram is not hammered with the other menus.
	if n := len(e.srv.Calls("setMyCommands")); n != 1 {
		t.Errorf("%d setMyCommands calls, want 1", n)
	}
}
