package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

// chartRequests is how many /history requests the burst sends at once.
const chartRequests = 100

// BenchmarkHistoryBurst sends 100 "/history whatsapp 30d" at once, from 100
// private chats, to the command side wired as serve wires it (see
// BenchmarkLoad) over a database holding 30 days of rounds every 30 s
// (86,400 samples) and three incidents, and waits until every chart has
// arrived at the fake Bot API. One iteration is the measurement:
//
//	go test -run '^$' -bench HistoryBurst -benchtime=1x .
//
// keys=1 is the outage case: everyone asks the same question, in one
// language and time zone, and the chart must be drawn once. keys=100 gives
// every request a key of its own (25 time zones × 4 languages), so that 100
// charts are drawn, two at a time (handlers.DefaultChartRenders): what
// drawing costs, and that memory stays bounded however many wait.
//
// The reply budget is lifted: this is about drawing, not sending.
//
// Metrics (the fake server's work, receiving 100 photos, is on the same
// cores and in the same process):
//
//   - charts: charts drawn during the burst (logged "drew a history chart");
//   - cpu-ms: user and system CPU time of the process during the burst;
//   - cpu-ms/chart: cpu-ms over charts, an upper bound of one chart's cost;
//   - wall-ms: from the first push to the last chart's arrival;
//   - peak-RSS-MB: the process's peak resident memory during the burst
//     (VmHWM), the database's memory map included; base-RSS-MB is its
//     resident memory just before the burst.
func BenchmarkHistoryBurst(b *testing.B) {
	for _, keys := range []int{1, chartRequests} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			var last burstResult
			for b.Loop() {
				last = runHistoryBurst(b, keys)
			}
			b.ReportMetric(float64(last.charts), "charts")
			b.ReportMetric(ms(last.cpu), "cpu-ms")
			b.ReportMetric(ms(last.cpu)/float64(max(last.charts, 1)), "cpu-ms/chart")
			b.ReportMetric(ms(last.wall), "wall-ms")
			b.ReportMetric(last.peakRSS, "peak-RSS-MB")
			b.ReportMetric(last.baseRSS, "base-RSS-MB")
			b.Logf("%d requests, %d distinct: %d charts drawn, %v CPU, %v wall, peak RSS %.0f MB from %.0f MB%s",
				chartRequests, keys, last.charts, last.cpu.Round(time.Millisecond), last.wall.Round(time.Millisecond),
				last.peakRSS, last.baseRSS, last.rssNote)
			if keys == 1 && last.charts != 1 {
				b.Errorf("%d charts drawn for one key, want 1", last.charts)
			}
		})
	}
}

// burstResult is what one burst of /history requests measured.
type burstResult struct {
	charts    int64
	cpu, wall time.Duration
	peakRSS   float64
	baseRSS   float64
	rssNote   string
}

