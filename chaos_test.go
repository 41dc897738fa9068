package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/store"
)

// telegramRTT is how long the fake Bot API takes to answer, failures
// included, as Telegram does. It is what leaves several sends in flight when
// the first failure comes back.
const telegramRTT = 100 * time.Millisecond

// chaosOutage is how long Telegram is unreachable. The production backoff
// (1 s doubling to 60 s) cannot be shortened from outside run, so the outage
// is real time, long enough for each retrying caller to meet every fault
// (about 17 s at the longest waits).
const chaosOutage = 20 * time.Second

// freeWorkers is the Sender's in-flight limit at Telegram's free 30
// messages/s: max(4, ceil(0.15 × 30)) (see bot.SenderOptions.Workers).
const freeWorkers = 5

// conflict is Telegram's answer to a getUpdates while another one is running.
const conflict = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"

// backoffCalls bounds the calls made in d by one caller that backs off
// exponentially from 1 s with jitter in the upper half, as bot.Poller and
// bot.Sender do: the wait after the n-th consecutive failure is at least
// half of min(2ⁿ⁻¹ s, 60 s), so the n+1-th call comes at least
// (2ⁿ − 1)/2 s after the first.
func backoffCalls(d time.Duration) int {
	var elapsed time.Duration
	for n := 1; ; n++ {
		elapsed += min(time.Second<<(n-1), time.Minute) / 2
		if elapsed > d {
			return n
		}
	}
}

// chaosSubscribers returns the ids of groups -2001… and private chats 1….
func chaosSubscribers(groups, privates int64) []int64 {
	var ids []int64
	for i := range groups {
		ids = append(ids, -2001-i)
	}
	for i := range privates {
		ids = append(ids, 1+i)
	}
	return ids
}

