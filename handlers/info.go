package handlers

import (
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/locale"
)

// startSubscribe prefixes a /start payload that subscribes to a service:
// t.me/<bot>?start=sub_whatsapp.
const startSubscribe = "sub_"

// startGroup is the payload of the link that adds the bot to a group,
// t.me/<bot>?startgroup=start: the group then gets "/start start", and the
// welcome of a group.
const startGroup = "start"

// start handles /start, with a deep-link payload that may subscribe the chat.
func (h *handler) start(c tele.Context) error {
	if a := args(c.Text()); len(a) > 0 {
		if name, ok := strings.CutPrefix(a[0], startSubscribe); ok && name != "" {
			return h.change(c, []string{name}, true)
		}
	}
	if c.Chat().Type == tele.ChatPrivate {
		p := h.text(c)
		return h.send(c, p.Welcome()+h.startLinks(c, p))
	}
	return h.send(c, h.text(c).GroupWelcome())
}

// startLinks are the deep links worth sharing, under the private welcome: one
// that subscribes to the first service in one tap, one that adds the bot to
// a group. Without the bot's username, or a service whose id Telegram
// accepts in a payload, there are none.
func (h *handler) startLinks(c tele.Context, p *locale.Printer) string {
	me := c.Bot().Me
	if me == nil || me.Username == "" {
		return ""
	}
	base := "https://t.me/" + me.Username
	for _, id := range h.Catalog.IDs() {
		if validPayload(startSubscribe + id) {
			return "\n\n" + p.StartLinks(base+"?start="+startSubscribe+id, base+"?startgroup="+startGroup, id)
		}
	}
	return ""
}

// validPayload reports whether Telegram accepts s as a deep-link payload:
// 1 to 64 of A-Z, a-z, 0-9, _ and -.
func validPayload(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// help handles /help.
func (h *handler) help(c tele.Context) error {
	text := h.text(c).Help()
	return h.sendShared(c, text, text)
}

// list handles /list.
func (h *handler) list(c tele.Context) error {
	subs, err := h.Subs.Subscriptions(c.Chat().ID)
	if err != nil {
		return h.fail(c, err)
	}
	text := h.text(c).List(subs)
	return h.sendShared(c, text, text)
}

// services handles /services.
func (h *handler) services(c tele.Context) error {
	st, err := h.States.Statuses()
	if err != nil {
		return h.fail(c, err)
	}
	text := h.text(c).Services(st)
	return h.sendShared(c, text, text)
}

// maxStatusTexts bounds the /status answers kept for a round: every
// language's, with room for the services named in various ways.
const maxStatusTexts = 256

// status handles /status [names]: every service in one line each, or the
// named ones in detail, as of the last round. Under the answer, people who
// have trouble can say so: for each named service, or else for each one in
// trouble. Answers are made once per round and language (see perRound),
// except those that echo names matching no service.
func (h *handler) status(c tele.Context) error {
	r, err := h.lastRound()
	if err != nil {
		return h.fail(c, err)
	}
	p := h.text(c)
	ids, unknown := h.resolve(args(c.Text()))
	var text string
	var markup *tele.ReplyMarkup
	switch {
	case len(ids) == 0 && len(unknown) == 0:
		text, _ = h.statusTexts.get(r.id, p.Tag(), func() (string, error) {
			return p.StatusAll(r.statuses, r.at), nil
		})
		markup = affectedMarkup(p, troubled(h.Catalog.IDs(), r.statuses))
	case len(unknown) == 0:
		text, _ = h.statusTexts.get(r.id, p.Tag()+" "+strings.Join(ids, " "), func() (string, error) {
			return p.Status(ids, nil, r.statuses, r.at), nil
		})
		markup = affectedMarkup(p, ids)
	default:
		text, markup = p.Status(ids, unknown, r.statuses, r.at), affectedMarkup(p, ids)
	}
	return h.sendShared(c, textID(text, markup), text, markup)
}
