package bot

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

const testToken = "4242:SECRET-token-never-printed"

// plainRenderer renders incidents as "service:state" lines, enough to tell
// which incidents and which version a chat received.
type plainRenderer struct{}

func (plainRenderer) Notification(_ string, incs []checks.Incident, _ time.Time) string {
	var b strings.Builder
	for _, i := range incs {
		b.WriteString(i.Service + ":" + string(i.State) + "\n")
	}
	return b.String()
}

func (plainRenderer) BackAfter(_ string, inc checks.Incident) string { return inc.Service + " is back" }

// syncBuffer is a log sink safe for the sender's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	srv    *bottest.Server
	db     *store.DB
	sender *Sender
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{}
}

// newFixture opens a store with the given subscribers of whatsapp and a
// Sender (not yet running) talking to a fresh fake Bot API.
func newFixture(t *testing.T, channel string, subscribers ...int64) *fixture {
	t.Helper()
	srv := bottest.NewServer(testToken)
	t.Cleanup(srv.Close)
	db, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range subscribers {
		typ := "private"
		if id < 0 {
			typ = "supergroup"
		}
		if _, err := db.Subscribe(store.Chat{ID: id, Type: typ}, []string{"whatsapp"}); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	client := NewClient(srv.URL, NewHTTPClient(testToken, 5*time.Second))
	s := NewSender(client, db, plainRenderer{}, SenderOptions{
		Channel:      channel,
		Limits:       Limits{GlobalPerSecond: 1000, ChatPerSecond: 1000, GroupPerMinute: 60000},
		Log:          slog.New(slog.NewTextHandler(logs, nil)),
		MinBackoff:   10 * time.Millisecond,
		MaxBackoff:   50 * time.Millisecond,
		EditDebounce: 10 * time.Millisecond,
	})
	return &fixture{srv: srv, db: db, sender: s, logs: logs}
}

func (f *fixture) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	go func() { f.sender.Run(ctx); close(f.done) }()
	t.Cleanup(f.stop)
}

func (f *fixture) stop() {
	if f.cancel != nil {
		f.cancel()
		<-f.done
		f.cancel = nil
	}
}

// commit records a whatsapp transition and wakes the sender.
func (f *fixture) commit(t *testing.T, from, to checks.State) {
	t.Helper()
	at := time.Now()
	st := checks.Status{Service: "whatsapp", State: to, Announced: to, Since: at}
	tr := checks.Transition{Service: "whatsapp", From: from, To: to, At: at,
		Evidence: []checks.Result{{Probe: "web", Class: checks.ClassHTTP5xx}}}
	if err := f.db.Commit([]checks.Status{st}, []checks.Transition{tr}, true); err != nil {
		t.Fatal(err)
	}
	f.sender.Kick()
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitOutbox polls the outbox until it holds n entries: acknowledgements
// happen after the fake server has recorded the message, so the server
// cannot signal them.
func (f *fixture) waitOutbox(t *testing.T, n int) {
	t.Helper()
	ctx := waitCtx(t)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := f.db.OutboxLen()
		if err == nil && got == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("outbox holds %d entries, want %d (err %v)\nlogs:\n%s", got, n, err, f.logs)
		case <-tick.C:
		}
	}
}

func TestSenderOrderChannelGroupsPrivate(t *testing.T) {
	f := newFixture(t, "@outages", 7, 3, -100200, -100100)
	f.srv.AddChannel("outages", -100999)
	f.commit(t, checks.Operational, checks.Down)
	f.start(t)
	msgs, err := f.srv.WaitMessages(waitCtx(t), 5)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, m := range msgs {
		got = append(got, m.ChatID)
		if m.ParseMode != "HTML" || m.Text != "whatsapp:down\n" {
			t.Errorf("message to %d = %q (%s), want the rendered incident in HTML mode", m.ChatID, m.Text, m.ParseMode)
		}
	}
	// Sends within a class run concurrently; the classes are in order.
	class := func(id int64) int {
		switch {
		case id == -100999:
			return 0
		case id < 0:
			return 1
		}
		return 2
	}
	if !slices.IsSortedFunc(got, func(a, b int64) int { return class(a) - class(b) }) || len(got) != 5 {
		t.Errorf("delivery order = %v, want the channel (-100999), then groups, then private chats", got)
	}
	f.waitOutbox(t, 0)
}

