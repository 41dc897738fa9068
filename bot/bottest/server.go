package bottest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Server is a fake Telegram Bot API server. Create it with NewServer and
// stop it with Close. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, http://127.0.0.1:PORT, without a
	// trailing slash: the value a client puts in place of
	// https://api.telegram.org.
	URL string
	// Token is the only bot token the server accepts; requests with any
	// other token get 401 Unauthorized.
	Token string

	ts        *httptest.Server
	done      chan struct{} // closed by Close to release handlers that wait
	closeOnce sync.Once

	mu      sync.Mutex
	now     func() time.Time // the clock of rate limits and timestamps
	changed chan struct{}    // closed and replaced whenever something is recorded
	me      User
	calls   []Call

	// Updates waiting for the bot, oldest first.
	updates    []queuedUpdate
	lastUpdate int
	allowed    map[string]bool // nil means Telegram's default set
	poll       chan struct{}   // closed to terminate the pending getUpdates
	webhook    string          // URL given to setWebhook; getUpdates fails while set

	// What the bot sees of chats and users.
	chats        map[int64]Chat
	users        map[int64]User
	channels     map[string]int64 // lower-case username without "@" → id
	members      map[membership]string
	history      map[int64]*chatHistory
	migrated     map[int64]int64 // old group id → supergroup id
	blocked      map[int64]bool
	callbacks    map[string]bool // callback query ids not answered yet
	lastCallback int
	inline       map[string]inlineQuery // inline queries not answered yet, by id
	lastInline   int
	pinned       map[int64]int // chat → its pinned message

	// What the bot sent.
	messages      []Message
	sent          int // Messages that are not edits
	inlineAnswers []InlineAnswer

	// Errors and limits.
	faults  []queuedFault
	always  []queuedFault
	limits  Limits
	global  bucket
	buckets map[int64]*bucket
	tooMany int
	// throttled counts the 429s of limits; tooMany counts every 429.
	throttled Throttles
}

// NewServer starts a fake Bot API server on 127.0.0.1 that accepts token.
func NewServer(token string) *Server {
	s := &Server{
		Token:     token,
		done:      make(chan struct{}),
		now:       time.Now,
		changed:   make(chan struct{}),
		me:        User{ID: 1000, IsBot: true, FirstName: "Outage Bot", Username: "outage_test_bot"},
		chats:     make(map[int64]Chat),
		users:     make(map[int64]User),
		channels:  make(map[string]int64),
		members:   make(map[membership]string),
		history:   make(map[int64]*chatHistory),
		migrated:  make(map[int64]int64),
		blocked:   make(map[int64]bool),
		callbacks: make(map[string]bool),
		inline:    make(map[string]inlineQuery),
		pinned:    make(map[int64]int),
		buckets:   make(map[int64]*bucket),
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	return s
}

// Close stops the server. Pending long polls answer with no updates and
// delayed faults are abandoned, so Close never waits for a client's timeout.
// Close may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.ts.Close()
	})
}

// SetMe sets the user that getMe returns and that sent messages come from.
func (s *Server) SetMe(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.me = u
}

// serve answers one Bot API request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	token, method, ok := splitPath(r.URL.Path)
	if !ok {
		s.reply(w, nil, &apiError{code: http.StatusNotFound, description: "Not Found"})
		return
	}
	if token != s.Token {
		s.reply(w, nil, &apiError{code: http.StatusUnauthorized, description: "Unauthorized"})
		return
	}
	req, parseErr := parseRequest(r)
	s.record(method, req)
	if parseErr != nil {
		s.reply(w, nil, badRequest("can't parse request: "+parseErr.Error()))
		return
	}
	if f, ok := s.takeFault(method, req); ok {
		if !s.pause(r.Context(), f.Delay) || f.CloseConn {
			abort(w)
			return
		}
		if f.Code != 0 {
			s.reply(w, nil, f.apiError())
			return
		}
	}
	result, err := s.dispatch(r.Context(), method, req)
	var apiErr *apiError
	switch {
	case err == nil:
		s.reply(w, result, nil)
	case errors.As(err, &apiErr):
		s.reply(w, nil, apiErr)
	default:
		// The client went away. Returning would make net/http send an
		// empty 200, so drop the connection instead.
		abort(w)
	}
}

// splitPath splits /bot{token}/{method}.
func splitPath(path string) (token, method string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		return "", "", false
	}
	token, method, ok = strings.Cut(rest, "/")
	if !ok || method == "" || strings.Contains(method, "/") {
		return "", "", false
	}
	return token, method, true
}

// dispatch runs a Bot API method. Method names are case-insensitive, as on
// Telegram.
func (s *Server) dispatch(ctx context.Context, method string, req request) (any, error) {
	switch strings.ToLower(method) {
	case "getme":
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.me, nil
	case "getupdates":
		return s.getUpdates(ctx, req)
	case "sendmessage":
		return s.sendMessage(req)
	case "sendphoto":
		return s.sendPhoto(req)
	case "editmessagetext":
		return s.editMessageText(req)
	case "editmessagereplymarkup":
		return s.editMessageReplyMarkup(req)
	case "answercallbackquery":
		return s.answerCallbackQuery(req)
	case "answerinlinequery":
		return s.answerInlineQuery(req)
	case "getchat":
		return s.getChat(req)
	case "getchatmember":
		return s.getChatMember(req)
	case "setmycommands":
		return setMyCommands(req)
	case "pinchatmessage":
		return s.pinChatMessage(req)
	case "setwebhook":
		return s.setWebhook(req)
	case "deletewebhook":
		return s.deleteWebhook(), nil
	case "deletemycommands":
		return true, nil
	}
	return nil, &apiError{code: http.StatusNotFound, description: "Not Found"}
}

// pause waits d, reporting false when the client gave up or the server
// closed first.
func (s *Server) pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// abort drops the connection without an answer, which the client sees as a
// network error.
func abort(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): the server's own way to drop a response.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// notify wakes everything waiting for a change. The caller holds s.mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}
