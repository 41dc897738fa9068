package handlers_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/handlers"
)

const slowDown = "⏳ Too many requests — please wait a few seconds."

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testNow()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newFloodEnv is an env with the production flood limit, on clk.
func newFloodEnv(t *testing.T, clk *clock) *env {
	return newEnvConfig(t, func(c *handlers.Config) {
		c.Flood = handlers.DefaultFloodLimit()
		c.Now = clk.Now
	})
}

// flood sends text n times at once from a user into a chat and returns the
// plain texts of the bot's answers.
func (e *env) flood(chat bottest.Chat, from bottest.User, text string, n int) []string {
	e.t.Helper()
	before := len(e.srv.Messages())
	for range n {
		e.srv.SendText(chat, from, text)
	}
	e.deliver()
	var out []string
	for _, m := range e.srv.Messages()[before:] {
		out = append(out, m.Plain())
	}
	return out
}

// tally counts the answers equal to notice and the others.
func tally(answers []string, notice string) (notices, others int) {
	for _, a := range answers {
		if a == notice {
			notices++
		} else {
			others++
		}
	}
	return notices, others
}

func TestFloodIsThrottledWithOneNotice(t *testing.T) {
	clk := newClock()
	e := newFloodEnv(t, clk)
	bobChat := bottest.Chat{ID: bob().ID, Type: "private", FirstName: "Bob"}
	for _, step := range []struct {
		name     string
		wait     time.Duration
		chat     bottest.Chat
		from     bottest.User
		n        int
		answered int // /status replies
		notices  int
	}{
		// The first five pass, the sixth draws the notice, the rest are
		// dropped without a word.
		{"fifty at once", 0, aliceChat(), alice(), 50, 5, 1},
		{"someone else at the same moment", 0, bobChat, bob(), 3, 3, 0},
		{"still flooding a second later", time.Second, aliceChat(), alice(), 3, 1, 0},
		{"a steady trickle after the flood", time.Second, aliceChat(), alice(), 1, 1, 0},
		// Quiet long enough for the bucket to fill up: a new flood, and
		// one new notice.
		{"another flood after a pause", 10 * time.Second, aliceChat(), alice(), 8, 5, 1},
	} {
		clk.Advance(step.wait)
		answers := e.flood(step.chat, step.from, "/status", step.n)
		notices, others := tally(answers, slowDown)
		if others != step.answered || notices != step.notices {
			t.Errorf("%s: %d replies and %d notices, want %d and %d: %q",
				step.name, others, notices, step.answered, step.notices, answers)
		}
		if notices > 0 && answers[len(answers)-1] != slowDown {
			t.Errorf("%s: the notice is not the last answer: %q", step.name, answers)
		}
	}
	if n := strings.Count(e.log.String(), "throttling a flood"); n != 2 {
		t.Errorf("%d floods logged, want 2:\n%s", n, e.log)
	}
}

func TestFloodNoticeIsInTheChatsLanguage(t *testing.T) {
	e := newFloodEnv(t, newClock())
	answers := e.flood(giuliaChat(), giulia(), "/help", 6)
	if want := "⏳ Troppe richieste, aspetta qualche secondo."; answers[len(answers)-1] != want {
		t.Errorf("last answer %q, want %q", answers[len(answers)-1], want)
	}
}

func TestFloodOfPresses(t *testing.T) {
	e := newFloodEnv(t, newClock())
	var ids []string
	for range 8 {
		ids = append(ids, e.srv.PressButton(group(), alice(), 777, "\faff|whatsapp"))
	}
	e.deliver()
	var got []string
	answered := make(map[string]string)
	for _, a := range e.srv.Calls("answerCallbackQuery") {
		answered[a.Param("callback_query_id")] = a.Param("text")
	}
	for _, id := range ids {
		got = append(got, answered[id])
	}
	already := "You already reported WhatsApp in the last 30 min."
	want := []string{
		"Thanks — counted. 1 person reported WhatsApp problems in the last 15 min (usually 0).",
		already, already, already, already,
		slowDown,
		// Unanswered: Telegram's client stops waiting by itself, and an
		// answer to each would let one person spend the bot's budget.
		"", "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers to the presses (-want +got):\n%s", diff)
	}
	if msgs := e.srv.Messages(); len(msgs) != 0 {
		t.Errorf("messages %+v, want none: presses are answered, not replied to", msgs)
	}

	// Bob, pressing the same button meanwhile, is unaffected.
	if got := e.press(group(), bob(), 777, "\faff|whatsapp").Param("text"); !strings.HasPrefix(got, "Thanks — counted.") {
		t.Errorf("Bob's press answered %q, want thanks", got)
	}
}

func TestFloodOfAnonymousAdmins(t *testing.T) {
	// Every anonymous admin writes as the same placeholder user: each group
	// has a budget of its own all the same. (/report, whose answer has its
	// own keyboard: a group is not answered /help twice within a minute.)
	e := newFloodEnv(t, newClock())
	var answers []string
	for _, g := range []bottest.Chat{group(), supergroup()} {
		for range 4 {
			for _, m := range e.sendAs(g, g, "/report") {
				answers = append(answers, m.Plain())
			}
		}
	}
	if notices, others := tally(answers, slowDown); others != 8 || notices != 0 {
		t.Errorf("%d replies and %d notices, want 8 and none", others, notices)
	}
}

func TestFloodDoesNotDropMembershipChanges(t *testing.T) {
	e := newFloodEnv(t, newClock())
	e.flood(aliceChat(), alice(), "/subscribe wa", 20)
	if got := e.subs.of(aliceChat().ID); !slices.Equal(got, []string{"whatsapp"}) {
		t.Fatalf("subscriptions %v, want whatsapp", got)
	}
	// Alice blocks the bot in the middle of her flood: the bot must forget
	// her chat all the same.
	e.srv.PushMyChatMember(aliceChat(), alice(), "member", "kicked")
	e.deliver()
	if diff := cmp.Diff([]int64{aliceChat().ID}, e.subs.deleted); diff != "" {
		t.Errorf("deleted chats (-want +got):\n%s", diff)
	}
}

func TestNoFloodLimit(t *testing.T) {
	e := newEnv(t) // the zero FloodLimit
	if answers := e.flood(aliceChat(), alice(), "/help", 20); len(answers) != 20 || slices.Contains(answers, slowDown) {
		t.Errorf("%d answers, want 20 and no notice: %q", len(answers), answers)
	}
}
