package checks

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Meta-side faults: endpoints that hang, trickle, answer gigabytes, redirect
// in loops, present bad certificates or answer DNS with garbage. Every probe
// must end within its deadline with the class its prober's rules give.

const (
	// faultTimeout is the deadline of probes expected to run out of time:
	// long enough for a trickling server to send several bytes, and for a
	// loaded machine to get to the step that hangs before it. checkFaults
	// waits for it once per test, not once per case.
	faultTimeout = 2 * time.Second
	// trickleEvery is how often a trickling server sends its next byte.
	trickleEvery = 100 * time.Millisecond
	// faultSlack is how long past its deadline a probe may take to return:
	// generous, so that a loaded machine does not fail the tests, and still
	// below the fallback timeouts of the libraries underneath (5 s for Go's
	// resolver, 10 s for a TLS handshake, 30 s for a connect).
	faultSlack = 2 * time.Second
)

// probeWithin runs the prober of spec.Kind under timeout and fails the test
// unless it returned within that deadline, give or take faultSlack.
func probeWithin(t *testing.T, probers map[string]Prober, spec ProbeSpec, timeout time.Duration) Result {
	t.Helper()
	start := time.Now()
	r := runProbe(t, probers, spec, timeout)
	if took := time.Since(start); took > timeout+faultSlack {
		t.Errorf("probe returned after %v, past its %v deadline", took, timeout)
	}
	return r
}

// faultCase is a probe of a faulty endpoint and how it must end.
type faultCase struct {
	name   string
	spec   ProbeSpec
	short  bool // the probe is expected to run out of time
	class  Class
	detail string // regular expression
}

// timeout is the probe's deadline: short when it is expected to run out of
// time, so that the package stays fast.
func (c faultCase) timeout() time.Duration {
	if c.short {
		return faultTimeout
	}
	return probeTimeout
}

// checkFaults runs the probes of all cases at once, each under its own
// deadline, so that the cases that wait for it cost one deadline together,
// and then checks each case in a subtest: its class, its detail, and that
// the probe returned within its deadline.
func checkFaults(t *testing.T, probers map[string]Prober, cases []faultCase) {
	t.Helper()
	results := make([]Result, len(cases))
	took := make([]time.Duration, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Go(func() {
			start := time.Now()
			results[i] = runProbe(t, probers, c.spec, c.timeout())
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if took[i] > c.timeout()+faultSlack {
				t.Errorf("probe returned after %v, past its %v deadline", took[i], c.timeout())
			}
			checkResult(t, results[i], c.class, c.detail)
		})
	}
}

// rawServer accepts TCP connections on 127.0.0.1 and hands each to serve on
// its own goroutine, for answers no well-behaved server library would give.
// done is closed when the test ends; by then every connection is closed too,
// so that serve returns from any read or write, and rawServer waits for
// every serve. It returns the server's address.
func rawServer(t testing.TB, serve func(c net.Conn, done <-chan struct{})) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on TCP: %v", err)
	}
	serveRaw(t, l, serve)
	return l.Addr().String()
}

// serveRaw is rawServer on a listener of the caller's.
func serveRaw(t testing.TB, l net.Listener, serve func(c net.Conn, done <-chan struct{})) {
	done := make(chan struct{})
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
	)
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				c.Close()
			}
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(c, done)
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		close(done)
		mu.Lock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// afterRequest reads one HTTP request from c and then lets answer write
// whatever it likes. Answering before the request would race the client,
// which drops bytes that arrive on a connection it has not used yet.
func afterRequest(answer func(c net.Conn, done <-chan struct{})) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, done <-chan struct{}) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		answer(c, done)
	}
}

// trickle writes prefix, then one byte more every trickleEvery until the
// client hangs up or the test ends: an answer that never finishes, yet never
// stays quiet for long.
func trickle(prefix string) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, done <-chan struct{}) {
		if _, err := io.WriteString(c, prefix); err != nil {
			return
		}
		tick := time.NewTicker(trickleEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
			case <-done:
				return
			}
			if _, err := c.Write([]byte{'a'}); err != nil {
				return
			}
		}
	}
}

// say writes text and then keeps the connection open, discarding whatever
// the client sends, until the client hangs up or the test ends.
func say(text string) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, _ <-chan struct{}) {
		if _, err := io.WriteString(c, text); err != nil {
			return
		}
		io.Copy(io.Discard, c)
	}
}