func runHistoryBurst(b *testing.B, keys int) burstResult {
	b.StopTimer()
	w := startLoadBot(b, 1e6)
	defer w.stop()
	now := time.Now()
	fillMonth(b, w.db, "whatsapp", now)
	langs := w.texts.Tags()
	chats := make([]bottest.Chat, chartRequests)
	users := make([]bottest.User, chartRequests)
	for i := range chartRequests {
		id := int64(loadUserBase + i)
		chats[i] = bottest.Chat{ID: id, Type: "private", FirstName: "Asker"}
		users[i] = bottest.User{ID: id, FirstName: "Asker", LanguageCode: "en"}
		if keys > 1 {
			// Etc/GMT-12 to Etc/GMT+12, in four languages.
			users[i].LanguageCode = langs[i%4]
			zone := fmt.Sprintf("Etc/GMT%+d", i/4-12)
			if err := w.db.SetSettings(id, store.Settings{TimeZone: zone}); err != nil {
				b.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	rssNote := resetPeakRSS()
	base, err := readMemory(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	drawn := w.charts.Load()
	cpu0 := cpuTime(b)
	start := time.Now()
	b.StartTimer()
	for i := range chartRequests {
		w.tg.SendText(chats[i], users[i], "/history whatsapp 30d")
	}
	msgs, err := w.tg.WaitMessages(ctx, chartRequests)
	b.StopTimer()
	if err != nil {
		b.Fatalf("charts not sent: %v\nlogs:\n%.4000s", err, w.logs)
	}
	r := burstResult{charts: w.charts.Load() - drawn, cpu: cpuTime(b) - cpu0, wall: time.Since(start), rssNote: rssNote}
	mem, err := readMemory(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	r.peakRSS, r.baseRSS = mem.hwm, base.rss
	if logs := w.logs.String(); logs != "" {
		b.Fatalf("the bot logged warnings or errors during the burst:\n%.4000s", logs)
	}
	got := make(map[int64]bool, len(msgs))
	for _, m := range msgs {
		if m.Photo == nil || got[m.ChatID] {
			b.Fatalf("chat %d got %q (photo %v) or a second answer", m.ChatID, m.Plain(), m.Photo != nil)
		}
		got[m.ChatID] = true
	}
	b.StartTimer()
	return r
}

// fillMonth records in db 30 days of rounds every 30 s of service up to
// now, with three incidents, and commits the round at now.
func fillMonth(b *testing.B, db *store.DB, service string, now time.Time) {
	b.Helper()
	const (
		day   = 24 * time.Hour
		every = 30 * time.Second
		chunk = 5000 // rounds per transaction
	)
	rng := rand.New(rand.NewPCG(30, 86400))
	var obs []checks.Observation
	for at := now.Add(-30 * day); !at.After(now); at = at.Add(every) {
		latency := 80*time.Millisecond + time.Duration(rng.IntN(120))*time.Millisecond
		obs = append(obs, checks.Observation{Service: service, ControlOK: true, At: at,
			Results: []checks.Result{{Probe: "web", Class: checks.ClassOK, Latency: latency}}})
		if len(obs) == chunk {
			if err := db.AddRound(obs); err != nil {
				b.Fatal(err)
			}
			obs = obs[:0]
		}
	}
	if err := db.AddRound(obs); err != nil {
		b.Fatal(err)
	}
	for _, inc := range []struct {
		ago, lasted time.Duration
		state       checks.State
	}{
		{20 * day, 40 * time.Minute, checks.Down},
		{9 * day, 2 * time.Hour, checks.Degraded},
		{2 * day, 15 * time.Minute, checks.Down},
	} {
		start := now.Add(-inc.ago)
		for _, t := range []checks.Transition{
			{Service: service, From: checks.Operational, To: inc.state, At: start},
			{Service: service, From: inc.state, To: checks.Operational, At: start.Add(inc.lasted)},
		} {
			if err := db.Commit(nil, []checks.Transition{t}, false); err != nil {
				b.Fatal(err)
			}
		}
	}
	st := checks.Status{Service: service, State: checks.Operational, Announced: checks.Operational,
		Since: now.Add(-2*day + 15*time.Minute), LastCheck: now}
	if err := db.Commit([]checks.Status{st}, nil, false); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// workCounter is a log handler that counts what the handlers log, at
// debug, having made: charts drawn and inline result sets rendered,
// whatever the level the handler it wraps lets through.
type workCounter struct {
	slog.Handler
	charts, inline *atomic.Int64
}

// What the handlers log, at debug, for every chart drawn and every set of
// inline results rendered.
const (
	chartDrawn     = "drew a history chart"
	inlineRendered = "rendered the inline results"
)

func (c workCounter) Enabled(ctx context.Context, l slog.Level) bool {
	return l == slog.LevelDebug || c.Handler.Enabled(ctx, l)
}

func (c workCounter) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case chartDrawn:
		c.charts.Add(1)
	case inlineRendered:
		c.inline.Add(1)
	}
	if !c.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return c.Handler.Handle(ctx, r)
}

func (c workCounter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return workCounter{c.Handler.WithAttrs(attrs), c.charts, c.inline}
}

func (c workCounter) WithGroup(name string) slog.Handler {
	return workCounter{c.Handler.WithGroup(name), c.charts, c.inline}
}
