package handlers

import (
	"errors"
	"fmt"
	"slices"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/locale"
)

// langUnique names the buttons that choose a chat's language. telebot sends
// their data as "\f" + langUnique + "|" + the language's tag.
const langUnique = "lang"

// language handles /lang: it offers every language the bot speaks, each
// named in itself, the chat's own marked. Only who may change the chat may
// choose.
func (h *handler) language(c tele.Context) error {
	allowed, err := h.mayChange(c)
	if err != nil {
		return h.fail(c, err)
	}
	p := h.text(c)
	if !allowed {
		return h.send(c, p.LangNotAdmin())
	}
	return h.send(c, p.LangChoose(), h.langMarkup(p))
}

// langMarkup is the keyboard of languages, current's marked.
func (h *handler) langMarkup(current *locale.Printer) *tele.ReplyMarkup {
	var buttons []tele.InlineButton
	for _, tag := range h.Text.Tags() {
		// Telegram refuses the whole keyboard if one button's data is too
		// long; no tag is anywhere near, but a keyboard must never break.
		if len("\f"+langUnique+"|"+tag) > maxCallbackData {
			continue
		}
		p := h.Text.For(tag)
		buttons = append(buttons, tele.InlineButton{Unique: langUnique, Text: p.LangButton(p == current), Data: tag})
	}
	return keyboard(buttons)
}

// chooseLang handles a press on a language button: it records the language
// for the chat the keyboard is in, answers in the new language and redraws
// the question in it, the choice marked.
func (h *handler) chooseLang(c tele.Context) error {
	cb := c.Callback()
	// The data comes from the client and may be anything: it has to be one
	// of the tags the keyboard offers, exactly.
	if _, _, done, err := h.adminPress(c, slices.Contains(h.Text.Tags(), cb.Data), (*locale.Printer).LangNotAdminAlert); done {
		return err
	}
	rec := h.chatRecord(c)
	rec.Lang = cb.Data
	if err := h.Chats.SetLang(rec); err != nil {
		return h.failCallback(c, err)
	}
	p := h.Text.For(cb.Data)
	if err := c.Respond(&tele.CallbackResponse{Text: p.LangSet()}); err != nil {
		return fmt.Errorf("answer the choice of %s: %w", cb.Data, err)
	}
	_, err := c.Bot().Edit(cb.Message, p.LangChoose(), h.langMarkup(p), tele.ModeHTML, tele.NoPreview)
	if err != nil && !errors.Is(err, tele.ErrMessageNotModified) && !errors.Is(err, tele.ErrSameMessageContent) {
		return fmt.Errorf("redraw the language keyboard: %w", err)
	}
	return nil
}
