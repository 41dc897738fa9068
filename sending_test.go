package main

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot"
	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/ops"
	"github.com/outagebot/outagebot/store"
)

// The tests of the sending policy (see bot.Budget) run the bot's two sides
// wired as serve wires them: sendingSide (the budget, the reply client
// through it, the Sender) and commandSide (telebot with our Poller, the
// middleware, every handler), on one database, against a fake Bot API that
// enforces Telegram's limits with real 429s. The probe rounds are left out:
// the tests commit the outage themselves, so that they know when the alerts
// were queued. Telegram's sending limits are real time, so these tests are
// too; their bounds leave the machine seconds of slack.

// telegramLimits are Telegram's free limits as the fake enforces them:
// 30 messages/s, 1/s per private chat, 20/min per group. A group's bucket
// holds 3 messages, not a minute's worth, so that a bot that does not keep
// the group limit meets its 429s within seconds.
var telegramLimits = bottest.Limits{Global: 30, PerChat: 1, PerGroupPerMinute: 20, GroupBurst: 3, RetryAfter: 5}

// sendingWorld is the bot, both sides running, and its fake Bot API.
type sendingWorld struct {
	tg      *bottest.Server
	db      *store.DB
	console *ops.Console
	sender  *bot.Sender
	logs    *syncBuffer
}

// startSendingWorld starts the bot with the embedded configuration, every
// service operational (so that /status says so) and chats subscribed to
// WhatsApp, against a fake that enforces limits. It stops at the test's end.
func startSendingWorld(t *testing.T, limits bottest.Limits, chats []int64) *sendingWorld {
	t.Helper()
	cfg := config.Default()
	cat := checks.NewCatalog(cfg.Services)
	texts, err := locale.New(cat, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	w := &sendingWorld{logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(bot.RedactWriter(w.logs, token), &slog.HandlerOptions{Level: slog.LevelInfo}))
	w.tg = bottest.NewServer(token)
	t.Cleanup(w.tg.Close)
	w.tg.SetLimits(limits)
	w.db, err = store.Open(filepath.Join(t.TempDir(), "outagebot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.db.Close() })
	subscribeAll(t, w.db, chats)
	commitOperational(t, w.db, cat)

	w.console = newConsole(w.db, log)
	hc := bot.NewHTTPClient(token, 40*time.Second)
	hc.Transport = w.console.Transport(hc.Transport)
	client := bot.NewClient(w.tg.URL, hc)
	out := sendingSide{token: token, client: client, db: w.db, limits: cfg.Limits,
		texts: texts, console: w.console, log: log}.build()
	w.sender = out.sender
	tb, err := commandSide{
		apiURL:  w.tg.URL,
		replies: out.replies,
		updates: &bot.Poller{Client: client, Inbox: w.db, Log: log, OnPoll: w.console.Polled},
		me:      tele.User{ID: 1000, IsBot: true, FirstName: "Outage Bot", Username: "outage_test_bot"},
		db:      w.db, cfg: cfg, catalog: cat, texts: texts, console: w.console, log: log,
	}.build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.sender.Run(ctx) })
	wg.Go(tb.Start)
	t.Cleanup(func() {
		// As serve stops: the sender, then telebot, then (above) the rest.
		cancel()
		tb.Stop()
		wg.Wait()
		hc.CloseIdleConnections()
		out.replies.CloseIdleConnections()
	})
	return w
}

// commitOperational records every service of cat operational, so that
// /status shows what it shows on a running bot, not "not checked yet".
func commitOperational(tb testing.TB, db *store.DB, cat *checks.Catalog) {
	tb.Helper()
	now := time.Now()
	var states []checks.Status
	for _, id := range cat.IDs() {
		states = append(states, checks.Status{Service: id, State: checks.Operational,
			Announced: checks.Operational, Since: now, LastCheck: now})
	}
	if err := db.Commit(states, nil, false); err != nil {
		tb.Fatal(err)
	}
}

// outage commits WhatsApp's outage, queuing an alert for every subscriber,
// wakes the Sender as a round does, and returns when it was queued.
func (w *sendingWorld) outage(t *testing.T) time.Time {
	t.Helper()
	at := commitDown(t, w.db, "https://www.whatsapp.com", false)
	w.sender.Kick()
	return at
}

// metric returns the sum of every series of the named metric that the
// console serves, 0 when it has none.
func (w *sendingWorld) metric(t *testing.T, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	w.console.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	var sum float64
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name); !ok || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// isStatusReply tells a reply to /status (users here speak English) from
// an alert: the overview, or the details of named services, which say when
// they were last checked.
func isStatusReply(m bottest.Message) bool {
	return strings.HasPrefix(m.Plain(), "Status at") || strings.Contains(m.Plain(), "last checked")
}

// pusher pushes /status from the given chats on a schedule, recording when.
type pusher struct {
	tg     *bottest.Server
	mu     sync.Mutex
	pushed map[int64][]time.Time // by chat
}

func newPusher(tg *bottest.Server) *pusher {
	return &pusher{tg: tg, pushed: make(map[int64][]time.Time)}
}

// status pushes one /status from user into chat. In a group, where the
// bot answers the same question only once in a while, each asks about
// another set of services, so that every answer is a message of its own.
func (p *pusher) status(chat bottest.Chat, user bottest.User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.pushed[chat.ID])
	p.pushed[chat.ID] = append(p.pushed[chat.ID], time.Now())
	text := "/status"
	if chat.ID < 0 {
		// The n+1-th non-empty subset of the catalog's five services.
		for i, id := range []string{"whatsapp", "instagram", "facebook", "messenger", "threads"} {
			if (n+1)&(1<<i) != 0 {
				text += " " + id
			}
		}
	}
	p.tg.SendText(chat, user, text)
}

