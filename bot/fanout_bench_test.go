package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/store"
)

// The fan-out benchmarks drive a real Sender (bbolt store, locale.Printer
// with the embedded catalog, HTTP client) against bottest, the in-process
// fake Bot API, and report delivery figures beside the time. Every iteration
// is a fresh fan-out on a fresh database, whose setup is not timed; one
// iteration is the measurement, so run them as
//
//	go test -run '^$' -bench . -benchtime=1x ./bot/
//
// OUTAGEBOT_BENCH_RATE sets the global rate G of BenchmarkFanOutAtLimits and
// BenchmarkMetaWideOutage (default 1000, Telegram's paid broadcast). G=30 is
// Telegram's free limit; the first then takes about 6 minutes and the second
// about 3, beyond go test's default 10-minute timeout together:
//
//	OUTAGEBOT_BENCH_RATE=30 go test -run '^$' -bench . -benchtime=1x -timeout 30m ./bot/
//
// Allocation figures count the whole process, so they include the fake
// server's handling of every request as well as the bot's work.

// benchToken is the bot token of the fan-out benchmarks' fake server.
const benchToken = "4242:BENCH-token-never-printed"

// Chat ids of the fan-out benchmarks: ids of channels and supergroups look
// like -100xxxxxxxxxx on Telegram; private chats are 1, 2, 3…
const (
	benchChannelName = "outages"
	benchChannelID   = -1001000000001
	benchGroupBase   = -1002000000000 // group i is benchGroupBase - i
)

// BenchmarkFanOutAtLimits announces one WhatsApp outage to the channel, 50
// groups and 10,000 private chats while the fake enforces Telegram's limits
// (global G, 1/s per chat, 20/min per group) and the Sender is told the same
// limits. It reports:
//
//   - msgs/s: messages delivered per second from the Commit until the last
//     one reached Telegram;
//   - of-G: msgs/s divided by G, target ≥ 0.97;
//   - 429s/op: 429 answers the bot provoked, target 0;
//   - dup-chats/op: chats that got more than one message, target 0;
//   - lost-chats/op: chats that got none, target 0;
//   - channel-ms: from the Commit to the channel post, target < 1000 (not
//     reported when the post never came: lost-chats/op counts it);
//   - last-chat-s: from the Commit to the last chat's message (about
//     10,051/G at best);
//   - allocs/msg: allocations per delivered message (bot and fake server).
func BenchmarkFanOutAtLimits(b *testing.B) {
	g := benchRate(b)
	srvLimits, senderLimits := telegramLimits(g)
	f := fanOut{
		chats:   benchChats(10_000, 50),
		follows: func(int64) []string { return []string{"whatsapp"} },
		down:    []string{"whatsapp"},
		channel: true,
		server:  srvLimits,
		sender:  senderLimits,
	}
	s := f.bench(b)
	ofG := s.rate / g
	b.ReportMetric(ofG, "of-G")
	b.Logf("fan-out at G=%g/s: %s; %.3f of G (target ≥ 0.97)", g, s, ofG)
}

// BenchmarkSenderThroughput is the fan-out of BenchmarkFanOutAtLimits to
// 20,000 private chats, 50 groups and the channel with every limit lifted
// (the fake enforces none; the Sender is allowed 10⁶/s overall and 1,000/s
// per chat), so that the bot is the only bottleneck. It reports the metrics
// of BenchmarkFanOutAtLimits; the targets are msgs/s ≥ 5,000 on 2 cores, no
// duplicates or losses, and allocs/msg as low as the HTTP round trip allows.
func BenchmarkSenderThroughput(b *testing.B) {
	f := fanOut{
		chats:   benchChats(20_000, 50),
		follows: func(int64) []string { return []string{"whatsapp"} },
		down:    []string{"whatsapp"},
		channel: true,
		sender:  Limits{GlobalPerSecond: 1e6, ChatPerSecond: 1000, GroupPerMinute: 60_000, PaidBroadcast: true},
	}
	s := f.bench(b)
	b.Logf("throughput with limits lifted: %s (target ≥ 5000 msgs/s)", s)
}

