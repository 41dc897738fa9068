package handlers_test

import (
	"bytes"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/handlers"
	"github.com/outagebot/outagebot/history"
	"github.com/outagebot/outagebot/store"
)

// liveStatuses are statuses a test commits rounds to, as the detector does.
type liveStatuses struct {
	mu sync.Mutex
	st map[string]checks.Status
}

func newLiveStatuses() *liveStatuses { return &liveStatuses{st: testStatuses()} }

func (l *liveStatuses) Statuses() (map[string]checks.Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.st), nil
}

// commit stores a round, or a re-check, that found service in state at at.
func (l *liveStatuses) commit(service string, state checks.State, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.st[service]
	if s.State != state {
		s.Since = at
	}
	s.Service, s.State, s.LastCheck = service, state, at
	l.st[service] = s
}

// newLiveEnv is an env whose statuses a test commits rounds to, on clk.
func newLiveEnv(t *testing.T, clk *clock) (*env, *liveStatuses) {
	live := newLiveStatuses()
	e := newEnvConfig(t, func(c *handlers.Config) {
		c.States = live
		c.Now = clk.Now
	})
	return e, live
}

// TestStatusIsNeverOlderThanTheLastCommit asks /status around commits: the
// answer is the same within a round and follows every commit, a re-check
// of one service included.
func TestStatusIsNeverOlderThanTheLastCommit(t *testing.T) {
	clk := newClock()
	e, live := newLiveEnv(t, clk)
	first := e.reply(aliceChat(), alice(), "/status")
	clk.Advance(10 * time.Second)
	if again := e.reply(aliceChat(), alice(), "/status"); again != first {
		t.Errorf("within a round, /status changed from\n%q to\n%q", first, again)
	}
	if it := e.reply(giuliaChat(), giulia(), "/status"); !strings.HasPrefix(it, "Stato alle 16:16") {
		t.Errorf("Giulia's /status = %q, want it in Italian", it)
	}

	for _, step := range []struct {
		name    string
		wait    time.Duration
		service string
		state   checks.State
		asks    map[string]string // question → the line its answer must have
	}{
		{"a round", 20 * time.Second, "instagram", checks.Down, map[string]string{
			"/status":    "🔴 Instagram: down since 16:16 UTC (0 s)",
			"/status ig": "🔴 Instagram is down",
		}},
		{"a re-check of one service", 5 * time.Second, "whatsapp", checks.Operational, map[string]string{
			"/status":    "🟢 WhatsApp: operational",
			"/status wa": "🟢 WhatsApp is operational",
		}},
	} {
		clk.Advance(step.wait)
		live.commit(step.service, step.state, clk.Now())
		for question, want := range step.asks {
			if got := e.reply(aliceChat(), alice(), question); !strings.Contains(got, want) {
				t.Errorf("after %s, %s = %q, want it to say %q", step.name, question, got, want)
			}
		}
	}
}

// TestHistoryDrawnOncePerRoundAndKey counts the charts drawn: one per
// service, window, time zone and language in a round.
func TestHistoryDrawnOncePerRoundAndKey(t *testing.T) {
	clk := newClock()
	e, live := newLiveEnv(t, clk)
	// Charts are slow to draw under -race: a day of rounds, not a month.
	e.history.set(nil, map[string][]store.Sample{"whatsapp": everyRound(24 * time.Hour)})
	rome := bottest.Chat{ID: 46, Type: "private", FirstName: "Roma"}
	e.prefs.m[rome.ID] = store.Settings{TimeZone: "Europe/Rome"}
	var first []byte
	for _, step := range []struct {
		name  string
		chat  bottest.Chat
		from  bottest.User
		text  string
		drawn int
	}{
		{"first", aliceChat(), alice(), "/history wa", 1},
		{"same key, another chat and spelling", bottest.Chat{ID: 43, Type: "private"}, bob(), "/history WhatsApp 24H", 1},
		{"same key in a group", group(), bob(), "/history wa", 1},
		{"another language", giuliaChat(), giulia(), "/history wa", 2},
		{"another window", aliceChat(), alice(), "/history wa 7d", 3},
		{"another time zone", rome, alice(), "/history wa", 4},
		{"that zone again", rome, alice(), "/history wa", 4},
		{"a new round", aliceChat(), alice(), "/history wa", 5},
	} {
		if step.name == "a new round" {
			clk.Advance(30 * time.Second)
			live.commit("whatsapp", checks.Down, clk.Now())
		}
		msgs := e.say(step.chat, step.from, step.text)
		if len(msgs) != 1 || msgs[0].Photo == nil {
			t.Fatalf("%s: got %+v, want a chart", step.name, msgs)
		}
		if got := e.history.drawn(); got != step.drawn {
			t.Errorf("%s: %d charts drawn, want %d", step.name, got, step.drawn)
		}
		switch {
		case first == nil:
			first = msgs[0].Photo
		case step.drawn == 1 && !bytes.Equal(msgs[0].Photo, first):
			t.Errorf("%s: another chart for the same key", step.name)
		}
	}
}

