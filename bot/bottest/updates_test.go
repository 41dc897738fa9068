package bottest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// updateIDs polls once and returns the update ids received.
func updateIDs(t *testing.T, s *Server, body string) []int {
	t.Helper()
	var got []struct {
		UpdateID int `json:"update_id"`
	}
	call(t, s, "getUpdates", body).decode(t, &got)
	ids := []int{}
	for _, u := range got {
		ids = append(ids, u.UpdateID)
	}
	return ids
}

func message(text string) map[string]any {
	return map[string]any{"message": map[string]any{"text": text}}
}

func TestGetUpdatesOffsetAndLimit(t *testing.T) {
	type step struct {
		body string
		want []int
	}
	tests := []struct {
		name   string
		pushed int
		steps  []step
	}{
		{"offset confirms what is below it", 3, []step{
			{`{"timeout":0}`, []int{1, 2, 3}},
			{`{"offset":2}`, []int{2, 3}},
			{`null`, []int{2, 3}},
			{`{"offset":"4","timeout":"0"}`, []int{}},
			{`null`, []int{}},
		}},
		{"negative offset keeps the newest", 3, []step{
			{`{"offset":-1}`, []int{3}},
			{`null`, []int{3}},
		}},
		{"limit", 5, []step{
			{`{"limit":2}`, []int{1, 2}},
			{`{"limit":"0"}`, []int{1, 2, 3, 4, 5}},
			{`{"limit":500,"offset":4}`, []int{4, 5}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			for i := range tt.pushed {
				if id := s.PushUpdate(message("m")); id != i+1 {
					t.Fatalf("PushUpdate returned %d, want %d", id, i+1)
				}
			}
			for _, st := range tt.steps {
				if diff := cmp.Diff(st.want, updateIDs(t, s, st.body)); diff != "" {
					t.Errorf("getUpdates %s (-want +got):\n%s", st.body, diff)
				}
			}
		})
	}
}

func TestGetUpdatesAllowedUpdates(t *testing.T) {
	s := newServer(t)
	s.PushUpdate(message("m"))                                       // 1
	s.PushUpdate(map[string]any{"callback_query": map[string]any{}}) // 2
	s.PushUpdate(map[string]any{"chat_member": map[string]any{}})    // 3
	steps := []struct {
		body string
		want []int
	}{
		{`null`, []int{1, 2}}, // Telegram's default leaves chat_member out
		{`{"allowed_updates":["callback_query","chat_member"]}`, []int{2, 3}},
		{`{"allowed_updates":"[\"message\"]"}`, []int{1}}, // telebot sends it as a string
		{`null`, []int{1}},                       // omitted means as last time
		{`{"allowed_updates":"null"}`, []int{1}}, // telebot's encoding of no list
		{`{"allowed_updates":[]}`, []int{1, 2}},  // empty means the default again
	}
	for _, st := range steps {
		if diff := cmp.Diff(st.want, updateIDs(t, s, st.body)); diff != "" {
			t.Errorf("getUpdates %s (-want +got):\n%s", st.body, diff)
		}
	}
}

// poll runs a getUpdates in the background; its answer arrives on the
// returned channel.
func poll(ctx context.Context, s *Server, body string) <-chan pollResult {
	ch := make(chan pollResult, 1)
	go func() {
		status, raw, err := post(ctx, s, "getUpdates", body)
		ch <- pollResult{status, raw, err}
	}()
	return ch
}

type pollResult struct {
	status int
	raw    []byte
	err    error
}

// waitPolling blocks until a getUpdates is waiting on the server.
func waitPolling(t *testing.T, s *Server) {
	t.Helper()
	if err := s.Wait(bounded(t), polling); err != nil {
		t.Fatal(err)
	}
}

func TestGetUpdatesLongPollAnswersWhenAnUpdateArrives(t *testing.T) {
	s := newServer(t)
	ch := poll(bounded(t), s, `{"timeout":30}`)
	waitPolling(t, s)
	id := s.PushUpdate(message("hello"))
	res := <-ch
	if res.err != nil {
		t.Fatal(res.err)
	}
	var got []struct {
		UpdateID int `json:"update_id"`
		Message  struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	decodeResponse(t, res.status, res.raw).decode(t, &got)
	if len(got) != 1 || got[0].UpdateID != id || got[0].Message.Text != "hello" {
		t.Errorf("long poll answered %s, want update %d", res.raw, id)
	}
}

func TestGetUpdatesLongPollIgnoresUnwantedUpdates(t *testing.T) {
	s := newServer(t)
	ch := poll(bounded(t), s, `{"timeout":30,"allowed_updates":["callback_query"]}`)
	waitPolling(t, s)
	s.PushUpdate(message("not wanted"))
	want := s.PushUpdate(map[string]any{"callback_query": map[string]any{"id": "1"}})
	res := <-ch
	if res.err != nil {
		t.Fatal(res.err)
	}
	var got []struct {
		UpdateID int `json:"update_id"`
	}
	decodeResponse(t, res.status, res.raw).decode(t, &got)
	if len(got) != 1 || got[0].UpdateID != want {
		t.Errorf("long poll answered %s, want only update %d", res.raw, want)
	}
}

func TestGetUpdatesTimeout(t *testing.T) {
	s := newServer(t)
	start := time.Now()
	r := call(t, s, "getUpdates", `{"timeout":1}`)
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("getUpdates with timeout 1 answered after %v, want at least 1s", elapsed)
	}
	if !r.OK || string(r.Result) != "[]" {
		t.Errorf("getUpdates timed out with %d %s, want ok and []", r.Status, r.Result)
	}
}

func TestGetUpdatesEndsWhenClientCancels(t *testing.T) {
	s := newServer(t)
	ctx, cancel := context.WithCancel(bounded(t))
	ch := poll(ctx, s, `{"timeout":30}`)
	waitPolling(t, s)
	cancel()
	if res := <-ch; !errors.Is(res.err, context.Canceled) {
		t.Errorf("cancelled poll returned %v, want context.Canceled", res.err)
	}
	// The server side notices too: nothing is left polling.
	if err := s.Wait(bounded(t), func(s *Server) bool { return !polling(s) }); err != nil {
		t.Fatal(err)
	}
}

func TestGetUpdatesConflict(t *testing.T) {
	s := newServer(t)
	older := poll(bounded(t), s, `{"timeout":30}`)
	waitPolling(t, s)
	if got := updateIDs(t, s, `{"timeout":0}`); len(got) != 0 {
		t.Errorf("newer poll got %v, want none", got)
	}
	res := <-older
	if res.err != nil {
		t.Fatal(res.err)
	}
	const want = `{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}`
	if res.status != http.StatusConflict || string(res.raw) != want {
		t.Errorf("older poll = %d %s, want 409 %s", res.status, res.raw, want)
	}
}

func TestCloseEndsLongPoll(t *testing.T) {
	s := newServer(t)
	ch := poll(bounded(t), s, `{"timeout":30}`)
	waitPolling(t, s)
	s.Close()
	res := <-ch
	if res.err != nil {
		t.Fatal(res.err)
	}
	if r := decodeResponse(t, res.status, res.raw); string(r.Result) != "[]" {
		t.Errorf("poll ended by Close answered %s, want []", res.raw)
	}
}

func TestPushedUpdates(t *testing.T) {
	ann := User{ID: 7, FirstName: "Ann", LanguageCode: "en"}
	group := Chat{ID: -5, Title: "Friends"}
	tests := []struct {
		name string
		push func(s *Server)
		want string // the update, without update_id
	}{
		{
			"command in a private chat",
			func(s *Server) {
				s.SendText(Chat{ID: 7, Type: "private", FirstName: "Ann"}, ann, "/start@outage_test_bot ru")
			},
			`{"message":{"message_id":1,"from":{"id":7,"is_bot":false,"first_name":"Ann","language_code":"en"},
			"chat":{"id":7,"type":"private","first_name":"Ann"},"date":1772712000,"text":"/start@outage_test_bot ru",
			"entities":[{"type":"bot_command","offset":0,"length":22}]}}`,
		},
		{
			"plain text in a group, type inferred",
			func(s *Server) { s.SendText(group, ann, "hello /status") },
			`{"message":{"message_id":1,"from":{"id":7,"is_bot":false,"first_name":"Ann","language_code":"en"},
			"chat":{"id":-5,"type":"group","title":"Friends"},"date":1772712000,"text":"hello /status"}}`,
		},
		{
			"channel post",
			func(s *Server) { s.SendText(Chat{ID: -1001, Type: "channel", Title: "News"}, ann, "/status") },
			`{"channel_post":{"message_id":1,"sender_chat":{"id":-1001,"type":"channel","title":"News"},
			"chat":{"id":-1001,"type":"channel","title":"News"},"date":1772712000,"text":"/status",
			"entities":[{"type":"bot_command","offset":0,"length":7}]}}`,
		},
		{
			"button under an unknown message",
			func(s *Server) { s.PressButton(group, ann, 9, "sub:whatsapp") },
			`{"callback_query":{"id":"1","from":{"id":7,"is_bot":false,"first_name":"Ann","language_code":"en"},
			"message":{"message_id":9,"chat":{"id":-5,"type":"group","title":"Friends"},"date":0},
			"chat_instance":"-5","data":"sub:whatsapp"}}`,
		},
		{
			"bot added to a group",
			func(s *Server) { s.PushMyChatMember(group, ann, "left", "administrator") },
			`{"my_chat_member":{"chat":{"id":-5,"type":"group","title":"Friends"},
			"from":{"id":7,"is_bot":false,"first_name":"Ann","language_code":"en"},"date":1772712000,
			"old_chat_member":{"user":{"id":1000,"is_bot":true,"first_name":"Outage Bot","username":"outage_test_bot"},"status":"left"},
			"new_chat_member":{"user":{"id":1000,"is_bot":true,"first_name":"Outage Bot","username":"outage_test_bot"},"status":"administrator"}}}`,
		},
		{
			"migration",
			func(s *Server) { s.PushMigration(-5, -1005) },
			`{"message":{"message_id":1,"chat":{"id":-5,"type":"group","title":"Group -5"},"date":1772712000,"migrate_to_chat_id":-1005}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			withClock(s)
			tt.push(s)
			var got []map[string]any
			call(t, s, "getUpdates", "null").decode(t, &got)
			if len(got) != 1 {
				t.Fatalf("got %d updates, want 1", len(got))
			}
			delete(got[0], "update_id")
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got[0]); diff != "" {
				t.Errorf("update (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPressButtonShowsTheBotMessage(t *testing.T) {
	s := newServer(t)
	call(t, s, "sendMessage", `{"chat_id":7,"text":"<b>Pick</b>","parse_mode":"HTML","reply_markup":{"inline_keyboard":[[{"text":"WhatsApp","callback_data":"wa"}]]}}`)
	s.PressButton(Chat{ID: 7}, User{ID: 7, FirstName: "Ann"}, 1, "wa")
	var got []struct {
		Callback struct {
			Message wireMessage `json:"message"`
		} `json:"callback_query"`
	}
	call(t, s, "getUpdates", "null").decode(t, &got)
	m := got[0].Callback.Message
	if m.Text != "Pick" || m.From == nil || m.From.ID != 1000 || string(m.ReplyMarkup) != `{"inline_keyboard":[[{"text":"WhatsApp","callback_data":"wa"}]]}` {
		t.Errorf("callback message = %+v, want the bot's message with its keyboard", m)
	}
}

func TestPushUpdatePanicsOnUnencodableUpdate(t *testing.T) {
	s := newServer(t)
	defer func() {
		if recover() == nil {
			t.Errorf("PushUpdate with a channel inside did not panic")
		}
	}()
	s.PushUpdate(map[string]any{"message": make(chan int)})
}
