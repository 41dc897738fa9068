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

// The chaos test's fan-out: groups -2001..-(2000+chaosGroups), private chats
// 1..chaosPrivates, and the channel.
const (
	chaosGroups   = 10
	chaosPrivates = 290
	chaosChannel  = -100888
)

// chaosOutage is how long Telegram is unreachable. The production backoff
// (1 s doubling to 60 s) cannot be shortened from outside run, so the outage
// is real time, long enough for each retrying caller to meet every fault
// (about 17 s at the longest waits). After it the bot may sleep once more,
// for up to 32 s, before it retries: the test stays under a minute.
const chaosOutage = 20 * time.Second

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

// TestChaos runs the bot through a Telegram outage of 5xx answers,
// connection resets, timeouts, a 429 storm and 409 conflicts, with a
// fan-out and a command pending all along. The bot must keep running, back
// off (its request count is measured against the bound backoff allows), and
// afterwards deliver every notification exactly once and answer the command.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Telegram outage of 20 s in real time")
	}
	tg := bottest.NewServer(token)
	defer tg.Close()
	tg.AddChannel("outages", chaosChannel)
	wa := newMeta(t)
	wa.down.Store(true) // the first round agrees with the stored state
	var subscribers []int64
	for i := range int64(chaosGroups) {
		subscribers = append(subscribers, -2001-i)
	}
	for i := range int64(chaosPrivates) {
		subscribers = append(subscribers, 1+i)
	}
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
	for _, f := range pollerFaults {
		tg.Fail("getUpdates", f)
	}
	for _, f := range senderFaults {
		tg.Fail("sendMessage", f)
	}
	tg.FailAlways("getUpdates", bottest.Fault{Code: 409, Description: conflict})
	tg.FailAlways("", bottest.Fault{Code: 502})

	began := time.Now()
	p := start(t, map[string]string{
		"TELEGRAM_TOKEN":    token,
		"TELEGRAM_API_URL":  tg.URL,
		"OUTAGEBOT_DB":      dbPath,
		"OUTAGEBOT_CHANNEL": "@outages",
		"OUTAGEBOT_CONFIG":  writeFanOutConfig(t, wa.URL, paidBroadcast),
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

	perMethod := make(map[string]int)
	var calls int
	for _, c := range tg.Calls("") {
		if c.At.Before(cleared) {
			perMethod[c.Method]++
			calls++
		}
	}
	outage := cleared.Sub(began)
	// getMe and setMyCommands once each; the poller and the Sender within
	// their backoff; and one call per 429 of the storm, which asks for a
	// pause without raising the Sender's backoff. Without backoff the two
	// would make thousands of calls.
	bound := 2 + 2*backoffCalls(outage) + storm
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
	// the answer to the command asked during the outage.
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	want := append([]int64{chaosChannel}, subscribers...)
	everyone := reachedAll(len(want) + 1) // the asker too
	if err := tg.Wait(ctx, func(s *bottest.Server) bool {
		return everyone(s) && len(s.MessagesTo(asker.ID)) > 0
	}); err != nil {
		t.Fatalf("not recovered %v after the outage: %v; %d messages; logs:\n%s",
			time.Since(cleared).Round(time.Millisecond), err, len(tg.Messages()), p.stderr)
	}
	msgs := tg.Messages()
	reply := tg.MessagesTo(asker.ID)[0]
	fanOut := msgs[len(msgs)-1].At
	if fanOut == reply.At {
		fanOut = msgs[len(msgs)-2].At
	}
	t.Logf("after the outage, /status answered in %v, all %d chats reached in %v",
		reply.At.Sub(cleared).Round(time.Millisecond), len(want), fanOut.Sub(cleared).Round(time.Millisecond))
	if code := p.stop(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0; logs:\n%s", code, p.stderr)
	}

	perChat := make(map[int64]int)
	for _, m := range msgs {
		perChat[m.ChatID]++
		if m.At.Before(cleared) {
			t.Errorf("message to %d sent during the outage", m.ChatID)
		}
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

// TestRunRefusesUnusableDB starts the bot on databases it cannot use: it
// must exit 1 at once, saying which file and why.
func TestRunRefusesUnusableDB(t *testing.T) {
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