// TestHistoryInTheChatsTimeZone draws the chart of a chat that chose a time
// zone on that zone's clock, unlike that of a chat that chose none.
func TestHistoryInTheChatsTimeZone(t *testing.T) {
	e := newEnv(t)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	e.prefs.m[aliceChat().ID] = store.Settings{TimeZone: "Asia/Kolkata"}
	// The round of testStatuses is at testNow, and nothing was recorded.
	day := history.History{From: testNow().Add(-24 * time.Hour), To: testNow()}
	var want bytes.Buffer
	if err := day.WritePNG(&want, history.ChartOptions{Title: "WhatsApp · 24h", Zone: kolkata}); err != nil {
		t.Fatal(err)
	}
	inKolkata := e.say(aliceChat(), alice(), "/history wa")
	if len(inKolkata) != 1 || !bytes.Equal(inKolkata[0].Photo, want.Bytes()) {
		t.Fatalf("the chart of a chat in Asia/Kolkata is not the one drawn on its clock")
	}
	// The chart has no words, so only the clock can tell it apart.
	inUTC := e.say(giuliaChat(), giulia(), "/history wa")
	if len(inUTC) != 1 || inUTC[0].Photo == nil || bytes.Equal(inUTC[0].Photo, want.Bytes()) {
		t.Errorf("the chart of a chat without a time zone is on the clock of Asia/Kolkata too")
	}
}

// TestGroupAnswersOnce has a group's members ask the same thing within
// seconds: one answer, the one above every question. Private chats, and a
// question after the window, get their own.
func TestGroupAnswersOnce(t *testing.T) {
	for _, text := range []string{"/status", "/status wa", "/services", "/list", "/help", "/history wa 7d"} {
		t.Run(text, func(t *testing.T) {
			clk := newClock()
			e, _ := newLiveEnv(t, clk)
			answers := func(chat bottest.Chat, from bottest.User) int {
				t.Helper()
				return len(e.say(chat, from, text))
			}
			got := 0
			for n := range 10 {
				got += answers(group(), member(n))
				clk.Advance(2 * time.Second)
			}
			if got != 1 {
				t.Errorf("10 members asking within 20 s got %d answers, want 1", got)
			}
			for n := range 3 {
				if got := answers(bottest.Chat{ID: member(n).ID, Type: "private"}, member(n)); got != 1 {
					t.Errorf("in private, member %d got %d answers, want 1", n, got)
				}
			}
			if got := answers(supergroup(), member(1)); got != 1 {
				t.Errorf("another group got %d answers, want 1", got)
			}
			clk.Advance(10 * time.Second) // 30 s after the answer
			if got := answers(group(), member(11)); got != 1 {
				t.Errorf("asked again after 30 s: %d answers, want 1", got)
			}
		})
	}
}

// TestGroupAnswersAgainWhenTheAnswerChanges: a new round, or another topic
// of a forum, is another answer.
func TestGroupAnswersAgainWhenTheAnswerChanges(t *testing.T) {
	clk := newClock()
	e, live := newLiveEnv(t, clk)
	ask := func(topic int, from bottest.User) int {
		t.Helper()
		before := len(e.srv.Messages())
		e.srv.SendTopicText(forum(), from, topic, "/status")
		e.deliver()
		return len(e.srv.Messages()) - before
	}
	for _, step := range []struct {
		name   string
		commit bool
		topic  int
		want   int
	}{
		{"first in topic 7", false, 7, 1},
		{"again in topic 7", false, 7, 0},
		{"in topic 8", false, 8, 1},
		{"in the General topic", false, 0, 1},
		{"after a round, in topic 7", true, 7, 1},
		{"again after the round", false, 7, 0},
	} {
		clk.Advance(time.Second)
		if step.commit {
			live.commit("threads", checks.Degraded, clk.Now())
		}
		if got := ask(step.topic, member(1)); got != step.want {
			t.Errorf("%s: %d answers, want %d", step.name, got, step.want)
		}
	}
}

// TestGroupAnswersOnceWhenAskedAtOnce has ten members ask at the same time
// while the answer is slow to send, or fails: one answer arrives either way.
func TestGroupAnswersOnceWhenAskedAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault bottest.Fault
		calls int // sendMessage calls
	}{
		{"slow send", bottest.Fault{Delay: 100 * time.Millisecond}, 1},
		{"failed send", bottest.Fault{Code: 502}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.Fail("sendMessage", tc.fault)
			for n := range 10 {
				e.srv.SendText(group(), member(n), "/status")
			}
			e.deliverAtOnce()
			if got := len(e.srv.Messages()); got != 1 {
				t.Errorf("%d answers, want 1", got)
			}
			if got := len(e.srv.Calls("sendMessage")); got != tc.calls {
				t.Errorf("%d sendMessage calls, want %d", got, tc.calls)
			}
		})
	}
}

// deliverAtOnce hands every queued update to the bot at the same time, each
// on a goroutine of its own as telebot does, and waits for the handlers.
func (e *env) deliverAtOnce() {
	e.t.Helper()
	var wg sync.WaitGroup
	for _, u := range e.updates() {
		wg.Go(func() { e.bot.ProcessUpdate(u) })
	}
	wg.Wait()
}
