package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Budget is the bot's sending policy, shared by alerts (the Sender's
// fan-out and the channel's status message) and replies to commands:
//
//   - Telegram's per-chat limits, which alerts and replies keep together:
//     a reply takes a slot in its chat's line like an alert, so that a
//     flood of commands in a group can never provoke a 429 for the group's
//     alert, nor the other way round.
//   - The bot-wide rate (about 30 messages/s). While alerts wait for it
//     they get at least Limits.AlertShare of it; replies get the rest, and
//     whatever alerts leave unused (all of it when no alert waits).
//   - Replies wait at most ReplyWait, in a queue of at most ReplyQueue
//     replies that sheds the oldest when full. A shed reply is counted and
//     logged, never sent late.
//   - A 429 holds the chat it came from for its retry_after. Only when
//     several chats get one within a second, which is Telegram throttling
//     the bot as a whole, does all sending pause.
//
// Its methods are safe for concurrent use.
type Budget struct {
	o BudgetOptions
	// The bot-wide rate: a token is due every interval. After an idle
	// spell burst tokens are due at once.
	interval time.Duration
	burst    int
	lines    *chatLines
	stride   [numClasses]float64 // 1/share: what a token costs each class
	// credit is how far, in pass, a class that did not wait may fall
	// behind the other: what it may reclaim when it comes back.
	credit [numClasses]float64

	mu    sync.Mutex
	queue [numClasses][]*waiter // waiting for a token, oldest first
	// pass is the tokens each class was granted, weighed by stride: the
	// class with the lower pass goes next (stride scheduling), which gives
	// each class its share while both wait.
	pass    [numClasses]float64
	due     time.Time   // when the next token is due
	timer   *time.Timer // armed while someone waits: for the next token, or the hold's end
	hold    time.Time   // all sending paused until then
	recent  []throttle  // the 429s of the last globalWindow
	shedN   int         // replies shed since the last log line
	shedLog time.Time   // when the last shed was logged
}

// BudgetOptions configure a Budget.
type BudgetOptions struct {
	Limits Limits
	// ReplyWait is the longest a reply to a command waits to be sent
	// (default DefaultReplyWait): well within telebot's 40 s, and about the
	// time after which people ask again.
	ReplyWait time.Duration
	// ReplyQueue bounds how many replies wait for the bot-wide rate at once;
	// when it is full, the oldest is shed. 0 derives it: two seconds of
	// replies at their least share, at least 8. Under a flood of commands
	// the replies that are sent are then about two seconds old, not
	// ReplyWait.
	ReplyQueue int
	Log        *slog.Logger
	// OnShed, when set, is told of every reply shed, with why: "queue_full"
	// (newer replies pushed it out), "deadline" (its ReplyWait ran out), or
	// "chat_busy" (its chat cannot take another message in time).
	OnShed func(reason string)
	// OnPause, when set, is called whenever 429s from several chats pause all
	// sending.
	OnPause func()
}

// Reasons a reply is shed, as OnShed reports them.
const (
	ShedQueueFull = "queue_full"
	ShedDeadline  = "deadline"
	ShedChatBusy  = "chat_busy"
)

// DefaultReplyWait is BudgetOptions.ReplyWait's default.
const DefaultReplyWait = 5 * time.Second

// DefaultAlertShare is Limits.AlertShare's default.
const DefaultAlertShare = 0.5

// ErrReplyShed is the error of a reply that was not sent because it could
// not be sent within BudgetOptions.ReplyWait.
var ErrReplyShed = errors.New("reply shed: more to send than Telegram's limits allow")

// class is who waits for the bot-wide rate.
type class int

const (
	alerts class = iota
	replies
	numClasses
)

// waiter is one call waiting for a token.
type waiter struct {
	ready chan struct{} // closed when granted or shed
	shed  bool          // set under Budget.mu before ready is closed
}

// throttle is one 429.
type throttle struct {
	chat int64
	at   time.Time
}

// A 429 is the bot's, not one chat's, when globalChats different chats get
// one within globalWindow: per-chat limits hit one chat at a time.
const (
	globalChats  = 3
	globalWindow = time.Second
)

// creditWindow is how much of its share a class may reclaim after turns it
// missed because it was not waiting at that moment. The Sender's dispatcher
// is busy between two alerts (reading the outbox, waiting for an
// acknowledgement on disk), and without credit each turn it misses would go
// to replies for good; with it, alerts keep their share over a few seconds
// while replies still get every token alerts do not take at once.
const creditWindow = time.Second

// shedLogEvery spaces the log lines about shed replies: a flood of commands
// sheds hundreds a minute, and the metric counts each.
const shedLogEvery = 10 * time.Second