func TestSenderRendersIncidentAsItIsNow(t *testing.T) {
	// A chat reached only after the recovery learns the recovery, once,
	// not a stale "down" followed by "operational".
	f := newFixture(t, "", 5)
	f.commit(t, checks.Operational, checks.Down)
	f.commit(t, checks.Down, checks.Operational)
	f.start(t)
	f.waitOutbox(t, 0)
	msgs := f.srv.MessagesTo(5)
	if len(msgs) != 1 || msgs[0].Text != "whatsapp:operational\n" {
		t.Errorf("chat 5 got %+v, want exactly one message saying operational", texts(msgs))
	}
}

func TestSenderHandlesTelegramAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  bottest.Fault
		always bool
		// check runs once the outbox is empty (or, for channel faults, after a while).
		check func(t *testing.T, f *fixture)
	}{
		{
			name:  "429 waits retry_after then delivers once",
			fault: bottest.Fault{Code: 429, Description: "Too Many Requests: retry after 1", RetryAfter: 1, ChatID: 5},
			check: func(t *testing.T, f *fixture) {
				if n := len(f.srv.MessagesTo(5)); n != 1 {
					t.Errorf("chat 5 got %d messages, want 1", n)
				}
				calls := callsTo(f.srv, 5)
				if len(calls) != 2 || calls[1].At.Sub(calls[0].At) < 900*time.Millisecond {
					t.Errorf("retry came %v after the 429, want ≥ retry_after (1s); calls %d", gap(calls), len(calls))
				}
			},
		},
		{
			name:  "403 blocked drops the chat",
			fault: bottest.Fault{Code: 403, Description: "Forbidden: bot was blocked by the user", ChatID: 5},
			check: func(t *testing.T, f *fixture) {
				if subs, _ := f.db.Subscriptions(5); len(subs) != 0 {
					t.Errorf("blocked chat still subscribed to %v", subs)
				}
				if n := len(f.srv.MessagesTo(6)); n != 1 {
					t.Errorf("other chat got %d messages, want 1", n)
				}
			},
		},
		{
			name:  "400 chat not found drops the chat",
			fault: bottest.Fault{Code: 400, Description: "Bad Request: chat not found", ChatID: 5},
			check: func(t *testing.T, f *fixture) {
				if subs, _ := f.db.Subscriptions(5); len(subs) != 0 {
					t.Errorf("missing chat still subscribed to %v", subs)
				}
			},
		},
		{
			name:  "migration moves the chat and resends",
			fault: bottest.Fault{Code: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat", MigrateTo: -1009, ChatID: 5},
			check: func(t *testing.T, f *fixture) {
				if subs, _ := f.db.Subscriptions(-1009); len(subs) != 1 {
					t.Errorf("supergroup subscriptions = %v, want [whatsapp]", subs)
				}
				if n := len(f.srv.MessagesTo(-1009)); n != 1 {
					t.Errorf("supergroup got %d messages, want 1", n)
				}
			},
		},
		{
			name:  "5xx backs off and delivers once",
			fault: bottest.Fault{Code: 502, Description: "Bad Gateway", ChatID: 5},
			check: func(t *testing.T, f *fixture) {
				if n := len(f.srv.MessagesTo(5)); n != 1 {
					t.Errorf("chat 5 got %d messages, want 1", n)
				}
			},
		},
		{
			name:  "connection reset is retried",
			fault: bottest.Fault{CloseConn: true, ChatID: 5},
			check: func(t *testing.T, f *fixture) {
				if n := len(f.srv.MessagesTo(5)); n != 1 {
					t.Errorf("chat 5 got %d messages, want 1", n)
				}
			},
		},
		{
			name:  "broken HTML is logged as a bug, not retried forever",
			fault: bottest.Fault{Code: 400, Description: "Bad Request: can't parse entities: unsupported start tag", ChatID: 5},
			check: func(t *testing.T, f *fixture) {
				if n := len(callsTo(f.srv, 5)); n != 1 {
					t.Errorf("chat 5 was tried %d times, want 1", n)
				}
				if !strings.Contains(f.logs.String(), "bug") {
					t.Errorf("logs do not call it a bug:\n%s", f.logs)
				}
				if subs, _ := f.db.Subscriptions(5); len(subs) != 1 {
					t.Errorf("chat 5 lost its subscription over our bug: %v", subs)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "", 5, 6)
			f.srv.Fail("sendMessage", tc.fault)
			f.commit(t, checks.Operational, checks.Down)
			f.start(t)
			f.waitOutbox(t, 0)
			tc.check(t, f)
		})
	}
}

