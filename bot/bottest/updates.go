package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// maxUpdates is the largest batch getUpdates returns.
const maxUpdates = 100

// queuedUpdate is an update waiting for confirmation.
type queuedUpdate struct {
	id   int
	kind string // "message", "callback_query", ...
	body json.RawMessage
}

// PushUpdate enqueues a raw update object such as
// {"message": {...}}. It assigns the next update_id, returns it and wakes
// pending long polls. It panics if u cannot be encoded as JSON.
func (s *Server) PushUpdate(u map[string]any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.push(u)
}

// push enqueues an update. The caller holds s.mu.
func (s *Server) push(u map[string]any) int {
	body := make(map[string]any, len(u)+1)
	maps.Copy(body, u)
	delete(body, "update_id")
	kinds := slices.Sorted(maps.Keys(body))
	kind := ""
	if len(kinds) > 0 {
		kind = kinds[0] // an update has exactly one field besides update_id
	}
	id := s.lastUpdate + 1
	body["update_id"] = id
	raw, err := json.Marshal(body)
	if err != nil {
		panic(fmt.Sprintf("bottest: encode update: %v", err))
	}
	s.lastUpdate = id
	s.updates = append(s.updates, queuedUpdate{id: id, kind: kind, body: raw})
	s.notify()
	return id
}

// SendText pushes a message from a user: a "message" update, or a
// "channel_post" in a channel. A leading /command gets its bot_command
// entity, as Telegram computes it.
func (s *Server) SendText(chat Chat, from User, text string) int {
	return s.SendTopicText(chat, from, 0, text)
}

// SendTopicText is SendText into the forum topic threadID of chat: the
// message carries message_thread_id and is_topic_message, as in a forum
// supergroup. A threadID of 0 is the chat itself, or a forum's General
// topic, whose messages carry neither.
func (s *Server) SendTopicText(chat Chat, from User, threadID int, text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat = s.register(chat)
	s.users[from.ID] = from
	m := s.store(storedMessage{
		chatID: chat.ID, from: &from, text: text, plain: text, entities: commandEntities(text), thread: threadID,
	})
	kind := "message"
	if chat.Type == "channel" {
		kind = "channel_post"
	}
	return s.push(map[string]any{kind: s.wire(m)})
}

// wireCallback is a Bot API CallbackQuery.
type wireCallback struct {
	ID           string      `json:"id"`
	From         User        `json:"from"`
	Message      wireMessage `json:"message"`
	ChatInstance string      `json:"chat_instance"`
	Data         string      `json:"data"`
}

// PressButton pushes a callback_query update: from pressed the inline button
// carrying data under the bot's message messageID in chat. It returns the
// query id, which answerCallbackQuery accepts once.
func (s *Server) PressButton(chat Chat, from User, messageID int, data string) (callbackID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat = s.register(chat)
	s.users[from.ID] = from
	s.lastCallback++
	callbackID = strconv.Itoa(s.lastCallback)
	s.callbacks[callbackID] = true
	// A message the server does not know is shown the way Telegram shows an
	// inaccessible one: id and chat, date 0.
	msg := wireMessage{MessageID: messageID, Chat: chat}
	if m := s.lookup(chat.ID, messageID); m != nil {
		msg = s.wire(m)
	}
	s.push(map[string]any{"callback_query": wireCallback{
		ID:           callbackID,
		From:         from,
		Message:      msg,
		ChatInstance: strconv.FormatInt(chat.ID, 10),
		Data:         data,
	}})
	return callbackID
}

// wireMemberUpdate is a Bot API ChatMemberUpdated.
type wireMemberUpdate struct {
	Chat Chat       `json:"chat"`
	From User       `json:"from"`
	Date int64      `json:"date"`
	Old  wireMember `json:"old_chat_member"`
	New  wireMember `json:"new_chat_member"`
}

// PushMyChatMember pushes a my_chat_member update: from changed the bot's
// status in chat from oldStatus to newStatus (e.g. "left" → "administrator"
// when added to a group, "member" → "kicked" when a user blocks the bot).
// The bot's membership follows, so getChatMember and sends behave
// accordingly.
func (s *Server) PushMyChatMember(chat Chat, from User, oldStatus, newStatus string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat = s.register(chat)
	s.users[from.ID] = from
	s.members[membership{chat.ID, s.me.ID}] = newStatus
	return s.push(map[string]any{"my_chat_member": wireMemberUpdate{
		Chat: chat,
		From: from,
		Date: s.now().Unix(),
		Old:  wireMember{User: s.me, Status: oldStatus},
		New:  wireMember{User: s.me, Status: newStatus},
	}})
}

