package bot

import (
	"sync"
	"time"
)

// chatLines keeps Telegram's per-chat limits (about one message a second
// into a private chat, twenty a minute into a group or channel) for
// everything the bot sends: alerts and replies to commands wait in the same
// line, so that neither can provoke a 429 for the other.
//
// A chat's line has two times. next is the first free slot: reserve hands
// out slots in order, so whoever reserved first goes first, and a sender
// that keeps its slot keeps its place. last is when the latest message
// actually went: a slot is a plan, and the wait for the global budget
// between the plan and the send varies, so commit checks the spacing again
// at the moment of sending. When the call is over, sent moves last to its
// end: Telegram received the message at some moment of the call, so the
// next one leaves the spacing after the end of it, however long the call
// took to arrive.
type chatLines struct {
	private, group time.Duration // the least time between two messages

	mu    sync.Mutex
	chats map[int64]line
	swept time.Time
}

type line struct{ next, last time.Time }

// newChatLines returns lines for the given limits; a limit that is not
// positive spaces nothing.
func newChatLines(chatPerSecond, groupPerMinute float64) *chatLines {
	return &chatLines{
		private: spacing(chatPerSecond),
		group:   spacing(groupPerMinute / 60),
		chats:   make(map[int64]line),
	}
}

// spacingMargin lengthens the least time between two messages into a chat
// beyond Telegram's figure: two messages that leave a second apart arrive
// closer when the first one's request was slower (a busy CPU, a new
// connection), and a second one a few milliseconds early is a 429. Nobody
// notices a tenth of a second more between two messages into one chat.
const spacingMargin = 1.1

// spacing is the least time between two messages into one chat at
// perSecond messages a second, 0 for no limit.
func spacing(perSecond float64) time.Duration {
	return time.Duration(spacingMargin * float64(interval(perSecond)))
}

// interval is the time between two of perSecond events a second, 0 for no
// limit.
func interval(perSecond float64) time.Duration {
	if !(perSecond > 0) {
		return 0
	}
	return time.Duration(float64(time.Second) / perSecond)
}

// gap is the least time between two messages into chat: groups,
// supergroups and channels have negative ids, and our channel is
// store.ChannelID (0).
func (l *chatLines) gap(chat int64) time.Duration {
	if chat <= 0 {
		return l.group
	}
	return l.private
}

// reserve takes the first free slot of chat at or after now, and returns
// it, unless it comes after limit (when limit is not zero): then it takes
// nothing and reports false.
func (l *chatLines) reserve(chat int64, now, limit time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	c, gap := l.chats[chat], l.gap(chat)
	at := later(now, later(c.next, c.last.Add(gap)))
	if !limit.IsZero() && at.After(limit) {
		return at, false
	}
	c.next = at.Add(gap)
	l.chats[chat] = c
	return at, true
}

// cancel gives back the slot at that reserve returned, if no later slot was
// taken since; otherwise the slot is lost, which only spaces the chat's
// messages more than needed.
func (l *chatLines) cancel(chat int64, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.chats[chat]; ok && c.next.Equal(at.Add(l.gap(chat))) {
		c.next = at
		l.chats[chat] = c
	}
}

// commit records that a message into chat goes at now, or after the wait it
// returns when the previous one went less than the spacing ago. When that
// wait would end after limit it records nothing and reports false.
func (l *chatLines) commit(chat int64, now, limit time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.chats[chat]
	at := later(now, c.last.Add(l.gap(chat)))
	if at.After(limit) {
		return at.Sub(now), false
	}
	c.last = at
	c.next = later(c.next, at.Add(l.gap(chat)))
	l.chats[chat] = c
	return at.Sub(now), true
}

// sent records that a call sending a message into chat ended at end.
func (l *chatLines) sent(chat int64, end time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.chats[chat]
	c.last = later(c.last, end)
	l.chats[chat] = c
}

// hold keeps every message from chat until until: Telegram answered 429.
func (l *chatLines) hold(chat int64, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.chats[chat]
	c.next = later(c.next, until)
	c.last = later(c.last, until.Add(-l.gap(chat)))
	l.chats[chat] = c
}

// sweep forgets, at most once a second, the lines that hold nobody back, so
// that a fan-out to half a million chats does not keep half a million lines.
// l.mu must be held.
func (l *chatLines) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Second {
		return
	}
	l.swept = now
	for id, c := range l.chats {
		if !c.next.After(now) && !c.last.Add(l.gap(id)).After(now) {
			delete(l.chats, id)
		}
	}
}
