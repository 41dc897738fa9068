package bottest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// User is a Bot API User.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// Chat is a Bot API Chat. Type is "private", "group", "supergroup" or
// "channel"; when left empty the server infers it from the id.
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	// IsForum marks a supergroup with topics.
	IsForum bool `json:"is_forum,omitempty"`
}

// membership keys a user's status in a chat.
type membership struct {
	chatID, userID int64
}

// supergroupIDs are at or below this value: Telegram's "-100…" ids.
const supergroupIDs = -1_000_000_000_000

// AddChannel registers a channel so that "@username" works as a chat_id and
// getChat on it answers with type "channel".
func (s *Server) AddChannel(username string, id int64) {
	username = strings.TrimPrefix(username, "@")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[strings.ToLower(username)] = id
	s.chats[id] = Chat{ID: id, Type: "channel", Title: username, Username: username}
}

// SetChatMember sets what getChatMember answers for a user in a chat:
// creator, administrator, member, restricted, left or kicked. Unset
// memberships are "member". Setting the bot's own status to left or kicked
// makes sends into that chat fail the way Telegram's do.
func (s *Server) SetChatMember(chatID, userID int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[membership{chatID, userID}] = status
}

// BlockChat makes every send and edit into the chat answer 403
// "Forbidden: bot was blocked by the user".
func (s *Server) BlockChat(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chatID] = true
}

// chat returns what the server knows of a chat, inventing a plausible one
// for ids it never saw. The caller holds s.mu.
func (s *Server) chat(id int64) Chat {
	if c, ok := s.chats[id]; ok {
		return c
	}
	switch {
	case id > 0:
		return Chat{ID: id, Type: "private", FirstName: fmt.Sprintf("User %d", id)}
	case id <= supergroupIDs:
		return Chat{ID: id, Type: "supergroup", Title: fmt.Sprintf("Supergroup %d", id)}
	default:
		return Chat{ID: id, Type: "group", Title: fmt.Sprintf("Group %d", id)}
	}
}

// register remembers a chat a test mentioned, filling in its type. The
// caller holds s.mu.
func (s *Server) register(c Chat) Chat {
	if c.Type == "" {
		c.Type = s.chat(c.ID).Type
	}
	s.chats[c.ID] = c
	return c
}

// user returns what the server knows of a user. The caller holds s.mu.
func (s *Server) user(id int64) User {
	if id == s.me.ID {
		return s.me
	}
	if u, ok := s.users[id]; ok {
		return u
	}
	return User{ID: id, FirstName: fmt.Sprintf("User %d", id)}
}

// status returns a user's status in a chat. The caller holds s.mu.
func (s *Server) status(chatID, userID int64) string {
	if st, ok := s.members[membership{chatID, userID}]; ok {
		return st
	}
	return "member"
}

// chatID resolves the chat_id parameter: a number, a numeric string or the
// "@username" of a channel registered with AddChannel. The caller holds s.mu.
func (s *Server) chatID(q request) (int64, error) {
	v := q.text("chat_id")
	if v == "" {
		return 0, badRequest("chat_id is empty")
	}
	if name, ok := strings.CutPrefix(v, "@"); ok {
		id, ok := s.channels[strings.ToLower(name)]
		if !ok {
			return 0, badRequest("chat not found")
		}
		return id, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

// reachable fails for groups that moved to a supergroup, with the
// parameters Telegram gives so that clients can follow. The caller holds
// s.mu.
func (s *Server) reachable(chatID int64) error {
	if to, ok := s.migrated[chatID]; ok {
		e := badRequest("group chat was upgraded to a supergroup chat")
		e.migrateTo = to
		return e
	}
	return nil
}

// deliverable fails when the bot may not post into the chat. The caller
// holds s.mu.
func (s *Server) deliverable(chatID int64) error {
	if err := s.reachable(chatID); err != nil {
		return err
	}
	if s.blocked[chatID] {
		return forbidden("bot was blocked by the user")
	}
	kind := s.chat(chatID).Type
	switch st := s.status(chatID, s.me.ID); {
	case (st == "kicked" || st == "left") && kind == "private":
		return forbidden("bot was blocked by the user")
	case st == "kicked":
		return forbidden(fmt.Sprintf("bot was kicked from the %s chat", kind))
	case st == "left":
		return forbidden(fmt.Sprintf("bot is not a member of the %s chat", kind))
	}
	return nil
}

// getChat implements the Bot API method of the same name.
func (s *Server) getChat(q request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.chatID(q)
	if err != nil {
		return nil, err
	}
	if err := s.reachable(id); err != nil {
		return nil, err
	}
	return s.chat(id), nil
}

// wireMember is a Bot API ChatMember.
type wireMember struct {
	User   User   `json:"user"`
	Status string `json:"status"`
}

// getChatMember implements the Bot API method of the same name.
func (s *Server) getChatMember(q request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chatID, err := s.chatID(q)
	if err != nil {
		return nil, err
	}
	if err := s.reachable(chatID); err != nil {
		return nil, err
	}
	userID, ok, err := q.integer("user_id")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("user_id is empty")
	}
	return wireMember{User: s.user(userID), Status: s.status(chatID, userID)}, nil
}

// answerCallbackQuery implements the Bot API method of the same name: each
// query pushed with PressButton can be answered once.
func (s *Server) answerCallbackQuery(q request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := q.text("callback_query_id")
	if !s.callbacks[id] {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	delete(s.callbacks, id)
	return true, nil
}

// Telegram's limits on bot commands.
const (
	maxCommands           = 100
	maxCommandName        = 32
	maxCommandDescription = 256
)

// setMyCommands implements the Bot API method of the same name: it checks
// the commands the way Telegram does and otherwise only acknowledges them;
// tests read what was set from Calls.
func setMyCommands(q request) (any, error) {
	raw, err := q.object("commands")
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, badRequest(`parameter "commands" is required`)
	}
	var commands []struct {
		Command     string `json:"command"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(raw, &commands); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(commands) > maxCommands {
		return nil, badRequest("BOT_COMMANDS_TOO_MUCH")
	}
	for _, c := range commands {
		if !validCommand(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(c.Description)); n == 0 || n > maxCommandDescription {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	if _, err := q.object("scope"); err != nil {
		return nil, err
	}
	return true, nil
}

// validCommand reports whether name matches [a-z0-9_]{1,32}.
func validCommand(name string) bool {
	if name == "" || len(name) > maxCommandName {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
