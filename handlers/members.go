package handlers

import (
	"fmt"

	tele "gopkg.in/telebot.v3"
)

// mayChange reports whether whoever sent c may change the subscriptions of
// its chat: anyone in a private chat, only admins in a group.
func (h *handler) mayChange(c tele.Context) (bool, error) {
	chat := c.Chat()
	switch chat.Type {
	case tele.ChatPrivate:
		return true, nil
	case tele.ChatGroup, tele.ChatSuperGroup:
	default:
		return false, nil // channels are the operator's, set in the config
	}
	if c.Callback() == nil {
		if sc := c.Message().SenderChat; sc != nil {
			// An anonymous admin writes as the group itself. Any other
			// sender chat, such as a channel posting into the group, speaks
			// for nobody here; and the "from" of such messages is a shared
			// placeholder user that must not be asked about.
			return sc.ID == chat.ID, nil
		}
	}
	// A button press carries the real user, anonymous admins included.
	u := c.Sender()
	if u == nil {
		return false, nil
	}
	m, err := c.Bot().ChatMemberOf(chat, u)
	if err != nil {
		return false, fmt.Errorf("check whether user %d is an admin of chat %d: %w", u.ID, chat.ID, err)
	}
	return m.Role == tele.Creator || m.Role == tele.Administrator, nil
}

// membership handles changes of the bot's own membership: it greets a group
// that added it and forgets a chat that removed or blocked it, since nothing
// can be delivered there any more.
func (h *handler) membership(c tele.Context) error {
	u := c.ChatMember()
	if u == nil || u.Chat == nil || u.NewChatMember == nil {
		return nil
	}
	chat := u.Chat
	was, is := present(u.OldChatMember), present(u.NewChatMember)
	switch chat.Type {
	case tele.ChatPrivate, tele.ChatGroup, tele.ChatSuperGroup:
	default:
		// The operator configures the channel; joining or leaving it is
		// only worth a line in the log.
		h.Log.Info("channel membership changed", "chat", chat.ID, "status", u.NewChatMember.Role)
		return nil
	}
	switch {
	case !is:
		if err := h.Subs.DeleteChat(chat.ID); err != nil {
			return fmt.Errorf("forget chat that removed the bot (%s): %w", u.NewChatMember.Role, err)
		}
		h.Log.Info("chat removed the bot", "chat", chat.ID, "status", u.NewChatMember.Role)
	case !was && chat.Type != tele.ChatPrivate:
		h.Log.Info("added to group", "chat", chat.ID)
		// The group reads in the language of whoever added the bot, until
		// an admin chooses another.
		if rec := h.chatRecord(c); rec.Lang != "" {
			if err := h.Chats.SetLang(rec); err != nil {
				h.Log.Error("cannot record the group's language", "chat", chat.ID, h.errAttr(err))
			}
		}
		return h.send(c, h.text(c).GroupWelcome())
	}
	return nil
}

// present reports whether a membership lets the bot receive and send.
func present(m *tele.ChatMember) bool {
	if m == nil {
		return false
	}
	switch m.Role {
	case tele.Creator, tele.Administrator, tele.Member:
		return true
	case tele.Restricted:
		return m.Member
	}
	return false
}

// migrate moves a group's subscriptions to the supergroup it became.
func (h *handler) migrate(c tele.Context) error {
	from, to := c.Migration()
	if err := h.Subs.MigrateChat(from, to); err != nil {
		return fmt.Errorf("migrate chat: %w", err)
	}
	h.Log.Info("group became a supergroup", "from", from, "to", to)
	return nil
}