func TestSenderChannelPostLives(t *testing.T) {
	// One post per incident, edited in place as it evolves, and a short
	// reply to it when it is resolved.
	f := newFixture(t, "@outages")
	f.srv.AddChannel("outages", -100999)
	f.start(t)
	for _, step := range []struct{ from, to checks.State }{
		{checks.Operational, checks.Degraded},
		{checks.Degraded, checks.Down},
		{checks.Down, checks.Operational},
	} {
		f.commit(t, step.from, step.to)
		f.waitOutbox(t, 0)
	}
	msgs := f.srv.MessagesTo(-100999)
	var got []string
	for _, m := range msgs {
		kind := "post"
		if m.Edited {
			kind = "edit"
		}
		got = append(got, fmt.Sprintf("%s %d: %s", kind, m.ID, strings.TrimSpace(m.Text)))
	}
	want := []string{
		"post 1: whatsapp:degraded",
		"edit 1: whatsapp:down",
		"edit 1: whatsapp:operational",
		"post 2: whatsapp is back",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("channel history (-want +got):\n%s", diff)
	}
	replies := f.srv.Calls("sendMessage")
	if last := replies[len(replies)-1]; !strings.Contains(last.Param("reply_parameters"), `"message_id":1`) {
		t.Errorf("recovery reply does not answer the post: %v", last.Params)
	}
}

func TestSenderKeepsChannelPostWhenChannelRefuses(t *testing.T) {
	f := newFixture(t, "@outages", 5)
	f.srv.FailAlways("sendMessage", bottest.Fault{Code: 403, Description: "Forbidden: bot is not a member of the channel chat", ChatID: -100999})
	f.srv.AddChannel("outages", -100999)
	f.commit(t, checks.Operational, checks.Down)
	f.start(t)
	if _, err := f.srv.WaitMessages(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	if n := len(f.srv.MessagesTo(5)); n != 1 {
		t.Errorf("subscriber got %d messages while the channel refused, want 1", n)
	}
	f.waitOutbox(t, 1) // the channel post stays queued
	f.stop()
	if !strings.Contains(f.logs.String(), "Post Messages") {
		t.Errorf("logs do not tell the operator how to fix the channel:\n%s", f.logs)
	}
}

func TestSenderResumesAfterRestart(t *testing.T) {
	// What a stopped sender left in the outbox goes out when a new one runs.
	f := newFixture(t, "", 5, 6)
	f.commit(t, checks.Operational, checks.Down)
	f.start(t)
	f.waitOutbox(t, 0)
	f.stop()
	f.commit(t, checks.Down, checks.Operational)
	f.start(t)
	f.waitOutbox(t, 0)
	for _, id := range []int64{5, 6} {
		if got := texts(f.srv.MessagesTo(id)); len(got) != 2 || got[1] != "whatsapp:operational\n" {
			t.Errorf("chat %d got %q, want down then operational", id, got)
		}
	}
}

func callsTo(srv *bottest.Server, chat int64) []bottest.Call {
	var out []bottest.Call
	for _, c := range srv.Calls("sendMessage") {
		if c.Params["chat_id"] == strconv.FormatInt(chat, 10) {
			out = append(out, c)
		}
	}
	return out
}

func gap(calls []bottest.Call) time.Duration {
	if len(calls) < 2 {
		return 0
	}
	return calls[1].At.Sub(calls[0].At)
}

func texts(msgs []bottest.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

func TestSenderOneChannelPostForMetaWideOutage(t *testing.T) {
	f := newFixture(t, "@outages", 5)
	f.srv.AddChannel("outages", -100999)
	transition := func(service string, from, to checks.State, with string) checks.Transition {
		return checks.Transition{Service: service, From: from, To: to, At: time.Now(),
			Class: checks.ClassDNSServFail, GroupWith: with}
	}
	if err := f.db.Commit(nil, []checks.Transition{
		transition("facebook", checks.Operational, checks.Down, ""),
		transition("whatsapp", checks.Operational, checks.Down, "facebook"),
	}, true); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	f.waitOutbox(t, 0)
	if err := f.db.Commit(nil, []checks.Transition{
		transition("facebook", checks.Down, checks.Operational, ""),
		transition("whatsapp", checks.Down, checks.Operational, ""),
	}, true); err != nil {
		t.Fatal(err)
	}
	f.sender.Kick()
	f.waitOutbox(t, 0)
	var got []string
	for _, m := range f.srv.MessagesTo(-100999) {
		got = append(got, fmt.Sprintf("%d %v %q", m.ID, m.Edited, m.Text))
	}
	want := []string{
		`1 false "facebook:down\nwhatsapp:down\n"`,
		`1 true "facebook:operational\nwhatsapp:operational\n"`,
		`2 false "facebook is back\nwhatsapp is back"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("channel history (-want +got):\n%s", diff)
	}
	if got := texts(f.srv.MessagesTo(5)); len(got) != 2 {
		t.Errorf("subscriber of whatsapp got %q, want the outage and the recovery", got)
	}
}
