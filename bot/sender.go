package bot

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

// Outbox is the Sender's view of the database.
type Outbox interface {
	Outbox(after []byte, limit int) ([]store.Delivery, error)
	AckAll(delivered []store.Delivery) error
	Incident(id uint64) (checks.Incident, bool, error)
	DeleteChat(chatID int64) error
	MigrateChat(from, to int64) error
	ChannelPost(incident uint64) (store.ChannelPost, bool, error)
	SetChannelPost(incident uint64, p store.ChannelPost) error
	GroupIncidents(group uint64) ([]checks.Incident, error)
	// Chat returns a chat's record, whose Lang is the language it reads.
	Chat(id int64) (store.Chat, bool, error)
	// Settings returns how a chat wants its alerts (see wanted and quiet);
	// the Sender changes them only to forget a forum topic that is gone.
	Settings(chatID int64) (store.Settings, error)
	SetSettings(chatID int64, s store.Settings) error
}

// Renderer writes the notification texts (HTML) in a language: an IETF tag,
// or "" for the default one.
type Renderer interface {
	// Notification renders the incidents one chat has to learn as one message.
	Notification(lang string, incs []checks.Incident, now time.Time) string
	// BackAfter is the channel's short reply under a resolved incident's post.
	BackAfter(lang string, inc checks.Incident) string
}

// Limits are the sending rates the Sender stays under (Telegram's published
// numbers by default, from the embedded catalog).
type Limits struct {
	GlobalPerSecond float64 // every chat together
	ChatPerSecond   float64 // one private chat
	GroupPerMinute  float64 // one group, supergroup or channel
	// AlertShare is the least share of GlobalPerSecond that alerts get while
	// they wait for it, between 0 and 1 (exclusive); replies to commands get
	// the rest and whatever alerts leave unused. 0 means DefaultAlertShare.
	AlertShare float64
	// PaidBroadcast sends allow_paid_broadcast, which lets Telegram accept up
	// to 1000 messages/s (billed in Stars) when the bot has opted in.
	PaidBroadcast bool
}

// SenderOptions configure a Sender.
type SenderOptions struct {
	// Channel is the announcement channel as Telegram accepts it in chat_id
	// ("@name" or "-100…"); empty when there is none.
	Channel string
	// ChannelLang is the language of the channel's posts ("" for the
	// Renderer's default).
	ChannelLang string
	Limits      Limits
	// Budget is the sending policy shared with replies to commands: the
	// bot-wide rate and the per-chat limits. Nil gives the Sender a budget of
	// its own for Limits.
	Budget *Budget
	// Workers is how many deliveries may be unfinished at once: sent or
	// being sent, and not yet acknowledged on disk. It is therefore also the
	// most messages a crash can repeat. 0 derives it from the global rate:
	// Telegram answers in about 100 ms, so keeping the rate needs the
	// messages of 150 ms in flight (5 at 30/s, 150 at 1000/s), 4 to 256.
	Workers int
	// Affected returns the "I'm affected" button of a service, labelled in
	// lang, put under every alert to a chat so that people can report with
	// one tap; nil sends no buttons.
	Affected func(lang, service string) (tele.InlineButton, bool)
	// EditDebounce is the least time between two edits of a channel post
	// (default 30 s); a recovery is never held back by it.
	EditDebounce time.Duration
	Log          *slog.Logger
	Now          func() time.Time
	// Backoff bounds the pause after transient errors; defaults 1s and 60s.
	MinBackoff, MaxBackoff time.Duration
	// OnSend, when set, is told how each delivery ended: "sent",
	// "throttled" (429), "chat_gone", "migrated", "channel_refused",
	// "rejected" or "transient". Workers call it concurrently.
	OnSend func(outcome string)
	// OnDispatch, when set, is called whenever the dispatcher reads the
	// outbox. With OnSend it is the Sender's heartbeat: one of them is
	// called at least every MaxSilence while Run runs.
	OnDispatch func()
}

