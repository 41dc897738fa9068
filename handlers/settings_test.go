package handlers_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/store"
)

// fakePrefs is a map-backed Preferences that refuses what the store
// refuses.
type fakePrefs struct {
	mu sync.Mutex
	m  map[int64]store.Settings
}

func newFakePrefs() *fakePrefs { return &fakePrefs{m: make(map[int64]store.Settings)} }

func (f *fakePrefs) Settings(chatID int64) (store.Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[chatID], nil
}

func (f *fakePrefs) SetSettings(chatID int64, s store.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[chatID] = s
	return nil
}

func (f *fakePrefs) of(chatID int64) store.Settings {
	s, _ := f.Settings(chatID)
	return s
}

// forum is a supergroup with topics.
func forum() bottest.Chat {
	return bottest.Chat{ID: -1007777, Type: "supergroup", Title: "Ops", IsForum: true}
}

// settingsKeyboard is the settings keyboard with the given labels, in the
// order of its buttons.
func settingsKeyboard(all, onlyDown, recOn, recOff, quietOff, q1, q2, q3 string) keyboard {
	return keyboard{
		{{all, "\fset|all"}, {onlyDown, "\fset|only_down"}},
		{{recOn, "\fset|recoveries_on"}, {recOff, "\fset|recoveries_off"}},
		{{quietOff, "\fset|quiet_off"}},
		{{q1, "\fset|quiet_22:00-07:00"}, {q2, "\fset|quiet_23:00-08:00"}, {q3, "\fset|quiet_00:00-06:00"}},
	}
}

func TestSettingsMenu(t *testing.T) {
	e := newEnv(t)
	msgs := e.say(aliceChat(), alice(), "/settings")
	if len(msgs) != 1 {
		t.Fatalf("/settings: %d replies, want 1", len(msgs))
	}
	menu := msgs[0]
	want := "⚙️ Alert settings of this chat\n" +
		"🔔 Alerts when a service is degraded or down\n" +
		"✅ Recoveries are announced\n" +
		"🌙 No quiet hours\n" +
		"🕒 Time zone: UTC. Change it with e.g. /settings tz Europe/Rome"
	if got := menu.Plain(); got != want {
		t.Errorf("/settings =\n%s\nwant\n%s", got, want)
	}
	kb := parseKeyboard(t, string(menu.ReplyMarkup))
	if diff := cmp.Diff(settingsKeyboard("✅ Degraded and down", "Only down", "✅ Recoveries on", "Recoveries off",
		"✅ No quiet hours", "🌙 22–07", "🌙 23–08", "🌙 00–06"), kb); diff != "" {
		t.Errorf("keyboard (-want +got):\n%s", diff)
	}
	for _, row := range kb {
		for _, b := range row {
			if len(b.Data) > 64 {
				t.Errorf("button %q carries %d bytes of data, more than Telegram takes", b.Text, len(b.Data))
			}
		}
	}

	for i, step := range []struct {
		data     string
		settings store.Settings
		line     string   // in the redrawn menu
		labels   []string // of the redrawn keyboard
	}{
		{"\fset|only_down", store.Settings{OnlyDown: true}, "🔔 Alerts only when a service is down",
			[]string{"Degraded and down", "✅ Only down", "✅ Recoveries on", "Recoveries off", "✅ No quiet hours", "🌙 22–07", "🌙 23–08", "🌙 00–06"}},
		{"\fset|recoveries_off", store.Settings{OnlyDown: true, NoRecoveries: true}, "✅ Recoveries are not announced",
			[]string{"Degraded and down", "✅ Only down", "Recoveries on", "✅ Recoveries off", "✅ No quiet hours", "🌙 22–07", "🌙 23–08", "🌙 00–06"}},
		{"\fset|quiet_23:00-08:00", store.Settings{OnlyDown: true, NoRecoveries: true, QuietFrom: "23:00", QuietTo: "08:00"},
			"🌙 Quiet hours 23:00–08:00: alerts arrive without sound",
			[]string{"Degraded and down", "✅ Only down", "Recoveries on", "✅ Recoveries off", "No quiet hours", "🌙 22–07", "✅ 23–08", "🌙 00–06"}},
		{"\fset|all", store.Settings{NoRecoveries: true, QuietFrom: "23:00", QuietTo: "08:00"}, "🔔 Alerts when a service is degraded or down",
			[]string{"✅ Degraded and down", "Only down", "Recoveries on", "✅ Recoveries off", "No quiet hours", "🌙 22–07", "✅ 23–08", "🌙 00–06"}},
		{"\fset|quiet_off", store.Settings{NoRecoveries: true}, "🌙 No quiet hours",
			[]string{"✅ Degraded and down", "Only down", "Recoveries on", "✅ Recoveries off", "✅ No quiet hours", "🌙 22–07", "🌙 23–08", "🌙 00–06"}},
		{"\fset|recoveries_on", store.Settings{}, "✅ Recoveries are announced",
			[]string{"✅ Degraded and down", "Only down", "✅ Recoveries on", "Recoveries off", "✅ No quiet hours", "🌙 22–07", "🌙 23–08", "🌙 00–06"}},
	} {
		answer := e.press(aliceChat(), alice(), menu.ID, step.data)
		if got := answer.Param("text"); got != "Saved." {
			t.Errorf("press %q: answer %q, want Saved.", step.data, got)
		}
		if got := e.prefs.of(aliceChat().ID); got != step.settings {
			t.Errorf("press %q: settings %+v, want %+v", step.data, got, step.settings)
		}
		edits := e.srv.Calls("editMessageText")
		if len(edits) != i+1 {
			t.Fatalf("press %q: %d menu edits in all, want %d", step.data, len(edits), i+1)
		}
		edit := edits[i]
		if got, want := edit.Param("message_id"), strconv.Itoa(menu.ID); got != want {
			t.Errorf("press %q: edited message %s, want %s", step.data, got, want)
		}
		if got := edit.Param("text"); !strings.Contains(got, step.line) {
			t.Errorf("press %q: redrawn menu %q lacks %q", step.data, got, step.line)
		}
		if diff := cmp.Diff(step.labels, parseKeyboard(t, edit.Param("reply_markup")).labels()); diff != "" {
			t.Errorf("press %q: redrawn keyboard (-want +got):\n%s", step.data, diff)
		}
	}
	if n := len(e.srv.Messages()) - len(e.srv.Calls("editMessageText")); n != 1 {
		t.Errorf("%d messages sent, want 1: presses edit the menu in place", n)
	}
}

