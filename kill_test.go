//go:build unix

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/store"
)

// inFlightBound is how many notifications one SIGKILL may cause to be sent
// twice: the messages sent but not yet acknowledged on disk, which the
// Sender bounds by its Workers: ceil(0.15 × 1000/s) = 150 at this test's
// paid-broadcast rate (see bot.SenderOptions.Workers).
const inFlightBound = 150

// The kill test's fan-out: private chats 1..killPrivates, groups
// -1001..-(1000+killGroups), and the channel.
const (
	killPrivates = 2000
	killGroups   = 20
	killChannel  = -100777
)

// sendLatency is how long the fake Bot API takes to answer a sendMessage, a
// fraction of Telegram's real round trip. Without it a local send ends long
// before its acknowledgement commits, kills would almost never find a send in
// flight, and a sender that acknowledged before sending would pass.
const sendLatency = 10 * time.Millisecond

// killSeed replays a failed run: the test logs the seed it used.
var killSeed = flag.Uint64("kill-seed", 0, "replay TestKillDuringFanOut with this seed (0: a random one)")

// TestKillDuringFanOut kills the real binary with SIGKILL at random moments
// of a fan-out and restarts it on the same database: every chat must be
// reached, and only the messages in flight at a kill may arrive twice.
func TestKillDuringFanOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	seed := *killSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -kill-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	bin := buildBinary(t)
	tg := bottest.NewServer(token)
	t.Cleanup(tg.Close)
	tg.AddChannel("outages", killChannel)
	tg.FailAlways("sendMessage", bottest.Fault{Delay: sendLatency})
	wa := newMeta(t)
	wa.down.Store(true) // the first round agrees with the stored state
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "outagebot.db")
	seedOutage(t, dbPath, wa.URL, killSubscribers())
	env := []string{
		"TELEGRAM_TOKEN=" + token,
		"TELEGRAM_API_URL=" + tg.URL,
		"OUTAGEBOT_DB=" + dbPath,
		"OUTAGEBOT_CHANNEL=@outages",
		"OUTAGEBOT_CONFIG=" + writeFanOutConfig(t, wa.URL, paidBroadcast),
		"OUTAGEBOT_LOG_LEVEL=warn",
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	began := time.Now()

	// Each kill comes after at most 350 new messages, so even five of them
	// leave part of the 2,021 chats unreached: every kill is mid-fan-out.
	kills := 4 + rng.IntN(2)
	for i := range kills {
		after := 50 + rng.IntN(301)
		before := len(tg.Messages())
		p := startChild(ctx, t, bin, env, logs, i+1)
		if _, err := tg.WaitMessages(p.alive, before+after); err != nil {
			t.Fatalf("run %d: %v (%v); logs:\n%s", i+1, err, context.Cause(p.alive), logs)
		}
		p.kill(t, logs)
		t.Logf("run %d: killed after %d new messages (%d asked)", i+1, len(tg.Messages())-before, after)
	}

	p := startChild(ctx, t, bin, env, logs, kills+1)
	want := append([]int64{killChannel}, killSubscribers()...)
	if err := tg.Wait(p.alive, reachedAll(len(want))); err != nil {
		// Stop anyway: the database and the counts below say what is missing.
		t.Errorf("last run: not every chat reached: %v (%v); logs:\n%s", err, context.Cause(p.alive), logs)
	}
	elapsed := time.Since(began)
	p.terminate(t, logs)

	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.OutboxLen(); err != nil || n != 0 {
		pending, _ := db.Outbox(nil, 20)
		t.Errorf("OutboxLen() = %d, %v after a clean stop, want 0; first pending: %v", n, err, pendingIDs(pending))
	}

	msgs := tg.Messages()
	perChat := make(map[int64]int)
	var wrong []string
	for _, m := range alerts(msgs) {
		perChat[m.ChatID]++
		if got := m.Plain(); !strings.Contains(got, "WhatsApp is down") {
			wrong = append(wrong, fmt.Sprintf("%d: %q", m.ChatID, got))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d messages are not the WhatsApp outage, first: %s", len(wrong), wrong[0])
	}
	var missing []int64
	var duplicates, maxPerChat int
	for _, id := range want {
		n := perChat[id]
		delete(perChat, id)
		if n == 0 {
			missing = append(missing, id)
		}
		if n > 1 && id < 0 {
			// The channel and the groups go first and are acknowledged long
			// before the first kill: a second post is a repeat that a whole
			// group sees, and that Telegram counts against its 20 a minute.
			t.Errorf("group or channel %d got %d messages, want exactly 1", id, n)
		}
		duplicates += max(n-1, 0)
		maxPerChat = max(maxPerChat, n)
	}
	if len(missing) > 0 {
		t.Errorf("%d chats never got the outage: %v", len(missing), missing[:min(len(missing), 20)])
	}
	if len(perChat) > 0 {
		t.Errorf("messages to chats nobody subscribed (id: count): %v", perChat)
	}
	t.Logf("kills %d, duplicates %d, max per chat %d, messages %d, elapsed %v",
		kills, duplicates, maxPerChat, len(msgs), elapsed.Round(time.Millisecond))
	if bound := kills * inFlightBound; duplicates > bound {
		t.Errorf("%d duplicates after %d kills, want at most %d (%d in flight per kill)",
			duplicates, kills, bound, inFlightBound)
	}
}

// buildBinary builds the command without -race, so that the fan-out stays
// fast when the tests themselves run under the race detector.
func buildBinary(t testing.TB) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "outagebot")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// killSubscribers returns the ids of the groups and private chats
// subscribed to WhatsApp.
func killSubscribers() []int64 {
	var ids []int64
	for i := range int64(killGroups) {
		ids = append(ids, -1001-i)
	}
	for i := range int64(killPrivates) {
		ids = append(ids, 1+i)
	}
	return ids
}

