package bot

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ReplyTransport wraps next so that every message-sending Bot API call
// (telebot's replies from handlers) keeps the budget's policy: it waits for
// a slot in its chat's line and for the replies' turn in the bot-wide rate,
// at most BudgetOptions.ReplyWait, or fails with ErrReplyShed without
// reaching Telegram. A 429 it gets holds its chat as the Sender's do. Other
// calls (answerCallbackQuery, getChatMember, ...) do not count toward
// Telegram's message limits and pass at once.
func (b *Budget) ReplyTransport(next http.RoundTripper) http.RoundTripper {
	return replyTransport{b: b, next: next}
}

type replyTransport struct {
	b    *Budget
	next http.RoundTripper
}

func (t replyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !sendsMessage(req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]) {
		return t.next.RoundTrip(req)
	}
	deadline := time.Now().Add(t.b.o.ReplyWait)
	req, chat, known, err := withChat(req)
	if err != nil {
		return nil, err
	}
	if err := t.b.reply(req.Context(), chat, known, deadline); err != nil {
		req.Body.Close() // RoundTrip must close it, even on error
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if !known {
		return resp, err
	}
	t.b.lines.sent(chat, time.Now())
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		t.b.throttled(chat, retryAfter(resp))
	}
	return resp, err
}

// sendsMessage reports whether a Bot API method counts toward Telegram's
// message limits: sends and edits do, a chat action ("typing…") does not.
func sendsMessage(method string) bool {
	return strings.HasPrefix(method, "send") && method != "sendChatAction" ||
		strings.HasPrefix(method, "editMessage")
}

// withChat reads the chat_id of a Bot API request: telebot sends JSON, with
// ids as strings, or multipart/form-data when it uploads a file. It returns
// a copy of req whose body reads the same bytes again; known is false when
// the request names no numeric chat.
func withChat(req *http.Request) (r *http.Request, chat int64, known bool, err error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, 0, false, nil
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, 0, false, err
	}
	r = req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.ContentLength = int64(len(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	chat, known = chatID(req.Header.Get("Content-Type"), data)
	return r, chat, known, nil
}

// chatID finds the numeric chat_id in a request body of the given type.
func chatID(contentType string, body []byte) (int64, bool) {
	var raw string
	media, params, _ := mime.ParseMediaType(contentType)
	switch media {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return 0, false
			}
			if p.FormName() == "chat_id" {
				v, err := io.ReadAll(io.LimitReader(p, 64))
				if err != nil {
					return 0, false
				}
				raw = string(v)
				break
			}
		}
	default:
		var p struct {
			ChatID json.RawMessage `json:"chat_id"`
		}
		if json.Unmarshal(body, &p) != nil {
			return 0, false
		}
		raw = strings.Trim(string(p.ChatID), `"`)
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	return id, err == nil && id != 0
}

// retryAfter reads parameters.retry_after from a 429 answer, at least a
// second, and leaves the body readable for the caller.
func retryAfter(resp *http.Response) time.Duration {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	var ar apiResponse
	if err != nil || json.Unmarshal(data, &ar) != nil || ar.Parameters.RetryAfter < 1 {
		return time.Second
	}
	return time.Duration(ar.Parameters.RetryAfter) * time.Second
}
