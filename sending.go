package main

import (
	"log/slog"
	"net/http"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot"
	"github.com/outagebot/outagebot/config"
	"github.com/outagebot/outagebot/handlers"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/ops"
	"github.com/outagebot/outagebot/store"
)

// sendingSide is what the bot needs to send: the budget that alerts and
// replies share (see bot.Budget), the HTTP client telebot replies through,
// which keeps that budget, and the Sender that drains the outbox. serve and
// the tests of the sending policy build it alike.
type sendingSide struct {
	token       string
	client      *bot.Client // the Sender's
	db          *store.DB
	limits      config.Limits
	channel     string
	channelLang string
	texts       *locale.Locales
	console     *ops.Console
	log         *slog.Logger
}

// sending is what a sendingSide builds.
type sending struct {
	budget  *bot.Budget
	replies *http.Client // give it to telebot
	sender  *bot.Sender
}

func (ss sendingSide) build() sending {
	limits := bot.Limits{
		GlobalPerSecond: ss.limits.GlobalPerSecond,
		ChatPerSecond:   ss.limits.ChatPerSecond,
		GroupPerMinute:  ss.limits.GroupPerMinute,
		AlertShare:      ss.limits.AlertShare,
		PaidBroadcast:   ss.limits.PaidBroadcast,
	}
	budget := bot.NewBudget(bot.BudgetOptions{
		Limits:  limits,
		Log:     ss.log.With("part", "budget"),
		OnShed:  ss.console.ReplyShed,
		OnPause: ss.console.SendingPaused,
	})
	// A reply waits for the budget at most bot.DefaultReplyWait, far less
	// than this timeout.
	replies := bot.NewHTTPClient(ss.token, 40*time.Second)
	replies.Transport = ss.console.Transport(budget.ReplyTransport(replies.Transport))
	sender := bot.NewSender(ss.client, ss.db, ss.texts, bot.SenderOptions{
		Channel:     ss.channel,
		ChannelLang: ss.channelLang,
		Budget:      budget,
		Limits:      limits,
		Log:         ss.log.With("part", "sender"),
		Affected: func(lang, service string) (tele.InlineButton, bool) {
			return handlers.AffectedButton(ss.texts.For(lang), service)
		},
		OnSend:     ss.console.Sent,
		OnDispatch: ss.console.Dispatched,
	})
	return sending{budget: budget, replies: replies, sender: sender}
}