// TestChaos runs the bot through a Telegram outage of 5xx answers,
// connection resets, timeouts, a 429 storm and 409 conflicts, with a
// fan-out and a command pending all along. The bot must keep running, back
// off (its request count is measured against the bound backoff allows), and
// afterwards deliver every notification exactly once, the channel first,
// and answer the command.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Telegram outage of 20 s in real time")
	}
	const channel = -100888
	tg := bottest.NewServer(token)
	defer tg.Close()
	tg.AddChannel("outages", channel)
	wa := newMeta(t)
	wa.down.Store(true) // the first round agrees with the stored state
	subscribers := chaosSubscribers(10, 140)
	dbPath := filepath.Join(t.TempDir(), "outagebot.db")
	seedOutage(t, dbPath, wa.URL, subscribers)

	// The bot has just identified itself when Telegram goes away: getMe
	// succeeds once, then every call fails. Each of the two callers that
	// keep retrying meets every kind of failure in turn, whatever the
	// timing, because the faults are queued per method; what is left of the
	// queues when the outage ends is dropped with it.
	tg.Fail("getMe", bottest.Fault{})
	pollerFaults := []bottest.Fault{
		{Code: 502},
		{CloseConn: true},
		{Code: 504, Delay: 2 * time.Second}, // a gateway timing out
		{Code: 429, RetryAfter: 1},
	}
	storm := 5 // 429s in a row, each asking for one second
	senderFaults := []bottest.Fault{
		{Code: 502},
		{CloseConn: true},
		// No answer within the Sender's 5 s per call: a timeout.
		{Code: 504, Delay: 6 * time.Second},
	}
	for range storm {
		senderFaults = append(senderFaults, bottest.Fault{Code: 429, RetryAfter: 1})
	}
	for method, faults := range map[string][]bottest.Fault{"getUpdates": pollerFaults, "sendMessage": senderFaults} {
		for _, f := range faults {
			f.Delay = max(f.Delay, telegramRTT)
			tg.Fail(method, f)
		}
	}
	tg.FailAlways("getUpdates", bottest.Fault{Code: 409, Description: conflict, Delay: telegramRTT})
	tg.FailAlways("", bottest.Fault{Code: 502, Delay: telegramRTT})

	began := time.Now()
	p := start(t, map[string]string{
		"TELEGRAM_TOKEN":    token,
		"TELEGRAM_API_URL":  tg.URL,
		"OUTAGEBOT_DB":      dbPath,
		"OUTAGEBOT_CHANNEL": "@outages",
		"OUTAGEBOT_CONFIG":  writeFanOutConfig(t, wa.URL, freeLimits),
	})
	asker := bottest.User{ID: 99_999_999, FirstName: "Kofi", LanguageCode: "en"}
	tg.SendText(bottest.Chat{ID: asker.ID, Type: "private"}, asker, "/status")

	select {
	case <-p.done:
		t.Fatalf("run returned %d during the outage; logs:\n%s", p.code, p.stderr)
	case <-time.After(chaosOutage):
	}
	// Calls before this instant were made during the outage, whatever
	// answer the last of them got.
	cleared := time.Now()
	tg.ClearFaults()
	tg.FailAlways("", bottest.Fault{Delay: telegramRTT})

	perMethod := make(map[string]int)
	var calls int
	for _, c := range tg.Calls("") {
		if c.At.Before(cleared) {
			perMethod[c.Method]++
			calls++
		}
	}
	outage := cleared.Sub(began)
	// getMe and setMyCommands once each. The poller: one call per step of
	// its backoff. The Sender: as many steps, each with at most its
	// in-flight limit of sends out before the first failure comes back. And
	// one call per 429 of the storm, each of which asks for a pause without
	// raising the backoff. Without backoff the two would make thousands.
	steps := backoffCalls(outage)
	bound := 2 + steps + steps*freeWorkers + storm
	t.Logf("%d calls to Telegram during the %v outage (bound %d): %v",
		calls, outage.Round(time.Millisecond), bound, perMethod)
	if calls > bound {
		t.Errorf("%d calls during the outage, want at most %d: the bot does not back off", calls, bound)
	}
	// Timeouts and 429s slow the callers down: these are the fewest calls
	// that reach the ends of the fault queues within the outage.
	if n := perMethod["getUpdates"]; n <= len(pollerFaults) {
		t.Errorf("the poller made %d calls, too few to meet all %d faults and a conflict: the test proves less than it says", n, len(pollerFaults))
	}
	if n := perMethod["sendMessage"]; n < len(senderFaults) {
		t.Errorf("the Sender made %d calls, too few to meet all %d faults: the test proves less than it says", n, len(senderFaults))
	}

	// After the outage: one message per chat, none of them sent before, and
	// the answer to the command asked during the outage. The bot may be
	// asleep for its longest backoff, 60 s, before it finds out.
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Second)
	defer cancel()
	want := append([]int64{channel}, subscribers...)
	everyone := reachedAll(len(want) + 1) // the asker too
	if err := tg.Wait(ctx, func(s *bottest.Server) bool {
		return everyone(s) && len(s.MessagesTo(asker.ID)) > 0
	}); err != nil {
		t.Fatalf("not recovered %v after the outage: %v; %d messages; logs:\n%s",
			time.Since(cleared).Round(time.Millisecond), err, len(tg.Messages()), p.stderr)
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0; logs:\n%s", code, p.stderr)
	}

	reply := tg.MessagesTo(asker.ID)[0]
	perChat := make(map[int64]int)
	var notifications []bottest.Message
	for _, m := range tg.Messages() {
		perChat[m.ChatID]++
		if m.At.Before(cleared) {
			t.Errorf("message to %d sent during the outage", m.ChatID)
		}
		if m.ChatID != asker.ID {
			notifications = append(notifications, m)
		}
	}
	t.Logf("after the outage, /status answered in %v, all %d chats reached in %v",
		reply.At.Sub(cleared).Round(time.Millisecond), len(want),
		notifications[len(notifications)-1].At.Sub(cleared).Round(time.Millisecond))
	if first := notifications[0].ChatID; first != channel {
		t.Errorf("first notification after the outage went to %d, want the channel (%d)", first, channel)
	}
	if n := perChat[asker.ID]; n != 1 || !strings.Contains(reply.Plain(), "WhatsApp") {
		t.Errorf("the asker got %d messages, first %q; want one answer to /status naming WhatsApp", n, reply.Plain())
	}
	delete(perChat, asker.ID)
	for _, id := range want {
		if n := perChat[id]; n != 1 {
			t.Errorf("chat %d got %d messages, want exactly 1", id, n)
		}
		delete(perChat, id)
	}
	if len(perChat) > 0 {
		t.Errorf("messages to chats nobody subscribed (id: count): %v", perChat)
	}
	if strings.Contains(p.stderr.String(), token) {
		t.Error("the token appears in the logs")
	}

	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.OutboxLen(); err != nil || n != 0 {
		t.Errorf("OutboxLen() = %d, %v after the fan-out, want 0", n, err)
	}
}

