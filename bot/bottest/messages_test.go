package bottest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const keyboard = `{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}`

func TestSendMessage(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantResult string
		want       Message
	}{
		{
			name:       "numbers as numbers, markup as object",
			body:       `{"chat_id":42,"text":"<b>WhatsApp</b> is down &amp; out","parse_mode":"HTML","reply_markup":` + keyboard + `}`,
			wantResult: `{"message_id":1,"from":{"id":1000,"is_bot":true,"first_name":"Outage Bot","username":"outage_test_bot"},"chat":{"id":42,"type":"private","first_name":"User 42"},"date":1772712000,"text":"WhatsApp is down & out","reply_markup":` + keyboard + `}`,
			want:       Message{ID: 1, ChatID: 42, Text: "<b>WhatsApp</b> is down &amp; out", ParseMode: "HTML", ReplyMarkup: json.RawMessage(keyboard)},
		},
		{
			name:       "numbers as strings, markup as string",
			body:       `{"chat_id":"-100123456789012","text":"x","disable_notification":"true","reply_markup":` + fmt.Sprintf("%q", keyboard) + `}`,
			wantResult: `{"message_id":1,"from":{"id":1000,"is_bot":true,"first_name":"Outage Bot","username":"outage_test_bot"},"chat":{"id":-100123456789012,"type":"supergroup","title":"Supergroup -100123456789012"},"date":1772712000,"text":"x","reply_markup":` + keyboard + `}`,
			want:       Message{ID: 1, ChatID: -100123456789012, Text: "x", ReplyMarkup: json.RawMessage(keyboard), DisableNotification: true},
		},
		{
			name:       "channel by username",
			body:       `{"chat_id":"@Outages","text":"*up*","parse_mode":"MarkdownV2"}`,
			wantResult: `{"message_id":1,"sender_chat":{"id":-1009,"type":"channel","title":"outages","username":"outages"},"chat":{"id":-1009,"type":"channel","title":"outages","username":"outages"},"date":1772712000,"text":"*up*"}`,
			want:       Message{ID: 1, ChatID: -1009, Text: "*up*", ParseMode: "MarkdownV2"},
		},
		{
			name:       "longest text",
			body:       `{"chat_id":-5,"text":"` + strings.Repeat("я", maxTextLength) + `"}`,
			wantResult: `{"message_id":1,"from":{"id":1000,"is_bot":true,"first_name":"Outage Bot","username":"outage_test_bot"},"chat":{"id":-5,"type":"group","title":"Group -5"},"date":1772712000,"text":"` + strings.Repeat("я", maxTextLength) + `"}`,
			want:       Message{ID: 1, ChatID: -5, Text: strings.Repeat("я", maxTextLength)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			clock := withClock(s)
			s.AddChannel("@outages", -1009)
			r := call(t, s, "sendMessage", tt.body)
			if !r.OK {
				t.Fatalf("sendMessage: %d %s", r.ErrorCode, r.Description)
			}
			var got, want any
			r.decode(t, &got)
			if err := json.Unmarshal([]byte(tt.wantResult), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			tt.want.At = clock.Now()
			if diff := cmp.Diff([]Message{tt.want}, s.Messages()); diff != "" {
				t.Errorf("Messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendMessageErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // description; all are 400
	}{
		{"no chat", `{"text":"x"}`, "Bad Request: chat_id is empty"},
		{"unknown channel", `{"chat_id":"@nobody","text":"x"}`, "Bad Request: chat not found"},
		{"garbage chat", `{"chat_id":"abc","text":"x"}`, "Bad Request: chat not found"},
		{"no text", `{"chat_id":1}`, "Bad Request: message text is empty"},
		{"blank text", `{"chat_id":1,"text":" \n"}`, "Bad Request: message text is empty"},
		{"only tags", `{"chat_id":1,"text":"<b></b>","parse_mode":"HTML"}`, "Bad Request: message text is empty"},
		{"too long", `{"chat_id":1,"text":"` + strings.Repeat("a", maxTextLength+1) + `"}`, "Bad Request: message is too long"},
		{"broken HTML", `{"chat_id":1,"text":"1 < 2","parse_mode":"HTML"}`, `Bad Request: can't parse entities: Unsupported start tag "" at byte offset 2`},
		{"unescaped ampersand", `{"chat_id":1,"text":"AT&T","parse_mode":"HTML"}`, `Bad Request: can't parse entities: Character "&" at byte offset 2 must be escaped as "&amp;"`},
		{"unknown parse mode", `{"chat_id":1,"text":"x","parse_mode":"BBCode"}`, "Bad Request: unsupported parse_mode"},
		{"markup not JSON", `{"chat_id":1,"text":"x","reply_markup":"{oops"}`, "Bad Request: can't parse reply_markup JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			r := call(t, s, "sendMessage", tt.body)
			if r.Status != 400 || r.ErrorCode != 400 || r.Description != tt.want {
				t.Errorf("sendMessage = %d %d %q, want 400 %q", r.Status, r.ErrorCode, r.Description, tt.want)
			}
			if msgs := s.Messages(); len(msgs) != 0 {
				t.Errorf("failed send recorded as %+v", msgs)
			}
		})
	}
}

func TestMessageIDsArePerChat(t *testing.T) {
	s := newServer(t)
	send := func(chat int64) int {
		var m wireMessage
		call(t, s, "sendMessage", fmt.Sprintf(`{"chat_id":%d,"text":"x"}`, chat)).decode(t, &m)
		return m.MessageID
	}
	got := []int{send(1), send(1), send(2)}
	s.SendText(Chat{ID: 1}, User{ID: 1}, "hi") // a user's message takes the next id
	got = append(got, send(1))
	if diff := cmp.Diff([]int{1, 2, 1, 4}, got); diff != "" {
		t.Errorf("message ids (-want +got):\n%s", diff)
	}
	var to1 []int
	for _, m := range s.MessagesTo(1) {
		to1 = append(to1, m.ID)
	}
	if diff := cmp.Diff([]int{1, 2, 4}, to1); diff != "" {
		t.Errorf("MessagesTo(1) ids (-want +got):\n%s", diff)
	}
}

func TestEdits(t *testing.T) {
	const notModified = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	s := newServer(t)
	clock := withClock(s)
	call(t, s, "sendMessage", `{"chat_id":42,"text":"<b>down</b>","parse_mode":"HTML","reply_markup":`+keyboard+`}`)
	s.SendText(Chat{ID: 42}, User{ID: 42}, "thanks") // message 2, the user's

	steps := []struct {
		name       string
		method     string
		body       string
		wantErr    string
		wantText   string
		wantMarkup string
	}{
		{"same text and markup", "editMessageText", `{"chat_id":42,"message_id":1,"text":"<b>down</b>","parse_mode":"HTML","reply_markup":` + keyboard + `}`, notModified, "", ""},
		{"unknown message", "editMessageText", `{"chat_id":42,"message_id":9,"text":"x"}`, "Bad Request: message to edit not found", "", ""},
		{"another chat", "editMessageText", `{"chat_id":43,"message_id":1,"text":"x"}`, "Bad Request: message to edit not found", "", ""},
		{"user's message", "editMessageText", `{"chat_id":42,"message_id":2,"text":"x"}`, "Bad Request: message can't be edited", "", ""},
		{"no message id", "editMessageText", `{"chat_id":42,"text":"x"}`, "Bad Request: message identifier is not specified", "", ""},
		{"bad HTML", "editMessageText", `{"chat_id":42,"message_id":1,"text":"<b>x","parse_mode":"HTML"}`, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`, "", ""},
		{"new text drops the keyboard", "editMessageText", `{"chat_id":"42","message_id":"1","text":"<b>up</b>","parse_mode":"HTML"}`, "", "up", ""},
		{"markup unchanged", "editMessageReplyMarkup", `{"chat_id":42,"message_id":1}`, notModified, "", ""},
		{"markup added", "editMessageReplyMarkup", `{"chat_id":42,"message_id":1,"reply_markup":` + fmt.Sprintf("%q", keyboard) + `}`, "", "up", keyboard},
		{"same markup", "editMessageReplyMarkup", `{"chat_id":42,"message_id":1,"reply_markup":` + keyboard + `}`, notModified, "", ""},
	}
	for _, st := range steps {
		r := call(t, s, st.method, st.body)
		if st.wantErr != "" {
			if r.Status != 400 || r.Description != st.wantErr {
				t.Errorf("%s: %s = %d %q, want 400 %q", st.name, st.method, r.Status, r.Description, st.wantErr)
			}
			continue
		}
		var m wireMessage
		r.decode(t, &m)
		if m.Text != st.wantText || string(m.ReplyMarkup) != st.wantMarkup || m.EditDate != clock.Now().Unix() {
			t.Errorf("%s: result %+v, want text %q, markup %q and edit_date set", st.name, m, st.wantText, st.wantMarkup)
		}
	}

	want := []Message{
		{ID: 1, ChatID: 42, Text: "<b>down</b>", ParseMode: "HTML", ReplyMarkup: json.RawMessage(keyboard)},
		{ID: 1, ChatID: 42, Text: "<b>up</b>", ParseMode: "HTML", Edited: true},
	}
	if diff := cmp.Diff(want, s.Messages(), cmpopts.IgnoreFields(Message{}, "At")); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
}

func TestMessagePlain(t *testing.T) {
	tests := []struct {
		m    Message
		want string
	}{
		{Message{Text: "<b>a</b> &lt;b&gt;", ParseMode: "HTML"}, "a <b>"},
		{Message{Text: "<b>a</b>", ParseMode: "html"}, "a"},
		{Message{Text: "<b>a</b>"}, "<b>a</b>"},
		{Message{Text: "*a*", ParseMode: "MarkdownV2"}, "*a*"},
	}
	for _, tt := range tests {
		if got := tt.m.Plain(); got != tt.want {
			t.Errorf("%+v.Plain() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestWaitMessages(t *testing.T) {
	s := newServer(t)
	errs := make(chan error, 1)
	go func() {
		for i := range 3 {
			if _, _, err := post(t.Context(), s, "sendMessage", fmt.Sprintf(`{"chat_id":%d,"text":"n"}`, i+1)); err != nil {
				errs <- err
				return
			}
			// Edits are not sends: they must not count.
			if _, _, err := post(t.Context(), s, "editMessageText", fmt.Sprintf(`{"chat_id":%d,"message_id":1,"text":"e"}`, i+1)); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	msgs, err := s.WaitMessages(bounded(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	var chats []int64
	for _, m := range msgs {
		if m.Edited {
			t.Errorf("WaitMessages returned an edit: %+v", m)
		}
		chats = append(chats, m.ChatID)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, chats); diff != "" {
		t.Errorf("WaitMessages chats (-want +got):\n%s", diff)
	}
	if got := len(s.Messages()); got != 6 {
		t.Errorf("Messages has %d records, want 6 (3 sends, 3 edits)", got)
	}

	ctx, cancel := context.WithCancel(bounded(t))
	cancel()
	msgs, err = s.WaitMessages(ctx, 4)
	if !errors.Is(err, context.Canceled) || len(msgs) != 3 {
		t.Errorf("WaitMessages(4) with a cancelled context = %d messages, %v; want the 3 sent and context.Canceled", len(msgs), err)
	}
}

func TestWait(t *testing.T) {
	s := newServer(t)
	done := make(chan error, 1)
	go func() {
		done <- s.Wait(bounded(t), func(s *Server) bool { return len(s.Calls("getMe")) == 2 })
	}()
	call(t, s, "getMe", "null")
	s.PushUpdate(message("wake-up without a call"))
	call(t, s, "getMe", "null")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
