//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/store"
)

// The database of BenchmarkAtScale, the shape of store's
// BenchmarkSubscribers: every chat follows whatsapp and one other service,
// one chat in five is a supergroup.
const (
	scaleChats = 500_000
	// scaleGroups are -1000000100000 to -1000000000001: "-100…" ids, which
	// both Telegram and bottest take for supergroups.
	scaleGroups  = scaleChats / 5
	scaleChannel = -100_888
	// scaleSubscribers is how many Subscribe calls run at once: twice
	// bbolt's default MaxBatchSize, so that every batch transaction is full.
	scaleSubscribers = 2000
	// fanOutWindow is how long the fan-out runs before the last sample.
	fanOutWindow = 10 * time.Second
	// stateChanged is the line the watcher logs just before it commits a
	// round's transitions.
	stateChanged = "service state changed"
)

// mb is the unit of every size reported: 2^20 bytes, as /proc's "kB" are KiB.
const mb = 1 << 20

// BenchmarkAtScale runs the binary on a database of 1,000,000 subscriptions
// over 500,000 chats and measures what store's BenchmarkSubscribers cannot:
// the bot process's resident memory when idle, once the first round has
// queued WhatsApp's outage for all 500,000 chats in one transaction, and
// after 10 s of fan-out at paid broadcast's 1000 messages/s; the database
// file before and after that transaction; how long the outage takes to
// reach the channel; and the fan-out rate.
func BenchmarkAtScale(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a database of 1,000,000 subscriptions and runs the binary on it")
	}
	bin := buildBinary(b)
	dir := b.TempDir()
	template := filepath.Join(dir, "template.db")
	built := time.Now()
	buildScaleDB(b, template)
	buildTime := time.Since(built)

	var f scaleFigures
	for b.Loop() {
		// Every run starts from the database before the outage.
		db := filepath.Join(dir, "outagebot.db")
		if err := copyFile(db, template); err != nil {
			b.Fatal(err)
		}
		f = runAtScale(b, bin, db)
	}

	b.ReportMetric(buildTime.Seconds(), "build-s")
	b.ReportMetric(f.dbBefore, "db-MB")
	b.ReportMetric(f.dbAfter, "db-commit-MB")
	b.ReportMetric(f.idle.rss, "idle-rss-MB")
	b.ReportMetric(f.committed.rss, "commit-rss-MB")
	b.ReportMetric(f.committed.anon, "commit-anon-MB")
	b.ReportMetric(f.fanOut.rss, "fanout-rss-MB")
	b.ReportMetric(f.fanOut.anon, "fanout-anon-MB")
	b.ReportMetric(f.fanOut.hwm, "peak-rss-MB")
	b.ReportMetric(f.firstPost.Seconds(), "first-post-s")
	b.ReportMetric(f.decidedToPost.Seconds(), "decided-to-post-s")
	b.ReportMetric(f.rate, "msgs/s")
	b.Logf("database of %d chats, %d subscriptions: built through Subscribe in %v; %.0f MB, %.0f MB after the outage's commit",
		scaleChats, 2*scaleChats, buildTime.Round(time.Millisecond), f.dbBefore, f.dbAfter)
	b.Logf("bot RSS (anonymous, peak): idle %s, after the commit %s, after %v of fan-out %s",
		f.idle, f.committed, fanOutWindow, f.fanOut)
	b.Logf("channel post %v after start, %v after the round decided; fan-out %.0f messages/s; exit 0 %v after SIGTERM, outbox %d left",
		f.firstPost.Round(time.Millisecond), f.decidedToPost.Round(time.Millisecond), f.rate, f.stop.Round(time.Millisecond), f.left)
}

// scaleFigures are the measurements of one run.
type scaleFigures struct {
	dbBefore, dbAfter              float64 // MB
	idle, committed, fanOut        memory
	firstPost, decidedToPost, stop time.Duration
	rate                           float64 // messages/s during fanOutWindow
	left                           int     // outbox entries after the stop
}