// TestChaosBurstDuringFanOut fails a few sends of a fan-out at the
// paid-broadcast rate with 502s. With Telegram's latency about 100 sends are
// in flight when the first error comes back, and the burst fails the first
// 20 of them: one failure of Telegram's, which must pause the fan-out for
// the first steps of the backoff (a second or two), not its longest (60 s).
func TestChaosBurstDuringFanOut(t *testing.T) {
	if testing.Short() {
		t.Skip("fans out to 1,000 chats")
	}
	const burst = 20
	tg := bottest.NewServer(token)
	defer tg.Close()
	tg.FailAlways("sendMessage", bottest.Fault{Delay: telegramRTT})
	wa := newMeta(t)
	wa.down.Store(true)
	subscribers := chaosSubscribers(0, 1000)
	dbPath := filepath.Join(t.TempDir(), "outagebot.db")
	seedOutage(t, dbPath, wa.URL, subscribers)
	p := start(t, map[string]string{
		"TELEGRAM_TOKEN":      token,
		"TELEGRAM_API_URL":    tg.URL,
		"OUTAGEBOT_DB":        dbPath,
		"OUTAGEBOT_CONFIG":    writeFanOutConfig(t, wa.URL, paidBroadcast),
		"OUTAGEBOT_LOG_LEVEL": "warn",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := tg.WaitMessages(ctx, 200); err != nil {
		t.Fatalf("fan-out did not start: %v\n%s", err, p.stderr)
	}
	for range burst {
		tg.Fail("sendMessage", bottest.Fault{Code: 502, Delay: telegramRTT})
	}
	hit := time.Now()

	resume, cancelResume := context.WithTimeout(ctx, 10*time.Second)
	defer cancelResume()
	err := tg.Wait(resume, reachedAll(len(subscribers)))
	var stall time.Duration // the longest time without a message since the burst
	last := hit
	for _, m := range tg.Messages() {
		if m.At.After(last) {
			stall = max(stall, m.At.Sub(last))
			last = m.At
		}
	}
	if err != nil {
		stall = max(stall, time.Since(last)) // and counting
	}
	p.stop(t)
	t.Logf("longest pause of the fan-out after the burst: %v", stall.Round(time.Millisecond))
	// Two steps of the backoff: 1 s, then 2 s if the burst outlasted the first.
	if stall > 3*time.Second {
		t.Errorf("a burst of %d 502s paused the fan-out for %v, want at most 3 s; logs:\n%s",
			burst, stall.Round(time.Millisecond), p.stderr)
	}
	if err != nil {
		t.Fatalf("%d of %d chats reached %v after the burst: %v",
			len(tg.Messages()), len(subscribers), time.Since(hit).Round(time.Millisecond), err)
	}
	if n := len(tg.Calls("sendMessage")); n < len(subscribers)+burst {
		t.Errorf("%d sends for %d chats: the burst of %d failures was not all used", n, len(subscribers), burst)
	}
	perChat := make(map[int64]int)
	for _, m := range tg.Messages() {
		perChat[m.ChatID]++
	}
	for _, id := range subscribers {
		if n := perChat[id]; n != 1 {
			t.Errorf("chat %d got %d messages, want exactly 1", id, n)
		}
	}
}

// readOnlyDir makes dir unwritable to this process and returns the reason
// the OS gives for refusing to create a file in it. Modes do not stop root,
// so as root dir is bind-mounted read-only onto itself.
func readOnlyDir(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		// Let the test's cleanup remove it.
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		return "permission denied"
	}
	if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
		t.Skipf("running as root, whom modes do not stop, and cannot bind-mount a directory: %v: %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", dir).CombinedOutput(); err != nil {
		t.Skipf("running as root, whom modes do not stop, and cannot remount a directory read-only: %v: %s", err, bytes.TrimSpace(out))
	}
	return "read-only file system"
}

// TestRunRefusesReadOnlyOrCorruptDB starts the bot on databases it cannot
// use: it must exit 1 at once, saying which file and why.
func TestRunRefusesReadOnlyOrCorruptDB(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup prepares the database path in dir and returns the reason
		// the message must give.
		setup func(t *testing.T, dir, path string) string
	}{
		{"new DB in a read-only directory", func(t *testing.T, dir, _ string) string {
			return readOnlyDir(t, dir)
		}},
		{"file that is not a database", func(t *testing.T, _, path string) string {
			if err := os.WriteFile(path, bytes.Repeat([]byte("not a database\n"), 1000), 0o600); err != nil {
				t.Fatal(err)
			}
			return "invalid database"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := bottest.NewServer(token)
			defer tg.Close()
			dir := t.TempDir()
			path := filepath.Join(dir, "outagebot.db")
			reason := tc.setup(t, dir, path)
			env := map[string]string{
				"TELEGRAM_TOKEN":   token,
				"TELEGRAM_API_URL": tg.URL,
				"OUTAGEBOT_DB":     path,
			}
			var stdout, stderr syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code := run(ctx, nil, func(k string) string { return env[k] }, &stdout, &stderr)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if got := stderr.String(); !strings.Contains(got, path) || !strings.Contains(got, reason) {
				t.Errorf("stderr %q, want it to name %s and say %q", got, path, reason)
			}
			if n := len(tg.Calls("")); n != 0 {
				t.Errorf("the bot called Telegram %d times before giving up on its database", n)
			}
		})
	}
}