// reset aborts the connection at once: closing with a zero linger sends
// an RST instead of a FIN.
func reset(c net.Conn, _ <-chan struct{}) {
	c.(*net.TCPConn).SetLinger(0)
}

// hangUp closes the connection at once, politely.
func hangUp(net.Conn, <-chan struct{}) {}

// TestHTTPFaults covers answers that trickle, redirect in loops, hang up or
// make no sense.
func TestHTTPFaults(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/pong", http.StatusFound)
	})
	mux.HandleFunc("/pong", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ping", http.StatusFound)
	})
	// Every hop of this loop takes a while: the chain as a whole must stay
	// within the probe's deadline.
	mux.HandleFunc("/slow-loop", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(faultTimeout / 3):
		case <-r.Context().Done():
			return
		}
		http.Redirect(w, r, "/slow-loop", http.StatusFound)
	})
	loops := httptest.NewServer(mux)
	t.Cleanup(loops.Close)
	loopHost := loops.Listener.Addr().String()

	get := func(target string) ProbeSpec { return ProbeSpec{Kind: "http", Target: target} }
	follow := func(path string) ProbeSpec {
		return ProbeSpec{Kind: "http", Target: "http://" + loopHost + path, FollowRedirects: true}
	}
	raw := func(serve func(net.Conn, <-chan struct{})) string { return "http://" + rawServer(t, serve) }
	const status = "HTTP/1.1 200 OK\r\n"
	needle := get(raw(afterRequest(trickle(status + "Connection: close\r\n\r\n"))))
	needle.BodyContains = "needle"
	checkFaults(t, NewProbers(ProberOptions{}), []faultCase{
		{name: "headers trickle", spec: get(raw(afterRequest(trickle(status + "X-Slow: ")))),
			short: true, class: ClassHTTPTimeout, detail: "timeout after " + durationRE},
		{name: "body trickles", spec: get(raw(afterRequest(trickle(status + "Content-Length: 1000000\r\n\r\n")))),
			short: true, class: ClassHTTPTimeout, detail: "timeout after " + durationRE + " reading the body"},
		// Until its deadline, the needle might still come.
		{name: "endless body trickles", spec: needle,
			short: true, class: ClassHTTPTimeout, detail: "timeout after " + durationRE + " reading the body"},
		{name: "redirect loop", spec: follow("/loop"),
			class: ClassHTTPUnexpected, detail: "HTTP 302 to " + regexp.QuoteMeta(loopHost) + "/loop"},
		// Five redirects followed from /ping: the sixth answer, from /pong,
		// is the verdict.
		{name: "redirect ping-pong", spec: follow("/ping"),
			class: ClassHTTPUnexpected, detail: "HTTP 302 to " + regexp.QuoteMeta(loopHost) + "/ping"},
		{name: "slow redirect loop", spec: follow("/slow-loop"),
			short: true, class: ClassHTTPTimeout, detail: "timeout after " + durationRE},
		// Closing with the request unread makes the kernel send an RST or a
		// FIN, whichever wins: both mean the same to the probe.
		{name: "accepts and hangs up", spec: get(raw(hangUp)),
			class: ClassTCPRefused, detail: "connection (reset|closed before the answer)"},
		{name: "hangs up on the request", spec: get(raw(afterRequest(hangUp))),
			class: ClassTCPRefused, detail: "connection closed before the answer"},
		{name: "accepts and resets", spec: get(raw(reset)),
			class: ClassTCPRefused, detail: "connection (reset|closed before the answer)"},
		{name: "answers garbage", spec: get(raw(afterRequest(say("\x00\x01\x02 garbage\r\n\r\n")))),
			class: ClassHTTPUnexpected, detail: ".*malformed HTTP status code .*"},
	})
}

