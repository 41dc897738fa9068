package bottest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRouting(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantBody   string
	}{
		{"wrong token", "/bot999:OTHER/getMe", 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`},
		{"unknown method", "/bot" + testToken + "/sendSticker", 404, `{"ok":false,"error_code":404,"description":"Not Found"}`},
		{"no method", "/bot" + testToken + "/", 404, `{"ok":false,"error_code":404,"description":"Not Found"}`},
		{"not a bot path", "/file/bot" + testToken + "/x", 404, `{"ok":false,"error_code":404,"description":"Not Found"}`},
		{"case-insensitive method", "/bot" + testToken + "/GETME", 200,
			`{"ok":true,"result":{"id":1000,"is_bot":true,"first_name":"Outage Bot","username":"outage_test_bot"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+tt.path, strings.NewReader("null"))
			if err != nil {
				t.Fatal(err)
			}
			status, body, err := do(req)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("POST %s = %d %s, want %d %s", tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	// Requests with a wrong token are not the bot's calls.
	if got := len(s.Calls("")); got != 2 {
		t.Errorf("recorded %d calls, want 2 (the unknown method and getMe)", got)
	}
}

func TestSetMe(t *testing.T) {
	s := newServer(t)
	want := User{ID: 77, IsBot: true, FirstName: "Other", Username: "other_bot"}
	s.SetMe(want)
	var got User
	call(t, s, "getMe", "null").decode(t, &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("getMe (-want +got):\n%s", diff)
	}
}

func TestRequestEncodings(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		query       string
		body        string
	}{
		{"JSON numbers", "application/json", "", `{"chat_id":42,"text":"hi","disable_notification":true}`},
		{"JSON strings as telebot sends them", "application/json", "", `{"chat_id":"42","text":"hi","disable_notification":"true"}`},
		{"query string", "", "chat_id=42&text=hi&disable_notification=true", ""},
		{"form", "application/x-www-form-urlencoded", "", "chat_id=42&text=hi&disable_notification=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			u := s.URL + "/bot" + s.Token + "/sendMessage?" + tt.query
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			status, raw, err := do(req)
			if err != nil {
				t.Fatal(err)
			}
			if r := decodeResponse(t, status, raw); !r.OK {
				t.Fatalf("sendMessage failed: %s", raw)
			}
			msgs := s.Messages()
			if len(msgs) != 1 || msgs[0].ChatID != 42 || msgs[0].Text != "hi" || !msgs[0].DisableNotification {
				t.Errorf("recorded %+v, want one silent message \"hi\" to 42", msgs)
			}
		})
	}
}

func TestMalformedBody(t *testing.T) {
	s := newServer(t)
	r := call(t, s, "sendMessage", `{"chat_id":`)
	if r.Status != 400 || !strings.HasPrefix(r.Description, "Bad Request: can't parse request") {
		t.Errorf("malformed JSON: %d %q, want 400 Bad Request", r.Status, r.Description)
	}
	if len(s.Calls("sendMessage")) != 1 || len(s.Messages()) != 0 {
		t.Errorf("want the call recorded and no message stored")
	}
}

func TestCallsRecordParamsAsSent(t *testing.T) {
	s := newServer(t)
	clock := withClock(s)
	call(t, s, "getMe", "null")
	call(t, s, "sendMessage", `{"chat_id":"42","text":"a"}`)
	call(t, s, "sendMessage", `{"chat_id":-1001234567890123,"text":"b","reply_markup":{"inline_keyboard":[]}}`)
	call(t, s, "deleteWebhook", "")

	got := s.Calls("sendmessage")
	want := []Call{
		{Method: "sendMessage", Params: map[string]any{"chat_id": "42", "text": "a"}, At: clock.Now()},
		{Method: "sendMessage", Params: map[string]any{
			"chat_id":      json.Number("-1001234567890123"),
			"text":         "b",
			"reply_markup": map[string]any{"inline_keyboard": []any{}},
		}, At: clock.Now()},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Calls(sendmessage) (-want +got):\n%s", diff)
	}
	var methods []string
	for _, c := range s.Calls("") {
		methods = append(methods, c.Method)
	}
	if diff := cmp.Diff([]string{"getMe", "sendMessage", "sendMessage", "deleteWebhook"}, methods); diff != "" {
		t.Errorf("Calls(\"\") methods (-want +got):\n%s", diff)
	}
	for key, want := range map[string]string{"chat_id": "-1001234567890123", "reply_markup": `{"inline_keyboard":[]}`, "missing": ""} {
		if got := got[1].Param(key); got != want {
			t.Errorf("Param(%q) = %q, want %q", key, got, want)
		}
	}
	if got := got[0].Param("chat_id"); got != "42" {
		t.Errorf(`Param("chat_id") of a string = %q, want "42"`, got)
	}
}

func TestCloseIsIdempotentAndEndsWaits(t *testing.T) {
	s := NewServer(testToken)
	s.Close()
	s.Close()
	err := s.Wait(context.Background(), func(*Server) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "server closed") {
		t.Errorf("Wait after Close = %v, want a server closed error", err)
	}
	if _, err := http.Get(s.URL + "/bot" + url.PathEscape(testToken) + "/getMe"); err == nil {
		t.Errorf("GET after Close succeeded, want a connection error")
	}
}