func TestSettingsInGroupsAreForAdmins(t *testing.T) {
	const refusal = "Only group admins can change the settings of this group."
	e := newEnv(t)
	e.srv.SetChatMember(supergroup().ID, alice().ID, "administrator")
	e.srv.SetChatMember(supergroup().ID, bob().ID, "member")

	for _, text := range []string{"/settings", "/settings tz Europe/Rome"} {
		if got := e.reply(supergroup(), bob(), text); got != refusal {
			t.Errorf("%s by a member = %q, want %q", text, got, refusal)
		}
	}
	msgs := e.say(supergroup(), alice(), "/settings@outage_test_bot")
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Plain(), "⚙️ Alert settings") {
		t.Fatalf("/settings by an admin = %+v, want the menu", msgs)
	}

	answer := e.press(supergroup(), bob(), msgs[0].ID, "\fset|only_down")
	if got := answer.Param("text"); got != refusal {
		t.Errorf("member's press answered %q, want %q", got, refusal)
	}
	if got := answer.Param("show_alert"); got != "true" {
		t.Errorf("member's press: show_alert = %q, want true", got)
	}
	if got := e.prefs.of(supergroup().ID); got != (store.Settings{}) {
		t.Errorf("member's press changed the settings to %+v", got)
	}
	if n := len(e.srv.Calls("editMessageText")); n != 0 {
		t.Errorf("member's press redrew the menu %d times", n)
	}

	if got := e.press(supergroup(), alice(), msgs[0].ID, "\fset|only_down").Param("text"); got != "Saved." {
		t.Errorf("admin's press answered %q, want Saved.", got)
	}
	if got := e.prefs.of(supergroup().ID); !got.OnlyDown {
		t.Errorf("admin's press: settings %+v, want only down", got)
	}
	// The press acts on the chat the menu is in, whoever pressed it.
	if got := e.prefs.of(alice().ID); got != (store.Settings{}) {
		t.Errorf("the admin's private chat got settings %+v", got)
	}
}

