package checks

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// wsOrigin is the Origin web.whatsapp.com's chat socket insists on.
const wsOrigin = "https://web.whatsapp.com"

// newWSSite serves WebSocket handshakes the way web.whatsapp.com does, and
// the ways they go wrong. After a handshake on /chat it reads the client's
// Close frame and sends its status code to closes (-1 for anything else).
func newWSSite(t testing.TB, closes chan<- int) *http.ServeMux {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != wsOrigin {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		key := r.Header.Get("Sec-WebSocket-Key")
		if nonce, err := base64.StdEncoding.DecodeString(key); err != nil || len(nonce) != 16 ||
			r.Method != http.MethodGet || r.ProtoMajor != 1 ||
			!strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
			!strings.EqualFold(r.Header.Get("Connection"), "upgrade") ||
			r.Header.Get("Sec-WebSocket-Version") != "13" ||
			r.Header.Get("User-Agent") != defaultUserAgent {
			http.Error(w, fmt.Sprintf("not a WebSocket handshake: %s %s %v", r.Method, r.Proto, r.Header), http.StatusBadRequest)
			return
		}
		conn, rw := switchProtocols(t, w, "websocket", acceptKey(key))
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(probeTimeout))
		closes <- closeStatus(rw.Reader)
	})
	mux.HandleFunc("/wrong-accept", func(w http.ResponseWriter, r *http.Request) {
		conn, _ := switchProtocols(t, w, "websocket", acceptKey("another key"))
		conn.Close()
	})
	mux.HandleFunc("/not-websocket", func(w http.ResponseWriter, r *http.Request) {
		conn, _ := switchProtocols(t, w, "h2c", acceptKey(r.Header.Get("Sec-WebSocket-Key")))
		conn.Close()
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "hello world")
	})
	mux.HandleFunc("/403", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	})
	mux.HandleFunc("/429", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc("/503", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login.php", http.StatusFound)
	})
	mux.HandleFunc("/hang", func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	return mux
}

// switchProtocols takes over the connection and answers 101 with the given
// Upgrade and Sec-WebSocket-Accept headers.
func switchProtocols(t testing.TB, w http.ResponseWriter, upgrade, accept string) (net.Conn, *bufio.ReadWriter) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijacking the connection: %v", err)
		panic(http.ErrAbortHandler)
	}
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", upgrade, accept)
	if err := rw.Flush(); err != nil {
		t.Errorf("answering the handshake: %v", err)
	}
	return conn, rw
}

// closeStatus reads a masked Close frame with a status code and returns the
// code, or -1 if the client sent anything else.
func closeStatus(r io.Reader) int {
	var f [8]byte
	if _, err := io.ReadFull(r, f[:]); err != nil || f[0] != 0x88 || f[1] != 0x80|2 {
		return -1
	}
	mask := f[2:6]
	return int(binary.BigEndian.Uint16([]byte{f[6] ^ mask[0], f[7] ^ mask[1]}))
}

func TestWebSocketProbe(t *testing.T) {
	closes := make(chan int, 1)
	site := newWSSite(t, closes)
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	// Hijacking needs HTTP/1.1: the probe must not let the server pick
	// HTTP/2, although it offers it.
	tlsSrv := httptest.NewUnstartedServer(site)
	tlsSrv.EnableHTTP2 = true
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusting client's aborted handshake
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	ws := "ws://" + srv.Listener.Addr().String()
	wss := "wss://" + tlsSrv.Listener.Addr().String()
	host := srv.Listener.Addr().String()
	origin := map[string]string{"Origin": wsOrigin}
	tests := []struct {
		name    string
		client  *http.Client // ProberOptions.HTTPClient
		target  string
		headers map[string]string
		short   bool // the probe is expected to time out
		class   Class
		detail  string // regular expression
		closed  bool   // the server must have received a Close frame
	}{
		{name: "upgraded", client: srv.Client(), target: ws + "/chat", headers: origin, class: ClassOK, detail: "HTTP 101", closed: true},
		{name: "upgraded over TLS", client: tlsSrv.Client(), target: wss + "/chat", headers: origin, class: ClassOK, detail: "HTTP 101", closed: true},
		{name: "default client", target: ws + "/chat", headers: origin, class: ClassOK, detail: "HTTP 101", closed: true},
		{name: "no origin", client: srv.Client(), target: ws + "/chat", class: ClassHTTPBlocked, detail: "HTTP 403"},
		{name: "throttled", client: srv.Client(), target: ws + "/429", class: ClassHTTPBlocked, detail: "HTTP 429, Retry-After 30"},
		{name: "login wall", client: srv.Client(), target: ws + "/login", class: ClassHTTPBlocked, detail: "HTTP 302 to " + host + "/login.php"},
		{name: "5xx", client: srv.Client(), target: ws + "/503", class: ClassHTTP5xx, detail: "HTTP 503"},
		{name: "not upgraded", client: srv.Client(), target: ws + "/ok", class: ClassHTTPUnexpected, detail: "HTTP 200"},
		{name: "wrong accept", client: srv.Client(), target: ws + "/wrong-accept", class: ClassHTTPUnexpected,
			detail: "HTTP 101 with a wrong Sec-WebSocket-Accept"},
		{name: "another protocol", client: srv.Client(), target: ws + "/not-websocket", class: ClassHTTPUnexpected,
			detail: `HTTP 101 to "h2c", not websocket`},
		{name: "no answer", client: srv.Client(), target: ws + "/hang", short: true, class: ClassHTTPTimeout, detail: "timeout after " + durationRE},
		// The default client trusts the system's roots, not httptest's.
		{name: "untrusted", target: wss + "/chat", headers: origin, class: ClassTLSError, detail: ".*certificate.*"},
		{name: "refused", target: "ws://" + closedPort(t, "tcp") + "/chat", class: ClassTCPRefused, detail: "connection refused"},
		{name: "not a WebSocket URL", target: "https://web.whatsapp.com/ws/chat", class: ClassHTTPUnexpected,
			detail: `invalid request: scheme "https" is not ws or wss`},
		{name: "invalid URL", target: ws + "/%zz", class: ClassHTTPUnexpected, detail: "invalid request: .*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probers := NewProbers(ProberOptions{HTTPClient: tt.client})
			timeout := probeTimeout
			if tt.short {
				timeout = shortTimeout
			}
			spec := ProbeSpec{Kind: "websocket", Target: tt.target, Headers: tt.headers}
			checkResult(t, runProbe(t, probers, spec, timeout), tt.class, tt.detail)
			if !tt.closed {
				return
			}
			select {
			case status := <-closes:
				if status != 1000 {
					t.Errorf("server got Close status %d, want 1000", status)
				}
			case <-time.After(probeTimeout):
				t.Error("server got no Close frame")
			}
		})
	}
}

func TestAcceptKey(t *testing.T) {
	// The example of RFC 6455, section 1.3.
	if got, want := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("acceptKey = %q, want %q", got, want)
	}
}
