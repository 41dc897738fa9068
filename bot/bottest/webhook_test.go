package bottest

import (
	"strings"
	"testing"
)

func TestWebhook(t *testing.T) {
	s := newServer(t)
	conflict := "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	steps := []struct {
		method, body string
		want         string // error description, "" for success
	}{
		{"getUpdates", `{"timeout":0}`, ""},
		{"setWebhook", `{"url":"http://bot.example/hook"}`, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"},
		{"setWebhook", `{"url":"https://bot.example/hook","secret_token":"no spaces"}`, "Bad Request: secret token contains unallowed characters"},
		{"setWebhook", `{"url":"https://bot.example/hook","secret_token":"` + strings.Repeat("a", 257) + `"}`, "Bad Request: secret token contains unallowed characters"},
		{"getUpdates", `{"timeout":0}`, ""},
		{"setWebhook", `{"url":"https://bot.example/hook","secret_token":"Ab_9-` + strings.Repeat("f", 251) + `","allowed_updates":["message"]}`, ""},
		{"getUpdates", `{"timeout":0}`, conflict},
		{"deleteWebhook", `null`, ""},
		{"getUpdates", `{"timeout":0}`, ""},
		{"setWebhook", `{"url":"https://bot.example/hook"}`, ""},
		{"setWebhook", `{"url":""}`, ""},
		{"getUpdates", `{"timeout":0}`, ""},
	}
	for i, st := range steps {
		if r := call(t, s, st.method, st.body); r.Description != st.want {
			t.Errorf("step %d: %s %.60s = %d %q, want %q", i, st.method, st.body, r.Status, r.Description, st.want)
		}
	}
	if got := len(s.Calls("setWebhook")); got != 6 {
		t.Errorf("recorded %d setWebhook calls, want 6", got)
	}
}
