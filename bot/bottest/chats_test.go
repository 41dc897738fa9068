package bottest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGetChat(t *testing.T) {
	s := newServer(t)
	s.AddChannel("Outages", -1009)
	s.SendText(Chat{ID: -7, Type: "supergroup", Title: "Fans"}, User{ID: 1}, "hi")
	tests := []struct {
		chatID string
		want   Chat
	}{
		{`42`, Chat{ID: 42, Type: "private", FirstName: "User 42"}},
		{`-5`, Chat{ID: -5, Type: "group", Title: "Group -5"}},
		{`"-1001234567890"`, Chat{ID: -1001234567890, Type: "supergroup", Title: "Supergroup -1001234567890"}},
		{`"@outages"`, Chat{ID: -1009, Type: "channel", Title: "Outages", Username: "Outages"}},
		{`-1009`, Chat{ID: -1009, Type: "channel", Title: "Outages", Username: "Outages"}},
		{`-7`, Chat{ID: -7, Type: "supergroup", Title: "Fans"}},
	}
	for _, tt := range tests {
		t.Run(tt.chatID, func(t *testing.T) {
			var got Chat
			call(t, s, "getChat", `{"chat_id":`+tt.chatID+`}`).decode(t, &got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("getChat (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetChatMember(t *testing.T) {
	s := newServer(t)
	s.SendText(Chat{ID: -5}, User{ID: 7, FirstName: "Ann", Username: "ann"}, "/status")
	s.SetChatMember(-5, 7, "creator")
	s.SetChatMember(-5, 8, "administrator")
	tests := []struct {
		body string
		want wireMember
	}{
		{`{"chat_id":-5,"user_id":7}`, wireMember{User: User{ID: 7, FirstName: "Ann", Username: "ann"}, Status: "creator"}},
		{`{"chat_id":"-5","user_id":"8"}`, wireMember{User: User{ID: 8, FirstName: "User 8"}, Status: "administrator"}},
		{`{"chat_id":-5,"user_id":9}`, wireMember{User: User{ID: 9, FirstName: "User 9"}, Status: "member"}},
		{`{"chat_id":-5,"user_id":1000}`, wireMember{User: User{ID: 1000, IsBot: true, FirstName: "Outage Bot", Username: "outage_test_bot"}, Status: "member"}},
	}
	for _, tt := range tests {
		var got wireMember
		call(t, s, "getChatMember", tt.body).decode(t, &got)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("getChatMember %s (-want +got):\n%s", tt.body, diff)
		}
	}
	if r := call(t, s, "getChatMember", `{"chat_id":-5}`); r.Status != 400 {
		t.Errorf("getChatMember without user_id = %d, want 400", r.Status)
	}
}

func TestBotMembershipGatesSends(t *testing.T) {
	ann := User{ID: 7, FirstName: "Ann"}
	tests := []struct {
		name     string
		chat     Chat
		from, to string
		want     string // description of the send's error, "" for success
	}{
		{"user blocks the bot", Chat{ID: 7, Type: "private"}, "member", "kicked", "Forbidden: bot was blocked by the user"},
		{"user unblocks the bot", Chat{ID: 7, Type: "private"}, "kicked", "member", ""},
		{"kicked from a group", Chat{ID: -5, Type: "group"}, "member", "kicked", "Forbidden: bot was kicked from the group chat"},
		{"kicked from a supergroup", Chat{ID: -1005, Type: "supergroup"}, "administrator", "kicked", "Forbidden: bot was kicked from the supergroup chat"},
		{"left a supergroup", Chat{ID: -1005, Type: "supergroup"}, "member", "left", "Forbidden: bot is not a member of the supergroup chat"},
		{"removed from a channel", Chat{ID: -1009, Type: "channel"}, "administrator", "left", "Forbidden: bot is not a member of the channel chat"},
		{"added to a group", Chat{ID: -5, Type: "group"}, "left", "administrator", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.PushMyChatMember(tt.chat, ann, tt.from, tt.to)
			r := call(t, s, "sendMessage", fmt.Sprintf(`{"chat_id":%d,"text":"x"}`, tt.chat.ID))
			if r.Description != tt.want {
				t.Errorf("send after %s→%s = %d %q, want %q", tt.from, tt.to, r.Status, r.Description, tt.want)
			}
			var m wireMember
			call(t, s, "getChatMember", fmt.Sprintf(`{"chat_id":%d,"user_id":1000}`, tt.chat.ID)).decode(t, &m)
			if m.Status != tt.to {
				t.Errorf("bot's status = %q, want %q", m.Status, tt.to)
			}
		})
	}
}

func TestMigratedGroup(t *testing.T) {
	s := newServer(t)
	s.SendText(Chat{ID: -5, Type: "group", Title: "Fans"}, User{ID: 7}, "/start")
	s.PushMigration(-5, -1005)
	for _, method := range []string{"sendMessage", "getChat", "getChatMember"} {
		status, body, err := post(t.Context(), s, method, `{"chat_id":-5,"user_id":7,"text":"x"}`)
		if err != nil {
			t.Fatal(err)
		}
		const want = `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1005}}`
		if status != 400 || string(body) != want {
			t.Errorf("%s to the old group = %d %s, want 400 %s", method, status, body, want)
		}
	}
	var got Chat
	call(t, s, "getChat", `{"chat_id":-1005}`).decode(t, &got)
	if diff := cmp.Diff(Chat{ID: -1005, Type: "supergroup", Title: "Fans"}, got); diff != "" {
		t.Errorf("getChat of the supergroup (-want +got):\n%s", diff)
	}
}

func TestAnswerCallbackQuery(t *testing.T) {
	s := newServer(t)
	id := s.PressButton(Chat{ID: 7}, User{ID: 7}, 1, "x")
	const tooOld = "Bad Request: query is too old and response timeout expired or query ID is invalid"
	steps := []struct {
		body string
		want string
	}{
		{`{"callback_query_id":"` + id + `","text":"Subscribed"}`, ""},
		{`{"callback_query_id":"` + id + `"}`, tooOld},
		{`{"callback_query_id":"nope"}`, tooOld},
	}
	for _, st := range steps {
		if r := call(t, s, "answerCallbackQuery", st.body); r.Description != st.want {
			t.Errorf("answerCallbackQuery %s = %d %q, want %q", st.body, r.Status, r.Description, st.want)
		}
	}
}

func TestCommands(t *testing.T) {
	many := make([]string, maxCommands+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"command":"c%d","description":"d"}`, i)
	}
	tests := []struct {
		method string
		body   string
		want   string
	}{
		{"setMyCommands", `{"commands":[{"command":"status","description":"Status of every service"}],"scope":{"type":"all_private_chats"},"language_code":"en"}`, ""},
		{"setMyCommands", `{"commands":"[{\"command\":\"sub_1\",\"description\":\"Subscribe\"}]"}`, ""},
		{"setMyCommands", `{"commands":[{"command":"Status","description":"x"}]}`, "Bad Request: BOT_COMMAND_INVALID"},
		{"setMyCommands", `{"commands":[{"command":"` + strings.Repeat("a", 33) + `","description":"x"}]}`, "Bad Request: BOT_COMMAND_INVALID"},
		{"setMyCommands", `{"commands":[{"command":"status","description":" "}]}`, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"},
		{"setMyCommands", `{"commands":[` + strings.Join(many, ",") + `]}`, "Bad Request: BOT_COMMANDS_TOO_MUCH"},
		{"setMyCommands", `{"commands":{"command":"status"}}`, "Bad Request: can't parse commands JSON object"},
		{"setMyCommands", `null`, `Bad Request: parameter "commands" is required`},
		{"deleteMyCommands", `null`, ""},
		{"deleteWebhook", `{"drop_pending_updates":false}`, ""},
	}
	s := newServer(t)
	for _, tt := range tests {
		r := call(t, s, tt.method, tt.body)
		if r.Description != tt.want || r.OK && string(r.Result) != "true" {
			t.Errorf("%s %.80s = %d %q %s, want %q", tt.method, tt.body, r.Status, r.Description, r.Result, tt.want)
		}
	}
}