// PushMigration pushes the service message that a group upgraded to a
// supergroup shows in the old group (migrate_to_chat_id). From then on,
// calls addressed to the old id answer 400 with
// parameters.migrate_to_chat_id, as Telegram's do.
func (s *Server) PushMigration(fromGroupID, toSupergroupID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.chat(fromGroupID)
	s.register(Chat{ID: toSupergroupID, Type: "supergroup", Title: old.Title})
	m := s.store(storedMessage{chatID: fromGroupID, migrateTo: toSupergroupID})
	s.migrated[fromGroupID] = toSupergroupID
	return s.push(map[string]any{"message": s.wire(m)})
}

// getUpdates implements a real long poll: it confirms the updates below
// offset, then answers as soon as an update the bot allows is queued, when
// timeout seconds pass, or when the server closes. A newer getUpdates
// terminates it with 409 Conflict, as Telegram does.
func (s *Server) getUpdates(ctx context.Context, q request) (any, error) {
	if s.webhookSet() {
		return nil, &apiError{
			code:        http.StatusConflict,
			description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
		}
	}
	offset, _, err := q.integer("offset")
	if err != nil {
		return nil, err
	}
	limit, ok, err := q.integer("limit")
	if err != nil {
		return nil, err
	}
	if !ok || limit <= 0 || limit > maxUpdates {
		limit = maxUpdates
	}
	timeout, _, err := q.integer("timeout")
	if err != nil {
		return nil, err
	}
	raw, err := q.object("allowed_updates")
	if err != nil {
		return nil, err
	}
	var allowed []string
	if raw != nil {
		if err := json.Unmarshal(raw, &allowed); err != nil {
			return nil, badRequest("can't parse allowed_updates JSON object")
		}
	}

	s.mu.Lock()
	if s.poll != nil {
		close(s.poll)
	}
	terminated := make(chan struct{})
	s.poll = terminated
	s.confirm(offset)
	if raw != nil {
		s.allow(allowed)
	}
	s.notify()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.poll == terminated {
			s.poll = nil
			s.notify()
		}
		s.mu.Unlock()
	}()

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expired = t.C
	}
	for {
		s.mu.Lock()
		batch := s.batch(int(limit))
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-terminated:
			return nil, &apiError{
				code:        http.StatusConflict,
				description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
			}
		default:
		}
		if len(batch) > 0 || expired == nil {
			return batch, nil
		}
		select {
		case <-changed:
		case <-terminated:
		case <-expired:
			return batch, nil
		case <-s.done:
			return batch, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// confirm drops the updates the offset confirms: those below a positive
// offset, all but the last -offset for a negative one. The caller holds
// s.mu.
func (s *Server) confirm(offset int64) {
	switch {
	case offset > 0:
		i := 0
		for i < len(s.updates) && int64(s.updates[i].id) < offset {
			i++
		}
		s.updates = slices.Delete(s.updates, 0, i)
	case offset < 0:
		if keep := int(-offset); keep < len(s.updates) {
			s.updates = slices.Delete(s.updates, 0, len(s.updates)-keep)
		}
	}
}

// allow sets the update kinds later polls deliver; an empty list restores
// Telegram's default. The caller holds s.mu.
func (s *Server) allow(kinds []string) {
	if len(kinds) == 0 {
		s.allowed = nil
		return
	}
	s.allowed = make(map[string]bool, len(kinds))
	for _, k := range kinds {
		s.allowed[k] = true
	}
}

// wants reports whether the bot asked for updates of this kind. The caller
// holds s.mu.
func (s *Server) wants(kind string) bool {
	if s.allowed != nil {
		return s.allowed[kind]
	}
	switch kind {
	case "chat_member", "message_reaction", "message_reaction_count":
		return false // Telegram sends these only when asked explicitly
	}
	return true
}

// batch returns up to limit queued updates the bot wants; the result is
// never nil so that it encodes as []. The caller holds s.mu.
func (s *Server) batch(limit int) []json.RawMessage {
	batch := make([]json.RawMessage, 0, min(limit, len(s.updates)))
	for _, u := range s.updates {
		if len(batch) == limit {
			break
		}
		if s.wants(u.kind) {
			batch = append(batch, u.body)
		}
	}
	return batch
}

// commandEntities returns the bot_command entity of a text that starts with
// /command or /command@bot.
func commandEntities(text string) []entity {
	if len(text) < 2 || text[0] != '/' {
		return nil
	}
	n := 1 + wordLen(text[1:])
	if n == 1 {
		return nil
	}
	if rest := text[n:]; len(rest) > 1 && rest[0] == '@' {
		if k := wordLen(rest[1:]); k > 0 {
			n += 1 + k
		}
	}
	// The command is ASCII, so its length in bytes is its length in UTF-16
	// code units, the unit of entity offsets.
	return []entity{{Type: "bot_command", Offset: 0, Length: n}}
}

// wordLen counts the leading [A-Za-z0-9_] bytes of s.
func wordLen(s string) int {
	for i, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return i
		}
	}
	return len(s)
}