// Sender delivers the outbox. One dispatcher goroutine walks the outbox in
// delivery order (the channel, then groups, then private chats) within the
// global and per-chat rate limits and hands chats to a few workers; each
// worker renders a chat's pending incidents as they are now and sends them
// as one message. Acknowledgements are committed in batches, and a chat is
// not dispatched again until its acknowledgement is on disk: a crash at any
// point loses nothing and repeats at most the Workers messages then sent
// but not yet acknowledged on disk.
type Sender struct {
	client *Client
	outbox Outbox
	render Renderer
	budget *Budget
	o      SenderOptions
	kick   chan struct{}
	// slots holds one token per busy chat, so that at most Workers
	// deliveries are unfinished at any moment.
	slots chan struct{}

	// Only the dispatcher goroutine touches these.
	// reserved holds the slots in their chats' lines (see chatLines) of the
	// chats held back until then: keeping its slot, an alert keeps its place
	// ahead of the replies that come into that chat meanwhile.
	reserved map[int64]time.Time
	incs     map[uint64]cachedIncident
	zones    map[string]*time.Location // loaded once: loading one takes tens of µs

	// texts caches rendered notifications for a second: in a fan-out,
	// thousands of chats get the same incidents, and the same text.
	textMu sync.Mutex
	texts  map[string]string
	textAt time.Time

	mu   sync.Mutex
	busy map[int64]bool // in flight, or sent and awaiting its ack; each holds a slot
	// seq counts finished deliveries; done says when each chat's last one
	// finished, so that the dispatcher can tell whether an outbox entry it
	// read is older than that and so must not be sent again.
	seq        uint64
	done       map[int64]uint64
	notUntil   map[int64]time.Time // chats held back (rate limit, 429, refusal, debounce)
	pauseUntil time.Time           // all sending paused (Telegram unwell)
	failures   int                 // consecutive transient failures
}

type cachedIncident struct {
	inc    checks.Incident
	ok     bool
	loaded time.Time
}

// job is one chat's delivery, handed from the dispatcher to a worker.
type job struct {
	d      store.Delivery
	incs   []checks.Incident // aligned with d.Marks; missing incidents left out
	chatID string            // as sent in chat_id
	lang   string            // the language the chat reads
	thread int               // the forum topic the chat chose; 0 for none
	silent bool              // the chat is in its quiet hours
	done   func()            // called by the worker when the job is over
}

