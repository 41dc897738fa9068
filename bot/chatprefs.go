package bot

import (
	"errors"
	"strings"
	"time"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

// wanted reports whether a chat with settings st is told about inc, as the
// incident is when the message goes out. The rule:
//
//   - OnlyDown: an incident reaches the chat once it has been down (Worst is
//     Down). One that never got worse than degraded never does, not even
//     its end, since the chat never heard it began; one that escalates from
//     degraded to down does, from then on with every change, a step back
//     to degraded included.
//   - NoRecoveries: the chat is never told that an incident is over, even
//     one it was told began; it sees the state with /status.
//
// What a chat is not told is acknowledged like what it is, so it never
// lingers in the outbox; a later change of the incident queues it again and
// is judged again.
func wanted(st store.Settings, inc checks.Incident) bool {
	if st.NoRecoveries && inc.Resolved() {
		return false
	}
	return !st.OnlyDown || inc.Worst == checks.Down
}

// quiet reports whether now falls in the chat's quiet hours, when alerts go
// out without a sound rather than later. A zone that no longer loads (the
// zone database changed since it was chosen) is read as UTC: the alert is
// worth more than the silence.
func (s *Sender) quiet(st store.Settings, now time.Time) bool {
	if st.QuietFrom == "" {
		return false
	}
	loc, ok := s.zones[st.TimeZone]
	if !ok {
		var err error
		if loc, err = st.Location(); err != nil {
			s.o.Log.Warn("a chat's time zone does not load; reading its quiet hours in UTC", "err", err)
			loc = time.UTC
		}
		s.zones[st.TimeZone] = loc
	}
	return st.QuietAt(now, loc)
}

// topicGone reports whether a send failed because the forum topic it was
// addressed to was deleted or closed.
func topicGone(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 400 {
		return false
	}
	d := strings.ToLower(ae.Description)
	return strings.Contains(d, "message thread not found") ||
		strings.Contains(d, "topic_deleted") || strings.Contains(d, "topic_closed")
}

// forgetTopic sends the chat's alerts to its General topic from now on,
// because the topic an admin chose with /here can no longer take them. An
// alert in General beats an alert lost; the admins can choose again. It
// reports whether the chat's settings no longer name that topic.
func (s *Sender) forgetTopic(j job) bool {
	log := s.o.Log.With("chat", j.chatID, "topic", j.thread)
	st, err := s.outbox.Settings(j.d.ChatID)
	if err != nil {
		log.Error("cannot read the settings of a chat whose topic is gone", "err", err)
		return false
	}
	if st.TopicID != j.thread {
		return true // an admin chose another topic meanwhile
	}
	st.TopicID = 0
	if err := s.outbox.SetSettings(j.d.ChatID, st); err != nil {
		log.Error("cannot forget a forum topic that is gone", "err", err)
		return false
	}
	log.Warn("the forum topic chosen for alerts is gone or closed; sending them to the General topic")
	return true
}
