package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Telegram's limits on an answer to an inline query.
const (
	maxInlineResults = 50
	maxResultID      = 64 // bytes
	maxNextOffset    = 64 // bytes
)

// defaultCacheTime is how long Telegram keeps an answer that does not say,
// in seconds.
const defaultCacheTime = 300

// inlineQuery is an inline query pushed and not answered yet.
type inlineQuery struct {
	from  User
	query string
}

// wireInlineQuery is a Bot API InlineQuery.
type wireInlineQuery struct {
	ID       string `json:"id"`
	From     User   `json:"from"`
	Query    string `json:"query"`
	Offset   string `json:"offset"`
	ChatType string `json:"chat_type,omitempty"`
}

// SendInlineQuery pushes an inline_query update: from typed "@bot query" in
// a chat of chatType ("sender" for their private chat with the bot,
// "private", "group", "supergroup" or "channel"; "" leaves the field out,
// as Telegram does when it cannot say). The user's language is
// from.LanguageCode. It returns the query id, which answerInlineQuery
// accepts once.
func (s *Server) SendInlineQuery(from User, chatType, query string) (queryID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[from.ID] = from
	s.lastInline++
	queryID = strconv.Itoa(s.lastInline)
	s.inline[queryID] = inlineQuery{from: from, query: query}
	s.push(map[string]any{"inline_query": wireInlineQuery{
		ID: queryID, From: from, Query: query, ChatType: chatType,
	}})
	return queryID
}

// InlineAnswer is an answerInlineQuery the server accepted, with the query
// it answers.
type InlineAnswer struct {
	QueryID string
	Query   string // the text of the query, as typed
	From    User   // who typed it
	Results []InlineResult
	// CacheTime is how long Telegram may keep the answer, in seconds: as
	// sent, or Telegram's default of 300 when not sent.
	CacheTime  int
	IsPersonal bool
	NextOffset string
	At         time.Time
}

// InlineResult is one result of an InlineAnswer. The server takes articles
// only, the one kind of result outagebot offers.
type InlineResult struct {
	ID          string
	Type        string // "article"
	Title       string
	Description string
	// Text and ParseMode are the input_message_content: the message that
	// choosing the result posts, as sent.
	Text      string
	ParseMode string
	// ReplyMarkup is the inline keyboard under that message, compacted;
	// nil when there is none.
	ReplyMarkup json.RawMessage
}

// Plain returns the message that choosing the result posts, as a Telegram
// client shows it.
func (r InlineResult) Plain() string {
	return Message{Text: r.Text, ParseMode: r.ParseMode}.Plain()
}

// InlineAnswers returns every answer to an inline query the server
// accepted, in order.
func (s *Server) InlineAnswers() []InlineAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.inlineAnswers)
}

// WaitInlineAnswers blocks until at least n inline queries were answered,
// and returns the answers. When ctx ends first it returns those so far with
// an error.
func (s *Server) WaitInlineAnswers(ctx context.Context, n int) ([]InlineAnswer, error) {
	err := s.Wait(ctx, func(s *Server) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.inlineAnswers) >= n
	})
	answers := s.InlineAnswers()
	if err != nil {
		return answers, fmt.Errorf("bottest: waiting for %d inline answers, %d given: %w", n, len(answers), err)
	}
	return answers, nil
}

// wireResult is what the server reads of an InlineQueryResult.
type wireResult struct {
	Type                string `json:"type"`
	ID                  string `json:"id"`
	Title               string `json:"title"`
	Description         string `json:"description"`
	InputMessageContent *struct {
		MessageText string `json:"message_text"`
		ParseMode   string `json:"parse_mode"`
	} `json:"input_message_content"`
	ReplyMarkup json.RawMessage `json:"reply_markup"`
}

// answerInlineQuery implements the Bot API method of the same name, checked
// as Telegram checks it: a query pushed with SendInlineQuery is answered
// once; at most 50 articles with unique ids of 1 to 64 bytes, each with a
// title and a message that is valid in its parse mode and 1 to 4096
// characters long; URL buttons with a URL Telegram opens; cache_time an
// integer and is_personal a boolean. Error descriptions are Telegram's.
func (s *Server) answerInlineQuery(q request) (any, error) {
	id := q.text("inline_query_id")
	a := InlineAnswer{QueryID: id, CacheTime: defaultCacheTime, NextOffset: q.text("next_offset")}
	cache, sent, err := q.integer("cache_time")
	if err != nil {
		return nil, err
	}
	if sent {
		if cache < 0 {
			return nil, badRequest("invalid cache_time specified")
		}
		a.CacheTime = int(cache)
	}
	if a.IsPersonal, err = q.boolean("is_personal"); err != nil {
		return nil, err
	}
	if len(a.NextOffset) > maxNextOffset {
		return nil, badRequest("NEXT_OFFSET_INVALID")
	}
	if a.Results, err = inlineResults(q); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	query, ok := s.inline[id]
	if !ok {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	delete(s.inline, id)
	a.Query, a.From, a.At = query.query, query.from, s.now()
	s.inlineAnswers = append(s.inlineAnswers, a)
	s.notify()
	return true, nil
}

// inlineResults reads and checks the results of an answerInlineQuery.
func inlineResults(q request) ([]InlineResult, error) {
	raw, err := q.object("results")
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, badRequest(`parameter "results" is required`)
	}
	var wire []wireResult
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, badRequest("can't parse results JSON object")
	}
	if len(wire) > maxInlineResults {
		return nil, badRequest("RESULTS_TOO_MUCH")
	}
	results := make([]InlineResult, 0, len(wire))
	seen := make(map[string]bool, len(wire))
	for _, w := range wire {
		switch {
		case w.ID == "" || len(w.ID) > maxResultID:
			return nil, badRequest("RESULT_ID_INVALID")
		case seen[w.ID]:
			return nil, badRequest("RESULT_ID_DUPLICATE")
		case w.Type != "article":
			return nil, badRequest("RESULT_TYPE_INVALID")
		case w.Title == "":
			return nil, badRequest("ARTICLE_TITLE_EMPTY")
		case w.InputMessageContent == nil:
			return nil, badRequest("MESSAGE_EMPTY")
		}
		seen[w.ID] = true
		c := w.InputMessageContent
		if _, err := render(c.MessageText, c.ParseMode); err != nil {
			return nil, err
		}
		markup, err := inlineKeyboard(w.ReplyMarkup)
		if err != nil {
			return nil, err
		}
		results = append(results, InlineResult{
			ID: w.ID, Type: w.Type, Title: w.Title, Description: w.Description,
			Text: c.MessageText, ParseMode: c.ParseMode, ReplyMarkup: markup,
		})
	}
	return results, nil
}

// inlineKeyboard checks the markup of a result, compacted already with the
// results: an inline keyboard whose buttons have a label and, for URL
// buttons, a URL Telegram opens. It returns nil for no markup.
func inlineKeyboard(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m struct {
		InlineKeyboard [][]struct {
			Text string  `json:"text"`
			URL  *string `json:"url"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.Text == "" {
				return nil, badRequest("BUTTON_TEXT_INVALID")
			}
			if b.URL != nil && !openableURL(*b.URL) {
				return nil, badRequest("BUTTON_URL_INVALID")
			}
		}
	}
	return raw, nil
}

// openableURL reports whether a button's URL is one Telegram opens: http,
// https or tg, with somewhere to go.
func openableURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "http", "https":
		return u.Host != ""
	case "tg":
		return u.Opaque != "" || u.Host != ""
	}
	return false
}
