package bottest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fault is an error the server answers instead of running a call.
type Fault struct {
	// Code is both the HTTP status and error_code, e.g. 429, 403, 400, 502.
	// Zero answers the call normally, which with Delay makes a slow success.
	Code int
	// Description defaults to Telegram's wording for Code, e.g. "Too Many
	// Requests: retry after 3" for 429 with RetryAfter 3.
	Description string
	RetryAfter  int           // parameters.retry_after when > 0
	MigrateTo   int64         // parameters.migrate_to_chat_id when != 0
	Delay       time.Duration // answer after this long, unless the client gives up first
	ChatID      int64         // when != 0, only calls with this chat_id match
	CloseConn   bool          // drop the connection without an answer (a network error)
}

// queuedFault is a fault with the method it applies to ("" for any).
type queuedFault struct {
	method string
	Fault
}

func (f queuedFault) matches(method string, chatID int64) bool {
	return (f.method == "" || strings.EqualFold(f.method, method)) &&
		(f.ChatID == 0 || f.ChatID == chatID)
}

// Fail queues a fault for the next call of method ("" for any method) that
// matches it. Queued faults are used once each, oldest first.
func (s *Server) Fail(method string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, queuedFault{method, f})
}

// FailAlways makes every matching call of method ("" for any method) fail
// with f until ClearFaults. Faults queued with Fail take precedence.
func (s *Server) FailAlways(method string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always = append(s.always, queuedFault{method, f})
}

// ClearFaults removes every fault set with Fail or FailAlways.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.always = nil, nil
}

// takeFault returns the fault that applies to a call, consuming it if it
// was queued with Fail.
func (s *Server) takeFault(method string, q request) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 && len(s.always) == 0 {
		return Fault{}, false
	}
	chatID, _ := s.chatID(q) // zero when absent, which only ChatID-less faults match
	for i, f := range s.faults {
		if f.matches(method, chatID) {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f.Fault, true
		}
	}
	for _, f := range s.always {
		if f.matches(method, chatID) {
			return f.Fault, true
		}
	}
	return Fault{}, false
}

func (f Fault) apiError() *apiError {
	desc := f.Description
	if desc == "" {
		desc = http.StatusText(f.Code)
		if f.Code == http.StatusTooManyRequests && f.RetryAfter > 0 {
			desc = tooManyRequests(f.RetryAfter).description
		}
	}
	return &apiError{code: f.Code, description: desc, retryAfter: f.RetryAfter, migrateTo: f.MigrateTo}
}

func tooManyRequests(retryAfter int) *apiError {
	return &apiError{
		code:        http.StatusTooManyRequests,
		description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		retryAfter:  retryAfter,
	}
}

// Limits are Telegram's sending limits. Zero fields are unlimited. Each
// limit is a token bucket holding one period's worth of messages (at least
// one), so short bursts pass and a sustained excess is refused. sendMessage
// and edits count against them.
type Limits struct {
	Global            float64 // messages per second across all chats
	PerChat           float64 // messages per second into one private chat
	PerGroupPerMinute float64 // messages per minute into one group, supergroup or channel (chat id < 0)
	// GroupBurst is how many messages a group's bucket holds, when
	// positive: a stricter Telegram than a minute's worth, which a flood
	// of replies into one group empties within seconds instead of a
	// quarter of a minute.
	GroupBurst int
	RetryAfter int // seconds reported in the 429; 0 means 1
}

// Throttles counts the 429 answers of the server by what refused the call.
type Throttles struct {
	Global int // the bot-wide limit
	Chat   int // a private chat's limit
	Group  int // a group's, supergroup's or channel's limit
	Fault  int // injected with Fail or FailAlways
}

// SetLimits starts enforcing l with full buckets; sends over a limit get a
// real 429 with parameters.retry_after.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
	s.global = bucket{}
	clear(s.buckets)
}

// TooManyRequests returns how many 429 answers the server gave, from
// limits and injected faults alike.
func (s *Server) TooManyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

// Throttled returns the 429 answers so far by what refused the call: tests
// that enforce several limits tell a bot that ignores one from a bot that
// ignores another.
func (s *Server) Throttled() Throttles {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.throttled
	t.Fault = s.tooMany - t.Global - t.Chat - t.Group
	return t
}

// bucket is a token bucket; the zero value is full.
type bucket struct {
	tokens float64
	at     time.Time // last refill; zero before first use
}

// refill adds the tokens earned since the last refill.
func (b *bucket) refill(now time.Time, perSecond, capacity float64) {
	if b.at.IsZero() {
		b.tokens = capacity
	} else {
		b.tokens = min(capacity, b.tokens+now.Sub(b.at).Seconds()*perSecond)
	}
	b.at = now
}

// admit takes one message from every bucket that applies to the chat, or
// none of them and a 429 if any is empty. The caller holds s.mu.
func (s *Server) admit(chatID int64) error {
	type use struct {
		b                   *bucket
		perSecond, capacity float64
		refused             *int // the count of 429s this bucket gives
	}
	var uses []use
	if l := s.limits.Global; l > 0 {
		uses = append(uses, use{&s.global, l, max(l, 1), &s.throttled.Global})
	}
	perSecond, capacity, refused := s.limits.PerChat, max(s.limits.PerChat, 1), &s.throttled.Chat
	if chatID < 0 {
		perSecond, capacity, refused = s.limits.PerGroupPerMinute/60, max(s.limits.PerGroupPerMinute, 1), &s.throttled.Group
		if s.limits.GroupBurst > 0 {
			capacity = float64(s.limits.GroupBurst)
		}
	}
	if perSecond > 0 {
		b := s.buckets[chatID]
		if b == nil {
			b = &bucket{}
			s.buckets[chatID] = b
		}
		uses = append(uses, use{b, perSecond, capacity, refused})
	}
	now := s.now()
	for _, u := range uses {
		u.b.refill(now, u.perSecond, u.capacity)
		if u.b.tokens < 1 {
			retryAfter := s.limits.RetryAfter
			if retryAfter <= 0 {
				retryAfter = 1
			}
			*u.refused++
			return tooManyRequests(retryAfter)
		}
	}
	for _, u := range uses {
		u.b.tokens--
	}
	return nil
}
