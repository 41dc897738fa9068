package bottest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	tele "gopkg.in/telebot.v3"
)

// newTeleBot returns a telebot client of s, which encodes every number as a
// string and nested objects as JSON strings.
func newTeleBot(t *testing.T, s *Server) *tele.Bot {
	t.Helper()
	b, err := tele.NewBot(tele.Settings{URL: s.URL, Token: s.Token, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTelebotGetMe(t *testing.T) {
	s := newServer(t)
	b, err := tele.NewBot(tele.Settings{URL: s.URL, Token: s.Token})
	if err != nil {
		t.Fatal(err)
	}
	if b.Me.ID != 1000 || !b.Me.IsBot || b.Me.Username != "outage_test_bot" {
		t.Errorf("b.Me = %+v, want the default bot user", b.Me)
	}
}

func TestTelebotSendAndEdit(t *testing.T) {
	s := newServer(t)
	b := newTeleBot(t, s)
	markup := &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{{{Text: "WhatsApp", Data: "sub:wa"}}}}

	msg, err := b.Send(&tele.Chat{ID: 42}, "<b>WhatsApp</b> is down", tele.ModeHTML, markup, tele.Silent)
	if err != nil {
		t.Fatal(err)
	}
	if msg.ID != 1 || msg.Chat.ID != 42 || msg.Chat.Type != tele.ChatPrivate || msg.Text != "WhatsApp is down" ||
		msg.Sender == nil || msg.Sender.ID != 1000 || msg.ReplyMarkup == nil || msg.ReplyMarkup.InlineKeyboard[0][0].Data != "sub:wa" {
		t.Errorf("Send returned %+v", msg)
	}
	if _, err := b.Edit(msg, "<b>WhatsApp</b> is down", tele.ModeHTML, markup); !errors.Is(err, tele.ErrSameMessageContent) {
		t.Errorf("Edit with the same content = %v, want ErrSameMessageContent", err)
	}
	edited, err := b.Edit(msg, "<b>WhatsApp</b> is back", tele.ModeHTML)
	if err != nil {
		t.Fatal(err)
	}
	if edited.ID != msg.ID || edited.Text != "WhatsApp is back" || edited.ReplyMarkup != nil || edited.LastEdit == 0 {
		t.Errorf("Edit returned %+v", edited)
	}
	again, err := b.EditReplyMarkup(edited, markup)
	if err != nil {
		t.Fatal(err)
	}
	if again.ReplyMarkup == nil || len(again.ReplyMarkup.InlineKeyboard) != 1 {
		t.Errorf("EditReplyMarkup returned %+v", again)
	}

	// telebot sent the markup as a JSON string (with its habitual empty
	// switch_inline_query_current_chat); it is stored as JSON.
	want := []Message{
		{ID: 1, ChatID: 42, Text: "<b>WhatsApp</b> is down", ParseMode: "HTML", DisableNotification: true,
			ReplyMarkup: json.RawMessage(`{"inline_keyboard":[[{"text":"WhatsApp","callback_data":"sub:wa","switch_inline_query_current_chat":""}]]}`)},
		{ID: 1, ChatID: 42, Text: "<b>WhatsApp</b> is back", ParseMode: "HTML", Edited: true},
	}
	if diff := cmp.Diff(want, s.Messages(), cmpopts.IgnoreFields(Message{}, "At")); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
	if got := s.Calls("sendMessage")[0].Params["chat_id"]; got != "42" {
		t.Errorf("telebot's chat_id recorded as %#v, want the string \"42\"", got)
	}
}

func TestTelebotChatsAndCommands(t *testing.T) {
	s := newServer(t)
	b := newTeleBot(t, s)
	s.AddChannel("outages", -1009)
	s.SetChatMember(-5, 7, "administrator")

	member, err := b.ChatMemberOf(&tele.Chat{ID: -5}, &tele.User{ID: 7})
	if err != nil {
		t.Fatal(err)
	}
	if member.Role != tele.Administrator || member.User == nil || member.User.ID != 7 {
		t.Errorf("ChatMemberOf = %+v", member)
	}
	chat, err := b.ChatByID(-1001234567890)
	if err != nil {
		t.Fatal(err)
	}
	if chat.ID != -1001234567890 || chat.Type != tele.ChatSuperGroup {
		t.Errorf("ChatByID = %+v", chat)
	}
	channel, err := b.ChatByUsername("@outages")
	if err != nil {
		t.Fatal(err)
	}
	if channel.ID != -1009 || channel.Type != tele.ChatChannel || channel.Username != "outages" {
		t.Errorf("ChatByUsername = %+v", channel)
	}

	id := s.PressButton(Chat{ID: -5}, User{ID: 7}, 1, "x")
	if err := b.Respond(&tele.Callback{ID: id}, &tele.CallbackResponse{Text: "ok"}); err != nil {
		t.Errorf("Respond: %v", err)
	}
	if err := b.Respond(&tele.Callback{ID: id}); !errors.Is(err, tele.ErrQueryTooOld) {
		t.Errorf("second Respond = %v, want ErrQueryTooOld", err)
	}

	commands := []tele.Command{{Text: "status", Description: "Status of every service"}}
	if err := b.SetCommands(commands, tele.CommandScope{Type: tele.CommandScopeAllPrivateChats}, "en"); err != nil {
		t.Errorf("SetCommands: %v", err)
	}
	if err := b.SetCommands([]tele.Command{{Text: "Bad-Name", Description: "x"}}); err == nil {
		t.Errorf("SetCommands with an invalid name succeeded")
	}
	if err := b.DeleteCommands(); err != nil {
		t.Errorf("DeleteCommands: %v", err)
	}
}

func TestTelebotErrors(t *testing.T) {
	s := newServer(t)
	b := newTeleBot(t, s)

	s.Fail("sendMessage", Fault{Code: 429, RetryAfter: 3})
	_, err := b.Send(&tele.Chat{ID: 1}, "x")
	var flood tele.FloodError
	if !errors.As(err, &flood) || flood.RetryAfter != 3 {
		t.Errorf("Send under a flood fault = %v, want FloodError with RetryAfter 3", err)
	}

	s.PushMigration(-5, -1005)
	_, err = b.Send(&tele.Chat{ID: -5}, "x")
	var migrated tele.GroupError
	if !errors.As(err, &migrated) || migrated.MigratedTo != -1005 {
		t.Errorf("Send to a migrated group = %v, want GroupError to -1005", err)
	}

	s.BlockChat(9)
	if _, err := b.Send(&tele.Chat{ID: 9}, "x"); !errors.Is(err, tele.ErrBlockedByUser) {
		t.Errorf("Send to a blocked chat = %v, want ErrBlockedByUser", err)
	}

	s.SetLimits(Limits{PerChat: 1})
	if _, err := b.Send(&tele.Chat{ID: 2}, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(&tele.Chat{ID: 2}, "x"); !errors.As(err, &flood) || flood.RetryAfter != 1 {
		t.Errorf("Send over the per-chat limit = %v, want FloodError with RetryAfter 1", err)
	}
}

func TestTelebotDecodesUpdates(t *testing.T) {
	s := newServer(t)
	b := newTeleBot(t, s)
	ann := User{ID: 7, FirstName: "Ann", LanguageCode: "ru"}
	s.SendText(Chat{ID: 7, Type: "private"}, ann, "/subscribe whatsapp")
	if _, err := b.Send(&tele.Chat{ID: 7}, "Pick", &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{{{Text: "A", Data: "a"}}}}); err != nil {
		t.Fatal(err)
	}
	s.PressButton(Chat{ID: 7}, ann, 2, "a")
	s.PushMyChatMember(Chat{ID: -5, Type: "group", Title: "Fans"}, ann, "left", "member")
	s.PushMigration(-5, -1005)

	// telebot's own encoding of getUpdates: every value a string.
	raw, err := b.Raw("getUpdates", map[string]string{"offset": "0", "timeout": "0", "allowed_updates": `["message","callback_query","my_chat_member"]`})
	if err != nil {
		t.Fatal(err)
	}
	var resp struct{ Result []tele.Update }
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	u := resp.Result
	if len(u) != 4 {
		t.Fatalf("got %d updates, want 4: %s", len(u), raw)
	}
	if m := u[0].Message; m == nil || m.Text != "/subscribe whatsapp" || m.Sender.LanguageCode != "ru" ||
		len(m.Entities) != 1 || m.Entities[0].Type != tele.EntityCommand || m.Entities[0].Length != len("/subscribe") {
		t.Errorf("message update = %+v", u[0].Message)
	}
	if c := u[1].Callback; c == nil || c.Data != "a" || c.Message == nil || c.Message.ID != 2 || c.Message.Text != "Pick" || c.Sender.ID != 7 {
		t.Errorf("callback update = %+v", u[1].Callback)
	}
	if m := u[2].MyChatMember; m == nil || m.Chat.ID != -5 || m.NewChatMember.Role != tele.Member ||
		m.OldChatMember.Role != tele.Left || m.NewChatMember.User.ID != 1000 {
		t.Errorf("my_chat_member update = %+v", u[2].MyChatMember)
	}
	if m := u[3].Message; m == nil || m.Chat.ID != -5 || m.MigrateTo != -1005 {
		t.Errorf("migration update = %+v", u[3].Message)
	}
}
