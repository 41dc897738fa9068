package bottest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPinChatMessage(t *testing.T) {
	s := newServer(t)
	s.AddChannel("@outages", -1009)
	call(t, s, "sendMessage", `{"chat_id":"@outages","text":"status"}`)
	call(t, s, "sendMessage", `{"chat_id":"@outages","text":"newer"}`)
	if _, ok := s.PinnedMessage(-1009); ok {
		t.Fatal("a message is pinned before any pinChatMessage")
	}
	for _, tc := range []struct {
		name, body string
		wantErr    string // description; "" for success
		wantPinned int
	}{
		{"pin", `{"chat_id":"@outages","message_id":1,"disable_notification":true}`, "", 1},
		{"numbers as strings", `{"chat_id":"-1009","message_id":"2"}`, "", 2},
		{"unknown message", `{"chat_id":-1009,"message_id":9}`, "Bad Request: message to pin not found", 2},
		{"no message id", `{"chat_id":-1009}`, "Bad Request: message identifier is not specified", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "pinChatMessage", tc.body)
			if got := r.Description; !r.OK && got != tc.wantErr || r.OK && tc.wantErr != "" {
				t.Errorf("pinChatMessage %s = ok %v %q, want error %q", tc.body, r.OK, got, tc.wantErr)
			}
			if got, _ := s.PinnedMessage(-1009); got != tc.wantPinned {
				t.Errorf("pinned message = %d, want %d", got, tc.wantPinned)
			}
		})
	}
	if n := len(s.Calls("pinChatMessage")); n != 4 {
		t.Errorf("%d pinChatMessage calls recorded, want 4", n)
	}
	s.BlockChat(-1009)
	if r := call(t, s, "pinChatMessage", `{"chat_id":-1009,"message_id":1}`); r.OK || r.ErrorCode != 403 {
		t.Errorf("pin in a chat that blocked the bot = ok %v %d, want 403", r.OK, r.ErrorCode)
	}
}

func TestTopics(t *testing.T) {
	s := newServer(t)
	forum := Chat{ID: -1001, Type: "supergroup", Title: "Team", IsForum: true}
	s.SendTopicText(forum, User{ID: 42, FirstName: "Ann"}, 7, "/here")
	s.SendText(forum, User{ID: 42, FirstName: "Ann"}, "/here")
	var got []struct {
		Message struct {
			Chat struct {
				IsForum bool `json:"is_forum"`
			} `json:"chat"`
			ThreadID       int  `json:"message_thread_id"`
			IsTopicMessage bool `json:"is_topic_message"`
		} `json:"message"`
	}
	call(t, s, "getUpdates", `null`).decode(t, &got)
	if len(got) != 2 {
		t.Fatalf("%d updates, want 2", len(got))
	}
	if m := got[0].Message; m.ThreadID != 7 || !m.IsTopicMessage || !m.Chat.IsForum {
		t.Errorf("message in topic 7 = %+v, want thread 7, a topic message in a forum", m)
	}
	if m := got[1].Message; m.ThreadID != 0 || m.IsTopicMessage {
		t.Errorf("message in the General topic = %+v, want no thread", m)
	}

	call(t, s, "sendMessage", `{"chat_id":-1001,"text":"in the topic","message_thread_id":7}`)
	call(t, s, "sendMessage", `{"chat_id":-1001,"text":"in General"}`)
	var threads []int
	for _, m := range s.MessagesTo(-1001) {
		threads = append(threads, m.ThreadID)
	}
	if diff := cmp.Diff([]int{7, 0}, threads); diff != "" {
		t.Errorf("recorded threads (-want +got):\n%s", diff)
	}
}