// maxCatchUp bounds how many tokens that came due while someone waited are
// handed out at once when the timer fires late: a second's worth, after
// the process stood still that long.
const maxCatchUp = time.Second

// NewBudget returns the budget of o.Limits; a limit that is not positive
// limits nothing. The bot-wide rate allows a burst of 10 ms worth, and at
// least 2: with a burst of 1, every moment the sender comes late for its
// slot (a busy CPU, a GC pause) is lost for good, which cost 7 % of the
// rate at 30/s on a loaded machine. Two messages at once stay well within
// what Telegram tolerates.
func NewBudget(o BudgetOptions) *Budget {
	l := o.Limits
	if !(l.AlertShare > 0 && l.AlertShare < 1) {
		l.AlertShare = DefaultAlertShare
	}
	if o.ReplyWait <= 0 {
		o.ReplyWait = DefaultReplyWait
	}
	if o.ReplyQueue <= 0 {
		o.ReplyQueue = max(8, int(2*l.GlobalPerSecond*(1-l.AlertShare)))
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Limits = l
	b := &Budget{
		o:        o,
		interval: interval(l.GlobalPerSecond),
		burst:    max(2, int(l.GlobalPerSecond/100)),
		lines:    newChatLines(l.ChatPerSecond, l.GroupPerMinute),
		stride:   [numClasses]float64{alerts: 1 / l.AlertShare, replies: 1 / (1 - l.AlertShare)},
	}
	// A class's share of creditWindow is share×G×window tokens, each worth
	// one stride (1/share) of pass: G×window either way, and at least one
	// token.
	for c := range b.credit {
		b.credit[c] = max(b.stride[c], l.GlobalPerSecond*creditWindow.Seconds())
	}
	return b
}

// Bulk waits for an alert's turn in the bot-wide rate. The caller keeps the
// alert's chat within its limit (see Sender).
func (b *Budget) Bulk(ctx context.Context) error {
	return b.take(ctx, alerts)
}

// reply waits until a reply into chat (when known) may be sent, at most until
// deadline: first for the chat's slot, then for the replies' turn in the
// bot-wide rate. It returns ErrReplyShed when the reply cannot go by then or
// must make room for newer ones, and ctx's error when ctx ends first.
func (b *Budget) reply(ctx context.Context, chat int64, known bool, deadline time.Time) error {
	now := time.Now()
	at := now
	if known {
		var ok bool
		if at, ok = b.lines.reserve(chat, now, deadline); !ok {
			return b.shed(ShedChatBusy, chat)
		}
	}
	wait, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	giveUp := func(err error) error {
		if known {
			b.lines.cancel(chat, at)
		}
		if errors.Is(err, ErrReplyShed) {
			return b.shed(ShedQueueFull, chat)
		}
		if ctx.Err() == nil { // our deadline, not the caller's end
			return b.shed(ShedDeadline, chat)
		}
		return ctx.Err()
	}
	// Waiting in the global queue before the chat's slot would take a
	// token only to sit on it.
	if d := at.Sub(now); d > 0 && !sleep(wait, d) {
		return giveUp(wait.Err())
	}
	if err := b.take(wait, replies); err != nil {
		return giveUp(err)
	}
	if !known {
		return nil
	}
	d, ok := b.lines.commit(chat, time.Now(), deadline)
	if !ok {
		return b.shed(ShedDeadline, chat)
	}
	if d > 0 && !sleep(wait, d) {
		return giveUp(wait.Err())
	}
	return nil
}

// take waits for a token for class c. A reply waiting in a full queue is
// shed for a newer one with ErrReplyShed.
func (b *Budget) take(ctx context.Context, c class) error {
	b.mu.Lock()
	now := time.Now()
	if b.idle() {
		// Nobody waited for the tokens due meanwhile: they are gone, but
		// for the burst.
		b.due = later(b.due, now.Add(-time.Duration(b.burst-1)*b.interval))
		if !b.hold.After(now) && !b.due.After(now) {
			b.due = b.due.Add(b.interval)
			b.account(c)
			b.mu.Unlock()
			return nil
		}
	}
	w := &waiter{ready: make(chan struct{})}
	if c == replies && len(b.queue[replies]) >= b.o.ReplyQueue {
		oldest := b.pop(replies)
		oldest.shed = true
		close(oldest.ready)
	}
	b.queue[c] = append(b.queue[c], w)
	b.serve(now)
	b.mu.Unlock()

	select {
	case <-w.ready:
		if w.shed {
			return ErrReplyShed
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		if i := slices.Index(b.queue[c], w); i >= 0 {
			b.queue[c] = slices.Delete(b.queue[c], i, i+1)
		}
		if b.idle() && b.timer != nil && b.timer.Stop() {
			b.timer = nil // nobody waits for it any more
		}
		shed := w.shed
		b.mu.Unlock()
		if shed {
			return ErrReplyShed
		}
		// A token granted at the last moment is lost: for a reply, its
		// deadline has passed, and it must not be sent.
		return ctx.Err()
	}
}

// idle reports whether nobody waits for a token. b.mu must be held.
func (b *Budget) idle() bool {
	return len(b.queue[alerts]) == 0 && len(b.queue[replies]) == 0
}

// serve hands the tokens due at now to the waiters, whoever's turn it is
// then, and arms the timer for the next one. b.mu must be held.
//
// The tokens that came due while someone waited are all handed out, when
// the timer fires late too: a busy CPU delays the messages, but does not
// cost the rate. They still come due one interval apart, so no second
// holds more than the rate and the burst.
func (b *Budget) serve(now time.Time) {
	b.due = later(b.due, now.Add(-maxCatchUp))
	for b.timer == nil && !b.idle() {
		switch {
		case b.hold.After(now):
			b.timer = time.AfterFunc(b.hold.Sub(now), b.tick)
		case b.due.After(now):
			b.timer = time.AfterFunc(b.due.Sub(now), b.tick)
		default:
			b.due = b.due.Add(b.interval)
			b.grant()
		}
	}
}

// tick hands out the tokens due when the timer fires.
func (b *Budget) tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timer = nil
	b.serve(time.Now())
}

// grant gives a token to the first waiter of the class whose turn it is.
// b.mu must be held, and someone must be waiting.
func (b *Budget) grant() {
	c := alerts
	switch {
	case len(b.queue[alerts]) == 0:
		c = replies
	case len(b.queue[replies]) > 0 && b.pass[replies] < b.pass[alerts]:
		c = replies
	}
	close(b.pop(c).ready)
	b.account(c)
}

// pop removes the oldest waiter of c. b.mu must be held.
func (b *Budget) pop(c class) *waiter {
	w := b.queue[c][0]
	b.queue[c][0] = nil
	b.queue[c] = b.queue[c][1:]
	return w
}

// account charges a token to c. b.mu must be held.
func (b *Budget) account(c class) {
	b.pass[c] += b.stride[c]
	if o := 1 - c; len(b.queue[o]) == 0 {
		// A class that does not wait banks at most its credit: when it
		// comes back it goes first until it has reclaimed that, then takes
		// its share like the other.
		b.pass[o] = max(b.pass[o], b.pass[c]-b.credit[o])
	}
	if base := min(b.pass[alerts], b.pass[replies]); base > 1<<20 {
		// Keep the passes small enough for float64 to tell one stride.
		b.pass[alerts] -= base
		b.pass[replies] -= base
	}
}

// throttled records that Telegram answered a message into chat with 429
// and retry_after: the chat is held that long, and when 429s came from
// several chats within a second, all sending is. It reports whether all
// sending is paused.
func (b *Budget) throttled(chat int64, retryAfter time.Duration) bool {
	now := time.Now()
	b.lines.hold(chat, now.Add(retryAfter))
	b.mu.Lock()
	b.recent = slices.DeleteFunc(b.recent, func(t throttle) bool { return now.Sub(t.at) >= globalWindow })
	b.recent = append(b.recent, throttle{chat: chat, at: now})
	chats := make(map[int64]bool, len(b.recent))
	for _, t := range b.recent {
		chats[t.chat] = true
	}
	global := len(chats) >= globalChats
	paused := false
	if global {
		paused = !b.hold.After(now) // a new pause, not one already running
		b.hold = later(b.hold, now.Add(retryAfter))
	}
	b.mu.Unlock()
	if paused {
		b.o.Log.Warn("Telegram is throttling the whole bot: pausing all sending",
			"chats", len(chats), "within", globalWindow, "retry_after", retryAfter)
		if b.o.OnPause != nil {
			b.o.OnPause()
		}
	}
	return global
}

// paused returns how long all sending is still paused for.
func (b *Budget) paused() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return time.Until(b.hold)
}

// shed counts and logs a reply that is not sent, and returns ErrReplyShed.
// One line covers the sheds of shedLogEvery.
func (b *Budget) shed(reason string, chat int64) error {
	if b.o.OnShed != nil {
		b.o.OnShed(reason)
	}
	now := time.Now()
	b.mu.Lock()
	b.shedN++
	n := b.shedN
	logIt := now.Sub(b.shedLog) >= shedLogEvery
	if logIt {
		b.shedN, b.shedLog = 0, now
	}
	b.mu.Unlock()
	if logIt {
		b.o.Log.Warn("replies to commands shed: more to send than Telegram's limits allow",
			"shed", n, "reason", reason, "chat", chat, "reply_wait", b.o.ReplyWait)
	}
	return ErrReplyShed
}