// BenchmarkMetaWideOutage takes WhatsApp, Instagram, Facebook and Messenger
// down in one Commit (four transitions), at Telegram's limits with global
// rate G as in BenchmarkFanOutAtLimits, without the channel. Private chat id
// (1…5,000) follows service s (0…3 in the order just given) when
// (id+s) % 4 < 2: every chat follows exactly two of the four, and every
// service has exactly 2,500 subscribers. It reports the metrics of BenchmarkFanOutAtLimits and:
//
//   - naive-msgs/op: one message per subscription (10,000);
//   - msgs/naive: messages sent over that, target 0.5, i.e. exactly one
//     message per chat (dup-chats/op and lost-chats/op 0).
func BenchmarkMetaWideOutage(b *testing.B) {
	g := benchRate(b)
	srvLimits, senderLimits := telegramLimits(g)
	metaWide := []string{"whatsapp", "instagram", "facebook", "messenger"}
	f := fanOut{
		chats: benchChats(5_000, 0),
		follows: func(id int64) []string {
			var out []string
			for s, svc := range metaWide {
				if (id+int64(s))%4 < 2 {
					out = append(out, svc)
				}
			}
			return out
		},
		down:   metaWide,
		server: srvLimits,
		sender: senderLimits,
	}
	s := f.bench(b)
	b.ReportMetric(s.naive, "naive-msgs/op")
	b.ReportMetric(s.msgs/s.naive, "msgs/naive")
	b.Logf("Meta-wide outage at G=%g/s: %s; %.0f messages for %.0f subscriptions (target: one per chat)",
		g, s, s.msgs, s.naive)
}

// benchRate returns the global rate G from OUTAGEBOT_BENCH_RATE, 1000 when
// unset: environment rather than a flag, because a flag would be
// package-level state of every test binary of this package.
func benchRate(b *testing.B) float64 {
	v, ok := os.LookupEnv("OUTAGEBOT_BENCH_RATE")
	if !ok {
		return 1000
	}
	g, err := strconv.ParseFloat(v, 64)
	if err != nil || !(g > 0) {
		b.Fatalf("OUTAGEBOT_BENCH_RATE=%q: want a positive number of messages per second", v)
	}
	return g
}

// telegramLimits returns Telegram's limits with global rate g, as the fake
// enforces them and as the Sender is told them.
func telegramLimits(g float64) (bottest.Limits, Limits) {
	return bottest.Limits{Global: g, PerChat: 1, PerGroupPerMinute: 20, RetryAfter: 1},
		Limits{GlobalPerSecond: g, ChatPerSecond: 1, GroupPerMinute: 20, PaidBroadcast: g > 30}
}

// benchChats returns the given numbers of supergroups and private chats.
func benchChats(private, groups int) []store.Chat {
	chats := make([]store.Chat, 0, groups+private)
	for i := range groups {
		chats = append(chats, store.Chat{ID: benchGroupBase - int64(i), Type: "supergroup", Title: fmt.Sprintf("Group %d", i)})
	}
	for i := range private {
		chats = append(chats, store.Chat{ID: int64(i + 1), Type: "private"})
	}
	return chats
}

// fanOut is one benchmark scenario. Every chat must follow at least one of
// the services in down, so that every chat is owed exactly one message.
type fanOut struct {
	chats   []store.Chat
	follows func(chatID int64) []string
	down    []string // services that go from operational to down in one Commit
	channel bool     // whether the Commit queues a channel post
	server  bottest.Limits
	sender  Limits
}

// fanOutResult is what one fan-out achieved.
type fanOutResult struct {
	msgs, naive, tooMany, duplicates, lost int
	commit, channel, last, setup           time.Duration
	channelPosted                          bool
	allocs                                 uint64
}

// fanOutSummary is the mean of the iterations' results.
type fanOutSummary struct {
	rate, msgs, naive, tooMany, duplicates, lost, allocsPerMsg float64
	commit, channel, last, setup                               time.Duration
	// channel is meaningful only when every fan-out had a channel post.
	hasChannel, channelPosted bool
}

// String is the one-line human summary of a benchmark.
func (s fanOutSummary) String() string {
	ch := ""
	switch {
	case s.channelPosted:
		ch = fmt.Sprintf(", channel post after %d ms", s.channel.Milliseconds())
	case s.hasChannel:
		ch = ", channel post never came"
	}
	return fmt.Sprintf("%.0f msgs in %.2f s = %.0f msgs/s, %.0f 429s, %.0f duplicated and %.0f lost chats%s, Commit took %d ms, %.0f allocs/msg (setup %.1f s, untimed)",
		s.msgs, s.last.Seconds(), s.rate, s.tooMany, s.duplicates, s.lost, ch, s.commit.Milliseconds(), s.allocsPerMsg, s.setup.Seconds())
}

