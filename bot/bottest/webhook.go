package bottest

import "strings"

// setWebhook records the webhook URL, checked as Telegram checks it: an
// HTTPS URL (or "" to remove the webhook) and a secret_token of 1 to 256
// characters A-Z, a-z, 0-9, _ and -. Updates are not pushed to the URL:
// tests post them to the bot's handler themselves.
func (s *Server) setWebhook(q request) (any, error) {
	url := q.text("url")
	if url != "" && !strings.HasPrefix(url, "https://") {
		return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	if secret, ok := q.params["secret_token"]; ok && !validSecret(paramText(secret)) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = url
	return true, nil
}

// deleteWebhook removes the webhook, so that getUpdates works again.
func (s *Server) deleteWebhook() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = ""
	return true
}

// webhookSet reports whether a webhook is set.
func (s *Server) webhookSet() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook != ""
}

func validSecret(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
