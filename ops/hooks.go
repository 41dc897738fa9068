package ops

import (
	"net/http"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
)

// controlService is the service label of the control probes, as
// `outagebot check` shows them.
const controlService = "(control)"

// Probed counts one probe result; it is a checks.MonitorOptions.OnResult.
func (c *Console) Probed(service string, r checks.Result) {
	if service == "" {
		service = controlService
	}
	c.probes.WithLabelValues(service, r.Probe, string(r.Class)).Inc()
	c.probeSeconds.WithLabelValues(service, r.Probe).Observe(r.Latency.Seconds())
}

// Transitioned counts a committed transition; it is a
// checks.Watcher.OnTransition.
func (c *Console) Transitioned(t checks.Transition) {
	c.transitions.WithLabelValues(t.Service, string(t.From), string(t.To)).Inc()
}

// Warned counts an operator warning; it is a checks.Watcher.OnWarning (the
// watcher logs it).
func (c *Console) Warned(w checks.Warning) {
	c.warnings.WithLabelValues(string(w.Kind)).Inc()
}

// RoundDone counts a finished round and is the scheduler's heartbeat; it is
// a checks.Watcher.OnRound.
func (c *Console) RoundDone() {
	c.rounds.Inc()
	c.beat(Scheduler)
}

// Polled counts a getUpdates call and is the poller's heartbeat; it is a
// bot.Poller.OnPoll.
func (c *Console) Polled(err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	c.polls.WithLabelValues(result).Inc()
	c.beat(Poller)
}

// Sent counts a delivery by outcome and is a heartbeat of the sender; it is
// a bot.SenderOptions.OnSend.
func (c *Console) Sent(outcome string) {
	c.sent.WithLabelValues(outcome).Inc()
	c.beat(Sender)
}

// ReplyShed counts a reply to a command dropped unsent; it is a
// bot.BudgetOptions.OnShed.
func (c *Console) ReplyShed(reason string) { c.shed.WithLabelValues(reason).Inc() }

// SendingPaused counts a pause of all sending; it is a
// bot.BudgetOptions.OnPause.
func (c *Console) SendingPaused() { c.paused.Inc() }

// Dispatched is the sender's heartbeat while it has nothing to send; it is
// a bot.SenderOptions.OnDispatch.
func (c *Console) Dispatched() { c.beat(Sender) }

// Middleware counts and times every update that reaches a telebot handler.
// Install it with Bot.Use before the handlers are registered: telebot binds
// the middleware of a handler when it is registered.
func (c *Console) Middleware(next tele.HandlerFunc) tele.HandlerFunc {
	return func(ctx tele.Context) error {
		start := c.now()
		err := next(ctx)
		kind := updateKind(ctx.Update())
		c.updates.WithLabelValues(kind).Inc()
		c.handlerSeconds.WithLabelValues(kind).Observe(c.now().Sub(start).Seconds())
		return err
	}
}

// updateKind names the kind of an update the bot asks for.
func updateKind(u tele.Update) string {
	switch {
	case u.Message != nil:
		return "message"
	case u.Callback != nil:
		return "callback_query"
	case u.MyChatMember != nil:
		return "my_chat_member"
	case u.ChannelPost != nil:
		return "channel_post"
	case u.Query != nil:
		return "inline_query"
	}
	return "other"
}

// Transport wraps the transport of a Bot API client to count Telegram's
// 429 answers by method, whoever made the call: the sender, the poller or
// telebot answering a command.
func (c *Console) Transport(next http.RoundTripper) http.RoundTripper {
	return throttleCounter{c: c, next: next}
}

type throttleCounter struct {
	c    *Console
	next http.RoundTripper
}

func (t throttleCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		// The path is /bot<token>/<method>; only the method is a label.
		method := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
		t.c.throttled.WithLabelValues(method).Inc()
	}
	return resp, err
}