// child is one run of the binary.
type child struct {
	cmd *exec.Cmd
	// alive ends when the process exits or the test's deadline passes;
	// its cause says which.
	alive context.Context
	done  chan struct{} // closed once the process has been waited for
}

func startChild(ctx context.Context, t testing.TB, bin string, env []string, logs io.Writer, run int) *child {
	t.Helper()
	fmt.Fprintf(logs, "--- run %d ---\n", run)
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("run %d: %v", run, err)
	}
	alive, exited := context.WithCancelCause(ctx)
	p := &child{cmd: cmd, alive: alive, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		exited(fmt.Errorf("outagebot exited: %v", err))
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // fails harmlessly when the test already ended it
		<-p.done
	})
	return p
}

// kill sends SIGKILL and checks that the process was running until then.
func (p *child) kill(t *testing.T, logs *syncBuffer) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	<-p.done
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("outagebot ended on its own (%v) before the kill; logs:\n%s", p.cmd.ProcessState, logs)
	}
}

// terminate sends SIGTERM and checks the contract: exit 0 within 10 s.
func (p *child) terminate(t testing.TB, logs fmt.Stringer) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("outagebot did not stop within 10 s of SIGTERM; logs:\n%s", logs)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0; logs:\n%s", code, logs)
	}
}

// reachedAll returns a Wait condition that holds once n distinct chats got a
// message. Messages only grow, so it looks at each one once.
func reachedAll(n int) func(*bottest.Server) bool {
	seen := make(map[int64]bool)
	next := 0
	return func(s *bottest.Server) bool {
		msgs := s.Messages()
		for _, m := range alerts(msgs[next:]) {
			seen[m.ChatID] = true
		}
		next = len(msgs)
		return len(seen) >= n
	}
}

func pendingIDs(ds []store.Delivery) []int64 {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ChatID
	}
	return ids
}

// TestKillDuringCommand kills the binary while it handles a /subscribe:
// the subscription is stored, the reply is on its way. Telegram has been
// told the update was received (the next getUpdates confirmed it), yet the
// restarted bot handles it again and the person gets their answer.
func TestKillDuringCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	tg := bottest.NewServer(token)
	t.Cleanup(tg.Close)
	h := newMeta(t)
	dbPath := filepath.Join(t.TempDir(), "outagebot.db")
	env := []string{
		"TELEGRAM_TOKEN=" + token,
		"TELEGRAM_API_URL=" + tg.URL,
		"OUTAGEBOT_DB=" + dbPath,
		"OUTAGEBOT_CONFIG=" + writeConfig(t, h.URL, h.URL, h.URL),
	}
	user := bottest.User{ID: 42, FirstName: "Giulia", LanguageCode: "en"}
	dm := bottest.Chat{ID: 42, Type: "private", FirstName: "Giulia"}
	logs := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	// The reply hangs, so the handler is still running at the kill.
	tg.FailAlways("sendMessage", bottest.Fault{Delay: time.Minute, ChatID: dm.ID})
	p := startChild(ctx, t, bin, env, logs, 1)
	id := tg.SendText(dm, user, "/subscribe whatsapp")
	// Telegram forgets the update once a getUpdates asks past it.
	confirmed := func(s *bottest.Server) bool {
		for _, c := range s.Calls("getUpdates") {
			if offset, err := strconv.Atoi(c.Param("offset")); err == nil && offset > id {
				return true
			}
		}
		return false
	}
	replying := func(s *bottest.Server) bool { return len(s.Calls("sendMessage")) > 0 && confirmed(s) }
	if err := tg.Wait(p.alive, replying); err != nil {
		t.Fatalf("the reply never started, or the update was not confirmed: %v (%v); logs:\n%s", err, context.Cause(p.alive), logs)
	}
	p.kill(t, logs)
	if len(tg.MessagesTo(dm.ID)) != 0 {
		t.Fatal("the reply got through before the kill; the test proves nothing")
	}

	tg.ClearFaults()
	p = startChild(ctx, t, bin, env, logs, 2)
	if err := tg.Wait(p.alive, func(s *bottest.Server) bool { return len(s.MessagesTo(dm.ID)) > 0 }); err != nil {
		t.Fatalf("the /subscribe was never answered after the restart: %v (%v); logs:\n%s", err, context.Cause(p.alive), logs)
	}
	if got := tg.MessagesTo(dm.ID)[0].Plain(); !strings.Contains(got, "WhatsApp") {
		t.Errorf("reply after the restart = %q, want it to be about WhatsApp", got)
	}
	p.terminate(t, logs)
	if n := len(tg.MessagesTo(dm.ID)); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}

	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if subs, err := db.Subscriptions(dm.ID); err != nil || !slices.Equal(subs, []string{"whatsapp"}) {
		t.Errorf("Subscriptions(%d) = %v, %v, want [whatsapp]", dm.ID, subs, err)
	}
}
