package bot

import (
	"cmp"
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

// Outbox is the Sender's view of the database.
type Outbox interface {
	Outbox(after []byte, limit int) ([]store.Delivery, error)
	Ack(chatID int64, delivered []store.Mark) error
	Incident(id uint64) (checks.Incident, bool, error)
	DeleteChat(chatID int64) error
	MigrateChat(from, to int64) error
}

// Renderer turns the incidents one chat has to learn into one HTML message.
type Renderer interface {
	Notification(incs []checks.Incident, now time.Time) string
}

// Limits are the sending rates the Sender stays under (Telegram's published
// numbers by default, from the embedded catalog).
type Limits struct {
	GlobalPerSecond float64 // every chat together
	ChatPerSecond   float64 // one private chat
	GroupPerMinute  float64 // one group, supergroup or channel
	// PaidBroadcast sends allow_paid_broadcast, which lets Telegram accept up
	// to 1000 messages/s (billed in Stars) when the bot has opted in.
	PaidBroadcast bool
}

// SenderOptions configure a Sender.
type SenderOptions struct {
	// Channel is the announcement channel as Telegram accepts it in chat_id
	// ("@name" or "-100…"); empty when there is none.
	Channel string
	Limits  Limits
	Log     *slog.Logger
	Now     func() time.Time
	// Backoff bounds the pause after transient errors; defaults 1s and 60s.
	MinBackoff, MaxBackoff time.Duration
}

// Sender is the only goroutine that sends notifications. It drains the
// outbox in delivery order (the channel, then groups, then private chats),
// renders each chat's pending incidents as they are now, and acknowledges
// only what Telegram accepted: a crash at any point loses nothing and repeats
// at most the message in flight.
type Sender struct {
	client *Client
	outbox Outbox
	render Renderer
	o      SenderOptions

	kick chan struct{}

	global *rate.Limiter
	// Per-chat limiters and retry times are only touched by Run's goroutine.
	chats    map[int64]*rate.Limiter
	notUntil map[int64]time.Time
	failures int // consecutive transient failures, for the shared backoff

	mu    sync.Mutex
	stats SenderStats
}

// SenderStats count what the Sender did since it started.
type SenderStats struct {
	Sent, Dropped, Migrated, Throttled, Failed int
}

// NewSender returns a Sender; call Run to start it.
func NewSender(c *Client, outbox Outbox, r Renderer, o SenderOptions) *Sender {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.MinBackoff = cmp.Or(o.MinBackoff, time.Second)
	o.MaxBackoff = cmp.Or(o.MaxBackoff, time.Minute)
	return &Sender{
		client:   c,
		outbox:   outbox,
		render:   r,
		o:        o,
		kick:     make(chan struct{}, 1),
		global:   rate.NewLimiter(rate.Limit(o.Limits.GlobalPerSecond), 1),
		chats:    make(map[int64]*rate.Limiter),
		notUntil: make(map[int64]time.Time),
	}
}

// Kick tells the Sender that the outbox has new work. It never blocks.
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Stats returns a snapshot of the counters.
func (s *Sender) Stats() SenderStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// sendTimeout bounds one sendMessage call.
const sendTimeout = 5 * time.Second

// idlePoll is how often an idle Sender looks at the outbox without a Kick,
// which covers work queued by an earlier process.
const idlePoll = 30 * time.Second

// Run sends until ctx ends. The message in flight when ctx ends is
// abandoned unacknowledged, so it is sent again after a restart.
func (s *Sender) Run(ctx context.Context) {
	for ctx.Err() == nil {
		wait := s.pass(ctx)
		if wait <= 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-s.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// pass walks the outbox once and returns how long to wait before the next
// pass: 0 when it may have left work behind, the time until the first
// waiting chat may be tried again, or idlePoll when nothing waits.
func (s *Sender) pass(ctx context.Context) time.Duration {
	s.forgetIdleChats()
	var cursor []byte
	for ctx.Err() == nil {
		batch, err := s.outbox.Outbox(cursor, 256)
		if err != nil {
			s.o.Log.Error("cannot read the outbox", "err", err)
			return s.o.MinBackoff
		}
		if len(batch) == 0 {
			return s.nextRetry()
		}
		for _, d := range batch {
			cursor = d.Key
			if until, ok := s.notUntil[d.ChatID]; ok && until.After(s.o.Now()) {
				continue
			}
			delete(s.notUntil, d.ChatID)
			if pause := s.deliver(ctx, d); pause > 0 {
				// Telegram asked everyone to slow down, or looks unwell:
				// restart from the head (the channel first) after the pause.
				sleep(ctx, pause)
				return 0
			}
			if ctx.Err() != nil {
				return 0
			}
		}
	}
	return 0
}

// nextRetry returns the time until the earliest chat held back by its rate
// limit or a refusal may be tried again, at most idlePoll.
func (s *Sender) nextRetry() time.Duration {
	wait := idlePoll
	now := s.o.Now()
	for id, until := range s.notUntil {
		left := until.Sub(now)
		if left <= 0 {
			delete(s.notUntil, id)
			return 0
		}
		wait = min(wait, left)
	}
	return wait
}

// deliver sends one chat its pending incidents and returns a pause that
// applies to all sending (after a 429 or a transient failure), or 0.
func (s *Sender) deliver(ctx context.Context, d store.Delivery) time.Duration {
	incs := make([]checks.Incident, 0, len(d.Marks))
	for _, m := range d.Marks {
		inc, ok, err := s.outbox.Incident(m.Incident)
		if err != nil {
			s.o.Log.Error("cannot load incident", "incident", m.Incident, "err", err)
			return s.o.MinBackoff
		}
		if ok {
			incs = append(incs, inc)
		}
	}
	if d.ChatID == store.ChannelID && s.o.Channel == "" || len(incs) == 0 {
		// Nothing left to say (the channel was unset since it was queued).
		s.ack(d)
		return 0
	}
	chatID := s.o.Channel
	if d.ChatID != store.ChannelID {
		chatID = strconv.FormatInt(d.ChatID, 10)
	}
	if left := s.chatLimiter(d.ChatID).Reserve(); left.Delay() > 0 {
		// This chat heard from us a moment ago; others need not wait for it.
		s.notUntil[d.ChatID] = s.o.Now().Add(left.Delay())
		left.Cancel()
		return 0
	}
	if err := s.global.Wait(ctx); err != nil {
		return 0
	}
	// The send outlives a shutdown by up to sendTimeout, so that a message
	// Telegram accepted is also acknowledged and not repeated after restart.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	err := s.client.Call(sendCtx, "sendMessage", sendMessageParams{
		ChatID:             chatID,
		Text:               s.render.Notification(incs, s.o.Now()),
		ParseMode:          "HTML",
		LinkPreview:        linkPreview{Disabled: true},
		AllowPaidBroadcast: s.o.Limits.PaidBroadcast,
	}, nil)
	cancel()
	what, retryAfter, migrateTo := verdict(err, d.ChatID == store.ChannelID)
	log := s.o.Log.With("chat", chatID)
	switch what {
	case delivered:
		s.failures = 0
		s.count(func(st *SenderStats) { st.Sent++ })
		s.ack(d)
	case floodWait:
		log.Warn("Telegram asked to slow down; pausing all sending", "retry_after", retryAfter)
		s.count(func(st *SenderStats) { st.Throttled++ })
		return retryAfter
	case chatGone:
		log.Info("chat is gone; dropping it and its subscriptions", "reason", err)
		s.count(func(st *SenderStats) { st.Dropped++ })
		if err := s.outbox.DeleteChat(d.ChatID); err != nil {
			log.Error("cannot drop chat", "err", err)
		}
	case migrated:
		log.Info("group became a supergroup; moving its subscriptions", "to", migrateTo)
		s.count(func(st *SenderStats) { st.Migrated++ })
		if err := s.outbox.MigrateChat(d.ChatID, migrateTo); err != nil {
			log.Error("cannot move migrated chat", "err", err)
		}
	case channelBad:
		log.Error("the announcement channel refuses our posts: make the bot an admin with \"Post Messages\"; the post stays queued", "err", err)
		s.notUntil[d.ChatID] = s.o.Now().Add(s.o.MaxBackoff)
	case rejected:
		// Retrying cannot help; keeping it would block this chat forever.
		log.Error("Telegram rejected a notification; this is a bug, dropping that message", "err", err)
		s.count(func(st *SenderStats) { st.Failed++ })
		s.ack(d)
	case transient:
		s.failures++
		pause := backoff(s.failures, s.o.MinBackoff, s.o.MaxBackoff)
		log.Warn("sending failed; backing off", "err", err, "retry_in", pause)
		return pause
	}
	return 0
}

func (s *Sender) ack(d store.Delivery) {
	if err := s.outbox.Ack(d.ChatID, d.Marks); err != nil {
		s.o.Log.Error("cannot acknowledge delivery", "chat", d.ChatID, "err", err)
	}
}

func (s *Sender) count(f func(*SenderStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// chatLimiter returns the limiter of one chat: groups, supergroups and
// channels (negative ids, and our channel) share Telegram's per-minute
// budget, private chats the per-second one.
func (s *Sender) chatLimiter(id int64) *rate.Limiter {
	l, ok := s.chats[id]
	if !ok {
		r := rate.Limit(s.o.Limits.ChatPerSecond)
		if id <= 0 {
			r = rate.Limit(s.o.Limits.GroupPerMinute / 60)
		}
		l = rate.NewLimiter(r, 1)
		s.chats[id] = l
	}
	return l
}

// forgetIdleChats drops the limiters that no longer hold anyone back, so
// that a fan-out to half a million chats does not keep half a million
// limiters alive.
func (s *Sender) forgetIdleChats() {
	for id, l := range s.chats {
		if l.Tokens() >= 1 {
			delete(s.chats, id)
		}
	}
}

type sendMessageParams struct {
	ChatID             string      `json:"chat_id"`
	Text               string      `json:"text"`
	ParseMode          string      `json:"parse_mode"`
	LinkPreview        linkPreview `json:"link_preview_options"`
	AllowPaidBroadcast bool        `json:"allow_paid_broadcast,omitempty"`
}

type linkPreview struct {
	Disabled bool `json:"is_disabled"`
}
