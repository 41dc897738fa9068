package bot

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot/bottest"
)

// memOffsets is an in-memory Offsets.
type memOffsets struct {
	mu     sync.Mutex
	offset int
}

func (m *memOffsets) Offset() (int, error) { m.mu.Lock(); defer m.mu.Unlock(); return m.offset, nil }
func (m *memOffsets) SetOffset(o int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offset = o
	return nil
}

// startPoller runs a Poller against srv until the returned stop is called.
func startPoller(t *testing.T, srv *bottest.Server, offsets Offsets, logs *syncBuffer) (<-chan tele.Update, func()) {
	t.Helper()
	p := &Poller{
		Client:     NewClient(srv.URL, NewHTTPClient(testToken, 5*time.Second)),
		Offsets:    offsets,
		Log:        slog.New(slog.NewTextHandler(logs, nil)),
		Timeout:    time.Second,
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 20 * time.Millisecond,
	}
	dest := make(chan tele.Update)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { p.Poll(nil, dest, stop); close(done) }()
	var once sync.Once
	stopFn := func() { once.Do(func() { close(stop); <-done }) }
	t.Cleanup(stopFn)
	return dest, stopFn
}

func receive(t *testing.T, updates <-chan tele.Update, n int) []tele.Update {
	t.Helper()
	ctx := waitCtx(t)
	var out []tele.Update
	for len(out) < n {
		select {
		case u := <-updates:
			out = append(out, u)
		case <-ctx.Done():
			t.Fatalf("received %d updates, want %d", len(out), n)
		}
	}
	return out
}

var (
	ann   = bottest.User{ID: 42, FirstName: "Ann"}
	dmAnn = bottest.Chat{ID: 42, Type: "private", FirstName: "Ann"}
)

func TestPollerDeliversInOrderAndResumesFromStoredOffset(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	offsets := &memOffsets{}
	logs := &syncBuffer{}

	for _, text := range []string{"/start", "/help", "/list"} {
		srv.SendText(dmAnn, ann, text)
	}
	updates, stop := startPoller(t, srv, offsets, logs)
	got := receive(t, updates, 3)
	for i, want := range []string{"/start", "/help", "/list"} {
		if got[i].Message == nil || got[i].Message.Text != want {
			t.Fatalf("update %d = %+v, want message %q", i, got[i], want)
		}
	}
	stop()
	if o, _ := offsets.Offset(); o != got[2].ID+1 {
		t.Errorf("stored offset = %d, want %d", o, got[2].ID+1)
	}
	for _, c := range srv.Calls("getUpdates") {
		if c.Params["allowed_updates"] == nil || c.Params["timeout"] == nil {
			t.Errorf("getUpdates without explicit timeout and allowed_updates: %v", c.Params)
		}
	}

	// A new process on the same offsets sees only what is new.
	srv.SendText(dmAnn, ann, "/status")
	updates, _ = startPoller(t, srv, offsets, logs)
	if u := receive(t, updates, 1)[0]; u.Message.Text != "/status" {
		t.Errorf("after restart got %q, want /status", u.Message.Text)
	}
}

func TestPollerDeletesWebhookOnceOnConflict(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	conflict := bottest.Fault{Code: 409, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	srv.Fail("getUpdates", conflict)
	srv.Fail("getUpdates", conflict)
	srv.SendText(dmAnn, ann, "/start")
	updates, _ := startPoller(t, srv, &memOffsets{}, &syncBuffer{})
	receive(t, updates, 1)
	if n := len(srv.Calls("deleteWebhook")); n != 1 {
		t.Errorf("deleteWebhook called %d times, want once", n)
	}
}

func TestPollerBacksOffOnErrors(t *testing.T) {
	// With backoff between 5 and 20 ms, 30 failures take at least
	// 29 × 2.5 ms; a poller without backoff makes them in about 3 ms.
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	srv.FailAlways("getUpdates", bottest.Fault{Code: 502, Description: "Bad Gateway"})
	start := time.Now()
	_, stop := startPoller(t, srv, &memOffsets{}, &syncBuffer{})
	if err := srv.Wait(waitCtx(t), func(s *bottest.Server) bool { return len(s.Calls("getUpdates")) >= 30 }); err != nil {
		t.Fatal(err)
	}
	stop()
	if elapsed := time.Since(start); elapsed < 29*5*time.Millisecond/2 {
		t.Errorf("30 failed polls took %v: no backoff", elapsed)
	}
}

func TestBackoffBounds(t *testing.T) {
	for n := 1; n <= 20; n++ {
		d := backoff(n, time.Second, time.Minute)
		ceil := min(time.Second<<(n-1), time.Minute)
		if d < ceil/2 || d > ceil {
			t.Errorf("backoff(%d) = %v, want within [%v, %v]", n, d, ceil/2, ceil)
		}
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	srv := bottest.NewServer(testToken)
	logs := &syncBuffer{}
	hc := NewHTTPClient(testToken, 2*time.Second)
	var errs []string

	// A failing API: connections cut, then 5xx.
	srv.FailAlways("getUpdates", bottest.Fault{CloseConn: true})
	_, stop := startPoller(t, srv, &memOffsets{}, logs)
	if err := srv.Wait(waitCtx(t), func(s *bottest.Server) bool { return len(s.Calls("getUpdates")) >= 3 }); err != nil {
		t.Fatal(err)
	}
	stop()
	srv.FailAlways("sendMessage", bottest.Fault{CloseConn: true})
	b, err := tele.NewBot(tele.Settings{URL: srv.URL, Token: TokenPlaceholder, Client: hc, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(tele.ChatID(42), "hello"); err != nil {
		errs = append(errs, err.Error())
	}
	// Then no API at all: the dial error names the URL.
	srv.Close()
	c := NewClient(srv.URL, hc)
	if err := c.Call(context.Background(), "getMe", nil, nil); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := b.Send(tele.ChatID(42), "hello"); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) != 3 {
		t.Fatalf("want 3 errors from a dead API, got %q", errs)
	}
	all := logs.String() + strings.Join(errs, "\n")
	if !strings.Contains(all, "/bot"+TokenPlaceholder+"/") {
		t.Errorf("errors do not show the URL at all; the test proves nothing:\n%s", all)
	}
	for _, secret := range []string{testToken, "SECRET"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q leaked into logs or errors:\n%s", secret, all)
		}
	}
}

func TestRedactWriter(t *testing.T) {
	var b strings.Builder
	w := RedactWriter(&b, "s3cr3t")
	if _, err := w.Write([]byte("url=/bots3cr3t/getMe ok\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "url=/bot[REDACTED]/getMe ok\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPollerSkipsAnUpdateItCannotDecode(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	srv.PushUpdate(map[string]any{"message": "not a message object"})
	srv.SendText(dmAnn, ann, "/help")
	offsets := &memOffsets{}
	logs := &syncBuffer{}
	updates, stop := startPoller(t, srv, offsets, logs)
	if u := receive(t, updates, 1)[0]; u.Message == nil || u.Message.Text != "/help" {
		t.Fatalf("got %+v, want the /help after the broken update", u)
	}
	stop()
	if o, _ := offsets.Offset(); o != 3 {
		t.Errorf("stored offset = %d, want 3 (past both updates)", o)
	}
	if !strings.Contains(logs.String(), "cannot be decoded") {
		t.Errorf("the skipped update was not logged:\n%s", logs)
	}
}
