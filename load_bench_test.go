package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot"
	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/store"
)

// loadToken is the bot token of the load benchmark's fake server.
const loadToken = "5151:LOAD-token-never-printed"

// The size of the burst.
const (
	loadUsers = 10_000
	loadBurst = 2 * loadUsers
	// loadUserBase is the first user id; user i has id and private chat
	// loadUserBase+i.
	loadUserBase = 1_000_000
)

// loadKind is what one update of the burst does.
type loadKind int

const (
	kindStart loadKind = iota
	kindSubscribe
	kindStatus
	kindToggle   // presses "\ftog|<service>" on the user's keyboard
	kindAffected // presses "\faff|<service>" on the user's keyboard
)

// loadUpdate is one update of the burst.
type loadUpdate struct {
	user    int64
	lang    string // the user's Telegram language
	kind    loadKind
	service string // for subscribe, toggle and affected
}

func (u loadUpdate) pressed() bool { return u.kind == kindToggle || u.kind == kindAffected }

// loadMix returns the burst in push order. User i (0 ≤ i < loadUsers) sends
// two updates of different kinds:
//
//	i < 2,000           /start, /subscribe
//	2,000 ≤ i < 5,000   /start, /status
//	5,000 ≤ i < 7,000   /subscribe, /status
//	7,000 ≤ i           /subscribe, a press (toggle when i is even)
//
// which makes 5,000 /start, 7,000 /subscribe, 5,000 /status and 3,000
// presses. A press is about another service than the user's /subscribe, so
// neither changes what the other says. The users' Telegram speaks each of
// langs in turn.
func loadMix(services, langs []string) []loadUpdate {
	mix := make([]loadUpdate, 0, loadBurst)
	for i := range loadUsers {
		id, lang := int64(loadUserBase+i), langs[i%len(langs)]
		start := loadUpdate{user: id, lang: lang, kind: kindStart}
		sub := loadUpdate{user: id, lang: lang, kind: kindSubscribe, service: services[i%len(services)]}
		status := loadUpdate{user: id, lang: lang, kind: kindStatus}
		switch {
		case i < 2_000:
			mix = append(mix, start, sub)
		case i < 5_000:
			mix = append(mix, start, status)
		case i < 7_000:
			mix = append(mix, sub, status)
		default:
			press := loadUpdate{user: id, lang: lang, kind: kindAffected, service: services[(i+1)%len(services)]}
			if i%2 == 0 {
				press.kind = kindToggle
			}
			mix = append(mix, sub, press)
		}
	}
	// A fixed seed: every run pushes the same burst.
	rand.New(rand.NewPCG(6, 20_000)).Shuffle(len(mix), func(i, j int) { mix[i], mix[j] = mix[j], mix[i] })
	return mix
}

