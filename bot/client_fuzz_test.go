package bot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	tele "gopkg.in/telebot.v3"
)

// answerTransport answers every request with status and body, in process.
type answerTransport struct {
	status int
	body   []byte
}

func (a answerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: a.status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(a.body)),
		Request:    req,
	}, nil
}

// FuzzGetUpdates decodes any answer to getUpdates the way the Poller does,
// through Client.Call into []tele.Update. It must never panic; an answer that
// is not a batch of updates is an error, a refusal an *APIError with a code;
// a batch cannot hold more updates than the answer has room for.
func FuzzGetUpdates(f *testing.F) {
	for _, body := range []string{
		`{"ok":true,"result":[]}`,
		`{"ok":true,"result":[{"update_id":7,"message":{"message_id":1,"from":{"id":42,"is_bot":false,"first_name":"Alice","language_code":"de"},"chat":{"id":42,"type":"private","first_name":"Alice"},"date":1741104960,"text":"/subscribe wa, ig","entities":[{"type":"bot_command","offset":0,"length":10}]}}]}`,
		`{"ok":true,"result":[{"update_id":8,"callback_query":{"id":"1","from":{"id":42,"is_bot":false,"first_name":"Alice"},"message":{"message_id":3,"chat":{"id":42,"type":"private"},"date":0},"chat_instance":"42","data":"\ftog|whatsapp"}}]}`,
		`{"ok":true,"result":[{"update_id":9,"my_chat_member":{"chat":{"id":-5,"type":"group","title":"Friends"},"from":{"id":43,"is_bot":false,"first_name":"Bob"},"date":1741104960,"old_chat_member":{"user":{"id":1000,"is_bot":true,"first_name":"Bot"},"status":"left"},"new_chat_member":{"user":{"id":1000,"is_bot":true,"first_name":"Bot"},"status":"administrator"}}}]}`,
		`{"ok":true,"result":[{"update_id":10,"message":{"message_id":5,"chat":{"id":-5,"type":"group"},"date":1741104960,"migrate_to_chat_id":-1001234}}]}`,
		`{"ok":false,"error_code":409,"description":"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}`,
		`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`,
		`{"ok":false,"description":"Bad Gateway"}`,
		`{"ok":true,"result":{"update_id":1}}`,
		`{"ok":true,"result":[{"update_id":"1"}]}`,
		`{"ok":true}`,
		`<html><body>502 Bad Gateway</body></html>`,
		``,
	} {
		f.Add(200, []byte(body))
	}
	f.Add(502, []byte(`<html>502</html>`))
	f.Add(401, []byte(`{"ok":false,"error_code":401,"description":"Unauthorized"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			t.Skip("not an HTTP status")
		}
		if len(body) > maxResponse {
			t.Skip("longer than Call reads")
		}
		c := NewClient("http://127.0.0.1", &http.Client{Transport: answerTransport{status, body}})
		var updates []tele.Update
		err := c.Call(context.Background(), "getUpdates", getUpdatesParams{Limit: 100}, &updates)
		if ae, ok := errors.AsType[*APIError](err); ok {
			if ae.Code == 0 {
				t.Fatalf("refusal without a code: %+v", ae)
			}
			return
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "getUpdates: ") {
				t.Fatalf("error %q does not say what failed", err)
			}
			return
		}
		// Each update takes at least "{}" and a separator.
		if len(updates) > len(body)/3+1 {
			t.Fatalf("%d updates from %d bytes", len(updates), len(body))
		}
	})
}
