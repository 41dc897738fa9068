package checks

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	defaultMaxBytes = 64 << 10
	maxRedirects    = 5
	// maxHeaderBytes bounds the headers of an answer to a default client's
	// probe. Real answers' headers take a few KiB; net/http's own bound,
	// 10 MiB, lets a server whose headers never end cost a probe some 70 MB
	// of allocations.
	maxHeaderBytes = 256 << 10
)

// httpCheck probes URLs. It holds two views of one client because whether to
// follow redirects is decided per probe, and http.Client decides it per client.
type httpCheck struct {
	direct, follow *http.Client
	userAgent      string
}

func newHTTPCheck(client *http.Client, userAgent string) *httpCheck {
	direct, follow := *client, *client
	direct.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	follow.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		// Past the limit, the last redirect becomes the answer and is judged
		// like any other status.
		if len(via) > maxRedirects {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &httpCheck{direct: &direct, follow: &follow, userAgent: userAgent}
}

// defaultHTTPClient opens a new connection for every probe: a reused
// connection would skip the DNS, TCP and TLS steps whose failures mark the
// largest outages.
func defaultHTTPClient(d *net.Dialer) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}}
}

func (h *httpCheck) run(ctx context.Context, spec ProbeSpec, start time.Time) (Class, string) {
	var steps httpSteps
	ctx = httptrace.WithClientTrace(ctx, steps.trace())
	method := spec.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := h.newRequest(ctx, method, spec.Target, spec.Headers)
	if err != nil {
		return ClassHTTPUnexpected, "invalid request: " + errText(err)
	}
	client := h.direct
	if spec.FollowRedirects {
		client = h.follow
	}
	resp, err := client.Do(req)
	if err != nil {
		return steps.failure(ctx, err, start)
	}
	defer resp.Body.Close()
	if !accepted(resp.StatusCode, spec.Status) {
		reportThrottle(ctx, resp)
		return statusFailure(resp)
	}
	limit := spec.MaxBytes
	if limit <= 0 {
		limit = defaultMaxBytes
	}
	steps.set(stepBody)
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return steps.failure(ctx, err, start)
	}
	if detail, ok := matchBody(body, limit, spec); !ok {
		return ClassBodyMismatch, detail
	}
	return ClassOK, fmt.Sprintf("HTTP %d", resp.StatusCode)
}

// newRequest is a request with the probes' User-Agent and the spec's headers.
func (h *httpCheck) newRequest(ctx context.Context, method, target string, headers map[string]string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", h.userAgent)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	// Go sends req.Host, never a Host header from the map.
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
	}
	return req, nil
}

// accepted reports whether code lies in one of want, or is a 2xx when want
// is empty.
func accepted(code int, want []StatusRange) bool {
	if len(want) == 0 {
		return code >= 200 && code <= 299
	}
	return slices.ContainsFunc(want, func(r StatusRange) bool { return r.Contains(code) })
}

// statusFailure classifies a status the spec does not accept.
func statusFailure(resp *http.Response) (Class, string) {
	code := resp.StatusCode
	detail := fmt.Sprintf("HTTP %d", code)
	switch {
	case code >= 500:
		return ClassHTTP5xx, detail
	case code == http.StatusForbidden || code == http.StatusTooManyRequests:
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			detail = clip(detail + ", Retry-After " + ra)
		}
		return ClassHTTPBlocked, detail
	case code >= 300 && code <= 399:
		loc, err := resp.Location()
		if err != nil {
			break
		}
		detail = clip(detail + " to " + loc.Host + loc.Path)
		if loginWall(loc.Path) {
			return ClassHTTPBlocked, detail
		}
	}
	return ClassHTTPUnexpected, detail
}

// loginWall reports whether path is one of the pages Meta sends anonymous
// visitors to when it wants them to log in (being sent there means
// "throttled", not "down"), alone or followed by "/" or an extension such as
// ".php".
func loginWall(path string) bool {
	path = strings.ToLower(path)
	for _, wall := range [...]string{"/login", "/accounts/login", "/checkpoint"} {
		rest, ok := strings.CutPrefix(path, wall)
		if ok && (rest == "" || rest[0] == '/' || rest[0] == '.') {
			return true
		}
	}
	return false
}

