package ops

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot"
	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

const testToken = "4242:SECRET-ops-token"

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestProbeMetrics(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer up.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "oops", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	c, reg := newTestConsole(openDB(t), nil)
	mon := checks.NewMonitor([]checks.Service{{ID: "whatsapp", Probes: []checks.ProbeSpec{
		{Name: "web", Kind: "http", Target: up.URL},
		{Name: "api", Kind: "http", Target: down.URL},
	}}}, []checks.ProbeSpec{{Name: "local", Kind: "http", Target: up.URL}}, checks.MonitorOptions{
		Probers:  checks.NewProbers(checks.ProberOptions{}),
		OnResult: c.Probed,
	})
	for range 2 {
		mon.Round(t.Context(), nil)
	}

	want := `
# HELP outagebot_probe_results_total Probe runs by service, probe and result class; the control probes have service "(control)".
# TYPE outagebot_probe_results_total counter
outagebot_probe_results_total{class="http_5xx",probe="api",service="whatsapp"} 2
outagebot_probe_results_total{class="ok",probe="local",service="(control)"} 2
outagebot_probe_results_total{class="ok",probe="web",service="whatsapp"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "outagebot_probe_results_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c.probeSeconds); n != 3 {
		t.Errorf("%d probe latency series, want 3 (one per probe)", n)
	}
	latency := c.probeSeconds.WithLabelValues("whatsapp", "api").(prometheus.Histogram)
	if got := histogramCount(t, latency); got != 2 {
		t.Errorf("api latency observed %d times, want 2", got)
	}
}

// histogramCount returns how many samples h observed.
func histogramCount(t *testing.T, h prometheus.Histogram) uint64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	h.Collect(ch)
	m := <-ch
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetHistogram().GetSampleCount()
}

func TestWatcherMetrics(t *testing.T) {
	db := openDB(t)
	if _, err := db.Subscribe(store.Chat{ID: 42, Type: "private"}, []string{"whatsapp"}); err != nil {
		t.Fatal(err)
	}
	c, reg := newTestConsole(db, nil)
	// Both probes have proven themselves before: their failures count.
	if err := db.Commit([]checks.Status{{Service: "whatsapp", State: checks.Operational, Announced: checks.Operational,
		Probes: map[string]*checks.ProbeTrack{"web": {Proven: true}, "api": {Proven: true}}}}, nil, false); err != nil {
		t.Fatal(err)
	}
	w := &checks.Watcher{
		Observe: func(_ context.Context, _ []string) []checks.Observation {
			return []checks.Observation{{Service: "whatsapp", ControlOK: true, At: time.Now(), Results: []checks.Result{
				{Probe: "web", Kind: "http", Class: checks.ClassHTTP5xx}, {Probe: "api", Kind: "tcp", Class: checks.ClassTCPTimeout},
			}}}
		},
		Store: db,
		Thresholds: checks.Thresholds{DownAfter: 2, SingleAfter: 4, UpAfter: 2, Noise: 0.02, FailureRate: 0.3, FalseRecovery: 0.001,
			ProveAfter: 1, Recheck: checks.Duration(time.Millisecond), RoundTimeout: checks.Duration(10 * time.Second)},
		Sleep:        func(context.Context, time.Duration) bool { return true },
		Log:          slog.New(slog.DiscardHandler),
		OnTransition: c.Transitioned,
		OnRound:      c.RoundDone,
	}
	w.Round(t.Context())

	want := `
# HELP outagebot_outbox_pending_chats Chats with notifications waiting to be sent.
# TYPE outagebot_outbox_pending_chats gauge
outagebot_outbox_pending_chats 1
# HELP outagebot_rounds_total Probe rounds finished, re-checks included, whatever their outcome.
# TYPE outagebot_rounds_total counter
outagebot_rounds_total 1
# HELP outagebot_service_state 1 for the state a service is in (what /status shows), 0 for the others.
# TYPE outagebot_service_state gauge
outagebot_service_state{service="whatsapp",state="degraded"} 0
outagebot_service_state{service="whatsapp",state="down"} 1
outagebot_service_state{service="whatsapp",state="operational"} 0
outagebot_service_state{service="whatsapp",state="recovering"} 0
outagebot_service_state{service="whatsapp",state="suspected"} 0
outagebot_service_state{service="whatsapp",state="unknown"} 0
# HELP outagebot_transitions_total Committed changes of a service's announced state.
# TYPE outagebot_transitions_total counter
outagebot_transitions_total{from="operational",service="whatsapp",to="down"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "outagebot_outbox_pending_chats",
		"outagebot_rounds_total", "outagebot_service_state", "outagebot_transitions_total"); err != nil {
		t.Error(err)
	}
}

