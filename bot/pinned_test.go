package bot

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

// boardRenderer renders "service:announced" lines, in service order.
type boardRenderer struct{}

func (boardRenderer) ChannelStatus(lang string, statuses map[string]checks.Status) string {
	var lines []string
	for id, st := range statuses {
		lines = append(lines, id+":"+string(st.Announced))
	}
	slices.Sort(lines)
	return lang + "\n" + strings.Join(lines, "\n")
}

type boardFixture struct {
	srv   *bottest.Server
	db    *store.DB
	board *StatusBoard
}

const boardChannel = -100999

func newBoardFixture(t *testing.T, channel string) *boardFixture {
	t.Helper()
	srv := bottest.NewServer(testToken)
	t.Cleanup(srv.Close)
	srv.AddChannel("outages", boardChannel)
	db, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &boardFixture{srv: srv, db: db, board: newBoard(srv, db, channel)}
}

func newBoard(srv *bottest.Server, db *store.DB, channel string) *StatusBoard {
	client := NewClient(srv.URL, NewHTTPClient(testToken, 5*time.Second))
	return NewStatusBoard(client, db, boardRenderer{}, StatusBoardOptions{Channel: channel, Lang: "it", Budget: NewBudget(BudgetOptions{Limits: Limits{GlobalPerSecond: 1000}})})
}

// announce stores the announced state of services, as a round does.
func (f *boardFixture) announce(t *testing.T, states map[string]checks.State) {
	t.Helper()
	var sts []checks.Status
	for id, s := range states {
		sts = append(sts, checks.Status{Service: id, State: s, Announced: s})
	}
	if err := f.db.Commit(sts, nil, true); err != nil {
		t.Fatal(err)
	}
}

// calls counts the calls of each method that change the channel.
func (f *boardFixture) calls() map[string]int {
	out := map[string]int{}
	for _, m := range []string{"sendMessage", "editMessageText", "pinChatMessage"} {
		if n := len(f.srv.Calls(m)); n > 0 {
			out[m] = n
		}
	}
	return out
}

func TestStatusBoardPostsOncePinsOnceEditsOnChange(t *testing.T) {
	f := newBoardFixture(t, "@outages")
	ctx := t.Context()
	for _, step := range []struct {
		name   string
		states map[string]checks.State // announced before the update; nil: unchanged
		calls  map[string]int          // every call so far
		text   string                  // the message as it stands
	}{
		{"nothing checked yet", nil, map[string]int{}, ""},
		{"first round", map[string]checks.State{"whatsapp": checks.Operational, "threads": checks.Operational},
			map[string]int{"sendMessage": 1, "pinChatMessage": 1}, "it\nthreads:operational\nwhatsapp:operational"},
		{"nothing changed", nil,
			map[string]int{"sendMessage": 1, "pinChatMessage": 1}, "it\nthreads:operational\nwhatsapp:operational"},
		{"the same states again", map[string]checks.State{"whatsapp": checks.Operational},
			map[string]int{"sendMessage": 1, "pinChatMessage": 1}, "it\nthreads:operational\nwhatsapp:operational"},
		{"an outage", map[string]checks.State{"whatsapp": checks.Down},
			map[string]int{"sendMessage": 1, "pinChatMessage": 1, "editMessageText": 1}, "it\nthreads:operational\nwhatsapp:down"},
		{"still down", nil,
			map[string]int{"sendMessage": 1, "pinChatMessage": 1, "editMessageText": 1}, "it\nthreads:operational\nwhatsapp:down"},
		{"back", map[string]checks.State{"whatsapp": checks.Operational},
			map[string]int{"sendMessage": 1, "pinChatMessage": 1, "editMessageText": 2}, "it\nthreads:operational\nwhatsapp:operational"},
	} {
		if step.states != nil {
			f.announce(t, step.states)
		}
		if err := f.board.Update(ctx); err != nil {
			t.Fatalf("%s: Update: %v", step.name, err)
		}
		if diff := cmp.Diff(step.calls, f.calls()); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", step.name, diff)
		}
		if step.text == "" {
			continue
		}
		msgs := f.srv.MessagesTo(boardChannel)
		if len(msgs) == 0 {
			t.Fatalf("%s: nothing in the channel", step.name)
		}
		if got := msgs[len(msgs)-1].Text; got != step.text {
			t.Errorf("%s: message = %q, want %q", step.name, got, step.text)
		}
		if pinned, _ := f.srv.PinnedMessage(boardChannel); pinned != msgs[0].ID {
			t.Errorf("%s: pinned message %d, want the status message %d", step.name, pinned, msgs[0].ID)
		}
	}
	post := f.srv.Calls("sendMessage")[0]
	if post.Param("disable_notification") != "true" {
		t.Errorf("status message posted with sound: %v", post.Params)
	}
	if pin := f.srv.Calls("pinChatMessage")[0]; pin.Param("disable_notification") != "true" {
		t.Errorf("status message pinned with sound: %v", pin.Params)
	}
}

