package bot

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
)

// withBudget replaces f's Sender with one at the given limits, on a Budget
// of its own whose pauses it returns a counter of.
func (f *fixture) withBudget(limits Limits) *atomic.Int32 {
	var pauses atomic.Int32
	log := slog.New(slog.NewTextHandler(f.logs, nil))
	budget := NewBudget(BudgetOptions{Limits: limits, Log: log, OnPause: func() { pauses.Add(1) }})
	f.sender = NewSender(NewClient(f.srv.URL, NewHTTPClient(testToken, 5*time.Second)), f.db, plainRenderer{}, SenderOptions{
		Limits: limits, Budget: budget, Log: log,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	})
	return &pauses
}

// privates returns the ids 1…n.
func privates(n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	return ids
}

// TestSenderHoldsOnlyTheThrottledChat has one group answer every alert with
// 429 retry_after 1: the group is held and tried again once a second, and
// the 20 private chats behind it in delivery order are reached at once, not
// after it.
func TestSenderHoldsOnlyTheThrottledChat(t *testing.T) {
	const group = -100100
	f := newFixture(t, "", append(privates(20), group)...)
	// A group limit well above the retry_after, so that the retries show the
	// hold rather than the limit.
	pauses := f.withBudget(Limits{GlobalPerSecond: 1000, ChatPerSecond: 1, GroupPerMinute: 600})
	f.srv.FailAlways("sendMessage", bottest.Fault{Code: 429, RetryAfter: 1, ChatID: group})
	f.commit(t, checks.Operational, checks.Down)
	start := time.Now()
	f.start(t)
	// The fault stays: with a 429 pausing all sending, and the group tried
	// first after each pause, no private chat would ever be reached.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := f.srv.WaitMessages(ctx, 20); err != nil {
		t.Fatalf("private chats behind a throttled group: %v\nlogs:\n%s", err, f.logs)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the 20 private chats took %v, want them at once (well under the group's 1 s hold)", d)
	}
	time.Sleep(2500 * time.Millisecond) // a few of the group's holds
	f.srv.ClearFaults()
	f.waitOutbox(t, 0)

	calls := callsTo(f.srv, group)
	if len(calls) < 3 {
		t.Fatalf("the group was tried %d times in 2.5 s, want a try after each 1 s hold", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if d := calls[i].At.Sub(calls[i-1].At); d < 950*time.Millisecond {
			t.Errorf("the group was tried again %v after its 429, want ≥ retry_after (1 s)", d)
		}
	}
	if n := len(f.srv.MessagesTo(group)); n != 1 {
		t.Errorf("the group got %d messages once Telegram let it, want 1", n)
	}
	if n := pauses.Load(); n != 0 {
		t.Errorf("one chat's 429s paused all sending %d times, want 0", n)
	}
}

// TestSenderPausesAllOnGlobalThrottling has Telegram answer 429 for three
// chats at once, which is the bot being throttled, not a chat: everything
// waits retry_after.
func TestSenderPausesAllOnGlobalThrottling(t *testing.T) {
	f := newFixture(t, "", privates(8)...)
	// At 5 messages a second, chats 1 and 2 go at once (the burst), 3 at
	// 200 ms and 4 at 400 ms, after the third 429.
	pauses := f.withBudget(Limits{GlobalPerSecond: 5, ChatPerSecond: 1, GroupPerMinute: 20})
	for _, chat := range []int64{1, 2, 3} {
		f.srv.Fail("sendMessage", bottest.Fault{Code: 429, RetryAfter: 2, ChatID: chat})
	}
	f.commit(t, checks.Operational, checks.Down)
	f.start(t)
	f.waitOutbox(t, 0)

	if n := pauses.Load(); n != 1 {
		t.Errorf("429s from three chats within a second paused all sending %d times, want 1", n)
	}
	third := callsTo(f.srv, 3)[0].At
	for _, chat := range privates(8) {
		msgs := f.srv.MessagesTo(chat)
		if len(msgs) != 1 {
			t.Errorf("chat %d got %d messages, want 1", chat, len(msgs))
			continue
		}
		if chat > 3 && msgs[0].At.Before(third) {
			continue // sent before the pause began
		}
		if d := msgs[0].At.Sub(third); d < 1900*time.Millisecond {
			t.Errorf("chat %d reached %v after the third 429, want ≥ retry_after (2 s)", chat, d)
		}
	}
}
