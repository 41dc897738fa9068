package handlers

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/store"
)

// toggleUnique names the keyboard buttons that switch one service on or off.
// telebot sends their data as "\f" + toggleUnique + "|" + service id + "|" +
// toggleOn or toggleOff: what the press makes of the service, so that a
// press handled twice (delivered again after a crash, or tapped twice before
// the keyboard is redrawn) is a press handled once. Keyboards sent before
// the state was written carry the service id alone, which switches it.
const toggleUnique = "tog"

// The states a toggle button sets.
const (
	toggleOn  = "on"
	toggleOff = "off"
)

// maxCallbackData is Telegram's limit for a button's data, in bytes.
const maxCallbackData = 64

// buttonsPerRow keeps service names readable on a phone.
const buttonsPerRow = 2

// subscribe handles /subscribe [names].
func (h *handler) subscribe(c tele.Context) error {
	return h.change(c, args(c.Text()), true)
}

// unsubscribe handles /unsubscribe [names].
func (h *handler) unsubscribe(c tele.Context) error {
	return h.change(c, args(c.Text()), false)
}

// change subscribes the chat to the named services, or unsubscribes it, and
// reports what happened. Without names it offers the keyboard instead.
func (h *handler) change(c tele.Context, names []string, follow bool) error {
	allowed, err := h.mayChange(c)
	if err != nil {
		return h.fail(c, err)
	}
	if !allowed {
		return h.send(c, h.text(c).NotAdmin())
	}
	if len(names) == 0 {
		return h.keyboard(c)
	}
	ids, unknown := h.resolve(names)
	res := locale.Change{Unknown: unknown}
	if len(ids) > 0 {
		if follow {
			res.Done, err = h.Subs.Subscribe(h.chatRecord(c), ids)
		} else {
			res.Done, err = h.Subs.Unsubscribe(c.Chat().ID, ids)
		}
		if err != nil {
			return h.fail(c, err)
		}
		res.Already = minus(ids, res.Done)
	}
	// Asked only now: subscribing may have given the chat its language.
	if follow {
		return h.send(c, h.text(c).Subscribed(res))
	}
	return h.send(c, h.text(c).Unsubscribed(res))
}

// chatRecord is the chat of c as the store keeps it. A chat that has no
// language yet gets the language of whoever configures it first: the user
// of a private chat, the admin who sets a group up (or who added the bot).
// One chosen since, with /lang or before, stays.
func (h *handler) chatRecord(c tele.Context) store.Chat {
	chat := c.Chat()
	rec := store.Chat{ID: chat.ID, Type: string(chat.Type), Title: chat.Title, Added: h.Now()}
	if _, has := h.storedLang(c); !has {
		if u := c.Sender(); u != nil {
			rec.Lang = u.LanguageCode
		}
	}
	return rec
}

// keyboard sends the toggle keyboard for the chat of c.
func (h *handler) keyboard(c tele.Context) error {
	subs, err := h.Subs.Subscriptions(c.Chat().ID)
	if err != nil {
		return h.fail(c, err)
	}
	p := h.text(c)
	return h.send(c, p.Choose(), h.markup(p, subs))
}

// markup is the toggle keyboard: one button per service, marked by whether
// the chat follows it.
func (h *handler) markup(p *locale.Printer, subscribed []string) *tele.ReplyMarkup {
	var buttons []tele.InlineButton
	for _, s := range h.Catalog.Services() {
		follows := slices.Contains(subscribed, s.ID)
		data := s.ID + "|" + toggleOn
		if follows {
			data = s.ID + "|" + toggleOff
		}
		// Telegram refuses the whole keyboard if one button's data is too
		// long; a service with an overlong id stays reachable by name.
		if len("\f"+toggleUnique+"|"+data) > maxCallbackData {
			continue
		}
		buttons = append(buttons, tele.InlineButton{
			Unique: toggleUnique,
			Text:   p.Button(s.ID, follows),
			Data:   data,
		})
	}
	return keyboard(buttons)
}