// NewSender returns a Sender; call Run to start it.
func NewSender(c *Client, outbox Outbox, r Renderer, o SenderOptions) *Sender {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.MinBackoff = cmp.Or(o.MinBackoff, time.Second)
	o.MaxBackoff = cmp.Or(o.MaxBackoff, time.Minute)
	o.EditDebounce = cmp.Or(o.EditDebounce, 30*time.Second)
	if o.Workers <= 0 {
		o.Workers = min(max(int(math.Ceil(o.Limits.GlobalPerSecond*0.15)), 4), 256)
	}
	if o.Budget == nil {
		o.Budget = NewBudget(BudgetOptions{Limits: o.Limits, Log: o.Log})
	}
	return &Sender{
		client:   c,
		outbox:   outbox,
		render:   r,
		budget:   o.Budget,
		o:        o,
		kick:     make(chan struct{}, 1),
		slots:    make(chan struct{}, o.Workers),
		reserved: make(map[int64]time.Time),
		incs:     make(map[uint64]cachedIncident),
		zones:    make(map[string]*time.Location),
		busy:     make(map[int64]bool),
		done:     make(map[int64]uint64),
		texts:    make(map[string]string),
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

// MaxSilence is the longest time between two calls of OnSend or OnDispatch
// while Run runs: an idle wait, then the longest pause after failures, then
// a channel post of up to three calls. A 429 that pauses all sending (see
// Budget) and whose retry_after is longer stretches it: Telegram then holds
// every notification back, which an operator should hear of.
func (s *Sender) MaxSilence() time.Duration {
	return idlePoll + s.o.MaxBackoff + 3*sendTimeout
}

// idlePoll is how often an idle Sender looks at the outbox without a Kick,
// which covers work queued by an earlier process.
const idlePoll = 30 * time.Second

// sendTimeout bounds one Bot API call of a delivery. A call outlives a
// shutdown by up to this long, so that a message Telegram accepted is also
// acknowledged and not repeated after the restart.
const sendTimeout = 5 * time.Second

// ackBatch bounds how many acknowledgements share one transaction.
const ackBatch = 1000

// Run sends until ctx ends, then finishes the sends in flight, commits their
// acknowledgements and returns.
func (s *Sender) Run(ctx context.Context) {
	jobs := make(chan job)
	acks := make(chan store.Delivery, ackBatch)
	var workers sync.WaitGroup
	for range s.o.Workers {
		workers.Go(func() {
			for j := range jobs {
				s.work(ctx, j, acks)
				j.done()
			}
		})
	}
	ackerDone := make(chan struct{})
	go func() { s.ackLoop(acks); close(ackerDone) }()

	for ctx.Err() == nil {
		wait := s.pass(ctx, jobs, acks)
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
	close(jobs)
	workers.Wait()
	close(acks)
	<-ackerDone
}

// pass walks the outbox once and returns how long to wait before the next
// pass: 0 to start again at once, else the time until the first held-back
// chat may be tried again, at most idlePoll.
func (s *Sender) pass(ctx context.Context, jobs chan<- job, acks chan<- store.Delivery) time.Duration {
	s.forgetIdleChats()
	s.mu.Lock()
	clear(s.done) // every batch of this pass is read after those finished
	s.mu.Unlock()
	var cursor []byte
	var inflight sync.WaitGroup // jobs of this pass not yet done
	lastGroup := false          // the previous dispatched job went to a group
	for ctx.Err() == nil {
		readSeq := s.finished()
		if s.o.OnDispatch != nil {
			s.o.OnDispatch()
		}
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
			if pause := s.paused(); pause > 0 {
				// Telegram throttles the whole bot, or looks unwell: start
				// again from the head (the channel first) afterwards. Chats
				// held back stay held, and are skipped.
				sleep(ctx, pause)
				return 0
			}
			if !s.ready(d.ChatID, readSeq) {
				continue
			}
			j, send, err := s.prepare(d)
			if err != nil {
				s.o.Log.Error("cannot load the incidents of a delivery", "chat", d.ChatID, "err", err)
				return s.o.MinBackoff
			}
			if d.ChatID > 0 && lastGroup {
				// Groups reach many people per message: let them all land
				// before the first private chat.
				inflight.Wait()
			}
			select {
			case s.slots <- struct{}{}:
			case <-ctx.Done():
				return 0
			}
			s.setBusy(d.ChatID)
			if !send {
				// Nothing left to say (the incidents are gone, or the channel
				// was unset since this was queued): just forget it.
				acks <- d
				continue
			}
			slot := s.slot(d.ChatID)
			if wait := time.Until(slot); wait > 0 {
				// This chat heard from us, or from a reply, a moment ago:
				// others need not wait, and it keeps its slot.
				s.reserved[d.ChatID] = slot
				s.release(d.ChatID, wait)
				continue
			}
			if err := s.budget.Bulk(ctx); err != nil {
				s.reserved[d.ChatID] = slot
				s.release(d.ChatID, 0)
				return 0
			}
			if pause := s.paused(); pause > 0 {
				// A send failed while this one waited for its turn.
				s.reserved[d.ChatID] = slot
				s.release(d.ChatID, 0)
				sleep(ctx, pause)
				return 0
			}
			if d.ChatID == store.ChannelID {
				// The channel post goes out before anything else: it reaches
				// every channel member at once.
				s.work(ctx, j, acks)
				continue
			}
			lastGroup = d.ChatID < 0
			inflight.Add(1)
			j.done = inflight.Done
			select {
			case jobs <- j:
			case <-ctx.Done():
				inflight.Done()
				s.release(d.ChatID, 0)
				return 0
			}
		}
	}
	return 0
}

// prepare loads the incidents of d, at most a second old, and the language
// and settings of its chat, and reports whether there is anything to send.
// Incidents the chat's settings leave out are not sent, and are
// acknowledged with the rest all the same.
func (s *Sender) prepare(d store.Delivery) (job, bool, error) {
	j := job{d: d, chatID: strconv.FormatInt(d.ChatID, 10)}
	var settings store.Settings // the channel is the operator's: it hears everything
	if d.ChatID == store.ChannelID {
		if s.o.Channel == "" {
			return j, false, nil
		}
		j.chatID, j.lang = s.o.Channel, s.o.ChannelLang
	} else {
		// Read at send time, like the incidents: a chat that switched
		// language since the outage began reads the news in its new one.
		chat, _, err := s.outbox.Chat(d.ChatID)
		if err != nil {
			return j, false, err
		}
		j.lang = chat.Lang
		if settings, err = s.outbox.Settings(d.ChatID); err != nil {
			return j, false, err
		}
	}
	now := s.o.Now()
	j.thread, j.silent = settings.TopicID, s.quiet(settings, now)
	for _, m := range d.Marks {
		c, hit := s.incs[m.Incident]
		if !hit || now.Sub(c.loaded) > time.Second {
			inc, ok, err := s.outbox.Incident(m.Incident)
			if err != nil {
				return j, false, err
			}
			c = cachedIncident{inc: inc, ok: ok, loaded: now}
			s.incs[m.Incident] = c
		}
		if c.ok && wanted(settings, c.inc) {
			j.incs = append(j.incs, c.inc)
		}
	}
	return j, len(j.incs) > 0, nil
}

// ackLoop commits acknowledgements in batches: whatever arrived while the
// previous commit was running goes into the next one.
func (s *Sender) ackLoop(acks <-chan store.Delivery) {
	for d := range acks {
		batch := []store.Delivery{d}
	drain:
		for len(batch) < ackBatch {
			select {
			case d, ok := <-acks:
				if !ok {
					break drain
				}
				batch = append(batch, d)
			default:
				break drain
			}
		}
		if err := s.outbox.AckAll(batch); err != nil {
			// The entries stay queued and are sent again: a repeat, not a loss.
			s.o.Log.Error("cannot acknowledge deliveries", "n", len(batch), "err", err)
		}
		chats := make([]int64, len(batch))
		for i, d := range batch {
			chats[i] = d.ChatID
		}
		// A newer version may have been queued for these chats meanwhile:
		// finish wakes the dispatcher to look.
		s.finish(chats...)
	}
}

// slot returns the slot in chat's line kept from an earlier pass, or takes
// the next one.
func (s *Sender) slot(chat int64) time.Time {
	if at, ok := s.reserved[chat]; ok {
		delete(s.reserved, chat)
		return at
	}
	// The lines keep real time, like the rate they stand for.
	at, _ := s.budget.lines.reserve(chat, time.Now(), time.Time{})
	return at
}

// commitSlack is how long a worker waits, at most, for the spacing of its
// chat's messages: a reply that waited long for its turn in the global rate
// may have gone into the chat just before the alert's slot. Waiting keeps
// the alert's token, which handing the chat back would waste; at Telegram's
// one message a second, a private chat's spacing is always waited out.
// Beyond it the chat is handed back until it can take the alert, and the
// worker goes on.
const commitSlack = time.Second

// work delivers one job and acts on Telegram's answer.
func (s *Sender) work(ctx context.Context, j job, acks chan<- store.Delivery) {
	now := time.Now()
	wait, ok := s.budget.lines.commit(j.d.ChatID, now, now.Add(commitSlack))
	if !ok {
		s.release(j.d.ChatID, wait)
		return
	}
	if wait > 0 && !sleep(ctx, wait) {
		s.release(j.d.ChatID, 0)
		return
	}
	var err error
	if j.d.ChatID == store.ChannelID {
		err = s.postToChannel(ctx, j)
	} else {
		_, err = s.send(ctx, j.chatID, s.notification(j.lang, j.incs), placement{thread: j.thread, silent: j.silent}, s.buttons(j.lang, j.incs))
	}
	s.budget.lines.sent(j.d.ChatID, time.Now())
	if j.thread != 0 && topicGone(err) {
		// Sent again in the chat's next slot, to its General topic; if the
		// database cannot record that, after a pause rather than in a tight
		// loop.
		if !s.forgetTopic(j) {
			s.transientFailure()
		}
		s.release(j.d.ChatID, 0)
		return
	}
	var hold holdError
	if errors.As(err, &hold) {
		s.release(j.d.ChatID, hold.wait)
		return
	}
	what, retryAfter, migrateTo := verdict(err, j.d.ChatID == store.ChannelID)
	if s.o.OnSend != nil {
		s.o.OnSend(what.String())
	}
	log := s.o.Log.With("chat", j.chatID)
	switch what {
	case delivered:
		s.succeeded()
		acks <- j.d
		return
	case rejected:
		// Retrying cannot help; keeping it would block this chat forever.
		log.Error("Telegram rejected a notification; this is a bug, dropping that message", "err", err)
		acks <- j.d
		return
	case floodWait:
		// The chat is held, and charged for it in its line. Only when chats
		// come back throttled at once does the Budget pause everything.
		if !s.budget.throttled(j.d.ChatID, retryAfter) {
			log.Warn("Telegram asked to slow down in this chat; holding it", "retry_after", retryAfter)
		}
		s.release(j.d.ChatID, retryAfter)
		return
	case chatGone:
		log.Info("chat is gone; dropping it and its subscriptions", "reason", err)
		if err := s.outbox.DeleteChat(j.d.ChatID); err != nil {
			log.Error("cannot drop chat", "err", err)
		}
		s.finish(j.d.ChatID)
		return
	case migrated:
		log.Info("group became a supergroup; moving its subscriptions", "to", migrateTo)
		if err := s.outbox.MigrateChat(j.d.ChatID, migrateTo); err != nil {
			log.Error("cannot move migrated chat", "err", err)
		}
		s.finish(j.d.ChatID)
		return
	case channelBad:
		log.Error("the announcement channel refuses our posts: make the bot an admin with \"Post Messages\"; the post stays queued", "err", err)
		s.release(j.d.ChatID, s.o.MaxBackoff)
		return
	case transient:
		pause := s.transientFailure()
		log.Warn("sending failed; backing off", "err", err, "retry_in", pause)
	}
	s.release(j.d.ChatID, 0)
}

// textTTL is how long a rendered notification is reused. Texts say "14 min
// so far" and render the incident as it is when sent: a second is both
// invisible to readers and thousands of renders saved.
const textTTL = time.Second

// notification renders incs in lang, or reuses the same rendering of the
// last second.
func (s *Sender) notification(lang string, incs []checks.Incident) string {
	var key strings.Builder
	key.WriteString(lang + " ")
	for _, inc := range incs {
		key.WriteString(strconv.FormatUint(inc.ID, 10) + "." + strconv.FormatUint(inc.Version, 10) + " ")
	}
	now := s.o.Now()
	s.textMu.Lock()
	defer s.textMu.Unlock()
	if now.Sub(s.textAt) > textTTL {
		clear(s.texts)
		s.textAt = now
	}
	text, ok := s.texts[key.String()]
	if !ok {
		text = s.render.Notification(lang, incs, now)
		s.texts[key.String()] = text
	}
	return text
}

// holdError says that a delivery must wait (a channel post edited too
// recently) without anything having gone wrong.
type holdError struct{ wait time.Duration }

func (h holdError) Error() string { return "held back for " + h.wait.String() }

// postToChannel keeps one post per incident in the channel, or one per
// Meta-wide group of incidents: the first delivery posts it, later ones edit
// it in place (silently, at most once per EditDebounce), and the recovery
// adds a short reply, which is what notifies the channel's members that it
// is over.
func (s *Sender) postToChannel(ctx context.Context, j job) error {
	extra := false // every call after the first takes its own budget slot
	call := func(f func() error) error {
		if extra {
			if err := s.budget.Bulk(ctx); err != nil {
				return err
			}
		}
		extra = true
		return f()
	}
	seen := map[uint64]bool{}
	for _, inc := range j.incs {
		key, members, err := s.postOf(inc)
		if err != nil {
			return err
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		var version uint64 // grows whenever a member changes or joins
		resolved := true
		for _, m := range members {
			version += m.Version
			resolved = resolved && m.Resolved()
		}
		post, posted, err := s.outbox.ChannelPost(key)
		if err != nil {
			return err
		}
		now := s.o.Now()
		text := s.render.Notification(j.lang, members, now)
		switch {
		case posted && post.Version >= version:
			continue // an earlier run got this far
		case posted && !resolved && now.Sub(post.Edited) < s.o.EditDebounce:
			return holdError{post.Edited.Add(s.o.EditDebounce).Sub(now)}
		case posted:
			err := call(func() error { return editMessage(ctx, s.client, j.chatID, post.MessageID, text) })
			if isEditGone(err) {
				posted = false // deleted by an admin: post anew below
			} else if err != nil {
				return err
			}
		}
		if !posted {
			var id int
			if err := call(func() (err error) { id, err = s.send(ctx, j.chatID, text, placement{}, nil); return err }); err != nil {
				return err
			}
			post = store.ChannelPost{MessageID: id, Resolved: resolved}
		}
		if resolved && !post.Resolved {
			reply := make([]string, len(members))
			for i, m := range members {
				reply[i] = s.render.BackAfter(j.lang, m)
			}
			if err := call(func() error {
				_, err := s.send(ctx, j.chatID, strings.Join(reply, "\n"), placement{replyTo: post.MessageID}, nil)
				return err
			}); err != nil {
				return err
			}
			post.Resolved = true
		}
		post.Version, post.Edited = version, now
		if err := s.outbox.SetChannelPost(key, post); err != nil {
			return err
		}
	}
	return nil
}

// postOf returns the key of the channel post that shows inc (its group's id
// for a Meta-wide incident, else its own) and every incident it shows.
func (s *Sender) postOf(inc checks.Incident) (uint64, []checks.Incident, error) {
	if inc.Group == 0 {
		return inc.ID, []checks.Incident{inc}, nil
	}
	members, err := s.outbox.GroupIncidents(inc.Group)
	if err != nil {
		return 0, nil, err
	}
	return inc.Group, members, nil
}

// isEditGone reports whether an edit failed because the message no longer
// exists.
func isEditGone(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == 400 &&
		(strings.Contains(ae.Description, "message to edit not found") || strings.Contains(ae.Description, "MESSAGE_ID_INVALID"))
}

type sendMessageParams struct {
	ChatID              string            `json:"chat_id"`
	ThreadID            int               `json:"message_thread_id,omitempty"`
	Text                string            `json:"text"`
	ParseMode           string            `json:"parse_mode"`
	LinkPreview         linkPreview       `json:"link_preview_options"`
	DisableNotification bool              `json:"disable_notification,omitempty"`
	ReplyTo             *replyParameters  `json:"reply_parameters,omitempty"`
	ReplyMarkup         *tele.ReplyMarkup `json:"reply_markup,omitempty"`
	AllowPaidBroadcast  bool              `json:"allow_paid_broadcast,omitempty"`
}

// buttons is the keyboard under an alert, labelled in lang: "I'm affected"
// for each service still in trouble, one per row. Recoveries get none.
func (s *Sender) buttons(lang string, incs []checks.Incident) *tele.ReplyMarkup {
	if s.o.Affected == nil {
		return nil
	}
	var rows [][]tele.InlineButton
	for _, inc := range incs {
		if inc.Resolved() {
			continue
		}
		if b, ok := s.o.Affected(lang, inc.Service); ok {
			rows = append(rows, []tele.InlineButton{b})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return &tele.ReplyMarkup{InlineKeyboard: rows}
}

type linkPreview struct {
	Disabled bool `json:"is_disabled"`
}

type replyParameters struct {
	MessageID                int  `json:"message_id"`
	AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
}

// placement says where in its chat a message goes, and how it arrives.
type placement struct {
	replyTo int  // the message it answers; 0 for none
	thread  int  // the forum topic; 0 for the chat itself
	silent  bool // delivered without a sound
}

// send sends an HTML message where at says, with markup when it is not nil,
// and returns its message id.
func (s *Sender) send(ctx context.Context, chatID, text string, at placement, markup *tele.ReplyMarkup) (int, error) {
	p := sendMessageParams{
		ChatID: chatID, ThreadID: at.thread, Text: text, ParseMode: "HTML",
		LinkPreview:         linkPreview{Disabled: true},
		DisableNotification: at.silent,
		ReplyMarkup:         markup,
		AllowPaidBroadcast:  s.o.Limits.PaidBroadcast,
	}
	if at.replyTo != 0 {
		p.ReplyTo = &replyParameters{MessageID: at.replyTo, AllowSendingWithoutReply: true}
	}
	return sendMessage(ctx, s.client, p)
}

// sendMessage sends a message and returns its id. The call outlives ctx by
// up to sendTimeout (see there).
func sendMessage(ctx context.Context, c *Client, p sendMessageParams) (int, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	var msg struct {
		MessageID int `json:"message_id"`
	}
	err := c.Call(ctx, "sendMessage", p, &msg)
	return msg.MessageID, err
}

type editParams struct {
	ChatID      string      `json:"chat_id"`
	MessageID   int         `json:"message_id"`
	Text        string      `json:"text"`
	ParseMode   string      `json:"parse_mode"`
	LinkPreview linkPreview `json:"link_preview_options"`
}

// editMessage replaces the text of an HTML message; "message is not
// modified" counts as success (verdict treats it so). Like sendMessage, the
// call outlives ctx by up to sendTimeout.
func editMessage(ctx context.Context, c *Client, chatID string, messageID int, text string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	err := c.Call(ctx, "editMessageText", editParams{
		ChatID: chatID, MessageID: messageID, Text: text, ParseMode: "HTML",
		LinkPreview: linkPreview{Disabled: true},
	}, nil)
	if what, _, _ := verdict(err, true); what == delivered {
		return nil
	}
	return err
}

// succeeded ends a run of transient failures: the next one backs off from
// the start again.
func (s *Sender) succeeded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = 0
}

// ready reports whether chat, as read from the outbox when readSeq
// deliveries had finished, may be dispatched now.
func (s *Sender) ready(chat int64, readSeq uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[chat] || s.done[chat] > readSeq {
		return false
	}
	if until, ok := s.notUntil[chat]; ok {
		if until.After(s.o.Now()) {
			return false
		}
		delete(s.notUntil, chat)
	}
	return true
}

func (s *Sender) setBusy(chat int64) {
	s.mu.Lock()
	s.busy[chat] = true
	s.mu.Unlock()
}

// finished returns how many deliveries have finished so far.
func (s *Sender) finished() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// finish records that the deliveries to chats are over (acknowledged, or
// the chat dropped or moved): outbox entries read before now are stale.
func (s *Sender) finish(chats ...int64) {
	s.mu.Lock()
	s.seq++
	for _, c := range chats {
		s.unbusy(c)
		s.done[c] = s.seq
	}
	s.mu.Unlock()
	s.Kick()
}

// release makes chat dispatchable again, after wait when it is positive,
// and wakes the dispatcher so that it takes the new state into account.
func (s *Sender) release(chat int64, wait time.Duration) {
	s.mu.Lock()
	s.unbusy(chat)
	if wait > 0 {
		s.notUntil[chat] = s.o.Now().Add(wait)
	}
	s.mu.Unlock()
	s.Kick()
}

// unbusy ends chat's delivery and frees its slot; s.mu must be held.
func (s *Sender) unbusy(chat int64) {
	if s.busy[chat] {
		delete(s.busy, chat)
		<-s.slots
	}
}

// transientFailure records a failure that is probably Telegram's or the
// network's, not the chat's, and pauses all sending with exponential backoff.
// Failures of sends that were already in flight when a pause began are one
// failure, not many: with a hundred sends in flight, one brief burst of 502s
// would otherwise push the backoff to its maximum at once.
func (s *Sender) transientFailure() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if left := s.pauseUntil.Sub(s.o.Now()); left > 0 {
		return left
	}
	s.failures++
	d := backoff(s.failures, s.o.MinBackoff, s.o.MaxBackoff)
	s.pauseUntil = later(s.pauseUntil, s.o.Now().Add(d))
	return d
}

// paused returns how long all sending is still paused for: after
// transient failures, or while Telegram throttles the whole bot.
func (s *Sender) paused() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.pauseUntil.Sub(s.o.Now()), s.budget.paused())
}

// nextRetry returns the time until the earliest held-back chat may be tried
// again (0 if one already may), at most idlePoll.
func (s *Sender) nextRetry() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := idlePoll
	now := s.o.Now()
	if p := s.pauseUntil.Sub(now); p > 0 {
		wait = p
	}
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

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// forgetIdleChats drops the slots kept for chats that never came back for
// them (acknowledged meanwhile, or dropped), and stale cached incidents.
func (s *Sender) forgetIdleChats() {
	stale := time.Now().Add(-idlePoll)
	for id, at := range s.reserved {
		if at.Before(stale) {
			delete(s.reserved, id)
		}
	}
	clear(s.incs)
}
