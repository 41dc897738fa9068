package handlers

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	tele "gopkg.in/telebot.v3"
)

// Recover returns a middleware that turns a panic in the handlers it wraps
// into an error in log, with the update's id and the stack, and carries on.
// telebot runs each update's handler on a goroutine of its own, where a
// panic caused by one malformed update would end the whole process. Install
// it with Bot.Use before any other middleware, so that it wraps them too.
//
// Unlike telebot's middleware.Recover it keeps panics whatever their value
// (not only errors and strings), logs where they happened, and keeps the
// bot's token out of the log.
func Recover(log *slog.Logger) tele.MiddlewareFunc {
	return func(next tele.HandlerFunc) tele.HandlerFunc {
		return func(c tele.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				msg := fmt.Sprint(r)
				if b := c.Bot(); b != nil && b.Token != "" {
					msg = strings.ReplaceAll(msg, b.Token, "[token]")
				}
				log.Error("handler panicked; update dropped",
					"update", c.Update().ID, "chat", chatID(c), "panic", msg, "stack", string(debug.Stack()))
				err = nil // logged here; telebot's OnError would log it again
			}()
			return next(c)
		}
	}
}
