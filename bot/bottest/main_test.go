package bottest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testToken = "123456:TEST-token"

// newServer starts a server that the test closes when it ends.
func newServer(t *testing.T) *Server {
	t.Helper()
	s := NewServer(testToken)
	t.Cleanup(s.Close)
	return s
}

// withClock replaces the server's clock with a fake one starting at a fixed
// instant.
func withClock(s *Server) *fakeClock {
	c := &fakeClock{t: time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = c.Now
	return c
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// apiResponse is a decoded Bot API answer with its HTTP status.
type apiResponse struct {
	Status      int                 `json:"-"`
	OK          bool                `json:"ok"`
	Result      json.RawMessage     `json:"result"`
	ErrorCode   int                 `json:"error_code"`
	Description string              `json:"description"`
	Parameters  *responseParameters `json:"parameters"`
}

// post sends body as JSON to a Bot API method and returns the status and
// the raw answer.
func post(ctx context.Context, s *Server, method, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/bot"+s.Token+"/"+method, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return do(req)
}

func do(req *http.Request) (int, []byte, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// call posts body to method and decodes the answer, failing the test on a
// transport error or an answer that is not a Bot API envelope.
func call(t *testing.T, s *Server, method, body string) apiResponse {
	t.Helper()
	status, raw, err := post(t.Context(), s, method, body)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return decodeResponse(t, status, raw)
}

func decodeResponse(t *testing.T, status int, raw []byte) apiResponse {
	t.Helper()
	var r apiResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("decode answer %q: %v", raw, err)
	}
	r.Status = status
	if r.OK != (status == http.StatusOK) {
		t.Fatalf("answer %s came with HTTP status %d", raw, status)
	}
	return r
}

// decode decodes a successful answer's result into v.
func (r apiResponse) decode(t *testing.T, v any) {
	t.Helper()
	if !r.OK {
		t.Fatalf("call failed: %d %s", r.ErrorCode, r.Description)
	}
	if err := json.Unmarshal(r.Result, v); err != nil {
		t.Fatalf("decode result %s: %v", r.Result, err)
	}
}

// polling reports whether a getUpdates is waiting.
func polling(s *Server) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.poll != nil
}

// bounded returns a context that ends with the test or after 10 s, so that a
// broken wait fails the test instead of hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
