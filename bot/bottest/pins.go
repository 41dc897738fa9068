package bottest

// PinnedMessage returns the id of the message pinned in a chat, if any.
func (s *Server) PinnedMessage(chatID int64) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.pinned[chatID]
	return id, ok
}

// pinChatMessage implements the Bot API method of the same name. The
// server keeps one pinned message per chat, the latest, which is what
// clients show at the top.
func (s *Server) pinChatMessage(q request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.target(q, "pin")
	if err != nil {
		return nil, err
	}
	s.pinned[m.chatID] = m.id
	s.notify()
	return true, nil
}
