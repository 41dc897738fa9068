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
	if s.lookup(chatID, int(id)) == nil {
		return nil, badRequest("message to pin not found")
	}
	s.pinned[chatID] = int(id)
	s.notify()
	return true, nil
}