// BenchmarkLoad pushes a burst of 20,000 updates from 10,000 private
// chats through bottest into the command side of the bot, wired the way serve
// wires it (bbolt store, Poller, telebot with the reply budget in its HTTP
// client, the operator console's middleware and transports, handlers, every
// language, the embedded catalog), and waits until every update got its reply
// or its callback answer. It is wired here rather than started through run so
// that the benchmark holds the *store.DB and can count its commits; the
// sender and the probe rounds are left out, since they do no work while
// nothing is down. One iteration is the measurement:
//
//	go test -run '^$' -bench Load -benchtime=1x .
//
// Replies go through bot.Budget, as in production. At Telegram's free 30
// messages/s the burst's 18,500 messages (17,000 replies, 1,500 redrawn
// keyboards) would take over ten minutes whatever the CPU: the budget, not the
// bot, is the ceiling. So budget=paid runs at 1,000 messages/s, the most paid
// broadcast allows, where the ceiling is 20,000 updates per 18.5 s, about
// 1,080/s; budget=lifted shows what the bot itself can do.
//
// The burst, in a fixed shuffled order: 25 % /start, 35 % /subscribe
// <service>, 25 % /status and 15 % presses on a /subscribe keyboard (half
// toggling a service, half "I'm affected"). Every user sends two updates of
// different kinds, so every reply can be matched to its update by what it
// says; the users' Telegram speaks each of the bot's languages in turn. The
// keyboards are requested before the burst and not measured.
//
// Metrics (the fake server's work is on the same 2 cores):
//
//   - updates/s: updates answered per second, from the first push to the last
//     reply's arrival at the fake; target ≥ 1,000 on 2 cores;
//   - p50-ms, p99-ms: from an update's push to the arrival of its reply (for
//     a press: its answerCallbackQuery); in a burst, mostly queueing;
//   - commits/update: bbolt write transactions per update, the poller's
//     inbox included (one commit per batch taken, and the removal of every
//     handled update, batched with the handlers' writes); unbatched it
//     would be 1.5 plus one per getUpdates;
//   - ms/commit: the time a commit spent writing and syncing, the disk's
//     fsync latency: the poller keeps every batch of 100 updates in the
//     inbox before it handles them, so a slow disk slows intake;
//   - peak-RSS-MB: the process's peak resident memory during the burst
//     (VmHWM), fake server and recorded calls included.
func BenchmarkLoad(b *testing.B) {
	for _, bc := range []struct {
		name      string
		perSecond float64 // the reply budget
	}{
		{"budget=paid", 1000},
		{"budget=lifted", 1e6},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var rs []loadResult
			for b.Loop() {
				rs = append(rs, runLoad(b, bc.perSecond))
			}
			s := summarize(rs)
			b.ReportMetric(s.rate, "updates/s")
			b.ReportMetric(ms(s.p50), "p50-ms")
			b.ReportMetric(ms(s.p99), "p99-ms")
			b.ReportMetric(s.commitsPerUpdate, "commits/update")
			b.ReportMetric(ms(s.perCommit), "ms/commit")
			b.ReportMetric(s.peakRSS, "peak-RSS-MB")
			b.Logf("reply budget %g/s: %s", bc.perSecond, s)
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loadResult is what one burst measured.
type loadResult struct {
	updates    int
	span       time.Duration   // first push to last reply
	latencies  []time.Duration // push to reply, one per update
	commits    uint64          // bbolt write transactions during the burst
	commitTime time.Duration   // their time writing and syncing
	readTxs    int
	polls      int     // getUpdates calls during the burst
	messages   int     // messages the burst cost: replies and redrawn keyboards
	peakRSS    float64 // MB
	rssNote    string  // why peakRSS may include more than the burst
}

// loadSummary is the figures of all bursts of a benchmark.
type loadSummary struct {
	rate, commitsPerUpdate, readsPerUpdate, peakRSS float64
	p50, p99, max, perCommit                        time.Duration
	updatesPerPoll                                  float64
	messages                                        int // per burst
	rssNote                                         string
}

func summarize(rs []loadResult) loadSummary {
	var (
		updates, polls, reads int
		span                  time.Duration
		commits               uint64
		commitTime            time.Duration
		lat                   []time.Duration
		s                     loadSummary
	)
	for _, r := range rs {
		updates += r.updates
		span += r.span
		commits += r.commits
		commitTime += r.commitTime
		reads += r.readTxs
		polls += r.polls
		lat = append(lat, r.latencies...)
		s.peakRSS = max(s.peakRSS, r.peakRSS)
		s.messages = r.messages
		s.rssNote = cmp.Or(s.rssNote, r.rssNote)
	}
	slices.Sort(lat)
	s.rate = float64(updates) / span.Seconds()
	s.commitsPerUpdate = float64(commits) / float64(updates)
	s.readsPerUpdate = float64(reads) / float64(updates)
	s.perCommit = commitTime / time.Duration(max(commits, 1))
	s.updatesPerPoll = float64(updates) / float64(max(polls, 1))
	s.p50, s.p99, s.max = percentile(lat, 0.50), percentile(lat, 0.99), lat[len(lat)-1]
	return s
}

// percentile returns the p-quantile of sorted by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// freeRate is Telegram's free message rate for one bot.
const freeRate = 30

func (s loadSummary) String() string {
	free := time.Duration(float64(s.messages) / freeRate * float64(time.Second))
	return fmt.Sprintf("%.0f updates/s (target ≥ 1000); push to reply p50 %v, p99 %v, max %v; "+
		"%.3f bbolt commits (%v each, fsync included) and %.2f read transactions per update, %.0f updates per getUpdates; peak RSS %.0f MB%s. "+
		"At Telegram's free %d messages/s the burst's %d messages alone would take %v",
		s.rate, s.p50.Round(time.Millisecond), s.p99.Round(time.Millisecond), s.max.Round(time.Millisecond),
		s.commitsPerUpdate, s.perCommit.Round(10*time.Microsecond), s.readsPerUpdate, s.updatesPerPoll, s.peakRSS, s.rssNote,
		freeRate, s.messages, free.Round(time.Second))
}

// loadBot is the command side of the bot, wired as serve wires it, against
// a fake Bot API.
type loadBot struct {
	tg      *bottest.Server
	db      *store.DB
	texts   *locale.Locales
	catalog *checks.Catalog
	logs    *syncBuffer   // warnings and errors only: a clean burst logs nothing
	charts  *atomic.Int64 // /history charts drawn
	inline  *atomic.Int64 // inline result sets rendered
	stop    func()
}

func startLoadBot(b testing.TB, perSecond float64) *loadBot {
	b.Helper()
	cfg := config.Default()
	cat := checks.NewCatalog(cfg.Services)
	texts, err := locale.New(cat, time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	logs, charts, inline := &syncBuffer{}, new(atomic.Int64), new(atomic.Int64)
	log := slog.New(workCounter{
		Handler: slog.NewTextHandler(bot.RedactWriter(logs, loadToken), &slog.HandlerOptions{Level: slog.LevelWarn}),
		charts:  charts,
		inline:  inline,
	})

	tg := bottest.NewServer(loadToken)
	db, err := store.Open(filepath.Join(b.TempDir(), "outagebot.db"), store.Options{})
	if err != nil {
		tg.Close()
		b.Fatal(err)
	}
	running := false
	defer func() {
		if !running {
			_ = db.Close() // the set-up's failure is the one to report
			tg.Close()
		}
	}()
	commitOperational(b, db, cat)

	console := newConsole(db, log)
	polls := bot.NewHTTPClient(loadToken, 40*time.Second)
	polls.Transport = console.Transport(polls.Transport)
	// The budget of serve's (sendingSide), at perSecond. The burst queues
	// its replies for up to 18.5 s, which the reply wait and queue are made
	// to hold: this benchmark measures how fast the bot answers, not what it
	// sheds when it cannot (see TestRepliesDuringFanOut for that).
	budget := bot.NewBudget(bot.BudgetOptions{
		Limits: bot.Limits{GlobalPerSecond: perSecond, ChatPerSecond: cfg.Limits.ChatPerSecond,
			GroupPerMinute: cfg.Limits.GroupPerMinute, AlertShare: cfg.Limits.AlertShare},
		ReplyWait:  5 * time.Minute,
		ReplyQueue: loadBurst,
		OnShed:     console.ReplyShed,
	})
	replies := bot.NewHTTPClient(loadToken, 40*time.Second)
	replies.Transport = console.Transport(budget.ReplyTransport(replies.Transport))
	tb, err := commandSide{
		apiURL:  tg.URL,
		replies: replies,
		updates: &bot.Poller{Client: bot.NewClient(tg.URL, polls), Inbox: db, Log: log, OnPoll: console.Polled},
		me:      tele.User{ID: 1000, IsBot: true, FirstName: "Outage Bot", Username: "outage_test_bot"},
		db:      db, cfg: cfg, catalog: cat, texts: texts, console: console, log: log,
	}.build()
	if err != nil {
		b.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tb.Start()
	}()
	running = true
	return &loadBot{tg: tg, db: db, texts: texts, catalog: cat, logs: logs, charts: charts, inline: inline, stop: func() {
		tb.Stop()
		<-stopped
		replies.CloseIdleConnections()
		polls.CloseIdleConnections()
		tg.Close()
		if err := db.Close(); err != nil {
			b.Error(err)
		}
	}}
}

// from is the chat and the user an update of the burst comes from.
func (u loadUpdate) from() (bottest.Chat, bottest.User) {
	name := "User " + strconv.FormatInt(u.user, 10)
	return bottest.Chat{ID: u.user, Type: "private", FirstName: name},
		bottest.User{ID: u.user, FirstName: name, LanguageCode: u.lang}
}

// runLoad pushes one burst at a fresh bot with the given reply budget and
// measures it. Only the burst is timed.
func runLoad(b *testing.B, perSecond float64) loadResult {
	b.StopTimer()
	w := startLoadBot(b, perSecond)
	defer w.stop()
	mix := loadMix(w.catalog.IDs(), w.texts.Tags())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	keyboards := w.keyboards(ctx, b, mix)

	before, err := w.db.Stats()
	if err != nil {
		b.Fatal(err)
	}
	rssNote := resetPeakRSS()
	callsBefore := len(w.tg.Calls(""))
	b.StartTimer()

	pushed := make([]time.Time, len(mix))
	presses := make(map[string]int) // callback query id → index in mix
	toggles := 0                    // each redraws its keyboard after the answer
	for i, u := range mix {
		chat, user := u.from()
		pushed[i] = time.Now()
		switch u.kind {
		case kindStart:
			w.tg.SendText(chat, user, "/start")
		case kindSubscribe:
			w.tg.SendText(chat, user, "/subscribe "+u.service)
		case kindStatus:
			w.tg.SendText(chat, user, "/status")
		case kindToggle:
			presses[w.tg.PressButton(chat, user, keyboards[u.user], "\ftog|"+u.service)] = i
			toggles++
		case kindAffected:
			presses[w.tg.PressButton(chat, user, keyboards[u.user], "\faff|"+u.service)] = i
		}
	}
	w.wait(ctx, b, len(keyboards)+len(mix)-len(presses), len(presses), toggles)
	b.StopTimer()

	after, err := w.db.Stats()
	if err != nil {
		b.Fatal(err)
	}
	// Before match, whose bookkeeping is no part of the bot.
	mem, err := readMemory(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	if logs := w.logs.String(); logs != "" {
		b.Fatalf("the bot logged warnings or errors during the burst:\n%.4000s", logs)
	}
	r := w.match(b, mix, pushed, presses, w.tg.Calls("")[callsBefore:])
	r.peakRSS, r.rssNote = mem.hwm, rssNote
	r.commits = after.Commits - before.Commits
	r.commitTime = after.CommitTime - before.CommitTime
	r.readTxs = after.ReadTxs - before.ReadTxs
	r.messages = len(mix) - len(presses) + toggles
	b.StartTimer()
	return r
}

// keyboards asks for the toggle keyboard of every user who presses a button
// in the burst and returns the keyboard's message id by user.
func (w *loadBot) keyboards(ctx context.Context, b *testing.B, mix []loadUpdate) map[int64]int {
	b.Helper()
	users := make(map[int64]bool)
	for _, u := range mix {
		if u.pressed() {
			users[u.user] = true
			chat, user := u.from()
			w.tg.SendText(chat, user, "/subscribe")
		}
	}
	msgs, err := w.tg.WaitMessages(ctx, len(users))
	if err != nil {
		b.Fatalf("keyboards before the burst: %v\n%s", err, w.logs)
	}
	ids := make(map[int64]int, len(users))
	for _, m := range msgs {
		if !users[m.ChatID] || !strings.Contains(string(m.ReplyMarkup), "tog|") {
			b.Fatalf("unexpected message before the burst: %+v", m)
		}
		ids[m.ChatID] = m.ID
	}
	return ids
}

// wait blocks until the fake has received every reply of the burst: the
// messages (counted cheaply, so that waiting costs the bot no CPU), then the
// callback answers and the redrawn keyboards.
func (w *loadBot) wait(ctx context.Context, b *testing.B, messages, answers, redraws int) {
	b.Helper()
	if _, err := w.tg.WaitMessages(ctx, messages); err != nil {
		b.Fatalf("burst not answered: %v\nlogs:\n%.4000s", err, w.logs)
	}
	err := w.tg.Wait(ctx, func(s *bottest.Server) bool {
		a, r := 0, 0
		for _, c := range s.Calls("") {
			switch c.Method {
			case "answerCallbackQuery":
				a++
			case "editMessageReplyMarkup":
				r++
			}
		}
		return a >= answers && r >= redraws
	})
	if err != nil {
		b.Fatalf("button presses not answered: %v\nlogs:\n%.4000s", err, w.logs)
	}
}

// match pairs every reply call of the burst with its update, checking that
// each says what its update asks for, and returns the latencies and span.
func (w *loadBot) match(b *testing.B, mix []loadUpdate, pushed []time.Time, presses map[string]int, calls []bottest.Call) loadResult {
	b.Helper()
	statuses, err := w.db.Statuses()
	if err != nil {
		b.Fatal(err)
	}
	// A reply must begin with what its update asks for; what follows (links
	// to share under the welcome, say) is not this benchmark's business.
	says := func(u loadUpdate, text string) bool {
		p := w.texts.For(u.lang)
		switch u.kind {
		case kindStart:
			return strings.HasPrefix(text, p.Welcome())
		case kindSubscribe:
			return strings.HasPrefix(text, p.Subscribed(locale.Change{Done: []string{u.service}}))
		case kindStatus:
			// The first line carries the time; the others are fixed.
			_, want, _ := strings.Cut(p.StatusAll(statuses, time.Now()), "\n")
			_, got, _ := strings.Cut(text, "\n")
			return got == want
		case kindToggle:
			return text == p.Toggled(u.service, true)
		case kindAffected:
			s, _ := w.catalog.Lookup(u.service)
			return strings.Contains(text, s.Name) && text != p.ApologyAlert()
		}
		return false
	}

	open := make(map[int64][]int) // chat → its updates not answered yet by a message
	for i, u := range mix {
		if !u.pressed() {
			open[u.user] = append(open[u.user], i)
		}
	}
	r := loadResult{updates: len(mix), latencies: make([]time.Duration, 0, len(mix))}
	answered := make([]bool, len(mix))
	reply := func(i int, c bottest.Call, text string) {
		if answered[i] || !says(mix[i], text) {
			b.Fatalf("update %d (%+v): unexpected or second reply %q", i, mix[i], text)
		}
		answered[i] = true
		r.latencies = append(r.latencies, c.At.Sub(pushed[i]))
		r.span = max(r.span, c.At.Sub(pushed[0]))
	}
	for _, c := range calls {
		switch c.Method {
		case "getUpdates":
			r.polls++
		case "sendMessage":
			chat, err := strconv.ParseInt(c.Param("chat_id"), 10, 64)
			if err != nil {
				b.Fatalf("sendMessage to chat %q: %v", c.Param("chat_id"), err)
			}
			text := c.Param("text")
			k := slices.IndexFunc(open[chat], func(i int) bool { return says(mix[i], text) })
			if k < 0 {
				b.Fatalf("chat %d got a reply that answers none of its updates: %q", chat, text)
			}
			reply(open[chat][k], c, text)
			open[chat] = slices.Delete(open[chat], k, k+1)
		case "answerCallbackQuery":
			i, ok := presses[c.Param("callback_query_id")]
			if !ok {
				b.Fatalf("answer to an unknown callback query %q", c.Param("callback_query_id"))
			}
			reply(i, c, c.Param("text"))
		}
	}
	if n := len(r.latencies); n != len(mix) {
		b.Fatalf("%d of %d updates answered", n, len(mix))
	}
	return r
}

// resetPeakRSS lets peakRSS measure from now on: it returns the memory
// earlier work freed to the system and resets the kernel's high-water mark.
// Where that is not allowed it returns a note that the peak may be an earlier
// one.
func resetPeakRSS() string {
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets VmHWM (Linux ≥ 4.0).
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return " (peak of the whole process: cannot reset it)"
	}
	return ""
}