// TestWebSocketFaults covers handshakes that are never answered, trickle
// or are cut off.
func TestWebSocketFaults(t *testing.T) {
	t.Parallel()
	chat := func(addr string) ProbeSpec {
		return ProbeSpec{Kind: "websocket", Target: "ws://" + addr + "/chat", Headers: map[string]string{"Origin": wsOrigin}}
	}
	const switching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	checkFaults(t, NewProbers(ProberOptions{}), []faultCase{
		{name: "accepts, never reads", spec: chat(silentListener(t)),
			short: true, class: ClassHTTPTimeout, detail: "timeout after " + durationRE},
		{name: "upgrade headers trickle", spec: chat(rawServer(t, afterRequest(trickle(switching+"X-Slow: ")))),
			short: true, class: ClassHTTPTimeout, detail: "timeout after " + durationRE},
		{name: "hangs up on the handshake", spec: chat(rawServer(t, afterRequest(hangUp))),
			class: ClassTCPRefused, detail: "connection closed before the answer"},
		{name: "accepts and resets", spec: chat(rawServer(t, reset)),
			class: ClassTCPRefused, detail: "connection (reset|closed before the answer)"},
	})
}

// socketBuffer is the size of the kernel buffers on both ends of a flooded
// connection. Left alone, loopback buffers grow to megabytes, and the bytes
// they hold would hide how much the probe itself read.
const socketBuffer = 64 << 10

// flood writes head, then unit over and over until the client hangs up, and
// sends on wrote how much of the flood it could write, unless wrote is full:
// only the first connection counts.
func flood(head, unit string, wrote chan<- int64) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, _ <-chan struct{}) {
		var n int64
		defer func() {
			select {
			case wrote <- n:
			default:
			}
		}()
		c.(*net.TCPConn).SetWriteBuffer(socketBuffer)
		if _, err := io.WriteString(c, head); err != nil {
			return
		}
		block := []byte(strings.Repeat(unit, (32<<10)/len(unit)))
		for {
			m, err := c.Write(block)
			n += int64(m)
			if err != nil {
				return
			}
		}
	}
}

// smallBuffers is a client whose connections have receive buffers of
// socketBuffer bytes.
func smallBuffers() *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if err := c.(*net.TCPConn).SetReadBuffer(socketBuffer); err != nil {
				c.Close()
				return nil, fmt.Errorf("shrinking the receive buffer: %w", err)
			}
			return c, nil
		},
	}}
}

// TestHugeAnswers proves that an answer that never ends costs a probe no
// more than it means to read: the server cannot push more than that (plus
// the buffers in between) before the probe hangs up, and the probe allocates
// in proportion. It must not run in parallel: TotalAlloc counts the
// allocations of the whole process.
func TestHugeAnswers(t *testing.T) {
	const (
		ok  = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
		tiB = 1 << 40
		// wrote is how much more than the probe reads the server may
		// write: the socket buffers on both ends, bufio's, a flood block.
		wrote = 1 << 20
		// allocs bounds the probe's allocations beyond 4 times what it
		// reads, which covers the doublings of a growing buffer.
		allocs = 2 << 20
	)
	tooLong := ".*server response headers exceeded " + strconv.Itoa(maxHeaderBytes) + " bytes; aborted"
	tests := []struct {
		name  string
		kind  string
		head  string // status line and headers; the flood follows
		unit  string // what the flood repeats
		spec  ProbeSpec
		reads int64 // how much of the flood the probe may read
		// prober says the probe goes through the prober's default client,
		// whose header bound is under test, rather than smallBuffers.
		prober bool
		class  Class
		detail string // regular expression
	}{
		{name: "endless body", kind: "http", head: ok, unit: "x", reads: defaultMaxBytes,
			class: ClassOK, detail: "HTTP 200"},
		{name: "a terabyte announced", kind: "http", head: fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", int64(tiB)), unit: "x",
			spec: ProbeSpec{MaxBytes: 1 << 20}, reads: 1 << 20, class: ClassOK, detail: "HTTP 200"},
		{name: "the needle never comes", kind: "http", head: ok, unit: "x", spec: ProbeSpec{BodyContains: "needle"}, reads: defaultMaxBytes,
			class: ClassBodyMismatch, detail: `body lacks "needle"`},
		{name: "JSON nested forever", kind: "http", head: ok, unit: "[", spec: ProbeSpec{JSON: map[string]string{"error.type": "OAuthException"}},
			reads: defaultMaxBytes, class: ClassBodyMismatch, detail: fmt.Sprintf("body is not JSON within its first %d bytes", defaultMaxBytes)},
		{name: "5xx with an endless body", kind: "http", head: "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n", unit: "x",
			class: ClassHTTP5xx, detail: "HTTP 503"},
		{name: "endless header", kind: "http", head: "HTTP/1.1 200 OK\r\nX-Flood: ", unit: "x", reads: maxHeaderBytes, prober: true,
			class: ClassHTTPUnexpected, detail: tooLong},
		{name: "endless headers", kind: "http", head: "HTTP/1.1 200 OK\r\n", unit: "X-Flood: " + strings.Repeat("x", 64) + "\r\n", reads: maxHeaderBytes, prober: true,
			class: ClassHTTPUnexpected, detail: tooLong},
		{name: "handshake answered with an endless body", kind: "websocket", head: ok, unit: "x",
			class: ClassHTTPUnexpected, detail: "HTTP 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			written := make(chan int64, 1)
			addr := rawServer(t, afterRequest(flood(tt.head, tt.unit, written)))
			scheme := map[string]string{"http": "http", "websocket": "ws"}[tt.kind]
			spec := tt.spec
			spec.Kind, spec.Target = tt.kind, scheme+"://"+addr+"/"
			opts := ProberOptions{HTTPClient: smallBuffers()}
			if tt.prober {
				opts = ProberOptions{}
			}
			probers := NewProbers(opts)

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := probeWithin(t, probers, spec, probeTimeout)
			runtime.ReadMemStats(&after)
			checkResult(t, r, tt.class, tt.detail)
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(4*tt.reads+allocs); got > limit {
				t.Errorf("the probe allocated %d bytes, want at most %d", got, limit)
			}
			select {
			case n := <-written:
				if n > tt.reads+wrote {
					t.Errorf("the server wrote %d bytes before the probe hung up, want at most %d", n, tt.reads+wrote)
				}
			case <-time.After(probeTimeout):
				t.Error("the probe never hung up")
			}
		})
	}
}

