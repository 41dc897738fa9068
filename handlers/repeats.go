package handlers

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"
)

// repeatWindow is how long an answer sent into a group stands for everyone
// there: the same question asked again within it, with the same answer, is
// not answered again. When WhatsApp stops working, a group's members ask
// /status one after the other within seconds; the first answer lands right
// under their questions, where every one of them reads it, and each copy
// would only push the conversation up and spend the group's 20 messages a
// minute, which the alerts need too. Half a minute is about one probe
// round (the default schedule is every 30 s): a question asked later finds
// the answer scrolled away, and by then it may have changed anyway.
const repeatWindow = 30 * time.Second

// repeats remembers the answers lately sent into groups, to send each only
// once within repeatWindow. Answers are told apart by a digest of what they
// say, so a different answer (a new round, another language) always goes
// out. Private chats are left alone: a person who asks again there wants
// the answer again, and the flood gate bounds how often.
type repeats struct {
	window time.Duration

	mu    sync.Mutex
	sent  map[repeatKey]*repeat
	swept time.Time
}

// repeatKey is one answer in one group, in one forum topic of it.
type repeatKey struct {
	chat   int64
	thread int
	digest [sha256.Size]byte
}

// repeat is one sending of an answer. Its fields other than done are
// guarded by repeats.mu until done is closed, and fixed afterwards.
type repeat struct {
	done chan struct{} // closed once the send is over
	ok   bool          // the answer was sent
	at   time.Time     // when the send ended
}

func newRepeats(window time.Duration) *repeats {
	return &repeats{window: window, sent: make(map[repeatKey]*repeat)}
}

// claim returns the sending of the answer k at now and whether the caller
// is to send it: true when it was not sent within the window nor is being
// sent. Otherwise the caller waits for done and, if that sending failed,
// claims again.
func (r *repeats) claim(k repeatKey, now time.Time) (*repeat, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.swept) >= r.window {
		r.sweep(now)
	}
	if s, ok := r.sent[k]; ok && !r.stale(s, now) {
		return s, false
	}
	s := &repeat{done: make(chan struct{})}
	r.sent[k] = s
	return s, true
}

// finish records how the sending s of k ended, at now.
func (r *repeats) finish(k repeatKey, s *repeat, ok bool, now time.Time) {
	r.mu.Lock()
	s.ok, s.at = ok, now
	if !ok && r.sent[k] == s {
		delete(r.sent, k) // nobody got it: the next to ask must
	}
	r.mu.Unlock()
	close(s.done)
}

// stale reports whether s ended longer than the window before now. The
// caller holds r.mu.
func (r *repeats) stale(s *repeat, now time.Time) bool {
	select {
	case <-s.done:
		return now.Sub(s.at) >= r.window
	default:
		return false // still being sent
	}
}

// sweep forgets the sendings that went stale. The caller holds r.mu.
func (r *repeats) sweep(now time.Time) {
	for k, s := range r.sent {
		if r.stale(s, now) {
			delete(r.sent, k)
		}
	}
	r.swept = now
}

// sendShared sends an answer that is the same whoever asks, such as
// /status, into the chat of c, unless the chat is a group where the same
// answer was sent within repeatWindow (see repeats). id says everything the
// answer says: equal ids, equal answers.
func (h *handler) sendShared(c tele.Context, id string, what any, opts ...any) error {
	chat := c.Chat()
	if chat.Type != tele.ChatGroup && chat.Type != tele.ChatSuperGroup {
		return h.send(c, what, opts...)
	}
	k := repeatKey{chat: chat.ID, digest: sha256.Sum256([]byte(id))}
	if m := c.Message(); m != nil && m.TopicMessage {
		k.thread = m.ThreadID
	}
	for {
		s, first := h.repeats.claim(k, h.Now())
		if first {
			return h.sendFirst(c, k, s, what, opts...)
		}
		<-s.done
		if s.ok {
			h.Log.Debug("answered already in this group", "chat", chat.ID, "thread", k.thread)
			return nil
		}
	}
}

// sendFirst sends the answer k, which s claimed, and records how that
// went, even if sending panics: the others asking wait for it.
func (h *handler) sendFirst(c tele.Context, k repeatKey, s *repeat, what any, opts ...any) (err error) {
	sent := false
	defer func() { h.repeats.finish(k, s, sent, h.Now()) }()
	err = h.send(c, what, opts...)
	sent = err == nil
	return err
}

// textID is the id of a text answer, for sendShared: the text and the data
// and labels of its buttons.
func textID(text string, markup *tele.ReplyMarkup) string {
	var b strings.Builder
	b.WriteString(text)
	if markup != nil {
		for _, row := range markup.InlineKeyboard {
			for _, btn := range row {
				b.WriteString("\x00" + btn.Text + "\x00" + btn.Data)
			}
		}
	}
	return b.String()
}