// runAtScale starts the binary on the database at dbPath, lets its first
// round announce WhatsApp's outage, samples it through the fan-out and stops
// it.
func runAtScale(b *testing.B, bin, dbPath string) scaleFigures {
	var f scaleFigures
	var err error
	if f.dbBefore, err = fileMB(dbPath); err != nil {
		b.Fatal(err)
	}
	tg := bottest.NewServer(token)
	defer tg.Close()
	tg.AddChannel("outages", scaleChannel)
	// paidBroadcast's limits, enforced: a 429 would mean the bot overran them.
	tg.SetLimits(bottest.Limits{Global: 1000, PerChat: 1, PerGroupPerMinute: 20, RetryAfter: 1})
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Sorry, something went wrong", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	env := []string{
		"TELEGRAM_TOKEN=" + token,
		"TELEGRAM_API_URL=" + tg.URL,
		"OUTAGEBOT_DB=" + dbPath,
		"OUTAGEBOT_CHANNEL=@outages",
		"OUTAGEBOT_CONFIG=" + writeScaleConfig(b, down.URL),
		"OUTAGEBOT_LOG_LEVEL=info",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	p := startBot(ctx, b, bin, env)
	if err := tg.Wait(p.alive, func(s *bottest.Server) bool { return len(s.Calls("getUpdates")) > 0 }); err != nil {
		b.Fatalf("no getUpdates: %v (%v); logs:\n%s", err, context.Cause(p.alive), p.log)
	}
	f.idle = p.memory(b)
	if _, ok := p.log.decided(); ok {
		b.Fatalf("the round decided before the first getUpdates: the idle sample may include its commit; logs:\n%s", p.log)
	}

	// The channel post follows the commit at once: the outbox then holds
	// an entry for every chat.
	msgs, err := tg.WaitMessages(p.alive, 1)
	if err != nil {
		b.Fatalf("no channel post: %v (%v); logs:\n%s", err, context.Cause(p.alive), p.log)
	}
	f.committed = p.memory(b)
	if f.dbAfter, err = fileMB(dbPath); err != nil {
		b.Fatal(err)
	}
	if got := msgs[0].ChatID; got != scaleChannel {
		b.Errorf("first message went to chat %d, want the channel %d", got, scaleChannel)
	}
	f.firstPost = msgs[0].At.Sub(p.started)
	decided, ok := p.log.decided()
	if !ok {
		b.Fatalf("a message was sent before the round logged %q; logs:\n%s", stateChanged, p.log)
	}
	f.decidedToPost = msgs[0].At.Sub(decided)

	sent := len(tg.Messages())
	began := time.Now()
	select {
	case <-time.After(fanOutWindow):
	case <-p.alive.Done():
		b.Fatalf("outagebot stopped during the fan-out (%v); logs:\n%s", context.Cause(p.alive), p.log)
	}
	f.rate = float64(len(tg.Messages())-sent) / time.Since(began).Seconds()
	f.fanOut = p.memory(b)
	asked := time.Now()
	p.terminate(b, p.log)
	f.stop = time.Since(asked)
	if n := tg.TooManyRequests(); n != 0 {
		b.Errorf("the bot provoked %d 429s, want 0", n)
	}
	f.left = checkNothingLost(b, dbPath, tg.Messages())
	return f
}

// checkNothingLost checks that every chat the bot did not reach is still in
// the outbox after its clean stop, and returns the outbox's length.
func checkNothingLost(b *testing.B, dbPath string, msgs []bottest.Message) int {
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	left, err := db.OutboxLen()
	if err != nil {
		b.Fatal(err)
	}
	reached := make(map[int64]bool, len(msgs))
	for _, m := range msgs {
		reached[m.ChatID] = true
	}
	if want := scaleChats + 1 - len(reached); left != want {
		b.Errorf("after a clean stop the outbox holds %d chats, want the %d not reached", left, want)
	}
	return left
}

