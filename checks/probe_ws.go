package checks

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"
)

// websocketGUID is what RFC 6455 has the server mix into the client's key,
// proving that it understood the handshake rather than a cache or proxy
// replaying an answer.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// websocket opens a WebSocket to a ws:// or wss:// target and closes it as
// soon as the server has agreed. The handshake alone shows the chat layer
// taking connections, and the chat layer is what broke, alone, in the
// WhatsApp outages of 2022 and 2024 while the web pages kept answering.
// Headers such as Origin come from the spec, as for http probes.
func (h *httpCheck) websocket(ctx context.Context, spec ProbeSpec, start time.Time) (Class, string) {
	u, err := url.Parse(spec.Target)
	if err != nil {
		return ClassHTTPUnexpected, "invalid request: " + errText(err)
	}
	// net/http speaks the handshake, which is plain HTTP/1.1, under the
	// schemes it knows.
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return ClassHTTPUnexpected, clip(fmt.Sprintf("invalid request: scheme %q is not ws or wss", u.Scheme))
	}
	var steps httpSteps
	ctx = httptrace.WithClientTrace(ctx, steps.trace())
	req, err := h.newRequest(ctx, http.MethodGet, u.String(), spec.Headers)
	if err != nil {
		return ClassHTTPUnexpected, "invalid request: " + errText(err)
	}
	// 16 bytes of key (RFC 6455 4.1) and 4 of mask for the Close frame.
	// crypto/rand.Read never fails.
	var nonce [20]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:16])
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	resp, err := h.direct.Do(req)
	if err != nil {
		return steps.failure(ctx, err, start)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		reportThrottle(ctx, resp)
		return statusFailure(resp)
	}
	switch {
	case !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket"):
		return ClassHTTPUnexpected, clip(fmt.Sprintf("HTTP 101 to %q, not websocket", resp.Header.Get("Upgrade")))
	case resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key):
		return ClassHTTPUnexpected, "HTTP 101 with a wrong Sec-WebSocket-Accept"
	}
	// Say goodbye properly, so that the server logs a normal closure rather
	// than a dropped connection. Whether it hears is not part of the test.
	if w, ok := resp.Body.(io.Writer); ok {
		w.Write(closeFrame([4]byte(nonce[16:])))
	}
	return ClassOK, "HTTP 101"
}

// acceptKey is the Sec-WebSocket-Accept a server must answer key with.
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// closeFrame is a client's Close frame with status 1000 (normal closure),
// masked with mask as RFC 6455 requires of every frame a client sends.
func closeFrame(mask [4]byte) []byte {
	const status = 1000
	return []byte{
		0x88,     // FIN, opcode 8 (Close)
		0x80 | 2, // masked, 2 bytes of payload
		mask[0], mask[1], mask[2], mask[3],
		byte(status>>8) ^ mask[0], byte(status&0xff) ^ mask[1],
	}
}