// startSender runs s until the test ends.
func startSender(t *testing.T, s *bot.Sender) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestSenderMetrics(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	srv.BlockChat(2)
	db := openDB(t)
	for _, id := range []int64{1, 2, 3} {
		if _, err := db.Subscribe(store.Chat{ID: id, Type: "private"}, []string{"whatsapp"}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	if err := db.Commit([]checks.Status{{Service: "whatsapp", State: checks.Down, Announced: checks.Down, Since: now}},
		[]checks.Transition{{Service: "whatsapp", From: checks.Operational, To: checks.Down, At: now}}, false); err != nil {
		t.Fatal(err)
	}
	c, reg := newTestConsole(db, nil)
	outcomes := make(chan string, 10)
	s := bot.NewSender(bot.NewClient(srv.URL, bot.NewHTTPClient(testToken, 5*time.Second)), db, textRenderer{}, bot.SenderOptions{
		Limits:     bot.Limits{GlobalPerSecond: 1000, ChatPerSecond: 1000, GroupPerMinute: 60000},
		Log:        slog.New(slog.DiscardHandler),
		OnSend:     func(o string) { c.Sent(o); outcomes <- o },
		OnDispatch: c.Dispatched,
	})
	startSender(t, s)
	ctx := waitCtx(t)
	for range 3 {
		select {
		case <-outcomes:
		case <-ctx.Done():
			t.Fatal("the sender did not deliver to the three chats")
		}
	}
	want := `
# HELP outagebot_messages_sent_total Notification deliveries by result: sent, throttled, chat_gone, migrated, channel_refused, rejected, transient.
# TYPE outagebot_messages_sent_total counter
outagebot_messages_sent_total{result="chat_gone"} 1
outagebot_messages_sent_total{result="sent"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "outagebot_messages_sent_total"); err != nil {
		t.Error(err)
	}
}

// textRenderer renders incidents as their service names.
type textRenderer struct{}

func (textRenderer) Notification(_ string, incs []checks.Incident, _ time.Time) string {
	var names []string
	for _, i := range incs {
		names = append(names, i.Service)
	}
	return strings.Join(names, ", ")
}

func (textRenderer) BackAfter(_ string, inc checks.Incident) string { return inc.Service + " is back" }

func TestTransportCountsThrottling(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	c, reg := newTestConsole(openDB(t), nil)
	hc := bot.NewHTTPClient(testToken, 5*time.Second)
	hc.Transport = c.Transport(hc.Transport)
	client := bot.NewClient(srv.URL, hc)
	srv.Fail("sendMessage", bottest.Fault{Code: 429, RetryAfter: 3})
	srv.Fail("sendMessage", bottest.Fault{Code: 502})
	srv.Fail("getMe", bottest.Fault{Code: 429, RetryAfter: 1})
	for _, method := range []string{"sendMessage", "sendMessage", "sendMessage", "getMe", "getMe"} {
		// Only the count of 429s matters here, not how each call ended.
		_ = client.Call(t.Context(), method, map[string]any{"chat_id": 1, "text": "hi"}, nil)
	}
	want := `
# HELP outagebot_telegram_throttled_total Bot API answers 429 Too Many Requests, by method.
# TYPE outagebot_telegram_throttled_total counter
outagebot_telegram_throttled_total{method="getMe"} 1
outagebot_telegram_throttled_total{method="sendMessage"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "outagebot_telegram_throttled_total"); err != nil {
		t.Error(err)
	}
}

func TestSendingPolicyMetrics(t *testing.T) {
	c, reg := newTestConsole(openDB(t), nil)
	for _, reason := range []string{bot.ShedQueueFull, bot.ShedQueueFull, bot.ShedDeadline, bot.ShedChatBusy} {
		c.ReplyShed(reason)
	}
	c.SendingPaused()
	want := `
# HELP outagebot_replies_shed_total Replies to commands dropped unsent, by reason: queue_full (newer replies pushed them out), deadline (not sent within the reply wait), chat_busy (their chat could not take another message in time).
# TYPE outagebot_replies_shed_total counter
outagebot_replies_shed_total{reason="chat_busy"} 1
outagebot_replies_shed_total{reason="deadline"} 1
outagebot_replies_shed_total{reason="queue_full"} 2
# HELP outagebot_sending_paused_total Times all sending paused because Telegram throttled several chats within a second; a 429 in one chat holds only that chat.
# TYPE outagebot_sending_paused_total counter
outagebot_sending_paused_total 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "outagebot_replies_shed_total", "outagebot_sending_paused_total"); err != nil {
		t.Error(err)
	}
}

func TestPollerMetrics(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	srv.Fail("getUpdates", bottest.Fault{Code: 502})
	srv.SendText(bottest.Chat{ID: 42, Type: "private"}, bottest.User{ID: 42, FirstName: "Ann"}, "/status")
	db := openDB(t)
	c, _ := newTestConsole(db, nil)
	p := &bot.Poller{
		Client:     bot.NewClient(srv.URL, bot.NewHTTPClient(testToken, 5*time.Second)),
		Inbox:      db,
		Log:        slog.New(slog.DiscardHandler),
		Timeout:    time.Second,
		MinBackoff: time.Millisecond,
		MaxBackoff: time.Millisecond,
		OnPoll:     c.Polled,
	}
	b, err := tele.NewBot(tele.Settings{Offline: true, Synchronous: true})
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan struct{}, 1)
	b.Handle("/status", func(tele.Context) error { handled <- struct{}{}; return nil })
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { p.Poll(b, nil, stop); close(done) }()
	select {
	case <-handled:
	case <-waitCtx(t).Done():
		t.Fatal("no update from the poller")
	}
	close(stop)
	<-done
	if got := testutil.ToFloat64(c.polls.WithLabelValues("error")); got != 1 {
		t.Errorf("failed getUpdates counted %v times, want 1", got)
	}
	if got := testutil.ToFloat64(c.polls.WithLabelValues("ok")); got < 1 {
		t.Errorf("successful getUpdates counted %v times, want at least 1", got)
	}
}

func TestMiddleware(t *testing.T) {
	clk := newClock()
	c, reg := newTestConsole(openDB(t), clk.Now)
	b, err := tele.NewBot(tele.Settings{Offline: true, Synchronous: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Use(c.Middleware)
	// Each handler takes a quarter of a second on the fake clock.
	work := func(tele.Context) error { clk.Add(250 * time.Millisecond); return nil }
	b.Handle("/status", work)
	b.Handle(tele.OnCallback, work)
	b.Handle(tele.OnQuery, work)
	chat := &tele.Chat{ID: 42, Type: tele.ChatPrivate}
	for range 2 {
		b.ProcessUpdate(tele.Update{ID: 1, Message: &tele.Message{Chat: chat, Text: "/status"}})
	}
	b.ProcessUpdate(tele.Update{ID: 2, Callback: &tele.Callback{ID: "1", Data: "x", Message: &tele.Message{Chat: chat}}})
	b.ProcessUpdate(tele.Update{ID: 4, Query: &tele.Query{ID: "1", Sender: &tele.User{ID: 42}, Text: "wa"}})
	// An update no handler takes is not counted.
	b.ProcessUpdate(tele.Update{ID: 3, Message: &tele.Message{Chat: chat, Text: "/unknown"}})

	want := `
# HELP outagebot_updates_handled_total Telegram updates that reached a handler, by kind.
# TYPE outagebot_updates_handled_total counter
outagebot_updates_handled_total{kind="callback_query"} 1
outagebot_updates_handled_total{kind="inline_query"} 1
outagebot_updates_handled_total{kind="message"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "outagebot_updates_handled_total"); err != nil {
		t.Error(err)
	}
	wantLatency := `
# HELP outagebot_handler_duration_seconds Time a handler took to answer an update, by kind.
# TYPE outagebot_handler_duration_seconds histogram
outagebot_handler_duration_seconds_bucket{kind="message",le="0.005"} 0
outagebot_handler_duration_seconds_bucket{kind="message",le="0.01"} 0
outagebot_handler_duration_seconds_bucket{kind="message",le="0.025"} 0
outagebot_handler_duration_seconds_bucket{kind="message",le="0.05"} 0
outagebot_handler_duration_seconds_bucket{kind="message",le="0.1"} 0
outagebot_handler_duration_seconds_bucket{kind="message",le="0.25"} 2
outagebot_handler_duration_seconds_bucket{kind="message",le="0.5"} 2
outagebot_handler_duration_seconds_bucket{kind="message",le="1"} 2
outagebot_handler_duration_seconds_bucket{kind="message",le="2.5"} 2
outagebot_handler_duration_seconds_bucket{kind="message",le="5"} 2
outagebot_handler_duration_seconds_bucket{kind="message",le="10"} 2
outagebot_handler_duration_seconds_bucket{kind="message",le="+Inf"} 2
outagebot_handler_duration_seconds_sum{kind="message"} 0.5
outagebot_handler_duration_seconds_count{kind="message"} 2
`
	message := c.handlerSeconds.WithLabelValues("message").(prometheus.Histogram)
	if err := testutil.CollectAndCompare(message, strings.NewReader(wantLatency)); err != nil {
		t.Error(err)
	}
}

// failingDB fails every read; its Ping succeeds.
type failingDB struct{ err error }

func (f failingDB) Statuses() (map[string]checks.Status, error) { return nil, f.err }
func (f failingDB) OutboxLen() (int, error)                     { return 0, f.err }
func (failingDB) Ping() error                                   { return nil }

func TestMetricsHandlerSurvivesDBFailure(t *testing.T) {
	var logs strings.Builder
	reg := prometheus.NewRegistry()
	c := NewConsole(Options{Registry: reg, DB: failingDB{errors.New("disk on fire")}, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	c.RoundDone()
	rec := httptest.NewRecorder()
	c.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "outagebot_rounds_total 1") {
		t.Errorf("scrape = %d, want 200 with the metrics that could be read:\n%s", rec.Code, body)
	}
	if strings.Contains(body, "outagebot_service_state") || strings.Contains(body, "outagebot_outbox_pending_chats ") {
		t.Errorf("scrape shows metrics the database could not give:\n%s", body)
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("the failure was not logged: %q", logs.String())
	}
}
