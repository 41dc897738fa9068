package bot

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/store"
)

// memInbox is an in-memory Inbox.
type memInbox struct {
	mu      sync.Mutex
	offset  int
	pending map[int]store.Update
}

func newMemInbox() *memInbox { return &memInbox{pending: make(map[int]store.Update)} }

func (m *memInbox) Offset() (int, error) { m.mu.Lock(); defer m.mu.Unlock(); return m.offset, nil }

func (m *memInbox) TakeUpdates(offset int, updates []store.Update) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offset = offset
	for _, u := range updates {
		m.pending[u.ID] = u
	}
	return nil
}

func (m *memInbox) DoneUpdate(id int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
	return nil
}

func (m *memInbox) RedeliverUpdates() ([]store.Update, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Update
	for id, u := range m.pending {
		out = append(out, u)
		u.Redelivered++
		m.pending[id] = u
	}
	slices.SortFunc(out, func(a, b store.Update) int { return a.ID - b.ID })
	return out, nil
}

// pendingIDs are the ids of the updates the inbox keeps, in order.
func (m *memInbox) pendingIDs() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := slices.Collect(maps.Keys(m.pending))
	slices.Sort(ids)
	return ids
}

// textBot is a synchronous bot, as Poller wants, whose every text message,
// commands included, goes to handle.
func textBot(t *testing.T, handle func(tele.Context) error) *tele.Bot {
	t.Helper()
	b, err := tele.NewBot(tele.Settings{Offline: true, Synchronous: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Handle(tele.OnText, handle)
	return b
}

// received is a textBot whose handler sends each text to the returned
// channel.
func received(t *testing.T) (*tele.Bot, <-chan string) {
	texts := make(chan string, 100)
	return textBot(t, func(c tele.Context) error { texts <- c.Text(); return nil }), texts
}

// startPoller runs a Poller for b against srv until the returned stop is
// called.
func startPoller(t *testing.T, srv *bottest.Server, b *tele.Bot, inbox Inbox, logs *syncBuffer, maxInFlight int) (stop func()) {
	t.Helper()
	p := &Poller{
		Client:      NewClient(srv.URL, NewHTTPClient(testToken, 5*time.Second)),
		Inbox:       inbox,
		Log:         slog.New(slog.NewTextHandler(logs, nil)),
		Timeout:     time.Second,
		MinBackoff:  5 * time.Millisecond,
		MaxBackoff:  20 * time.Millisecond,
		MaxInFlight: maxInFlight,
	}
	stopCh := make(chan struct{})
	done := make(chan struct{})
	go func() { p.Poll(b, nil, stopCh); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { close(stopCh); <-done }) }
	t.Cleanup(stop)
	return stop
}

// receive returns the next n texts, sorted: handlers run concurrently.
func receive(t *testing.T, texts <-chan string, n int) []string {
	t.Helper()
	ctx := waitCtx(t)
	var out []string
	for len(out) < n {
		select {
		case text := <-texts:
			out = append(out, text)
		case <-ctx.Done():
			t.Fatalf("received %q, want %d texts", out, n)
		}
	}
	slices.Sort(out)
	return out
}

var (
	ann   = bottest.User{ID: 42, FirstName: "Ann"}
	dmAnn = bottest.Chat{ID: 42, Type: "private", FirstName: "Ann"}
)

func TestPollerHandlesEveryUpdateAndResumesFromStoredOffset(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	inbox := newMemInbox()
	logs := &syncBuffer{}

	var last int
	for _, text := range []string{"/start", "/help", "/list"} {
		last = srv.SendText(dmAnn, ann, text)
	}
	b, texts := received(t)
	stop := startPoller(t, srv, b, inbox, logs, 0)
	if diff := cmp.Diff([]string{"/help", "/list", "/start"}, receive(t, texts, 3)); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	waitFor(t, "every update out of the inbox", func() bool { return len(inbox.pendingIDs()) == 0 })
	stop()
	if o, _ := inbox.Offset(); o != last+1 {
		t.Errorf("stored offset = %d, want %d", o, last+1)
	}
	for _, c := range srv.Calls("getUpdates") {
		if c.Params["allowed_updates"] == nil || c.Params["timeout"] == nil {
			t.Errorf("getUpdates without explicit timeout and allowed_updates: %v", c.Params)
		}
	}

	// A new process on the same inbox sees only what is new.
	srv.SendText(dmAnn, ann, "/status")
	startPoller(t, srv, b, inbox, logs, 0)
	if got := receive(t, texts, 1)[0]; got != "/status" {
		t.Errorf("after restart got %q, want /status", got)
	}
}

// TestPollerKeepsAnUpdateUntilHandled stops a poller while a handler is
// still running, as a crash would: the offset has moved past the update,
// which Telegram therefore forgets, but the inbox keeps it, and the next
// poller handles it before anything new.
func TestPollerKeepsAnUpdateUntilHandled(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	inbox := newMemInbox()
	logs := &syncBuffer{}

	started, release, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	stuck := textBot(t, func(tele.Context) error {
		close(started)
		<-release
		close(finished)
		return nil
	})
	id := srv.SendText(dmAnn, ann, "/subscribe whatsapp")
	stop := startPoller(t, srv, stuck, inbox, logs, 0)
	select {
	case <-started:
	case <-waitCtx(t).Done():
		t.Fatal("the update never reached its handler")
	}
	if diff := cmp.Diff([]int{id}, inbox.pendingIDs()); diff != "" {
		t.Errorf("inbox while the handler runs (-want +got):\n%s", diff)
	}
	// The stop waits for the handler, up to its grace, then leaves it.
	began := time.Now()
	stop()
	if waited := time.Since(began); waited < stopGrace {
		t.Errorf("stop returned after %v, before the handler or the grace of %v", waited, stopGrace)
	}
	if !strings.Contains(logs.String(), "handled again after the next start") {
		t.Errorf("the unfinished update was not logged:\n%s", logs)
	}
	if o, _ := inbox.Offset(); o != id+1 {
		t.Errorf("stored offset = %d, want %d: Telegram may forget the update", o, id+1)
	}
	// The handler left behind ends after the stop, its reply cut short by
	// it: the update stays.
	close(release)
	<-finished
	time.Sleep(10 * time.Millisecond) // room for a DoneUpdate that must not come
	if diff := cmp.Diff([]int{id}, inbox.pendingIDs()); diff != "" {
		t.Errorf("inbox after the stop (-want +got):\n%s", diff)
	}

	srv.SendText(dmAnn, ann, "/status")
	b, texts := received(t)
	startPoller(t, srv, b, inbox, logs, 0)
	if diff := cmp.Diff([]string{"/status", "/subscribe whatsapp"}, receive(t, texts, 2)); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
	if n := strings.Count(logs.String(), "left unhandled by the last run"); n != 1 {
		t.Errorf("the redelivery was logged %d times, want once:\n%s", n, logs)
	}
}

// TestPollerDropsAnUpdateThatKeepsStoppingIt: an update still unhandled
// after maxRedeliveries restarts is more likely the cause of the crashes
// than their victim.
func TestPollerDropsAnUpdateThatKeepsStoppingIt(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	inbox := newMemInbox()
	logs := &syncBuffer{}
	kept := func(id, redelivered int, text string) store.Update {
		return store.Update{ID: id, Redelivered: redelivered, JSON: fmt.Appendf(nil,
			`{"update_id":%d,"message":{"message_id":%d,"date":0,"chat":{"id":42,"type":"private"},"text":%q}}`, id, id, text)}
	}
	if err := inbox.TakeUpdates(8, []store.Update{
		kept(5, maxRedeliveries, "/poison"),
		kept(6, maxRedeliveries-1, "/unlucky"),
	}); err != nil {
		t.Fatal(err)
	}
	b, texts := received(t)
	stop := startPoller(t, srv, b, inbox, logs, 0)
	if got := receive(t, texts, 1); !slices.Equal(got, []string{"/unlucky"}) {
		t.Errorf("handled %q, want only /unlucky", got)
	}
	waitFor(t, "an empty inbox", func() bool { return len(inbox.pendingIDs()) == 0 })
	stop()
	if !strings.Contains(logs.String(), "update=5 times=3") {
		t.Errorf("the dropped update was not logged:\n%s", logs)
	}
}

func TestPollerBoundsUpdatesInFlight(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	const limit, updates = 3, 10
	var mu sync.Mutex
	running, most := 0, 0
	release := make(chan struct{})
	handled := make(chan string, updates)
	b := textBot(t, func(c tele.Context) error {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		handled <- c.Text()
		return nil
	})
	for i := range updates {
		srv.SendText(dmAnn, ann, fmt.Sprintf("/status %d", i))
	}
	startPoller(t, srv, b, newMemInbox(), &syncBuffer{}, limit)
	waitFor(t, "the handlers to fill every slot", func() bool { mu.Lock(); defer mu.Unlock(); return running == limit })
	time.Sleep(50 * time.Millisecond) // room for a poller that would start more
	close(release)
	receive(t, handled, updates)
	if most != limit {
		t.Errorf("at most %d updates handled at once, want %d", most, limit)
	}
}

func TestPollerSurvivesAPanicOutsideTheHandlersMiddleware(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	inbox := newMemInbox()
	logs := &syncBuffer{}
	texts := make(chan string, 2)
	b := textBot(t, func(c tele.Context) error {
		if c.Text() == "/boom" {
			panic("boom")
		}
		texts <- c.Text()
		return nil
	})
	srv.SendText(dmAnn, ann, "/boom")
	srv.SendText(dmAnn, ann, "/help")
	startPoller(t, srv, b, inbox, logs, 0)
	receive(t, texts, 1)
	// Handled, however badly: a panicking update is not delivered again.
	waitFor(t, "an empty inbox", func() bool { return len(inbox.pendingIDs()) == 0 })
	if !strings.Contains(logs.String(), "processing an update panicked") {
		t.Errorf("the panic was not logged:\n%s", logs)
	}
}

// waitFor polls cond, which no event signals, until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for ctx := waitCtx(t); !cond(); time.Sleep(time.Millisecond) {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestPollerDeletesWebhookOnceOnConflict(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	conflict := bottest.Fault{Code: 409, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	srv.Fail("getUpdates", conflict)
	srv.Fail("getUpdates", conflict)
	srv.SendText(dmAnn, ann, "/start")
	b, texts := received(t)
	startPoller(t, srv, b, newMemInbox(), &syncBuffer{}, 0)
	receive(t, texts, 1)
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
	b, _ := received(t)
	stop := startPoller(t, srv, b, newMemInbox(), &syncBuffer{}, 0)
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
	quiet, _ := received(t)
	stop := startPoller(t, srv, quiet, newMemInbox(), logs, 0)
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
	inbox := newMemInbox()
	logs := &syncBuffer{}
	b, texts := received(t)
	stop := startPoller(t, srv, b, inbox, logs, 0)
	if got := receive(t, texts, 1)[0]; got != "/help" {
		t.Fatalf("got %q, want the /help after the broken update", got)
	}
	waitFor(t, "an empty inbox", func() bool { return len(inbox.pendingIDs()) == 0 })
	stop()
	if o, _ := inbox.Offset(); o != 3 {
		t.Errorf("stored offset = %d, want 3 (past both updates)", o)
	}
	if !strings.Contains(logs.String(), "cannot be decoded") {
		t.Errorf("the skipped update was not logged:\n%s", logs)
	}
}
