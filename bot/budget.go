package bot

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Budget is the bot-wide message rate (about 30/s, Telegram's limit for
// one bot) shared by replies to commands and by the fan-out. Replies come
// first: while one is waiting, the fan-out takes no new slot, so a person
// who asks /status during a 10,000-chat fan-out is answered at once.
type Budget struct {
	lim    *rate.Limiter
	urgent atomic.Int32 // replies waiting for a slot
}

// NewBudget returns a budget of perSecond messages a second. It allows a
// burst of 10 ms worth, and at least 2: with a burst of 1, every moment the
// sender comes late for its slot (a busy CPU, a GC pause) is lost for good,
// which cost 7 % of the rate at 30/s on a loaded machine. Two messages at
// once stay well within what Telegram tolerates.
func NewBudget(perSecond float64) *Budget {
	return &Budget{lim: rate.NewLimiter(rate.Limit(perSecond), max(2, int(perSecond/100)))}
}

// Reply waits for a slot for an interactive message.
func (b *Budget) Reply(ctx context.Context) error {
	b.urgent.Add(1)
	defer b.urgent.Add(-1)
	return b.lim.Wait(ctx)
}

// yieldPoll is how often a waiting fan-out send looks whether the replies
// ahead of it are done.
const yieldPoll = 2 * time.Millisecond

// Bulk waits for a slot for a fan-out message, after every waiting reply.
func (b *Budget) Bulk(ctx context.Context) error {
	for b.urgent.Load() > 0 {
		if !sleep(ctx, yieldPoll) {
			return ctx.Err()
		}
	}
	return b.lim.Wait(ctx)
}

// ReplyTransport wraps next so that every message-sending Bot API call
// (telebot's replies from handlers) waits for a Reply slot first. Other
// calls (answerCallbackQuery, getChatMember, ...) do not count toward
// Telegram's message limits and pass at once.
func (b *Budget) ReplyTransport(next http.RoundTripper) http.RoundTripper {
	return replyTransport{b: b, next: next}
}

type replyTransport struct {
	b    *Budget
	next http.RoundTripper
}

func (t replyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	method := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
	if strings.HasPrefix(method, "send") || strings.HasPrefix(method, "editMessage") {
		if err := t.b.Reply(req.Context()); err != nil {
			if req.Body != nil {
				req.Body.Close() // RoundTrip must close it, even on error
			}
			return nil, err
		}
	}
	return t.next.RoundTrip(req)
}
