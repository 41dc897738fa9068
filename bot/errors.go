package bot

import (
	"errors"
	"strings"
	"time"
)

// outcome is what the Sender does after a send, decided from Telegram's answer.
type outcome int

const (
	delivered  outcome = iota // done; "message is not modified" counts too
	floodWait                 // 429: pause all sending for retryAfter
	chatGone                  // blocked, kicked, deactivated, chat not found: drop the chat
	migrated                  // group became a supergroup: move the chat and resend
	channelBad                // our announcement channel refuses us: keep the post, alert the operator
	rejected                  // refused for good (e.g. our HTML is invalid): a bug, never fixed by retrying
	transient                 // 5xx, network, timeouts: back off and retry
)

// String names the outcome for metrics and logs.
func (o outcome) String() string {
	return [...]string{
		delivered:  "sent",
		floodWait:  "throttled",
		chatGone:   "chat_gone",
		migrated:   "migrated",
		channelBad: "channel_refused",
		rejected:   "rejected",
		transient:  "transient",
	}[o]
}

// verdict classifies err (nil included). Matching is on the error code and
// the start of the description, as Telegram's Bot API advises: the texts
// are stable, the codes alone are not specific enough.
func verdict(err error, toChannel bool) (outcome, time.Duration, int64) {
	if err == nil {
		return delivered, 0, 0
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return transient, 0, 0
	}
	d := strings.ToLower(ae.Description)
	switch {
	case ae.Code == 429:
		wait := time.Duration(ae.RetryAfter) * time.Second
		if wait <= 0 {
			wait = time.Second
		}
		return floodWait, wait, 0
	case ae.MigrateTo != 0:
		return migrated, 0, ae.MigrateTo
	case strings.Contains(d, "message is not modified"):
		return delivered, 0, 0
	case strings.Contains(d, "can't parse entities"):
		return rejected, 0, 0
	case toChannel && (ae.Code == 403 || ae.Code == 400):
		// Kicked from the channel, not an admin, wrong @name: the operator
		// must fix it, and the post must wait for them, not vanish.
		return channelBad, 0, 0
	case ae.Code == 403, ae.Code == 400 && strings.Contains(d, "chat not found"):
		return chatGone, 0, 0
	case ae.Code >= 500:
		return transient, 0, 0
	}
	// Any other 4xx would fail again the same way.
	return rejected, 0, 0
}