func TestTamperedSettingsButton(t *testing.T) {
	for _, data := range []string{
		"\fset|",
		"\fset|quiet_21:00-05:00",
		"\fset|only_down|x",
		"\fset|ONLY_DOWN",
	} {
		t.Run(strconv.Quote(data), func(t *testing.T) {
			e := newEnv(t)
			msgs := e.say(aliceChat(), alice(), "/settings")
			answer := e.press(aliceChat(), alice(), msgs[0].ID, data)
			if got, want := answer.Param("text"), "This button is out of date. Send /subscribe for a fresh list."; got != want {
				t.Errorf("answer %q, want %q", got, want)
			}
			if got := e.prefs.of(aliceChat().ID); got != (store.Settings{}) {
				t.Errorf("settings changed to %+v", got)
			}
		})
	}
}

func TestSettingsTimeZone(t *testing.T) {
	const (
		set     = "🕒 Time zone set to %s. Quiet hours and /history charts follow its clock."
		unknown = "❓ I don't know the time zone “%s”. Write a tz database name exactly, capitals included, such as Europe/Rome, America/New_York or Asia/Kolkata."
		nearest = "❓ I don't know the time zone “%s”. Did you mean %s? Send /settings tz %[2]s."
	)
	for _, tc := range []struct {
		text  string
		reply string
		zone  string // stored afterwards
	}{
		{"/settings tz Europe/Rome", fmt.Sprintf(set, "Europe/Rome"), "Europe/Rome"},
		{"/settings TZ America/Argentina/Buenos_Aires", fmt.Sprintf(set, "America/Argentina/Buenos_Aires"), "America/Argentina/Buenos_Aires"},
		{"/settings tz UTC", fmt.Sprintf(set, "UTC"), "UTC"},
		{"/settings tz Mars/Olympus", fmt.Sprintf(unknown, "Mars/Olympus"), ""},
		{"/settings tz <b>&", fmt.Sprintf(unknown, "<b>&"), ""},
		{"/settings tz ../../etc/passwd", fmt.Sprintf(unknown, "../../etc/passwd"), ""},
		{"/settings tz Local", fmt.Sprintf(unknown, "Local"), ""},
		// Names a zoneinfo directory answers to, but not the embedded data.
		{"/settings tz posixrules", fmt.Sprintf(unknown, "posixrules"), ""},
		{"/settings tz localtime", fmt.Sprintf(unknown, "localtime"), ""},
		{"/settings tz Europe//Rome", fmt.Sprintf(nearest, "Europe//Rome", "Europe/Rome"), ""},
		{"/settings tz Europe/Rome/", fmt.Sprintf(nearest, "Europe/Rome/", "Europe/Rome"), ""},
		{"/settings tz right/UTC", fmt.Sprintf(nearest, "right/UTC", "UTC"), ""},
		{"/settings tz posix/Asia/Tokyo", fmt.Sprintf(nearest, "posix/Asia/Tokyo", "Asia/Tokyo"), ""},
		{"/settings tz america/new_york", fmt.Sprintf(nearest, "america/new_york", "America/New_York"), ""},
		{"/settings tz EUROPE/ROME", fmt.Sprintf(nearest, "EUROPE/ROME", "Europe/Rome"), ""},
		{"/settings tz utc", fmt.Sprintf(nearest, "utc", "UTC"), ""},
		// Echoed without what could disguise it.
		{"/settings tz \u202eEurope/Rome\u2066", fmt.Sprintf(unknown, "Europe/Rome"), ""},
	} {
		t.Run(tc.text, func(t *testing.T) {
			e := newEnv(t)
			if got := e.reply(aliceChat(), alice(), tc.text); got != tc.reply {
				t.Errorf("reply = %q, want %q", got, tc.reply)
			}
			if got := e.prefs.of(aliceChat().ID).TimeZone; got != tc.zone {
				t.Errorf("time zone %q, want %q", got, tc.zone)
			}
		})
	}
}

