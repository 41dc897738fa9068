package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/store"
)

// Inbox keeps the getUpdates offset, and the updates taken from Telegram
// until their handlers have finished, across restarts (*store.DB).
type Inbox interface {
	Offset() (int, error)
	// TakeUpdates stores offset and keeps updates, at once.
	TakeUpdates(offset int, updates []store.Update) error
	// DoneUpdate forgets a handled update.
	DoneUpdate(id int) error
	// RedeliverUpdates returns the updates kept and not yet done, and
	// counts one more redelivery of each.
	RedeliverUpdates() ([]store.Update, error)
}

// maxRedeliveries is how many times an update is handled again after its
// handling was cut short. An update that a crash interrupted is handled
// again once; one still unfinished after that many restarts is more likely
// what crashes the bot, and is dropped rather than crash it at every start.
const maxRedeliveries = 2

// AllowedUpdates are the update kinds the bot asks for. Telegram remembers
// the last list, so it is always sent explicitly. Inline queries arrive
// only once inline mode is enabled with BotFather's /setinline.
var AllowedUpdates = []string{"message", "callback_query", "my_chat_member", "inline_query"}

// Poller is a tele.Poller that long-polls getUpdates with an explicit
// timeout, backs off exponentially (with jitter) on errors instead of
// spinning like telebot's LongPoller, logs every failure, and loses no
// update to a crash.
//
// Telegram forgets an update once getUpdates asks past it, which comes long
// before a slow handler finishes. So every batch goes into the Inbox, with
// the offset past it, before its updates are handled, and each leaves the
// Inbox once its handler has returned; a new Poller handles what the Inbox
// still holds before it asks Telegram for more. An update whose handler was
// cut short by a crash or a stop is handled again, never lost: delivery is
// at least once, and the handlers take an update handled twice for one
// handled once.
type Poller struct {
	Client *Client
	Inbox  Inbox
	Log    *slog.Logger
	// Timeout is the long-poll timeout sent to Telegram; default 25s. The
	// HTTP request is given 10 s more.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed call;
	// defaults 1s and 60s.
	MinBackoff, MaxBackoff time.Duration
	// MaxInFlight bounds how many updates are handled at once; default
	// 500. While that many are, the Poller takes no more from Telegram,
	// which keeps them meanwhile.
	MaxInFlight int
	// OnPoll, when set, is called after every getUpdates call with its
	// error (nil on success): at least every MaxSilence while Poll runs
	// and fewer than MaxInFlight updates are being handled.
	OnPoll func(err error)
}

type getUpdatesParams struct {
	Offset         int      `json:"offset,omitempty"`
	Limit          int      `json:"limit"`
	Timeout        int      `json:"timeout"`
	AllowedUpdates []string `json:"allowed_updates"`
}

// stopGrace is how long Poll, once stopped, waits for the handlers in
// flight, so that they do not write to a closed database.
const stopGrace = 2 * time.Second

// Poll hands every update to b until stop is closed, each on a goroutine of
// its own. It satisfies tele.Poller but calls b.ProcessUpdate itself rather
// than send to dest: an update is done when ProcessUpdate returns, which
// is when its handler has returned only if b is synchronous
// (tele.Settings.Synchronous), as it must be.
func (p *Poller) Poll(b *tele.Bot, _ chan tele.Update, stop chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	h := &handling{bot: b, inbox: p.Inbox, log: p.Log, slots: make(chan struct{}, cmp.Or(p.MaxInFlight, 500))}
	if p.redeliver(ctx, h) {
		p.run(ctx, h)
	}
	if !h.wait(stopGrace) {
		p.Log.Warn("updates still being handled at stop; they will be handled again after the next start", "grace", stopGrace)
	}
}

// redeliver handles the updates that the Inbox kept from an earlier run; it
// reports false when ctx ended first.
func (p *Poller) redeliver(ctx context.Context, h *handling) bool {
	pending, err := p.Inbox.RedeliverUpdates()
	if err != nil {
		p.Log.Error("cannot read the updates left from the last run; they wait for the next start", "err", err)
		return true
	}
	if len(pending) > 0 {
		p.Log.Info("handling the updates left unhandled by the last run", "updates", len(pending))
	}
	for _, pu := range pending {
		if pu.Redelivered >= maxRedeliveries {
			p.Log.Error("dropping an update whose handling was cut short every time; it may be what stops the bot",
				"update", pu.ID, "times", pu.Redelivered+1)
			h.done(pu.ID)
			continue
		}
		var u tele.Update
		if err := json.Unmarshal(pu.JSON, &u); err != nil {
			p.Log.Error("dropping a kept update that cannot be decoded", "update", pu.ID, "err", err)
			h.done(pu.ID)
			continue
		}
		if !h.dispatch(ctx, u) {
			return false
		}
	}
	return true
}