// bench runs f once per iteration and reports the metrics every fan-out
// benchmark shares.
func (f fanOut) bench(b *testing.B) fanOutSummary {
	b.ReportAllocs()
	var rs []fanOutResult
	for b.Loop() {
		rs = append(rs, f.run(b))
	}
	var (
		sum    fanOutResult
		allocs uint64
	)
	sum.channelPosted = f.channel
	for _, r := range rs {
		sum.channelPosted = sum.channelPosted && r.channelPosted
		sum.msgs += r.msgs
		sum.naive += r.naive
		sum.tooMany += r.tooMany
		sum.duplicates += r.duplicates
		sum.lost += r.lost
		sum.commit += r.commit
		sum.channel += r.channel
		sum.last += r.last
		sum.setup += r.setup
		allocs += r.allocs
	}
	n := float64(len(rs))
	s := fanOutSummary{
		rate:          float64(sum.msgs) / sum.last.Seconds(),
		msgs:          float64(sum.msgs) / n,
		naive:         float64(sum.naive) / n,
		tooMany:       float64(sum.tooMany) / n,
		duplicates:    float64(sum.duplicates) / n,
		lost:          float64(sum.lost) / n,
		allocsPerMsg:  float64(allocs) / float64(sum.msgs),
		commit:        sum.commit / time.Duration(len(rs)),
		channel:       sum.channel / time.Duration(len(rs)),
		last:          sum.last / time.Duration(len(rs)),
		setup:         sum.setup / time.Duration(len(rs)),
		hasChannel:    f.channel,
		channelPosted: sum.channelPosted,
	}
	b.ReportMetric(s.rate, "msgs/s")
	b.ReportMetric(s.tooMany, "429s/op")
	b.ReportMetric(s.duplicates, "dup-chats/op")
	b.ReportMetric(s.lost, "lost-chats/op")
	if s.channelPosted {
		b.ReportMetric(float64(s.channel.Microseconds())/1000, "channel-ms")
	}
	b.ReportMetric(s.last.Seconds(), "last-chat-s")
	b.ReportMetric(s.allocsPerMsg, "allocs/msg")
	return s
}

// run performs f on a fresh fake server, database and Sender. Only the
// fan-out is timed: from the Commit until the outbox is empty.
func (f fanOut) run(b *testing.B) fanOutResult {
	b.StopTimer()
	w := f.setUp(b)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.StartTimer()

	start := time.Now()
	if err := commitDown(w.db, f.down, f.channel, start); err != nil {
		b.Fatalf("commit the outage: %v", err)
	}
	committed := time.Since(start)
	w.sender.Kick()
	w.waitDrained(b, f.timeout(len(w.recipients)))

	b.StopTimer()
	runtime.ReadMemStats(&after)
	r := w.result(start)
	r.commit = committed
	r.allocs = after.Mallocs - before.Mallocs
	w.close()
	b.StartTimer()
	return r
}

// timeout bounds one fan-out of n messages generously: twice the time the
// global limit needs, plus two minutes for a slow machine.
func (f fanOut) timeout(n int) time.Duration {
	return 2*time.Duration(float64(n)/f.sender.GlobalPerSecond*float64(time.Second)) + 2*time.Minute
}

// benchWorld is one fan-out's fake Bot API, database and running Sender.
type benchWorld struct {
	b          *testing.B
	srv        *bottest.Server
	hc         *http.Client
	db         *store.DB
	sender     *Sender
	logs       *benchLog
	stop       context.CancelFunc
	done       chan struct{} // closed when the Sender's Run returned
	recipients []int64       // every chat owed a message, the channel by its numeric id
	naive      int           // one message per subscription to a service in down
	setup      time.Duration
	closed     bool
}