// matchBody checks the body against the spec's expectations; on a mismatch
// it says what was wrong. A JSON path expected to hold AnyJSONValue must
// only exist. limit is how much of the body was read at most.
func matchBody(body []byte, limit int64, spec ProbeSpec) (string, bool) {
	if spec.BodyContains != "" && !bytes.Contains(body, []byte(spec.BodyContains)) {
		return clip(fmt.Sprintf("body lacks %q", spec.BodyContains)), false
	}
	if len(spec.JSON) == 0 {
		return "", true
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // so that 2500 is compared as the text "2500", not 2.5e+03
	if err := dec.Decode(&doc); err != nil {
		if int64(len(body)) >= limit {
			return fmt.Sprintf("body is not JSON within its first %d bytes", limit), false
		}
		return "body is not JSON", false
	}
	for _, path := range slices.Sorted(maps.Keys(spec.JSON)) {
		want := spec.JSON[path]
		got, ok := jsonAt(doc, path)
		switch {
		case !ok && want == AnyJSONValue:
			return clip(fmt.Sprintf("JSON %s missing", path)), false
		case !ok:
			return clip(fmt.Sprintf("JSON %s missing, want %q", path, want)), false
		case want == AnyJSONValue:
		case got != want:
			return clip(fmt.Sprintf("JSON %s = %q, want %q", path, got, want)), false
		}
	}
	return "", true
}

// jsonAt follows a dotted path (object keys, array indexes) into a decoded
// JSON document and returns the value there as JSON text, strings unquoted.
func jsonAt(doc any, path string) (string, bool) {
	v := doc
	for seg := range strings.SplitSeq(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[seg]
			if !ok {
				return "", false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(node) {
				return "", false
			}
			v = node[i]
		default:
			return "", false
		}
	}
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	text, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(text), true
}

// httpStep is how far a request got, so that a timeout can be blamed on the
// step that hung: a hanging TCP connect is tcp_timeout, not http_timeout.
type httpStep int

const (
	stepStart httpStep = iota
	stepDNS
	stepConnect
	stepTLS
	stepRequest
	stepAnswer // the first byte of the answer has come
	stepBody
)

// httpSteps records a request's progress. The transport may report from its
// own dialing goroutine, even after the probe has returned, hence the lock.
type httpSteps struct {
	mu     sync.Mutex
	step   httpStep
	tlsErr error
}

func (s *httpSteps) set(step httpStep) {
	s.mu.Lock()
	s.step = step
	s.mu.Unlock()
}

func (s *httpSteps) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { s.set(stepDNS) },
		ConnectStart:      func(string, string) { s.set(stepConnect) },
		TLSHandshakeStart: func() { s.set(stepTLS) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err != nil {
				s.mu.Lock()
				s.tlsErr = err
				s.mu.Unlock()
			}
		},
		GotConn:              func(httptrace.GotConnInfo) { s.set(stepRequest) },
		GotFirstResponseByte: func() { s.set(stepAnswer) },
	}
}

// failure classifies an error from sending the request or reading the body.
func (s *httpSteps) failure(ctx context.Context, err error, start time.Time) (Class, string) {
	s.mu.Lock()
	step, tlsErr := s.step, s.tlsErr
	s.mu.Unlock()
	var certErr *tls.CertificateVerificationError
	switch {
	case tlsErr != nil:
		return ClassTLSError, errText(tlsErr)
	case errors.As(err, &certErr):
		return ClassTLSError, errText(certErr)
	}
	if class, detail, ok := connFailure(ctx, err, start); ok {
		return class, detail
	}
	if isTimeout(ctx, err) {
		switch step {
		case stepDNS:
			return ClassDNSTimeout, "DNS " + ended(ctx, start)
		case stepConnect:
			return ClassTCPTimeout, "connect " + ended(ctx, start)
		case stepTLS:
			return ClassTLSError, "TLS handshake " + ended(ctx, start)
		case stepBody:
			return ClassHTTPTimeout, ended(ctx, start) + " reading the body"
		}
		return ClassHTTPTimeout, ended(ctx, start)
	}
	// A server that hangs up before the first byte of its answer refuses
	// the request, however the transport words it: "server closed idle
	// connection" when the hang-up beat the request to the transport.
	if step == stepRequest || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ClassTCPRefused, "connection closed before the answer"
	}
	return ClassHTTPUnexpected, errText(err)
}