// makeCert makes a certificate from tmpl, with a fresh key, signed by
// parent's key, or by its own key when parent is nil.
func makeCert(t testing.TB, tmpl *x509.Certificate, parent *tls.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating a key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatalf("drawing a serial number: %v", err)
	}
	tmpl.SerialNumber = serial
	issuer, signer := tmpl, any(key)
	if parent != nil {
		issuer, signer = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		t.Fatalf("creating a certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parsing a certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// serverCert is a template for a server certificate for 127.0.0.1, valid
// from from until until.
func serverCert(from, until time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: "outagebot test server"},
		NotBefore:   from,
		NotAfter:    until,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

// TestTLSFaults runs the kinds that speak TLS (tls, http over https,
// websocket over wss) against certificates that are wrong in one way each
// and servers that do not speak TLS properly. A valid certificate from the
// same authority shows the clients trust it: the failures are the faults'.
func TestTLSFaults(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ca := makeCert(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "outagebot test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Leaf)
	site := newWSSite(t, make(chan int, 1))
	serving := func(cert tls.Certificate) string {
		srv := httptest.NewUnstartedServer(site)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes the probes abort
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	valid := serverCert(now.Add(-time.Hour), now.Add(30*24*time.Hour))
	expired := serverCert(now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	early := serverCert(now.Add(24*time.Hour), now.Add(48*time.Hour))
	named := serverCert(now.Add(-time.Hour), now.Add(24*time.Hour))
	named.IPAddresses, named.DNSNames = nil, []string{"edge-chat.facebook.com"}
	forClients := serverCert(now.Add(-time.Hour), now.Add(24*time.Hour))
	forClients.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tests := []struct {
		name   string
		addr   string
		short  bool // the probe is expected to run out of time
		class  Class
		detail string // regular expression
	}{
		{name: "valid", addr: serving(makeCert(t, valid, &ca)),
			class: ClassOK, detail: `TLS 1\.3, cert expires in 29 d|HTTP 200|HTTP 101`},
		{name: "expired", addr: serving(makeCert(t, expired, &ca)),
			class: ClassTLSError, detail: ".*x509: certificate has expired or is not yet valid: .*"},
		{name: "not yet valid", addr: serving(makeCert(t, early, &ca)),
			class: ClassTLSError, detail: ".*x509: certificate has expired or is not yet valid: .*"},
		{name: "for a name, dialed by address", addr: serving(makeCert(t, named, &ca)),
			class: ClassTLSError, detail: ".*x509: cannot validate certificate for 127\\.0\\.0\\.1 because it doesn't contain any IP SAN.*"},
		{name: "self-signed", addr: serving(makeCert(t, valid, nil)),
			class: ClassTLSError, detail: ".*x509: certificate signed by unknown authority.*"},
		{name: "for clients only", addr: serving(makeCert(t, forClients, &ca)),
			class: ClassTLSError, detail: ".*x509: certificate specifies an incompatible key usage"},
		{name: "garbage instead of a ServerHello", addr: rawServer(t, say("\xde\xad\xbe\xef garbage, not TLS")),
			class: ClassTLSError, detail: "tls: first record does not look like a TLS handshake"},
		{name: "handshake record of garbage", addr: rawServer(t, say("\x16\x03\x03\x00\x08\xde\xad\xbe\xef\xde\xad\xbe\xef")),
			class: ClassTLSError, detail: "tls: .*"},
		{name: "oversized record", addr: rawServer(t, say("\x16\x03\x03\xff\xff")),
			class: ClassTLSError, detail: "tls: oversized record received with length 65535"},
		{name: "alert instead of a ServerHello", addr: rawServer(t, say("\x15\x03\x03\x00\x02\x02\x28")),
			class: ClassTLSError, detail: "remote error: tls: handshake failure"},
		{name: "ServerHello trickles", addr: rawServer(t, trickle("\x16\x03\x03\x40\x00\x02")),
			short: true, class: ClassTLSError, detail: "TLS handshake timeout after " + durationRE},
	}
	var cases []faultCase
	for _, tt := range tests {
		for _, spec := range []ProbeSpec{
			{Kind: "tls", Target: tt.addr},
			{Kind: "http", Target: "https://" + tt.addr + "/ok"},
			{Kind: "websocket", Target: "wss://" + tt.addr + "/chat", Headers: map[string]string{"Origin": wsOrigin}},
		} {
			cases = append(cases, faultCase{name: tt.name + "/" + spec.Kind, spec: spec, short: tt.short, class: tt.class, detail: tt.detail})
		}
	}
	checkFaults(t, NewProbers(ProberOptions{
		RootCAs: roots,
		HTTPClient: &http.Client{Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			DisableKeepAlives: true,
		}},
	}), cases)
}

// dnsReply is q's answer with an empty answer section that claims ancount
// records, packed for a test to append raw records to.
func dnsReply(t testing.TB, q *dns.Msg, ancount uint16) []byte {
	m := new(dns.Msg)
	m.SetReply(q)
	b, err := m.Pack()
	if err != nil {
		t.Errorf("packing a reply: %v", err)
		return nil
	}
	binary.BigEndian.PutUint16(b[6:8], ancount)
	return b
}

// rawRR is a resource record in wire format: owner (already encoded, such
// as a compression pointer), type, class IN, a TTL of 60 s and rdata.
func rawRR(owner string, rrtype uint16, rdata []byte) []byte {
	b := []byte(owner)
	b = binary.BigEndian.AppendUint16(b, rrtype)
	b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
	b = binary.BigEndian.AppendUint32(b, 60)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

// questionName is a compression pointer to the question's name, which
// starts right after the 12-byte header.
const questionName = "\xc0\x0c"

// TestDNSGarbage answers queries with malformed, spoofed and stalling
// replies: the probe must end by its deadline with a dns_* class, and
// never panic.
func TestDNSGarbage(t *testing.T) {
	t.Parallel()
	ipv4 := []byte{192, 0, 2, 1}
	tests := []struct {
		name string
		// udp gives the datagrams sent back for the query q.
		udp func(q *dns.Msg) [][]byte
		// tcp serves the query once it comes over TCP; nil hangs up.
		tcp    func(c net.Conn, done <-chan struct{})
		short  bool // the probe is expected to run out of time
		class  Class
		detail string // regular expression, without " from" and the server
	}{
		{name: "random bytes", udp: func(*dns.Msg) [][]byte {
			b := make([]byte, 512)
			mrand.NewChaCha8([32]byte{'o', 'u', 't', 'a', 'g', 'e'}).Read(b)
			return [][]byte{b}
		}, class: ClassDNSServFail, detail: "querying over udp: .*dns: .*"},
		{name: "header cut short", udp: func(q *dns.Msg) [][]byte {
			return [][]byte{dnsReply(t, q, 0)[:7]}
		}, class: ClassDNSServFail, detail: "querying over udp: dns: short read"},
		{name: "mismatched ID", udp: func(q *dns.Msg) [][]byte {
			b := dnsReply(t, q, 1)
			binary.BigEndian.PutUint16(b, q.Id+1)
			return [][]byte{append(b, rawRR(questionName, dns.TypeA, ipv4)...)}
		}, short: true, class: ClassDNSTimeout, detail: "timeout after " + durationRE},
		{name: "flood of mismatched IDs", udp: func(q *dns.Msg) [][]byte {
			var flood [][]byte
			for i := range uint16(1000) {
				b := dnsReply(t, q, 1)
				binary.BigEndian.PutUint16(b, q.Id+1+i)
				flood = append(flood, append(b, rawRR(questionName, dns.TypeA, ipv4)...))
			}
			return flood
		}, short: true, class: ClassDNSTimeout, detail: "timeout after " + durationRE},
		{name: "bogus record type", udp: func(q *dns.Msg) [][]byte {
			return [][]byte{append(dnsReply(t, q, 1), rawRR(questionName, 0xff00, ipv4)...)}
		}, class: ClassDNSServFail, detail: "0 answers"},
		{name: "address of 3 bytes", udp: func(q *dns.Msg) [][]byte {
			return [][]byte{append(dnsReply(t, q, 1), rawRR(questionName, dns.TypeA, ipv4[:3])...)}
		}, class: ClassDNSServFail, detail: "querying over udp: A: dns: overflow unpacking a"},
		{name: "compression pointer loop", udp: func(q *dns.Msg) [][]byte {
			b := dnsReply(t, q, 1)
			self := string([]byte{0xc0 | byte(len(b)>>8), byte(len(b))})
			return [][]byte{append(b, rawRR(self, dns.TypeA, ipv4)...)}
		}, class: ClassDNSServFail, detail: "querying over udp: dns: too many compression pointers"},
		// The DNS library keeps the records it could read, and the one
		// address there is an answer.
		{name: "more answers claimed than sent", udp: func(q *dns.Msg) [][]byte {
			return [][]byte{append(dnsReply(t, q, 0xffff), rawRR(questionName, dns.TypeA, ipv4)...)}
		}, class: ClassOK, detail: "1 answer"},
		{name: "datagram larger than asked for", udp: func(q *dns.Msg) [][]byte {
			b := dnsReply(t, q, 300)
			for range 300 {
				b = append(b, rawRR(questionName, dns.TypeA, ipv4)...)
			}
			return [][]byte{b}
		}, class: ClassDNSServFail, detail: "querying over udp: dns: overflow unpacking uint16"},
		{name: "query echoed back", udp: func(q *dns.Msg) [][]byte {
			b, err := q.Pack()
			if err != nil {
				t.Errorf("packing the query: %v", err)
			}
			return [][]byte{b}
		}, class: ClassDNSServFail, detail: "0 answers"},
		{name: "truncated, then a mismatched ID over TCP", udp: truncatedReply(t), tcp: func(c net.Conn, _ <-chan struct{}) {
			conn := &dns.Conn{Conn: c}
			q, err := conn.ReadMsg()
			if err != nil {
				return
			}
			m := new(dns.Msg)
			m.SetReply(q)
			m.Id++
			conn.WriteMsg(m)
			io.Copy(io.Discard, c)
		}, class: ClassDNSServFail, detail: "querying over tcp: dns: id mismatch"},
		{name: "truncated, then the TCP answer trickles", udp: truncatedReply(t), tcp: func(c net.Conn, done <-chan struct{}) {
			if _, err := (&dns.Conn{Conn: c}).ReadMsg(); err != nil {
				return
			}
			trickle("\x02\x00")(c, done) // 512 bytes announced
		}, short: true, class: ClassDNSTimeout, detail: "timeout after " + durationRE},
	}
	var cases []faultCase
	for _, tt := range tests {
		l, pc := listenSamePort(t)
		serve(t, &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
			for _, b := range tt.udp(q) {
				w.Write(b)
			}
		})})
		tcp := tt.tcp
		if tcp == nil {
			tcp = hangUp
		}
		serveRaw(t, l, tcp)
		addr := l.Addr().String()
		cases = append(cases, faultCase{
			name:   tt.name,
			spec:   ProbeSpec{Kind: "dns", Target: "up.example", Resolver: addr},
			short:  tt.short,
			class:  tt.class,
			detail: "(?:" + tt.detail + ") from " + regexp.QuoteMeta(addr),
		})
	}
	checkFaults(t, NewProbers(ProberOptions{}), cases)
}

// truncatedReply answers every query over UDP with an empty reply marked
// truncated, which sends the client to TCP.
func truncatedReply(t testing.TB) func(q *dns.Msg) [][]byte {
	return func(q *dns.Msg) [][]byte {
		b := dnsReply(t, q, 0)
		b[2] |= 0x02 // TC
		return [][]byte{b}
	}
}

// TestTCPFaults checks that a connect is the whole of a tcp probe: whatever
// the server does once it has accepted, the probe succeeded.
func TestTCPFaults(t *testing.T) {
	tests := []struct {
		name  string
		serve func(net.Conn, <-chan struct{})
		// reset says the probe may also end tcp_refused "connection
		// reset": over loopback the RST can reach the client before its
		// dialer has seen the connect succeed, and the dialer then reports
		// the reset.
		reset bool
	}{
		{"accepts and resets", reset, true},
		{"accepts and hangs up", hangUp, false},
		{"accepts and floods", say(strings.Repeat("x", 1<<20)), false},
		{"accepts and says nothing", say(""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := rawServer(t, tt.serve)
			r := probeWithin(t, NewProbers(ProberOptions{}), ProbeSpec{Kind: "tcp", Target: addr}, probeTimeout)
			if tt.reset && r.Class == ClassTCPRefused {
				checkResult(t, r, ClassTCPRefused, "connection reset")
				return
			}
			checkResult(t, r, ClassOK, "connected to "+regexp.QuoteMeta(addr))
		})
	}
}

// TestRoundAllHang runs a round of real probes of every kind against
// endpoints that all hang, each probe with a timeout longer than the
// round's: the round must end by its own deadline, and every probe with the
// timeout class of the step it hung in.
func TestRoundAllHang(t *testing.T) {
	t.Parallel()
	site := newTestSite(t)
	probers := NewProbers(ProberOptions{Resolver: blackhole(t)})
	// Only the tcp probe connects through a dialer that never finishes:
	// the others must hang further along.
	probers["tcp"] = NewProbers(ProberOptions{Dialer: hangingDialer(t)})["tcp"]
	body := rawServer(t, afterRequest(trickle("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")))
	probes := []ProbeSpec{
		{Name: "web", Kind: "http", Target: site.URL + "/hang"},
		{Name: "body", Kind: "http", Target: "http://" + body + "/"},
		{Name: "dns", Kind: "dns", Target: "up.example"},
		{Name: "tcp", Kind: "tcp", Target: site.Listener.Addr().String()},
		{Name: "tls", Kind: "tls", Target: silentListener(t)},
		{Name: "chat", Kind: "websocket", Target: "ws://" + site.Listener.Addr().String() + "/hang"},
	}
	want := map[string]struct {
		class  Class
		detail string // regular expression
	}{
		"web":  {ClassHTTPTimeout, "timeout after " + durationRE},
		"body": {ClassHTTPTimeout, "timeout after " + durationRE + " reading the body"},
		"dns":  {ClassDNSTimeout, "timeout after " + durationRE + " from .*"},
		"tcp":  {ClassTCPTimeout, "connect timeout after " + durationRE},
		"tls":  {ClassTLSError, "TLS handshake timeout after " + durationRE},
		"chat": {ClassHTTPTimeout, "timeout after " + durationRE},
	}
	m := NewMonitor([]Service{{ID: "whatsapp", Probes: probes}}, probes[:1],
		MonitorOptions{Probers: probers, DefaultTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), faultTimeout)
	defer cancel()
	start := time.Now()
	obs, control := m.Round(ctx, nil)
	if took := time.Since(start); took > faultTimeout+faultSlack {
		t.Errorf("round returned after %v, past its %v deadline", took, faultTimeout)
	}
	for _, r := range append(control, obs[0].Results...) {
		w := want[r.Probe]
		checkResult(t, r, w.class, w.detail)
		if r.Latency > faultTimeout+faultSlack {
			t.Errorf("%s: latency %v, past the round's %v deadline", r.Probe, r.Latency, faultTimeout)
		}
	}
	if obs[0].ControlOK {
		t.Error("ControlOK with every control probe hanging")
	}
}
