package handlers

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	tele "gopkg.in/telebot.v3"
)

// FloodLimit bounds how fast the commands and button presses of one person
// are handled: Burst at once, then one every Every. What comes faster is
// dropped, and the person is told once to slow down. The zero FloodLimit
// sets no limit.
type FloodLimit struct {
	Every time.Duration
	Burst int
}

// DefaultFloodLimit is one update a second with bursts of five: ten in ten
// seconds, fifteen counting the burst. Telegram delivers about one message a
// second into a chat, so answering a person faster only queues replies while
// they take the bot's global budget from everyone else; five at once lets a
// person tap through a keyboard (the services, /settings) or retype a command
// without noticing any limit.
func DefaultFloodLimit() FloodLimit { return FloodLimit{Every: time.Second, Burst: 5} }

// floodGate keeps a token bucket per person. A bucket that has filled up
// again is forgotten, since a new one is the same, so the gate holds only
// the people active in the last few seconds however many use the bot.
type floodGate struct {
	every rate.Limit
	burst int
	// rest is how long an emptied bucket takes to fill up again, and how
	// often full ones are swept away.
	rest time.Duration

	mu     sync.Mutex
	people map[int64]*floodBucket
	swept  time.Time
}

// floodBucket is one person's bucket and whether they were told to slow down
// since it was last full: that is one flood, and one notice.
type floodBucket struct {
	lim    *rate.Limiter
	warned bool
}

// newFloodGate returns the gate of l, or nil when l sets no limit.
func newFloodGate(l FloodLimit) *floodGate {
	if l.Every <= 0 || l.Burst <= 0 {
		return nil
	}
	return &floodGate{
		every:  rate.Every(l.Every),
		burst:  l.Burst,
		rest:   l.Every * time.Duration(l.Burst),
		people: make(map[int64]*floodBucket),
	}
}

// admit takes a token from who's bucket at now. When there is none it
// reports, with warn, whether this is the first update dropped since the
// bucket was last full.
func (g *floodGate) admit(who int64, now time.Time) (ok, warn bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.swept) >= g.rest {
		g.sweep(now)
	}
	b := g.people[who]
	switch {
	case b == nil:
		b = &floodBucket{lim: rate.NewLimiter(g.every, g.burst)}
		g.people[who] = b
	case g.full(b, now):
		b.warned = false // the flood is over
	}
	if b.lim.AllowN(now, 1) {
		return true, false
	}
	warn = !b.warned
	b.warned = true
	return false, warn
}

// full reports whether b has filled up again by now.
func (g *floodGate) full(b *floodBucket, now time.Time) bool {
	return b.lim.TokensAt(now) >= float64(g.burst)
}

// sweep forgets the buckets that are full again. The caller holds g.mu.
func (g *floodGate) sweep(now time.Time) {
	for who, b := range g.people {
		if g.full(b, now) {
			delete(g.people, who)
		}
	}
	g.swept = now
}

// admit decides whether the update of c is handled at all. Commands and
// presses from other bots are ignored, and so are commands outside any chat;
// those of a person who floods the bot are dropped, with one notice per
// flood. Other updates (the bot's own membership, migrations) always pass:
// nobody can flood them, and dropping one would leave the record of the chat
// wrong. So do inline queries: Telegram sends one for nearly every letter
// typed, a dropped one leaves the person without results, and each costs
// an answer made once per round and no message.
func (h *handler) admit(c tele.Context) bool {
	u := c.Update()
	var from *tele.User
	switch {
	case u.Callback != nil:
		from = u.Callback.Sender
	case u.Message != nil && u.Message.Text != "":
		if u.Message.Chat == nil {
			return false // Telegram always names it; without, there is nobody to answer
		}
		from = u.Message.Sender
	default:
		return true
	}
	var onBehalf *tele.Chat
	if u.Message != nil {
		onBehalf = u.Message.SenderChat
	}
	// Anonymous admins and channels posting into a group write through
	// placeholder bots; nothing else a bot says is meant for this one.
	if from != nil && from.IsBot && onBehalf == nil {
		return false
	}
	if h.flood == nil {
		return true
	}
	who := speaker(from, onBehalf, chatID(c))
	if who == 0 {
		return true
	}
	ok, warn := h.flood.admit(who, h.Now())
	if !ok && warn {
		h.Log.Info("throttling a flood of updates", "chat", chatID(c), "from", who)
		if err := h.slowDown(c); err != nil {
			h.Log.Warn("cannot ask to slow down", "chat", chatID(c), h.errAttr(err))
		}
	}
	return ok
}

// speaker is whose budget an update takes: the chat it was written on behalf
// of, else its user, else (when Telegram names neither) its chat. The user of
// an anonymous admin is a placeholder shared by every anonymous admin of
// every group, so it cannot be the key.
func speaker(from *tele.User, onBehalf *tele.Chat, chat int64) int64 {
	switch {
	case onBehalf != nil:
		return onBehalf.ID
	case from != nil:
		return from.ID
	}
	return chat
}

// slowDown asks whoever sent c to wait: as the answer to a press, which
// needs one anyway, or as a message.
func (h *handler) slowDown(c tele.Context) error {
	p := h.text(c)
	if c.Callback() != nil {
		if err := c.Respond(&tele.CallbackResponse{Text: p.ThrottledAlert()}); err != nil {
			return fmt.Errorf("answer a press with the flood notice: %w", err)
		}
		return nil
	}
	if err := h.send(c, p.Throttled()); err != nil {
		return fmt.Errorf("send the flood notice: %w", err)
	}
	return nil
}
