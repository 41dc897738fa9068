package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"
)

// Offsets keeps the getUpdates offset across restarts.
type Offsets interface {
	Offset() (int, error)
	SetOffset(offset int) error
}

// AllowedUpdates are the update kinds the bot asks for. Telegram remembers
// the last list, so it is always sent explicitly. Inline queries arrive
// only once inline mode is enabled with BotFather's /setinline.
var AllowedUpdates = []string{"message", "callback_query", "my_chat_member", "inline_query"}

// Poller is a tele.Poller that long-polls getUpdates with an explicit
// timeout, backs off exponentially (with jitter) on errors instead of
// spinning like telebot's LongPoller, logs every failure, and keeps the
// offset in the database.
type Poller struct {
	Client  *Client
	Offsets Offsets
	Log     *slog.Logger
	// Timeout is the long-poll timeout sent to Telegram; default 25s. The
	// HTTP request is given 10 s more.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed call;
	// defaults 1s and 60s.
	MinBackoff, MaxBackoff time.Duration
	// OnPoll, when set, is called after every getUpdates call with its
	// error (nil on success): at least every MaxSilence while Poll runs.
	OnPoll func(err error)
}

type getUpdatesParams struct {
	Offset         int      `json:"offset,omitempty"`
	Limit          int      `json:"limit"`
	Timeout        int      `json:"timeout"`
	AllowedUpdates []string `json:"allowed_updates"`
}

// Poll delivers updates to dest until stop is closed. It satisfies tele.Poller.
func (p *Poller) Poll(_ *tele.Bot, dest chan tele.Update, stop chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	p.run(ctx, dest)
}

func (p *Poller) run(ctx context.Context, dest chan<- tele.Update) {
	timeout := p.timeout()
	minB, maxB := cmp.Or(p.MinBackoff, time.Second), p.maxBackoff()
	offset, err := p.Offsets.Offset()
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
			select {
			case dest <- u:
			case <-ctx.Done():
				return
			}
			offset = u.ID + 1
		}
		if len(updates) > 0 {
			// Telegram forgets confirmed updates only at the next call; the
			// stored offset spares re-handling them after a restart.
			if err := p.Offsets.SetOffset(offset); err != nil {
				p.Log.Error("cannot store the update offset", "err", err)
			}
		}
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