// setUp builds f's world and starts its Sender, idle on an empty outbox as
// in production before an outage.
func (f fanOut) setUp(b *testing.B) *benchWorld {
	t0 := time.Now()
	w := &benchWorld{b: b, logs: &benchLog{}}
	b.Cleanup(w.close)
	w.srv = bottest.NewServer(benchToken)
	if f.channel {
		w.srv.AddChannel(benchChannelName, benchChannelID)
	}
	if f.server != (bottest.Limits{}) {
		w.srv.SetLimits(f.server)
	}
	db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	w.db = db
	if err := subscribeAll(db, f.chats, f.follows); err != nil {
		b.Fatalf("set up subscriptions: %v", err)
	}
	for _, s := range f.down {
		ids, err := db.Subscribers(s)
		if err != nil {
			b.Fatal(err)
		}
		w.naive += len(ids)
	}
	for _, c := range f.chats {
		w.recipients = append(w.recipients, c.ID)
	}
	opts := SenderOptions{
		Limits: f.sender,
		Log:    slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if f.channel {
		opts.Channel = "@" + benchChannelName
		w.recipients = append(w.recipients, benchChannelID)
		w.naive += len(f.down)
	}
	cat := checks.NewCatalog(config.Default().Services)
	w.hc = NewHTTPClient(benchToken, 10*time.Second)
	texts, err := locale.New(cat, time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	w.sender = NewSender(NewClient(w.srv.URL, w.hc), db, texts, opts)
	ctx, cancel := context.WithCancel(context.Background())
	w.stop, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		w.sender.Run(ctx)
	}()
	w.setup = time.Since(t0)
	return w
}

// subscribeAll subscribes every chat from many goroutines: the store has no
// bulk API, and concurrent Subscribe calls share bbolt Batch transactions,
// one fsync for up to 1,000 chats instead of one each.
func subscribeAll(db *store.DB, chats []store.Chat, follows func(int64) []string) error {
	const workers = 1000
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(chats); i += workers {
				if _, err := db.Subscribe(chats[i], follows(chats[i].ID)); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// commitDown records, in one transaction as the monitor does, that services
// went from operational to down at.
func commitDown(db *store.DB, services []string, channel bool, at time.Time) error {
	var (
		statuses    []checks.Status
		transitions []checks.Transition
	)
	for _, s := range services {
		ev := []checks.Result{{Probe: "web", Kind: "http", Target: "https://" + s + ".com/",
			Class: checks.ClassHTTP5xx, Latency: 80 * time.Millisecond, Detail: "HTTP 503"}}
		statuses = append(statuses, checks.Status{Service: s, State: checks.Down, Announced: checks.Down,
			Since: at, Evidence: ev, LastCheck: at})
		transitions = append(transitions, checks.Transition{Service: s, From: checks.Operational, To: checks.Down,
			At: at, Evidence: ev})
	}
	return db.Commit(statuses, transitions, channel)
}

// waitDrained returns once the outbox is empty. The store cannot signal
// acknowledgements, so it polls; the figures come from the fake server's
// timestamps, not from when the poll noticed.
func (w *benchWorld) waitDrained(b *testing.B, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := w.db.OutboxLen()
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("outbox still holds %d chats after %v: %d messages sent of %d owed, %d 429s\nsender warnings:\n%s",
				n, timeout, len(w.srv.Messages()), len(w.recipients), w.srv.TooManyRequests(), w.logs)
		case <-tick.C:
		}
	}
}

// result counts what reached Telegram since start.
func (w *benchWorld) result(start time.Time) fanOutResult {
	r := fanOutResult{naive: w.naive, tooMany: w.srv.TooManyRequests(), setup: w.setup}
	got := make(map[int64]int, len(w.recipients))
	for _, m := range w.srv.Messages() {
		if m.Edited {
			continue // an edit in place is not a second message
		}
		r.msgs++
		got[m.ChatID]++
		r.last = max(r.last, m.At.Sub(start))
		if m.ChatID == benchChannelID && !r.channelPosted {
			r.channel, r.channelPosted = m.At.Sub(start), true
		}
	}
	for _, id := range w.recipients {
		switch n := got[id]; {
		case n == 0:
			r.lost++
		case n > 1:
			r.duplicates++
		}
	}
	return r
}

// close stops the Sender before the server and the database it uses. It
// runs after each iteration and again, as a no-op, at cleanup; what setUp
// did not get to is nil.
func (w *benchWorld) close() {
	if w.closed {
		return
	}
	w.closed = true
	if w.stop != nil {
		w.stop()
		<-w.done
	}
	if w.hc != nil {
		w.hc.CloseIdleConnections()
	}
	if w.srv != nil {
		w.srv.Close()
	}
	if w.db != nil {
		if err := w.db.Close(); err != nil {
			w.b.Error(err)
		}
	}
}

// benchLog collects the Sender's warnings, written from its goroutines, to
// show them when a fan-out times out.
type benchLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *benchLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *benchLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
