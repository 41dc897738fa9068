package bottest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// maxTextLength is Telegram's limit on a message text after entity parsing.
const maxTextLength = 4096

// Call is one Bot API request the server received with the right token.
type Call struct {
	Method string // as the client spelled it
	// Params is the decoded body and query: strings stay strings, so a
	// chat_id sent as "123" is the string "123"; numbers are json.Number;
	// objects sent as JSON are maps and slices.
	Params map[string]any
	// Files are the uploads of a multipart request, by field name.
	Files map[string][]byte
	At    time.Time
}

// Param returns a parameter as text, whatever its JSON type: "123" for both
// 123 and "123", "true" for true, JSON for objects, "" when absent.
func (c Call) Param(key string) string {
	return paramText(c.Params[key])
}

// Message is what the server stored for a message the bot sent or edited.
type Message struct {
	ID     int
	ChatID int64  // numeric even when the bot addressed a channel as "@name"
	Text   string // as sent, before parse-mode processing; a photo's caption
	// Photo is the image a sendPhoto uploaded; nil for a text message.
	Photo []byte
	// ParseMode is as sent ("HTML", "" for plain text).
	ParseMode string
	// ReplyMarkup is the markup as received, compacted; the same JSON whether
	// the client sent an object or a string. Nil when there was none.
	ReplyMarkup         json.RawMessage
	DisableNotification bool
	// ThreadID is the message_thread_id sent: the forum topic the message
	// went to, 0 for none.
	ThreadID int
	Edited   bool // this record is an editMessageText, not a new message
	At       time.Time
}

// Plain returns the text as a Telegram client shows it: for HTML, tags
// removed and entities decoded.
func (m Message) Plain() string {
	if !strings.EqualFold(m.ParseMode, "HTML") {
		return m.Text
	}
	plain, err := parseHTML(m.Text)
	if err != nil {
		// Only valid HTML is ever recorded; show the raw text rather than lose it.
		return m.Text
	}
	return plain
}

// record stores a call and wakes waiters.
func (s *Server) record(method string, req request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: method, Params: req.params, Files: req.files, At: s.now()})
	s.notify()
}

// Calls returns every call of method (case-insensitive; "" for all methods)
// in arrival order, including calls that failed.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var calls []Call
	for _, c := range s.calls {
		if method == "" || strings.EqualFold(c.Method, method) {
			calls = append(calls, c)
		}
	}
	return calls
}

