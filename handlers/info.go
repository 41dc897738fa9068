package handlers

import (
	"strings"

	tele "gopkg.in/telebot.v3"
)

// startSubscribe prefixes a /start payload that subscribes to a service:
// t.me/<bot>?start=sub_whatsapp.
const startSubscribe = "sub_"

// start handles /start, with a deep-link payload that may subscribe the chat.
func (h *handler) start(c tele.Context) error {
	if a := args(c.Text()); len(a) > 0 {
		if name, ok := strings.CutPrefix(a[0], startSubscribe); ok && name != "" {
			return h.change(c, []string{name}, true)
		}
	}
	if c.Chat().Type == tele.ChatPrivate {
		return h.send(c, h.text(c).Welcome())
	}
	return h.send(c, h.text(c).GroupWelcome())
}

// help handles /help.
func (h *handler) help(c tele.Context) error {
	return h.send(c, h.text(c).Help())
}

// list handles /list.
func (h *handler) list(c tele.Context) error {
	subs, err := h.Subs.Subscriptions(c.Chat().ID)
	if err != nil {
		return h.fail(c, err)
	}
	return h.send(c, h.text(c).List(subs))
}

// services handles /services.
func (h *handler) services(c tele.Context) error {
	st, err := h.States.Statuses()
	if err != nil {
		return h.fail(c, err)
	}
	return h.send(c, h.text(c).Services(st))
}

// status handles /status [names]: every service in one line each, or the
// named ones in detail. Under the answer, people who have trouble can say so:
// for each named service, or else for each one in trouble.
func (h *handler) status(c tele.Context) error {
	st, err := h.States.Statuses()
	if err != nil {
		return h.fail(c, err)
	}
	p := h.text(c)
	names := args(c.Text())
	if len(names) == 0 {
		return h.send(c, p.StatusAll(st, h.Now()), affectedMarkup(p, troubled(h.Catalog.IDs(), st)))
	}
	ids, unknown := h.resolve(names)
	return h.send(c, p.Status(ids, unknown, st, h.Now()), affectedMarkup(p, ids))
}