func (p *pusher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, ts := range p.pushed {
		n += len(ts)
	}
	return n
}

// late returns when, since the chat's first /status, each reply in chat
// went that cannot be matched, in order, to a /status pushed at most wait
// before it: the replies sent after their deadline. Replies go out in the
// order their commands came; a shed one leaves its push unmatched.
func (p *pusher) late(chat int64, replies []bottest.Message, wait time.Duration) []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	pushes := p.pushed[chat]
	var late []time.Duration
	for _, r := range replies {
		for len(pushes) > 0 && r.At.Sub(pushes[0]) > wait {
			pushes = pushes[1:] // shed
		}
		if len(pushes) == 0 || r.At.Before(pushes[0]) {
			late = append(late, r.At.Sub(p.pushed[chat][0]))
			continue
		}
		pushes = pushes[1:]
	}
	return late
}

// every calls f after first, then every d, without drift, until ctx ends.
func every(ctx context.Context, first, d time.Duration, f func()) {
	start := time.Now().Add(first)
	for i := 0; ; i++ {
		t := time.NewTimer(time.Until(start.Add(time.Duration(i) * d)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			f()
		}
	}
}

// replySlack is how much later than bot.DefaultReplyWait after its command
// a reply may reach the fake: the wait runs from when the handler sends it,
// after the poll that fetched the command and the handler's work.
const replySlack = time.Second

// TestGroupFloodDoesNotHoldAlerts has one account send /status every 0.7 s
// in its group, which follows WhatsApp, while 20 private chats await
// WhatsApp's alert. The replies keep the group's 20 messages a minute, so
// no 429 comes, nothing pauses, and the private chats hear within 5 s; the
// group gets its alert too, in its turn among its replies.
func TestGroupFloodDoesNotHoldAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 15 s in real time")
	}
	group := bottest.Chat{ID: -100555, Type: "supergroup", Title: "Ops"}
	flooder := bottest.User{ID: 77, FirstName: "Flo", LanguageCode: "en"}
	w := startSendingWorld(t, telegramLimits, append(privates(20), group.ID))
	p := newPusher(w.tg)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	flood, stopFlood := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { every(flood, 0, 700*time.Millisecond, func() { p.status(group, flooder) }) })
	defer func() { stopFlood(); wg.Wait() }()

	// Long enough for the group's bucket to empty, were the replies not
	// charged to it.
	time.Sleep(6 * time.Second)
	queued := w.outage(t)
	if err := w.tg.Wait(ctx, func(s *bottest.Server) bool {
		for _, id := range privates(20) {
			if len(s.MessagesTo(id)) == 0 {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatalf("private chats not alerted: %v\nlogs:\n%s", err, w.logs)
	}
	var last time.Duration // the last private chat's alert
	for _, id := range privates(20) {
		d := w.tg.MessagesTo(id)[0].At.Sub(queued)
		if d > 5*time.Second {
			t.Errorf("chat %d alerted %v after the alert was queued, want within 5 s", id, d)
		}
		last = max(last, d)
	}
	var alert time.Time
	if err := w.tg.Wait(ctx, func(s *bottest.Server) bool {
		for _, m := range s.MessagesTo(group.ID) {
			if !isStatusReply(m) && m.At.After(queued) {
				alert = m.At
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the flooding group got no alert: %v\nlogs:\n%s", err, w.logs)
	}
	// Behind at most a reply wait's worth of replies, then 3 s apart.
	if d := alert.Sub(queued); d > bot.DefaultReplyWait+2*3*time.Second {
		t.Errorf("the group was alerted %v after the alert was queued, want within %v", d, bot.DefaultReplyWait+6*time.Second)
	}
	stopFlood()
	wg.Wait()
	time.Sleep(bot.DefaultReplyWait + replySlack) // the last replies are sent or shed

	var replies []bottest.Message
	for _, m := range w.tg.MessagesTo(group.ID) {
		if isStatusReply(m) {
			replies = append(replies, m)
		}
	}
	t.Logf("%d /status in the group: %d answered, %v shed; the 20 private chats alerted within %v, the group after %v",
		p.count(), len(replies), w.metric(t, "outagebot_replies_shed_total"), last.Round(time.Millisecond), alert.Sub(queued).Round(time.Millisecond))
	if late := p.late(group.ID, replies, bot.DefaultReplyWait+replySlack); len(late) > 0 {
		t.Errorf("replies sent after their deadline, at %v since the first /status", late)
	}
	if len(replies) == 0 || w.metric(t, "outagebot_replies_shed_total") == 0 {
		t.Errorf("%d replies sent, %v shed: want some of each from a flood three times the group's limit",
			len(replies), w.metric(t, "outagebot_replies_shed_total"))
	}
	if diff := cmp.Diff(bottest.Throttles{}, w.tg.Throttled()); diff != "" {
		t.Errorf("429s the bot provoked (-want +got):\n%s", diff)
	}
	if n := w.metric(t, "outagebot_sending_paused_total"); n != 0 {
		t.Errorf("all sending paused %v times, want 0", n)
	}
}

// TestRepliesDuringFanOut has 100 accounts, which follow WhatsApp with 900
// other chats, send /status once a second each while the 1,000 alerts go
// out at Telegram's 30 messages/s: three times what the replies' half of
// the rate can answer. The fan-out must keep at least 45 % of the rate, and
// every reply is either sent within its wait or shed and counted.
func TestRepliesDuringFanOut(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 15 s in real time")
	}
	const (
		accounts = 100
		warmUp   = 2 * time.Second  // the flood before the outage
		window   = 10 * time.Second // the flood during the fan-out
	)
	w := startSendingWorld(t, telegramLimits, privates(1000))
	p := newPusher(w.tg)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	flood, stopFlood := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range accounts {
		id := int64(i + 1)
		chat := bottest.Chat{ID: id, Type: "private", FirstName: "User " + strconv.Itoa(i)}
		user := bottest.User{ID: id, FirstName: chat.FirstName, LanguageCode: "en"}
		// Spread over the second, each account once a second.
		wg.Go(func() {
			every(flood, time.Duration(i)*time.Second/accounts, time.Second, func() { p.status(chat, user) })
		})
	}
	defer func() { stopFlood(); wg.Wait() }()

	time.Sleep(warmUp)
	queued := w.outage(t)
	time.Sleep(window)
	stopFlood()
	wg.Wait()
	pushed := p.count()
	if err := w.tg.Wait(ctx, func(*bottest.Server) bool {
		return w.metric(t, "outagebot_updates_handled_total") >= float64(pushed)
	}); err != nil {
		t.Fatalf("%d of %d /status handled: %v\nlogs:\n%s", int(w.metric(t, "outagebot_updates_handled_total")), pushed, err, w.logs)
	}

	alerts, served := 0, 0
	for _, m := range w.tg.Messages() {
		switch {
		case isStatusReply(m):
			served++
		case !m.At.After(queued.Add(window)):
			alerts++
		}
	}
	shed := w.metric(t, "outagebot_replies_shed_total")
	ofRate := float64(alerts) / (30 * window.Seconds())
	t.Logf("in %v of flood: %d alerts (%.2f of 30/s); %d /status: %d answered, %v shed",
		window, alerts, ofRate, pushed, served, shed)
	if ofRate < 0.45 {
		t.Errorf("the fan-out went at %.2f of the rate during the flood, want ≥ 0.45", ofRate)
	}
	if float64(served)+shed != float64(pushed) {
		t.Errorf("%d /status: %d answered and %v shed, want every one either", pushed, served, shed)
	}
	for i := range accounts {
		id := int64(i + 1)
		var replies []bottest.Message
		for _, m := range w.tg.MessagesTo(id) {
			if isStatusReply(m) {
				replies = append(replies, m)
			}
		}
		if late := p.late(id, replies, bot.DefaultReplyWait+replySlack); len(late) > 0 {
			t.Errorf("chat %d: replies sent after their deadline, at %v since its first /status", id, late)
		}
	}
	if diff := cmp.Diff(bottest.Throttles{}, w.tg.Throttled()); diff != "" {
		t.Errorf("429s the bot provoked (-want +got):\n%s", diff)
	}
	if n := w.metric(t, "outagebot_sending_paused_total"); n != 0 {
		t.Errorf("all sending paused %v times, want 0", n)
	}
}

// privates returns the private chat ids 1…n.
func privates(n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	return ids
}