func TestHere(t *testing.T) {
	const refusal = "Only group admins can change the settings of this group."
	for _, tc := range []struct {
		name   string
		chat   bottest.Chat
		status string // of bob in the chat
		topic  int    // where /here is sent; 0 for the General topic
		reply  string
		want   int // TopicID afterwards
	}{
		{"admin in a topic", forum(), "administrator", 7, "📌 From now on, alerts come to this topic.", 7},
		{"admin in General", forum(), "creator", 0, "📌 From now on, alerts come to the General topic.", 0},
		{"member in a topic", forum(), "member", 7, refusal, 0},
		{"group without topics", supergroup(), "administrator", 0, "This chat has no topics, so alerts come here. /here is for groups with topics.", 0},
		{"private chat", bottest.Chat{ID: bob().ID, Type: "private"}, "member", 0, "This chat has no topics, so alerts come here. /here is for groups with topics.", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.SetChatMember(tc.chat.ID, bob().ID, tc.status)
			// A topic chosen earlier, to see General replace it.
			if err := e.prefs.SetSettings(tc.chat.ID, store.Settings{TopicID: 3}); err != nil {
				t.Fatal(err)
			}
			if tc.status == "member" || tc.chat.ID != forum().ID {
				tc.want = 3 // refused: unchanged
			}
			before := len(e.srv.Messages())
			e.srv.SendTopicText(tc.chat, bob(), tc.topic, "/here")
			e.deliver()
			msgs := e.srv.Messages()[before:]
			if len(msgs) != 1 {
				t.Fatalf("%d replies, want 1\nlog:\n%s", len(msgs), e.log)
			}
			if got := msgs[0].Plain(); got != tc.reply {
				t.Errorf("reply = %q, want %q", got, tc.reply)
			}
			if msgs[0].ThreadID != tc.topic {
				t.Errorf("reply went to topic %d, want %d, where /here was sent", msgs[0].ThreadID, tc.topic)
			}
			if got := e.prefs.of(tc.chat.ID).TopicID; got != tc.want {
				t.Errorf("topic %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSettingsMenuInAForum(t *testing.T) {
	e := newEnv(t)
	e.srv.SetChatMember(forum().ID, alice().ID, "administrator")
	for _, tc := range []struct {
		topic int // where /settings is sent
		line  string
	}{
		{0, "📌 Alerts go to the General topic. Send /here in a topic to get them there."},
		{5, "📌 Alerts go to the topic chosen with /here."},
	} {
		if tc.topic != 0 {
			e.srv.SendTopicText(forum(), alice(), tc.topic, "/here")
			e.deliver()
		}
		before := len(e.srv.Messages())
		e.srv.SendTopicText(forum(), alice(), tc.topic, "/settings")
		e.deliver()
		msgs := e.srv.Messages()[before:]
		if len(msgs) != 1 {
			t.Fatalf("/settings in topic %d: %d replies, want 1\nlog:\n%s", tc.topic, len(msgs), e.log)
		}
		if got := msgs[0].Plain(); !strings.HasSuffix(got, tc.line) {
			t.Errorf("/settings in topic %d =\n%s\nwant it to end with %q", tc.topic, got, tc.line)
		}
		if msgs[0].ThreadID != tc.topic {
			t.Errorf("/settings in topic %d answered in topic %d", tc.topic, msgs[0].ThreadID)
		}
	}
}

func TestStartShowsDeepLinks(t *testing.T) {
	e := newEnv(t)
	got := e.reply(aliceChat(), alice(), "/start")
	for _, want := range []string{
		"https://t.me/outage_test_bot?start=sub_whatsapp: follow WhatsApp in one tap",
		"https://t.me/outage_test_bot?startgroup=start: add me to a group",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/start =\n%s\nwant it to contain %q", got, want)
		}
	}
	// The links do what they say: the first subscribes a private chat, the
	// second brings the bot into a group with "/start start".
	e.reply(aliceChat(), alice(), "/start sub_whatsapp")
	if diff := cmp.Diff([]string{"whatsapp"}, e.subs.of(aliceChat().ID)); diff != "" {
		t.Errorf("subscriptions after the link (-want +got):\n%s", diff)
	}
	if got := e.reply(group(), alice(), "/start@outage_test_bot start"); !strings.HasPrefix(got, "👋 Thanks for adding me!") {
		t.Errorf("/start start in a group = %q, want the group's welcome", got)
	}
}
