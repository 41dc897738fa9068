package handlers

import (
	"slices"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
)

// groupQuota bounds how many reports about a service count from one group in
// any span of the report window. Each person counts once per period anyway,
// but a group gathers many people, or accounts, in one place: capped below
// the rule's floor, no group makes a spike by itself, however many sock
// puppets it holds. Private chats are their own person and the announcement
// channel is the operator's, so neither has a quota.
//
// The quota lives in memory. A restart forgets it, which lets a group add at
// most one more quota's worth, and the database keeps no trace of what any
// chat reported.
type groupQuota struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	taken map[quotaKey][]time.Time // when counted reports were taken, oldest first
	swept time.Time
}

// quotaKey is one group's reports about one service.
type quotaKey struct {
	chat    int64
	service string
}

// newGroupQuota returns the quota that r implies: one report fewer than the
// floor of a spike (at least one: with a floor of one, every report is a
// spike anyway) per window.
func newGroupQuota(r checks.ReportRule) *groupQuota {
	r = r.WithDefaults()
	return &groupQuota{
		max:    max(1, r.Floor-1),
		window: time.Duration(r.Window),
		taken:  make(map[quotaKey][]time.Time),
	}
}

// take reserves one of the chat's reports about service at now, reporting
// false when the chat is a group that used its quota up. A reservation that
// ends up not counted must be given back with release.
func (q *groupQuota) take(chat *tele.Chat, service string, now time.Time) bool {
	if chat == nil || chat.Type != tele.ChatGroup && chat.Type != tele.ChatSuperGroup {
		return true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if now.Sub(q.swept) >= q.window {
		q.sweep(now)
	}
	k := quotaKey{chat.ID, service}
	recent := q.recent(q.taken[k], now)
	if len(recent) >= q.max {
		q.taken[k] = recent
		return false
	}
	q.taken[k] = append(recent, now)
	return true
}

// release gives back a reservation that take made at at.
func (q *groupQuota) release(chat *tele.Chat, service string, at time.Time) {
	if chat == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	k := quotaKey{chat.ID, service}
	times := q.taken[k]
	if i := slices.IndexFunc(times, at.Equal); i >= 0 {
		q.taken[k] = slices.Delete(times, i, i+1)
	}
}

// recent returns the times of times within the window before now.
func (q *groupQuota) recent(times []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(times) && now.Sub(times[i]) >= q.window {
		i++
	}
	return times[i:]
}

// sweep forgets the groups that reported nothing within the window. The
// caller holds q.mu.
func (q *groupQuota) sweep(now time.Time) {
	for k, times := range q.taken {
		if len(q.recent(times, now)) == 0 {
			delete(q.taken, k)
		}
	}
	q.swept = now
}