// Messages returns every message the bot sent successfully and every
// successful editMessageText (Edited set), in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// MessagesTo returns the Messages into one chat.
func (s *Server) MessagesTo(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var msgs []Message
	for _, m := range s.messages {
		if m.ChatID == chatID {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// WaitMessages blocks until at least n messages were sent successfully with
// sendMessage, and returns those messages (edits left out). When ctx ends
// first it returns the messages sent so far with an error.
func (s *Server) WaitMessages(ctx context.Context, n int) ([]Message, error) {
	err := s.Wait(ctx, func(s *Server) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.sent >= n
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	sent := make([]Message, 0, s.sent)
	for _, m := range s.messages {
		if !m.Edited {
			sent = append(sent, m)
		}
	}
	if err != nil {
		return sent, fmt.Errorf("bottest: waiting for %d messages, %d sent: %w", n, len(sent), err)
	}
	return sent, nil
}

// Wait blocks until cond reports true, evaluating it now and after every
// recorded call and pushed update, or until ctx ends or the server closes.
// cond runs without the server's lock held, so it may call any method.
func (s *Server) Wait(ctx context.Context, cond func(s *Server) bool) error {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("bottest: wait: %w", ctx.Err())
		case <-s.done:
			return errors.New("bottest: wait: server closed")
		}
	}
}

// storedMessage is a message in a chat's history, from the bot or a user.
type storedMessage struct {
	id        int
	chatID    int64
	fromBot   bool
	from      *User // the user who wrote it; nil for the bot and service messages
	date      time.Time
	editDate  time.Time
	text      string // as sent
	parseMode string
	plain     string // as clients show it
	entities  []entity
	markup    json.RawMessage
	migrateTo int64
	thread    int        // forum topic; 0 for none or the General topic
	photo     *photoSize // a photo message, whose text is the caption
}

// chatHistory numbers the messages of one chat.
type chatHistory struct {
	last int
	msgs map[int]*storedMessage
}

// store adds m to its chat's history, assigning its id and date. The caller
// holds s.mu.
func (s *Server) store(m storedMessage) *storedMessage {
	h := s.history[m.chatID]
	if h == nil {
		h = &chatHistory{msgs: make(map[int]*storedMessage)}
		s.history[m.chatID] = h
	}
	h.last++
	m.id = h.last
	m.date = s.now()
	h.msgs[m.id] = &m
	return &m
}

// lookup finds a stored message. The caller holds s.mu.
func (s *Server) lookup(chatID int64, id int) *storedMessage {
	if h := s.history[chatID]; h != nil {
		return h.msgs[id]
	}
	return nil
}

// entity is a Bot API MessageEntity.
type entity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
}

// wireMessage is a Bot API Message.
type wireMessage struct {
	MessageID       int             `json:"message_id"`
	From            *User           `json:"from,omitempty"`
	SenderChat      *Chat           `json:"sender_chat,omitempty"`
	Chat            Chat            `json:"chat"`
	Date            int64           `json:"date"`
	EditDate        int64           `json:"edit_date,omitempty"`
	Text            string          `json:"text,omitempty"`
	Entities        []entity        `json:"entities,omitempty"`
	Photo           []photoSize     `json:"photo,omitempty"`
	Caption         string          `json:"caption,omitempty"`
	ReplyMarkup     json.RawMessage `json:"reply_markup,omitempty"`
	MigrateToChatID int64           `json:"migrate_to_chat_id,omitempty"`
	ThreadID        int             `json:"message_thread_id,omitempty"`
	IsTopicMessage  bool            `json:"is_topic_message,omitempty"`
}

// wire renders a stored message as the Bot API shows it. The caller holds
// s.mu.
func (s *Server) wire(m *storedMessage) wireMessage {
	chat := s.chat(m.chatID)
	w := wireMessage{
		MessageID:       m.id,
		Chat:            chat,
		Date:            m.date.Unix(),
		Text:            m.plain,
		Entities:        m.entities,
		ReplyMarkup:     m.markup,
		MigrateToChatID: m.migrateTo,
		ThreadID:        m.thread,
		IsTopicMessage:  m.thread != 0,
	}
	if !m.editDate.IsZero() {
		w.EditDate = m.editDate.Unix()
	}
	if m.photo != nil {
		w.Photo, w.Caption, w.Text, w.Entities = []photoSize{*m.photo}, m.plain, "", nil
	}
	switch {
	case chat.Type == "channel":
		// Channel posts are signed by the channel, not by a user.
		w.SenderChat = &chat
	case m.fromBot:
		me := s.me
		w.From = &me
	default:
		w.From = m.from
	}
	return w
}

// content reads the text, parse mode and markup of a send or an edit, and
// renders the text as the user sees it (which validates the HTML).
func (q request) content() (text, parseMode, plain string, markup json.RawMessage, err error) {
	text, parseMode = q.text("text"), q.text("parse_mode")
	if plain, err = render(text, parseMode); err != nil {
		return "", "", "", nil, err
	}
	if markup, err = q.object("reply_markup"); err != nil {
		return "", "", "", nil, err
	}
	return text, parseMode, plain, markup, nil
}

// sendMessage implements the Bot API method of the same name.
func (s *Server) sendMessage(q request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chatID, err := s.chatID(q)
	if err != nil {
		return nil, err
	}
	text, parseMode, plain, markup, err := q.content()
	if err != nil {
		return nil, err
	}
	return s.deliver(q, storedMessage{
		chatID: chatID, fromBot: true,
		text: text, parseMode: parseMode, plain: plain, markup: markup,
	}, nil)
}

// deliver adds a new message from the bot to its chat (in the forum topic
// q names), if the chat takes it and the limits allow, and records it with
// the photo's bytes, if any. The caller holds s.mu.
func (s *Server) deliver(q request, m storedMessage, photo []byte) (any, error) {
	if err := s.deliverable(m.chatID); err != nil {
		return nil, err
	}
	thread, _, err := q.integer("message_thread_id")
	if err != nil {
		return nil, err
	}
	if err := s.admit(m.chatID); err != nil {
		return nil, err
	}
	m.thread = int(thread)
	stored := s.store(m)
	s.messages = append(s.messages, Message{
		ID: stored.id, ChatID: m.chatID, Text: m.text, Photo: photo, ParseMode: m.parseMode, ReplyMarkup: m.markup,
		DisableNotification: q.flag("disable_notification"), ThreadID: m.thread, At: stored.date,
	})
	s.sent++
	s.notify()
	return s.wire(stored), nil
}

// editMessageText implements the Bot API method of the same name. Like
// Telegram, an edit without reply_markup removes the inline keyboard.
func (s *Server) editMessageText(q request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.editTarget(q)
	if err != nil {
		return nil, err
	}
	text, parseMode, plain, markup, err := q.content()
	if err != nil {
		return nil, err
	}
	if text == m.text && strings.EqualFold(parseMode, m.parseMode) && bytes.Equal(markup, m.markup) {
		return nil, errNotModified()
	}
	if err := s.admit(m.chatID); err != nil {
		return nil, err
	}
	m.text, m.parseMode, m.plain, m.markup, m.editDate = text, parseMode, plain, markup, s.now()
	s.messages = append(s.messages, Message{
		ID: m.id, ChatID: m.chatID, Text: text, ParseMode: parseMode, ReplyMarkup: markup,
		Edited: true, At: m.editDate,
	})
	s.notify()
	return s.wire(m), nil
}

// editMessageReplyMarkup implements the Bot API method of the same name;
// no reply_markup removes the keyboard.
func (s *Server) editMessageReplyMarkup(q request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.editTarget(q)
	if err != nil {
		return nil, err
	}
	markup, err := q.object("reply_markup")
	if err != nil {
		return nil, err
	}
	if bytes.Equal(markup, m.markup) {
		return nil, errNotModified()
	}
	if err := s.admit(m.chatID); err != nil {
		return nil, err
	}
	m.markup, m.editDate = markup, s.now()
	s.notify()
	return s.wire(m), nil
}

// target finds the message a call names by chat_id and message_id, in a
// chat the bot may write to; what is the verb of Telegram's "message to …
// not found". The caller holds s.mu.
func (s *Server) target(q request, what string) (*storedMessage, error) {
	chatID, err := s.chatID(q)
	if err != nil {
		return nil, err
	}
	if err := s.deliverable(chatID); err != nil {
		return nil, err
	}
	id, ok, err := q.integer("message_id")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("message identifier is not specified")
	}
	m := s.lookup(chatID, int(id))
	if m == nil {
		return nil, badRequest("message to " + what + " not found")
	}
	return m, nil
}

// editTarget finds the bot message an edit is about. The caller holds s.mu.
func (s *Server) editTarget(q request) (*storedMessage, error) {
	m, err := s.target(q, "edit")
	if err != nil {
		return nil, err
	}
	if !m.fromBot {
		return nil, badRequest("message can't be edited")
	}
	return m, nil
}

func errNotModified() *apiError {
	return badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
}

// render validates a message text and returns it as clients show it. HTML
// is checked as Telegram checks it; Markdown modes pass through unchecked,
// since the bot does not use them.
func render(text, parseMode string) (string, error) {
	plain := text
	switch strings.ToLower(parseMode) {
	case "", "markdown", "markdownv2":
	case "html":
		var err error
		if plain, err = parseHTML(text); err != nil {
			return "", badRequest("can't parse entities: " + err.Error())
		}
	default:
		return "", badRequest("unsupported parse_mode")
	}
	switch {
	case strings.TrimSpace(plain) == "":
		return "", badRequest("message text is empty")
	case utf8.RuneCountInString(plain) > maxTextLength:
		return "", badRequest("message is too long")
	}
	return plain, nil
}
