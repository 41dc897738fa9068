package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

// Sending limits for fan-out tests: Telegram's free ones, and paid
// broadcast's, which keep a 2,000-chat fan-out to about 2 s.
const (
	freeLimits    = "{global_per_second: 30, chat_per_second: 1, group_per_minute: 20}"
	paidBroadcast = "{global_per_second: 1000, paid_broadcast: true, chat_per_second: 1, group_per_minute: 20}"
)

// seedOutage prepares the database the binary starts from: every chat
// subscribed to WhatsApp, and WhatsApp's outage committed with its
// notifications queued, as a round would have left it.
func seedOutage(t *testing.T, path, probed string, chats []int64) {
	t.Helper()
	db := seedSubscribers(t, path, chats)
	defer db.Close()
	commitDown(t, db, probed, true)
	if n, err := db.OutboxLen(); err != nil || n != len(chats)+1 {
		t.Fatalf("outbox holds %d chats (%v), want %d", n, err, len(chats)+1)
	}
}

// seedSubscribers opens the database at path and subscribes every chat to
// WhatsApp: ids below zero are groups.
func seedSubscribers(t *testing.T, path string, chats []int64) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	subscribeAll(t, db, chats)
	return db
}

// subscribeAll subscribes chats (groups for negative ids) to WhatsApp.
func subscribeAll(t *testing.T, db *store.DB, chats []int64) {
	t.Helper()
	// Concurrent subscriptions share write transactions.
	errs := make([]error, len(chats))
	var wg sync.WaitGroup
	for i, id := range chats {
		c := store.Chat{ID: id, Type: "private"}
		if id < 0 {
			c.Type, c.Title = "group", fmt.Sprintf("group %d", -id)
		}
		wg.Go(func() { _, errs[i] = db.Subscribe(c, []string{"whatsapp"}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// commitDown commits, as a round would, that WhatsApp went down now: its
// notifications are queued for every subscriber, and for the channel when
// channel is set. It returns when that was.
func commitDown(t *testing.T, db *store.DB, probed string, channel bool) time.Time {
	t.Helper()
	at := time.Now()
	evidence := []checks.Result{{Probe: "web", Kind: "http", Target: probed + "/",
		Class: checks.ClassHTTP5xx, Detail: "HTTP 503"}}
	status := checks.Status{Service: "whatsapp", State: checks.Down, Announced: checks.Down,
		Since: at, Evidence: evidence, LastCheck: at}
	down := checks.Transition{Service: "whatsapp", From: checks.Operational, To: checks.Down,
		At: at, Evidence: evidence}
	if err := db.Commit([]checks.Status{status}, []checks.Transition{down}, channel); err != nil {
		t.Fatal(err)
	}
	return at
}

// writeFanOutConfig writes a configuration whose only probe round, at
// start, confirms the stored outage (probed answers 503), with the given
// sending limits.
func writeFanOutConfig(t *testing.T, probed, limits string) string {
	t.Helper()
	y := fmt.Sprintf(`schedule: "@every 1h"
control: []
official: {url: ""}   # tests never reach metastatus.com
limits: %s
services:
  - id: whatsapp
    name: WhatsApp
    probes:
      - {name: web, kind: http, target: %s/, timeout: 2s}
`, limits, probed)
	path := filepath.Join(t.TempDir(), "fanout.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInteractiveReplyDuringFanOut asks /status while 10,000 chats are being
// told of an outage at Telegram's free rate (a fan-out of more than five
// minutes): the reply must not wait behind it.
func TestInteractiveReplyDuringFanOut(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 subscribers")
	}
	tg := bottest.NewServer(token)
	defer tg.Close()
	tg.SetLimits(bottest.Limits{Global: 30, PerChat: 1, PerGroupPerMinute: 20, RetryAfter: 1})
	wa := newMeta(t)
	wa.down.Store(true)
	chats := make([]int64, 10_000)
	for i := range chats {
		chats[i] = int64(i + 1)
	}
	dbPath := filepath.Join(t.TempDir(), "outagebot.db")
	seedOutage(t, dbPath, wa.URL, chats)
	p := start(t, map[string]string{
		"TELEGRAM_TOKEN":   token,
		"TELEGRAM_API_URL": tg.URL,
		"OUTAGEBOT_DB":     dbPath,
		"OUTAGEBOT_CONFIG": writeFanOutConfig(t, wa.URL, freeLimits),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := tg.WaitMessages(ctx, 60); err != nil {
		t.Fatalf("fan-out did not start: %v\n%s", err, p.stderr)
	}

	asker := bottest.User{ID: 99_999_999, FirstName: "Amal", LanguageCode: "ar"}
	asked := time.Now()
	tg.SendText(bottest.Chat{ID: asker.ID, Type: "private"}, asker, "/status")
	if err := tg.Wait(ctx, func(s *bottest.Server) bool { return len(s.MessagesTo(asker.ID)) > 0 }); err != nil {
		t.Fatalf("no reply to /status during the fan-out: %v", err)
	}
	latency := tg.MessagesTo(asker.ID)[0].At.Sub(asked)
	sent := len(tg.Messages())
	t.Logf("reply after %v, with %d of 10,000 fan-out messages sent", latency, sent)
	if latency > 2*time.Second {
		t.Errorf("reply to /status took %v during the fan-out, want under 2 s", latency)
	}
	if sent >= len(chats) {
		t.Errorf("the fan-out was over (%d messages) before the reply: the test proves nothing", sent)
	}
	if n := tg.TooManyRequests(); n != 0 {
		t.Errorf("the bot provoked %d 429s, want 0", n)
	}
	p.stop(t)
}
