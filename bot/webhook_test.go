package bot

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot/bottest"
)

func TestWebhookSetAndDelete(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	client := NewClient(srv.URL, NewHTTPClient(testToken, 5*time.Second))
	w := NewWebhook(client, "https://bot.example/tg/hook", slog.New(slog.DiscardHandler))
	if err := w.Set(t.Context()); err != nil {
		t.Fatalf("Set: %v", err)
	}
	calls := srv.Calls("setWebhook")
	if len(calls) != 1 {
		t.Fatalf("%d setWebhook calls, want 1", len(calls))
	}
	if got := calls[0].Param("url"); got != "https://bot.example/tg/hook" {
		t.Errorf("url = %q", got)
	}
	if got := calls[0].Param("secret_token"); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(got) || got != w.secret {
		t.Errorf("secret_token = %q, want the webhook's 32 random bytes in hex", got)
	}
	var allowed []string
	if err := json.Unmarshal([]byte(calls[0].Param("allowed_updates")), &allowed); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(AllowedUpdates, allowed); diff != "" {
		t.Errorf("allowed_updates (-want +got):\n%s", diff)
	}
	if other := NewWebhook(client, "https://bot.example/tg/hook", slog.New(slog.DiscardHandler)); other.secret == w.secret {
		t.Error("two webhooks drew the same secret")
	}

	if err := w.Delete(t.Context()); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := len(srv.Calls("deleteWebhook")); got != 1 {
		t.Errorf("%d deleteWebhook calls, want 1", got)
	}
}

const statusUpdate = `{"update_id":7,"message":{"message_id":1,"date":1772712000,` +
	`"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"Ann"},` +
	`"text":"/status","entities":[{"type":"bot_command","offset":0,"length":7}]}}`

func TestWebhookServeHTTP(t *testing.T) {
	w := NewWebhook(nil, "https://bot.example/hook", slog.New(slog.DiscardHandler))
	b, err := tele.NewBot(tele.Settings{Offline: true, Synchronous: true, Poller: w})
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan string, 1)
	b.Handle("/status", func(c tele.Context) error {
		handled <- c.Text()
		return nil
	})
	done := make(chan struct{})
	go func() { b.Start(); close(done) }()
	defer func() { b.Stop(); <-done }()
	ts := httptest.NewServer(w)
	defer ts.Close()

	tests := []struct {
		name   string
		method string
		secret string
		body   string
		want   int
	}{
		{"no secret", http.MethodPost, "", statusUpdate, http.StatusUnauthorized},
		{"wrong secret", http.MethodPost, strings.Repeat("0", 64), statusUpdate, http.StatusUnauthorized},
		{"secret with a tail", http.MethodPost, w.secret + "x", statusUpdate, http.StatusUnauthorized},
		{"not a POST", http.MethodGet, w.secret, "", http.StatusMethodNotAllowed},
		{"not an update", http.MethodPost, w.secret, "{", http.StatusBadRequest},
		{"right secret", http.MethodPost, w.secret, statusUpdate, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, ts.URL, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.secret != "" {
				req.Header.Set(SecretHeader, tc.secret)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	// Only the request with the right secret reached the handler.
	select {
	case got := <-handled:
		if got != "/status" {
			t.Errorf("handler got %q, want /status", got)
		}
	case <-waitCtx(t).Done():
		t.Fatal("the accepted update never reached the handler")
	}
	if len(handled) != 0 {
		t.Error("a refused update reached the handler")
	}
}

func TestWebhookRefusesWhileNotPolling(t *testing.T) {
	// Nothing runs Poll: the update waits handOff, then Telegram is told to
	// push it again. The bubble's clock makes the wait instant.
	synctest.Test(t, func(t *testing.T) {
		w := NewWebhook(nil, "https://bot.example/hook", slog.New(slog.DiscardHandler))
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(statusUpdate))
		req.Header.Set(SecretHeader, w.secret)
		rec := httptest.NewRecorder()
		start := time.Now()
		w.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 503", rec.Code)
		}
		if waited := time.Since(start); waited != handOff {
			t.Errorf("waited %v, want %v", waited, handOff)
		}
	})
}