func TestStatusBoardSurvivesARestart(t *testing.T) {
	f := newBoardFixture(t, "@outages")
	f.announce(t, map[string]checks.State{"whatsapp": checks.Down})
	if err := f.board.Update(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A new process finds its message and leaves it be.
	if err := newBoard(f.srv, f.db, "@outages").Update(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"sendMessage": 1, "pinChatMessage": 1}, f.calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// Configured for another channel, it posts there.
	f.srv.AddChannel("elsewhere", -100888)
	if err := newBoard(f.srv, f.db, "@elsewhere").Update(t.Context()); err != nil {
		t.Fatal(err)
	}
	if pinned, ok := f.srv.PinnedMessage(-100888); !ok || len(f.srv.MessagesTo(-100888)) != 1 {
		t.Errorf("new channel: pinned %d (%v), %d messages; want one message, pinned", pinned, ok, len(f.srv.MessagesTo(-100888)))
	}
}

func TestStatusBoardDeletedMessageIsPostedAgain(t *testing.T) {
	f := newBoardFixture(t, "@outages")
	f.announce(t, map[string]checks.State{"whatsapp": checks.Operational})
	if err := f.board.Update(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.srv.Fail("editMessageText", bottest.Fault{Code: 400, Description: "Bad Request: message to edit not found"})
	f.announce(t, map[string]checks.State{"whatsapp": checks.Down})
	if err := f.board.Update(t.Context()); err != nil {
		t.Fatal(err)
	}
	msgs := f.srv.MessagesTo(boardChannel)
	if len(msgs) != 2 || msgs[1].Text != "it\nwhatsapp:down" {
		t.Fatalf("channel messages %q, want the first and a new one saying down", texts(msgs))
	}
	if pinned, _ := f.srv.PinnedMessage(boardChannel); pinned != msgs[1].ID {
		t.Errorf("pinned message %d, want the new one %d", pinned, msgs[1].ID)
	}
}

func TestStatusBoardRefusedPinIsRetriedWithTheNextChange(t *testing.T) {
	f := newBoardFixture(t, "@outages")
	f.srv.Fail("pinChatMessage", bottest.Fault{Code: 400, Description: "Bad Request: not enough rights to pin a message"})
	f.announce(t, map[string]checks.State{"whatsapp": checks.Operational})
	if err := f.board.Update(t.Context()); err == nil || !strings.Contains(err.Error(), "right to pin") {
		t.Errorf("Update with the pin refused = %v, want an error that names the missing right", err)
	}
	// Unchanged: neither a second post nor a pin every round.
	if err := f.board.Update(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"sendMessage": 1, "pinChatMessage": 1}, f.calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	f.announce(t, map[string]checks.State{"whatsapp": checks.Down})
	if err := f.board.Update(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"sendMessage": 1, "editMessageText": 1, "pinChatMessage": 2}, f.calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if _, ok := f.srv.PinnedMessage(boardChannel); !ok {
		t.Error("the message is not pinned after the retry")
	}
}

func TestStatusBoardRun(t *testing.T) {
	f := newBoardFixture(t, "@outages")
	f.announce(t, map[string]checks.State{"whatsapp": checks.Operational})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { f.board.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	wait, stop := context.WithTimeout(t.Context(), 10*time.Second)
	defer stop()
	// Run updates at once, then after every Kick.
	if _, err := f.srv.WaitMessages(wait, 1); err != nil {
		t.Fatal(err)
	}
	f.announce(t, map[string]checks.State{"whatsapp": checks.Down})
	f.board.Kick()
	err := f.srv.Wait(wait, func(s *bottest.Server) bool { return len(s.Calls("editMessageText")) == 1 })
	if err != nil {
		t.Fatal(err)
	}
}

func TestStatusBoardShowsUnknownWhileOffline(t *testing.T) {
	f := newBoardFixture(t, "@outages")
	ctx := t.Context()
	f.announce(t, map[string]checks.State{"whatsapp": checks.Down, "threads": checks.Operational})
	if err := f.board.Update(ctx); err != nil {
		t.Fatal(err)
	}
	// The machine goes offline: the states are unknown, what was announced
	// stays as it was.
	bad := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	offline := []checks.Status{
		{Service: "whatsapp", State: checks.Unknown, Announced: checks.Down, BadSince: bad},
		{Service: "threads", State: checks.Unknown, Announced: checks.Operational},
	}
	if err := f.db.Commit(offline, nil, true); err != nil {
		t.Fatal(err)
	}
	if err := f.board.Update(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := f.srv.MessagesTo(boardChannel)
	if got, want := msgs[len(msgs)-1].Text, "it\nthreads:unknown\nwhatsapp:unknown"; got != want {
		t.Errorf("board while offline = %q, want %q", got, want)
	}
	// What is stored is left alone: the board only shows it otherwise.
	statuses, err := f.db.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	if st := statuses["whatsapp"]; st.Announced != checks.Down || !st.BadSince.Equal(bad) {
		t.Errorf("stored status changed: %+v", st)
	}
}