func (p *Poller) run(ctx context.Context, h *handling) {
	timeout := p.timeout()
	minB, maxB := cmp.Or(p.MinBackoff, time.Second), p.maxBackoff()
	offset, err := p.Inbox.Offset()
	if err != nil {
		p.Log.Error("cannot read the stored update offset; starting from Telegram's", "err", err)
	}
	failures := 0
	webhookDeleted := false
	for ctx.Err() == nil {
		// Each update is decoded on its own: one that telebot's types cannot
		// take must be skipped, not fail the batch at the same offset forever.
		var updates []json.RawMessage
		callCtx, cancel := context.WithTimeout(ctx, timeout+pollSlack)
		err := p.Client.Call(callCtx, "getUpdates", getUpdatesParams{
			Offset: offset, Limit: 100, Timeout: int(timeout / time.Second), AllowedUpdates: AllowedUpdates,
		}, &updates)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if p.OnPoll != nil {
			p.OnPoll(err)
		}
		if err != nil {
			failures++
			wait := backoff(failures, minB, maxB)
			var ae *APIError
			switch {
			case errors.As(err, &ae) && ae.Code == 409 && strings.Contains(ae.Description, "webhook") && !webhookDeleted:
				p.Log.Warn("a webhook is set for this bot; deleting it to use long polling")
				if err := p.Client.Call(ctx, "deleteWebhook", struct{}{}, nil); err != nil {
					p.Log.Error("deleteWebhook failed", "err", err)
				}
				webhookDeleted = true
			case errors.As(err, &ae) && ae.Code == 409:
				p.Log.Error("another process is polling with this token; backing off", "err", err, "retry_in", wait)
			case errors.As(err, &ae) && ae.Code == 429:
				wait = max(wait, time.Duration(ae.RetryAfter)*time.Second)
				p.Log.Warn("getUpdates throttled", "retry_in", wait)
			default:
				p.Log.Warn("getUpdates failed", "err", err, "failures", failures, "retry_in", wait)
			}
			if !sleep(ctx, wait) {
				return
			}
			continue
		}
		failures = 0
		if len(updates) == 0 {
			continue
		}
		var taken []store.Update
		var decoded []tele.Update
		for _, raw := range updates {
			var u tele.Update
			if err := json.Unmarshal(raw, &u); err != nil {
				var id struct {
					ID int `json:"update_id"`
				}
				if json.Unmarshal(raw, &id) != nil || id.ID == 0 {
					p.Log.Error("skipping an update without an id", "err", err)
					continue
				}
				p.Log.Warn("skipping an update that cannot be decoded", "update", id.ID, "err", err)
				offset = id.ID + 1
				continue
			}
			taken = append(taken, store.Update{ID: u.ID, JSON: raw})
			decoded = append(decoded, u)
			offset = u.ID + 1
		}
		// Kept before they are handled: the next call confirms them.
		if err := p.Inbox.TakeUpdates(offset, taken); err != nil {
			p.Log.Error("cannot keep the updates taken; a crash now would lose them", "err", err)
		}
		for _, u := range decoded {
			if !h.dispatch(ctx, u) {
				return
			}
		}
	}
}

// handling runs updates through a bot, at most cap(slots) at once, and
// takes each out of the inbox once handled.
type handling struct {
	bot     *tele.Bot
	inbox   Inbox
	log     *slog.Logger
	slots   chan struct{}
	running sync.WaitGroup
}

// dispatch starts handling u once a slot is free; it reports false when ctx
// ended first, leaving u in the inbox. An update whose handler is still
// running when ctx ends stays in the inbox too, to be handled again after
// the next start: telebot's Stop, which ends ctx, first cancels the Bot API
// calls in flight, so its reply may well be lost.
func (h *handling) dispatch(ctx context.Context, u tele.Update) bool {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	h.running.Go(func() {
		defer func() { <-h.slots }()
		process(h.bot, u, h.log)
		if ctx.Err() == nil {
			h.done(u.ID)
		}
	})
	return true
}

// process runs u through b. The handlers' own middleware answers their
// panics (handlers.Recover); one in telebot's routing around them costs
// this update, not the process.
func process(b *tele.Bot, u tele.Update, log *slog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("processing an update panicked; update dropped",
				"update", u.ID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	b.ProcessUpdate(u)
}

// done takes the update id out of the inbox.
func (h *handling) done(id int) {
	if err := h.inbox.DoneUpdate(id); err != nil {
		h.log.Error("cannot mark an update handled; it will be handled again after a restart", "update", id, "err", err)
	}
}

// wait waits at most d for the updates being handled, and reports whether
// they all finished.
func (h *handling) wait(d time.Duration) bool {
	finished := make(chan struct{})
	go func() { h.running.Wait(); close(finished) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-finished:
		return true
	case <-t.C:
		return false
	}
}

// MaxSilence is the longest time between two OnPoll calls while Poll runs:
// a long poll that takes its whole HTTP deadline, then the longest back-off
// (a 429's retry_after may ask for more, which Telegram does not do to
// getUpdates in practice).
func (p *Poller) MaxSilence() time.Duration {
	return p.timeout() + pollSlack + p.maxBackoff()
}

// pollSlack is how much longer than the long-poll timeout a getUpdates
// request may take before it is abandoned.
const pollSlack = 10 * time.Second

func (p *Poller) timeout() time.Duration    { return cmp.Or(p.Timeout, 25*time.Second) }
func (p *Poller) maxBackoff() time.Duration { return cmp.Or(p.MaxBackoff, time.Minute) }

// backoff is the wait after n consecutive failures: exponential from min,
// capped at max, with full jitter in its upper half so that many instances
// (or one restarted in a loop) do not hit Telegram in step.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