// keyboard lays buttons out buttonsPerRow to a row.
func keyboard(buttons []tele.InlineButton) *tele.ReplyMarkup {
	var rows [][]tele.InlineButton
	for len(buttons) > buttonsPerRow {
		rows, buttons = append(rows, buttons[:buttonsPerRow]), buttons[buttonsPerRow:]
	}
	if len(buttons) > 0 {
		rows = append(rows, buttons)
	}
	return &tele.ReplyMarkup{InlineKeyboard: rows}
}

// adminPress vets a press on a button that changes the chat it is in: the
// data must be valid (as the caller found it), the button must sit under a
// message, and in groups the presser must be an admin. When the press may go
// on it returns the chat (the button's own, never one named by the data) and
// the presser's printer; otherwise it has answered the press already, done
// is true and err is the handler's result.
func (h *handler) adminPress(c tele.Context, valid bool, refusal func(*locale.Printer) string) (chat *tele.Chat, p *locale.Printer, done bool, err error) {
	cb := c.Callback()
	if !valid || cb.Message == nil || cb.Message.Chat == nil {
		return nil, nil, true, h.staleButton(c)
	}
	allowed, err := h.mayChange(c)
	if err != nil {
		return nil, nil, true, h.failCallback(c, err)
	}
	p = h.text(c)
	if !allowed {
		return nil, nil, true, c.RespondAlert(refusal(p))
	}
	return cb.Message.Chat, p, false, nil
}

// toggle handles a press on a keyboard button: it subscribes the chat the
// keyboard is in (never one named by the data) to the service or
// unsubscribes it, as the button says, redraws the keyboard in place and
// answers the press.
func (h *handler) toggle(c tele.Context) error {
	cb := c.Callback()
	// The data comes from the client and may be anything: it has to name a
	// service and a state exactly as the keyboard wrote them.
	id, state, hasState := strings.Cut(cb.Data, "|")
	s, ok := h.Catalog.Lookup(id)
	valid := ok && s.ID == id && (!hasState || state == toggleOn || state == toggleOff)
	chat, p, done, err := h.adminPress(c, valid, (*locale.Printer).NotAdminAlert)
	if done {
		return err
	}
	subs, err := h.Subs.Subscriptions(chat.ID)
	if err != nil {
		return h.failCallback(c, err)
	}
	follow := state == toggleOn || !hasState && !slices.Contains(subs, s.ID)
	subs = slices.DeleteFunc(subs, func(id string) bool { return id == s.ID })
	if follow {
		_, err = h.Subs.Subscribe(h.chatRecord(c), []string{s.ID})
		subs = append(subs, s.ID)
	} else {
		_, err = h.Subs.Unsubscribe(chat.ID, []string{s.ID})
	}
	if err != nil {
		return h.failCallback(c, err)
	}
	// Answer first: the spinner on the user's button waits for it, the
	// redrawn keyboard is a nicety.
	if err := c.Respond(&tele.CallbackResponse{Text: p.Toggled(s.ID, follow)}); err != nil {
		return fmt.Errorf("answer toggle of %s: %w", s.ID, err)
	}
	_, err = c.Bot().EditReplyMarkup(cb.Message, h.markup(p, subs))
	if err != nil && !errors.Is(err, tele.ErrMessageNotModified) && !errors.Is(err, tele.ErrSameMessageContent) {
		return fmt.Errorf("redraw keyboard: %w", err)
	}
	return nil
}

// staleButton answers a button press the bot cannot act on: a button of an
// older version, a service no longer watched, or forged data.
func (h *handler) staleButton(c tele.Context) error {
	return c.Respond(&tele.CallbackResponse{Text: h.text(c).ButtonStale()})
}

// failCallback logs a failure on our side and tells the presser, without
// the cause.
func (h *handler) failCallback(c tele.Context, err error) error {
	h.Log.Error("button press failed", "chat", chatID(c), h.errAttr(err))
	return c.Respond(&tele.CallbackResponse{Text: h.text(c).ApologyAlert(), ShowAlert: true})
}