// writeScaleConfig writes a configuration whose first round sees WhatsApp
// down at probed, strongly enough (two probes failing hard) to announce it
// after the default re-check; the limits are paid broadcast's. It reads
// nothing on the internet: no control probes, no Meta status page.
func writeScaleConfig(b *testing.B, probed string) string {
	y := fmt.Sprintf(`schedule: "@every 1h"
control: []
official: {url: ""}
limits: %s
services:
  - id: whatsapp
    name: WhatsApp
    probes:
      - {name: web, kind: http, target: %[2]s/, timeout: 2s}
      - {name: api, kind: http, target: %[2]s/api, timeout: 2s}
`, paidBroadcast, probed)
	path := filepath.Join(b.TempDir(), "scale.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// buildScaleDB writes the database through the public API, as the handlers
// would have over time, with enough concurrent Subscribe calls that they
// share bbolt's batch transactions.
func buildScaleDB(b *testing.B, path string) {
	db, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	others := []string{"instagram", "facebook", "messenger", "threads"}
	added := time.Now()
	chats := make(chan int, scaleSubscribers)
	errs := make([]error, scaleSubscribers)
	var wg sync.WaitGroup
	for w := range scaleSubscribers {
		wg.Go(func() {
			for i := range chats {
				if errs[w] != nil {
					continue // keep draining: the producer must not block
				}
				c := store.Chat{ID: int64(i + 1), Type: "private", Added: added}
				if i < scaleGroups {
					c.ID, c.Type = -1_000_000_100_000+int64(i), "supergroup"
				}
				_, errs[w] = db.Subscribe(c, []string{"whatsapp", others[i%len(others)]})
			}
		})
	}
	// In key order, groups first, as store's benchmark inserts: each batch
	// then appends to the B+trees instead of splitting pages all over them.
	for i := range scaleChats {
		chats <- i
	}
	close(chats)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
}

// botRun is one run of the binary under measurement.
type botRun struct {
	*child
	log     *watchedLog
	started time.Time
}

// startBot starts the binary; the benchmark's cleanup kills it if it still
// runs.
func startBot(ctx context.Context, b *testing.B, bin string, env []string) *botRun {
	log := &watchedLog{}
	started := time.Now()
	return &botRun{child: startChild(ctx, b, bin, env, log, 1), log: log, started: started}
}

// memory samples the process's resident memory.
func (p *botRun) memory(b *testing.B) memory {
	m, err := readMemory(p.cmd.Process.Pid)
	if err != nil {
		b.Fatalf("%v; logs:\n%s", err, p.log)
	}
	return m
}

// watchedLog keeps the process's log for failure messages and notes when
// the watcher logged its first state change: slog writes each record with
// one Write.
type watchedLog struct {
	syncBuffer
	mu      sync.Mutex
	changed time.Time // zero until the first state change
}

func (l *watchedLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(stateChanged)) {
		l.mu.Lock()
		if l.changed.IsZero() {
			l.changed = time.Now()
		}
		l.mu.Unlock()
	}
	return l.syncBuffer.Write(p)
}

// decided returns when the round decided on the first state change, and
// whether it did yet.
func (l *watchedLog) decided() (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed, !l.changed.IsZero()
}

// memory is a process's resident set, in MB: now, at its peak, and the
// part of it that is anonymous (the Go heap and stacks, not bbolt's mapping
// of the file, which the kernel can drop and read again).
type memory struct {
	rss, hwm, anon float64
}

func (m memory) String() string {
	return fmt.Sprintf("%.0f MB (%.0f, %.0f)", m.rss, m.anon, m.hwm)
}

// readMemory reads VmRSS, VmHWM and RssAnon from /proc/pid/status.
func readMemory(pid int) (memory, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return memory{}, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	var m memory
	found := 0
	for line := range strings.Lines(string(data)) {
		name, value, _ := strings.Cut(line, ":")
		var dst *float64
		switch name {
		case "VmRSS":
			dst = &m.rss
		case "VmHWM":
			dst = &m.hwm
		case "RssAnon":
			dst = &m.anon
		default:
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 64)
		if err != nil {
			return memory{}, fmt.Errorf("parse %s in %s: %w", name, path, err)
		}
		*dst = kb * 1024 / mb
		found++
	}
	if found != 3 {
		return memory{}, fmt.Errorf("%s lacks VmRSS, VmHWM or RssAnon", path)
	}
	return m, nil
}

// fileMB returns the size of the file at path in MB.
func fileMB(path string) (float64, error) {
	info, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("size of database: %w", err)
	}
	return float64(info.Size()) / mb, nil
}

// copyFile copies the file at src to dst, replacing dst.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close() // the copy's error is the one worth reporting
		return fmt.Errorf("copy database to %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy database to %s: %w", dst, err)
	}
	return nil
}
