package handlers

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/locale"
)

// Recover returns a middleware that answers a panic in the handlers it
// wraps: it logs the panic with the update's id and the stack, apologises to
// whoever asked (an alert for a button press, a message for a command) in
// the chat's language, and carries on. Install it with Bot.Use before any
// other middleware, so that it wraps them too, with the Config given to
// Register.
//
// Unlike telebot's middleware.Recover it keeps panics whatever their value
// (not only errors and strings), logs where they happened, keeps the bot's
// token out of the log, and tells the person, who would otherwise wait for
// an answer that never comes.
func Recover(c Config) tele.MiddlewareFunc {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{Config: c}
	return func(next tele.HandlerFunc) tele.HandlerFunc {
		return func(ctx tele.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				h.Log.Error("handler panicked; apologising",
					"update", ctx.Update().ID, "chat", chatID(ctx), "panic", redact(ctx, fmt.Sprint(r)),
					"stack", string(debug.Stack()))
				h.apologise(ctx)
				err = nil // logged here; telebot's OnError would log it again
			}()
			return next(ctx)
		}
	}
}

// apologise tells whoever sent the update of c that it failed on our side.
// Updates nobody asked for, such as the bot's membership changing, get no
// answer.
func (h *handler) apologise(c tele.Context) {
	// The panic may have left c or the database in any state; another one
	// here must not escape.
	defer func() {
		if r := recover(); r != nil {
			h.Log.Error("cannot apologise for a panic", "update", c.Update().ID, "panic", redact(c, fmt.Sprint(r)))
		}
	}()
	p := h.textAfterPanic(c)
	var err error
	switch {
	case c.Callback() != nil:
		err = c.Respond(&tele.CallbackResponse{Text: p.ApologyAlert(), ShowAlert: true})
	case c.Message() != nil && c.Chat() != nil:
		err = h.send(c, p.Apology())
	default:
		return
	}
	if err != nil {
		h.Log.Error("cannot apologise for a panic", "update", c.Update().ID, "err", redact(c, err.Error()))
	}
}

// textAfterPanic is text(c), or clientText(c) when reading the chat's
// language panics: the panic may well have come from the database that
// keeps it.
func (h *handler) textAfterPanic(c tele.Context) (p *locale.Printer) {
	defer func() {
		if r := recover(); r != nil {
			h.Log.Warn("cannot read the chat's language", "chat", chatID(c), "panic", redact(c, fmt.Sprint(r)))
			p = h.clientText(c)
		}
	}()
	return h.text(c)
}

// redact cuts the bot's token out of msg.
func redact(c tele.Context, msg string) string {
	if b := c.Bot(); b != nil && b.Token != "" {
		msg = strings.ReplaceAll(msg, b.Token, "[token]")
	}
	return msg
}
