package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "777:END-TO-END-secret"

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// meta is a fake Meta endpoint that can be switched between healthy and a 503.
type meta struct {
	*httptest.Server
	down atomic.Bool
}

func newMeta(t *testing.T) *meta {
	m := &meta{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.down.Load() {
			http.Error(w, "Sorry, something went wrong", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(m.Close)
	return m
}

// writeConfig writes a fast configuration: whatsapp probed at the switchable
// endpoint, instagram at an always-healthy one, a local control probe.
func writeConfig(t *testing.T, wa, ig, control string) string {
	t.Helper()
	y := fmt.Sprintf(`schedule: "@every 1s"
thresholds: {down_after: 2, up_after: 2, prove_after: 2, recheck: 150ms, round_timeout: 900ms}
official: {url: ""}   # tests never reach metastatus.com
control:
  - {name: local, kind: http, target: %[3]s/generate_204, timeout: 500ms}
services:
  - id: whatsapp
    name: WhatsApp
    aliases: [wa]
    probes:
      - {name: web, kind: http, target: %[1]s/, timeout: 500ms}
      - {name: api, kind: http, target: %[1]s/api, timeout: 500ms}
  - id: instagram
    name: Instagram
    aliases: [ig]
    probes:
      - {name: web, kind: http, target: %[2]s/, timeout: 500ms}
`, wa, ig, control)
	path := filepath.Join(t.TempDir(), "outagebot.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// process is one run of the program.
type process struct {
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	code   int           // run's result, valid once done is closed
}

func start(t *testing.T, env map[string]string, args ...string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{stderr: &syncBuffer{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		p.code = run(ctx, args, func(k string) string { return env[k] }, &syncBuffer{}, p.stderr)
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
		}
	})
	return p
}

// stop sends the equivalent of SIGTERM and returns the exit code; the
// contract is a clean stop within 10 s.
func (p *process) stop(t *testing.T) int {
	t.Helper()
	p.cancel()
	select {
	case <-p.done:
		return p.code
	case <-time.After(10 * time.Second):
		t.Fatalf("did not stop within 10 s; logs:\n%s", p.stderr)
		return -1
	}
}

// eventually polls cond (for conditions no server event signals) until it
// holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; logs:\n%s", what, logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// subscriber is a private user, id 42, and their chat with the bot.
func subscriber(name string) (bottest.User, bottest.Chat) {
	return bottest.User{ID: 42, FirstName: name, LanguageCode: "en"}, bottest.Chat{ID: 42, Type: "private", FirstName: name}
}

// startSubscribed starts the bot and subscribes user to WhatsApp from dm,
// waiting for the reply.
func startSubscribed(ctx context.Context, t *testing.T, tg *bottest.Server, env map[string]string, dm bottest.Chat, user bottest.User) *process {
	t.Helper()
	p := start(t, env)
	tg.SendText(dm, user, "/subscribe whatsapp")
	if err := tg.Wait(ctx, func(s *bottest.Server) bool { return len(s.MessagesTo(dm.ID)) == 1 }); err != nil {
		t.Fatalf("no reply to /subscribe: %v\n%s", err, p.stderr)
	}
	return p
}

// waitProven waits until the probes of service have proven themselves: only
// then do their failures count.
func waitProven(t *testing.T, p *process, service string) {
	t.Helper()
	proven := regexp.MustCompile(`they now count as evidence" .*service=` + service + ` `)
	eventually(t, "the probes of "+service+" to prove themselves", func() bool {
		return proven.MatchString(p.stderr.String())
	}, p.stderr)
}

func texts(msgs []bottest.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Plain())
	}
	return out
}

// statusMessage reports whether m is the channel's pinned status message, or
// an edit of it, which the bot keeps beside its alerts.
func statusMessage(m bottest.Message) bool { return strings.HasPrefix(m.Plain(), "📊") }

// alerts leaves the channel's status message and its edits out of msgs.
func alerts(msgs []bottest.Message) []bottest.Message {
	return slices.DeleteFunc(slices.Clone(msgs), statusMessage)
}

func TestEndToEnd(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	tg.AddChannel("outages", -100777)
	wa, ig := newMeta(t), newMeta(t)
	control := newMeta(t)
	dbPath := filepath.Join(t.TempDir(), "outagebot.db")
	env := map[string]string{
		"TELEGRAM_TOKEN":      token,
		"TELEGRAM_API_URL":    tg.URL,
		"OUTAGEBOT_DB":        dbPath,
		"OUTAGEBOT_CHANNEL":   "@outages",
		"OUTAGEBOT_CONFIG":    writeConfig(t, wa.URL, ig.URL, control.URL),
		"OUTAGEBOT_LOG_LEVEL": "debug",
	}
	user, dm := subscriber("Giulia")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := startSubscribed(ctx, t, tg, env, dm, user)
	if got := tg.MessagesTo(42)[0].Plain(); !strings.Contains(got, "WhatsApp") {
		t.Errorf("reply to /subscribe = %q, want it to name WhatsApp", got)
	}

	// WhatsApp goes down: the channel hears first, then the subscriber.
	waitProven(t, p, "whatsapp")
	wa.down.Store(true)
	if err := tg.Wait(ctx, func(s *bottest.Server) bool {
		return len(s.MessagesTo(42)) == 2 && len(alerts(s.MessagesTo(-100777))) == 1
	}); err != nil {
		t.Fatalf("outage not announced: %v\nmessages: %q\nlogs:\n%s", err, texts(tg.Messages()), p.stderr)
	}
	all := alerts(tg.Messages())
	if all[1].ChatID != -100777 || all[2].ChatID != 42 {
		t.Errorf("announcement order = %d then %d, want the channel (-100777) first", all[1].ChatID, all[2].ChatID)
	}
	down := all[2].Plain()
	// Both of its probes are HTTP: every probe of one kind failing is
	// degraded (a broken proxy looks like that too), not down.
	for _, want := range []string{"WhatsApp", "degraded", "web", "api"} {
		if !strings.Contains(down, want) {
			t.Errorf("down message %q lacks %q", down, want)
		}
	}
	if strings.Contains(all[1].Plain()+down, "Instagram") {
		t.Errorf("healthy Instagram was announced: %q", down)
	}
	// Under the alert, one tap reports being affected.
	alert := all[2]
	if !strings.Contains(string(alert.ReplyMarkup), `aff|whatsapp`) {
		t.Errorf("alert has no \"I'm affected\" button: %s", alert.ReplyMarkup)
	}
	tg.PressButton(dm, user, alert.ID, "\faff|whatsapp")
	if err := tg.Wait(ctx, func(s *bottest.Server) bool { return len(s.Calls("answerCallbackQuery")) == 1 }); err != nil {
		t.Fatalf("button press not answered: %v", err)
	}
	if got := tg.Calls("answerCallbackQuery")[0].Param("text"); !strings.Contains(got, "WhatsApp") {
		t.Errorf("answer to the button = %q, want it to confirm the WhatsApp report", got)
	}

	// It recovers: the subscriber hears it with how long it was down; the
	// channel's post is edited in place and answered by a short reply.
	wa.down.Store(false)
	if err := tg.Wait(ctx, func(s *bottest.Server) bool {
		return len(s.MessagesTo(42)) == 3 && len(alerts(s.MessagesTo(-100777))) == 3
	}); err != nil {
		t.Fatalf("recovery not announced: %v\nmessages: %q\nlogs:\n%s", err, texts(tg.Messages()), p.stderr)
	}
	// Beside the alerts, one pinned message shows the state at a glance,
	// edited after the round that saw the recovery.
	if err := tg.Wait(ctx, func(s *bottest.Server) bool {
		board := slices.DeleteFunc(s.MessagesTo(-100777), func(m bottest.Message) bool { return !statusMessage(m) })
		pinned, ok := s.PinnedMessage(-100777)
		return ok && len(board) > 0 && board[0].ID == pinned &&
			strings.Contains(board[len(board)-1].Plain(), "🟢 WhatsApp: operational")
	}); err != nil {
		t.Fatalf("no pinned status message showing the recovery: %v\nmessages: %q", err, texts(tg.MessagesTo(-100777)))
	}
	back := tg.MessagesTo(42)[2].Plain()
	if !strings.Contains(back, "back") || !strings.Contains(back, "degraded for") {
		t.Errorf("recovery message = %q, want \"back\" and how long it was degraded", back)
	}
	channel := alerts(tg.MessagesTo(-100777))
	if edit := channel[1]; !edit.Edited || edit.ID != channel[0].ID || !strings.Contains(edit.Plain(), "back") {
		t.Errorf("channel post not edited in place to the recovery: %+v", edit)
	}
	if reply := channel[2].Plain(); channel[2].Edited || !strings.Contains(reply, "is back after") {
		t.Errorf("channel reply = %q, want a new post saying it is back after some time", reply)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0; logs:\n%s", code, p.stderr)
	}
	logs1 := p.stderr.String()

	// A restart on the same database announces nothing again, and the
	// subscription is still there.
	before := len(tg.Messages())
	p = start(t, env)
	eventually(t, "three probe rounds after the restart", func() bool {
		return strings.Count(p.stderr.String(), "round done") >= 3
	}, p.stderr)
	tg.SendText(dm, user, "/list")
	if err := tg.Wait(ctx, func(s *bottest.Server) bool { return len(s.Messages()) == before+1 }); err != nil {
		t.Fatalf("no reply to /list: %v", err)
	}
	if diff := cmp.Diff([]int64{42}, chatIDs(tg.Messages()[before:])); diff != "" {
		t.Errorf("after restart the bot sent more than the /list reply (-want +got):\n%s\n%q", diff, texts(tg.Messages()[before:]))
	}
	if got := tg.Messages()[before].Plain(); !strings.Contains(got, "WhatsApp") {
		t.Errorf("/list after restart = %q, want WhatsApp", got)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}

	if strings.Contains(logs1+p.stderr.String(), token) {
		t.Error("the token appears in the logs")
	}
	if fi, err := os.Stat(dbPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("DB file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func chatIDs(msgs []bottest.Message) []int64 {
	var out []int64
	for _, m := range msgs {
		out = append(out, m.ChatID)
	}
	return out
}

func TestSecondInstanceFailsFastOnLockedDB(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	h := newMeta(t)
	env := map[string]string{
		"TELEGRAM_TOKEN":   token,
		"TELEGRAM_API_URL": tg.URL,
		"OUTAGEBOT_DB":     filepath.Join(t.TempDir(), "outagebot.db"),
		"OUTAGEBOT_CONFIG": writeConfig(t, h.URL, h.URL, h.URL),
	}
	first := start(t, env)
	eventually(t, "the first instance to start", func() bool {
		return strings.Contains(first.stderr.String(), "outagebot is running")
	}, first.stderr)
	second := start(t, env)
	select {
	case <-second.done:
		if second.code != 1 || !strings.Contains(second.stderr.String(), "locked") {
			t.Errorf("second instance: exit %d, logs %q; want 1 and a message about the lock", second.code, second.stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second instance hangs on the locked database")
	}
	first.stop(t)
}

func TestCheck(t *testing.T) {
	healthy, failing := newMeta(t), newMeta(t)
	failing.down.Store(true)
	closed := closedPort(t)
	for _, tc := range []struct {
		name     string
		wa, ctrl string
		code     int
		want     []string
	}{
		{"all operational", healthy.URL, healthy.URL, 0, []string{"whatsapp", "operational", "ok"}},
		// Two failing probes of one kind are degraded from one round:
		// every HTTP probe failing is also what a broken proxy looks like.
		{"failing", failing.URL, healthy.URL, 1, []string{"whatsapp", "degraded", "http_5xx", "unverified: HTTP 503", "2 probes did not answer as expected"}},
		{"offline machine", failing.URL, "http://" + closed, 3, []string{"unknown", "offline"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"OUTAGEBOT_CONFIG": writeConfig(t, tc.wa, healthy.URL, tc.ctrl)}
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"check"}, func(k string) string { return env[k] }, &out, &errOut)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\n%s%s", code, tc.code, out.String(), errOut.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tc.code == 3 && strings.Count(out.String(), "unknown") < 2 {
				t.Errorf("offline: every service must be unknown:\n%s", out.String())
			}
		})
	}
}

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestConfigCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	env := map[string]string{"OUTAGEBOT_SCHEDULE": "@every 45s"}
	if code := run(context.Background(), []string{"config"}, func(k string) string { return env[k] }, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	// The output is accepted back unchanged, overrides included.
	back, err := config.Parse("printed", out.Bytes())
	if err != nil {
		t.Fatalf("printed config does not parse back: %v\n%s", err, out.String())
	}
	want := config.Default()
	want.Schedule = "@every 45s"
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("printed config differs from the effective one (-want +got):\n%s", diff)
	}
}

func TestUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("schedule: \"@every 30s\"\nthresholds:\n  down_afterr: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, nil, "unknown command"},
		{"no token", nil, nil, "TELEGRAM_TOKEN"},
		{"unknown YAML key names file and line", []string{"check"}, map[string]string{"OUTAGEBOT_CONFIG": bad}, "bad.yaml:3"},
		{"bad schedule", []string{"config"}, map[string]string{"OUTAGEBOT_SCHEDULE": "every now and then"}, "OUTAGEBOT_SCHEDULE"},
		{"bad log level", []string{"check", "-log-level", "loud"}, nil, "loud"},
		{"flag of another command", []string{"config", "-db", "x.db"}, nil, "-db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut.String(), tc.want)
			}
		})
	}
}

func TestRejectedTokenIsAClearErrorWithoutTheToken(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	const wrong = "999:WRONG-token-must-not-print"
	env := map[string]string{
		"TELEGRAM_TOKEN":   wrong,
		"TELEGRAM_API_URL": tg.URL,
		"OUTAGEBOT_DB":     filepath.Join(t.TempDir(), "outagebot.db"),
	}
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), nil, func(k string) string { return env[k] }, &bytes.Buffer{}, &errOut)
	}()
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(errOut.String(), "rejected TELEGRAM_TOKEN") {
			t.Errorf("exit %d, stderr %q; want 1 and a message naming TELEGRAM_TOKEN", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a rejected token did not stop the bot")
	}
	if strings.Contains(errOut.String(), "WRONG-token") {
		t.Errorf("the token leaked into the error: %s", errOut.String())
	}
}
