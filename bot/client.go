// Package bot is outagebot's edge to the Telegram Bot API: the HTTP client
// (which keeps the token out of every URL Go may print), the long-polling
// Poller, the Sender that drains the outbox within Telegram's rate limits,
// and the classification of Telegram's errors.
package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// TokenPlaceholder stands where the token belongs in every URL we build,
// telebot's included (give it as telebot's token). The real token is put in
// by tokenTransport on the way out, so the URLs that net/http copies into its
// errors ("Post \"https://…/bot<token>/…\": …") can only show the placeholder.
const TokenPlaceholder = "TOKEN"

// tokenTransport swaps the placeholder for the real token in the request
// path. It clones the request: the caller's URL, the one errors quote, keeps
// the placeholder.
type tokenTransport struct {
	token string
	next  http.RoundTripper
}

func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Path = strings.Replace(r.URL.Path, "/bot"+TokenPlaceholder+"/", "/bot"+t.token+"/", 1)
	r.URL.RawPath = ""
	return t.next.RoundTrip(r)
}

// NewHTTPClient returns the client every Bot API call goes through, telebot's
// included. Token is the real token; callers use TokenPlaceholder in its place.
// The timeout bounds calls that carry no deadline of their own; long polls
// must ask for less.
func NewHTTPClient(token string, timeout time.Duration) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	// Keep a connection per concurrent send alive (see
	// SenderOptions.Workers): dialing anew per message costs more than the
	// message.
	base.MaxIdleConns = 256
	base.MaxIdleConnsPerHost = 256
	return &http.Client{
		Transport: tokenTransport{token: token, next: base},
		Timeout:   timeout,
	}
}

// Client calls Bot API methods with a context, and returns Telegram's error
// parameters (retry_after, migrate_to_chat_id) that telebot drops for
// unknown errors.
type Client struct {
	base string // {api}/bot{placeholder}/
	http *http.Client
}

// NewClient returns a Client for the Bot API at apiURL (e.g.
// https://api.telegram.org) using hc, which must come from NewHTTPClient.
func NewClient(apiURL string, hc *http.Client) *Client {
	return &Client{base: strings.TrimRight(apiURL, "/") + "/bot" + TokenPlaceholder + "/", http: hc}
}

// APIError is an answer with "ok": false.
type APIError struct {
	Code        int
	Description string
	RetryAfter  int   // seconds, on 429
	MigrateTo   int64 // the supergroup id, when a group was upgraded
}

func (e *APIError) Error() string {
	return fmt.Sprintf("telegram: %d %s", e.Code, e.Description)
}

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// maxResponse bounds what we read of one answer; getUpdates with 100
// updates stays far below it.
const maxResponse = 16 << 20

// Call invokes method with params (JSON-encoded) and decodes the result into
// result when it is not nil. Telegram's refusals come back as *APIError.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", method, err)
	}
	var ar apiResponse
	if err := json.Unmarshal(data, &ar); err != nil {
		// Proxies and load balancers answer outages with HTML; keep the status.
		return fmt.Errorf("%s: HTTP %d with a body that is not Bot API JSON: %w", method, resp.StatusCode, err)
	}
	if !ar.OK {
		code := ar.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return &APIError{Code: code, Description: ar.Description,
			RetryAfter: ar.Parameters.RetryAfter, MigrateTo: ar.Parameters.MigrateToChatID}
	}
	if result != nil {
		if err := json.Unmarshal(ar.Result, result); err != nil {
			return fmt.Errorf("%s: decode result: %w", method, err)
		}
	}
	return nil
}
