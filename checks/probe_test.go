package checks

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// probeTimeout bounds test probes that are expected to answer; probes that
// are expected to time out get shortTimeout so the package stays fast.
const (
	probeTimeout = 5 * time.Second
	shortTimeout = 100 * time.Millisecond
)

// durationRE matches a time.Duration's text, for details such as "timeout
// after 101ms".
const durationRE = `[0-9.]+(ns|µs|ms|s)`

// runProbe runs the prober of spec.Kind from probers under timeout.
func runProbe(t testing.TB, probers map[string]Prober, spec ProbeSpec, timeout time.Duration) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	return probers[spec.Kind](ctx, spec)
}

// checkResult fails the test unless r has the class and a Detail that the
// regular expression detail matches in full.
func checkResult(t *testing.T, r Result, class Class, detail string) {
	t.Helper()
	if r.Class != class || !regexp.MustCompile("^(?:"+detail+")$").MatchString(r.Detail) {
		t.Errorf("got %s %q, want %s matching %q", r.Class, r.Detail, class, detail)
	}
	if r.Latency <= 0 {
		t.Errorf("latency %v, want > 0", r.Latency)
	}
}

// dnsServer is an in-process DNS server on 127.0.0.1, serving UDP and TCP on
// the same port as real servers do. It knows these names:
//
//	up.example      A 127.0.0.1 (so that dialers can use it), TXT
//	multi.example   A 192.0.2.1, 192.0.2.2
//	alias.example   a CNAME and no address
//	broken.example  SERVFAIL
//	refused.example REFUSED
//	big.example     truncated over UDP, A 192.0.2.3 over TCP
//
// and answers NXDOMAIN for anything else.
type dnsServer struct {
	addr       string
	tcpQueries atomic.Int32
}

func startDNS(t testing.TB) *dnsServer {
	t.Helper()
	s := &dnsServer{}
	s.addr = serveDNS(t, dns.HandlerFunc(s.answer))
	return s
}

// serveDNS runs handler over UDP and TCP on one port of 127.0.0.1 until the
// test ends and returns the address.
func serveDNS(t testing.TB, handler dns.Handler) string {
	t.Helper()
	l, pc := listenSamePort(t)
	serve(t, &dns.Server{Listener: l, Handler: handler})
	serve(t, &dns.Server{PacketConn: pc, Handler: handler})
	return l.Addr().String()
}

// listenSamePort binds TCP on a free port and UDP on the same one, retrying
// in the rare case that the UDP port is taken.
func listenSamePort(t testing.TB) (net.Listener, net.PacketConn) {
	t.Helper()
	var lastErr error
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listening on TCP: %v", err)
		}
		pc, err := net.ListenPacket("udp", l.Addr().String())
		if err == nil {
			return l, pc
		}
		lastErr = err
		l.Close()
	}
	t.Fatalf("listening on UDP next to TCP: %v", lastErr)
	return nil, nil
}

// serve runs srv until the test ends.
func serve(t testing.TB, srv *dns.Server) {
	t.Helper()
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("starting DNS server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("stopping DNS server: %v", err)
		}
		<-done
	})
}

func (s *dnsServer) answer(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	question := q.Question[0]
	a := func(ip string) dns.RR {
		return &dns.A{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)}
	}
	overTCP := w.RemoteAddr().Network() == "tcp"
	if overTCP {
		s.tcpQueries.Add(1)
	}
	switch question.Name {
	case "up.example.":
		switch question.Qtype {
		case dns.TypeA:
			m.Answer = append(m.Answer, a("127.0.0.1"))
		case dns.TypeTXT:
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{"v=up"}})
		}
	case "multi.example.":
		if question.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, a("192.0.2.1"), a("192.0.2.2"))
		}
	case "alias.example.":
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: "nowhere.example."})
	case "broken.example.":
		m.Rcode = dns.RcodeServerFailure
	case "refused.example.":
		m.Rcode = dns.RcodeRefused
	case "big.example.":
		if overTCP {
			m.Answer = append(m.Answer, a("192.0.2.3"))
		} else {
			m.Truncated = true
		}
	default:
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

// blackhole returns a UDP address where nothing ever answers.
func blackhole(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on UDP: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// closedPort returns a 127.0.0.1 address where nothing listens: bound, then
// released.
func closedPort(t testing.TB, network string) string {
	t.Helper()
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listening on UDP: %v", err)
		}
		defer pc.Close()
		return pc.LocalAddr().String()
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listening on TCP: %v", err)
		}
		defer l.Close()
		return l.Addr().String()
	}
}

// resolvingDialer resolves names with the DNS server at addr instead of the
// system's, so that probes of names never leave the machine.
func resolvingDialer(addr string) *net.Dialer {
	return &net.Dialer{Resolver: &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Go's resolver only stops waiting for an answer at its own
			// 5 s deadline; closing the connection when the lookup is
			// abandoned keeps goleak from seeing the stragglers.
			context.AfterFunc(ctx, func() { conn.Close() })
			return conn, nil
		},
	}}
}

// hangingDialer is a dialer whose connects never finish until the test ends,
// like a SYN sent to a black hole: connects to any address, or only to the
// addresses (ip:port) given.
func hangingDialer(t testing.TB, only ...string) *net.Dialer {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return &net.Dialer{
		ControlContext: func(ctx context.Context, _, address string, _ syscall.RawConn) error {
			if len(only) > 0 && !slices.Contains(only, address) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-release:
				return errors.New("test over")
			}
		},
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short", "HTTP 503", "HTTP 503"},
		{"exact", strings.Repeat("a", detailMax), strings.Repeat("a", detailMax)},
		{"long", strings.Repeat("a", detailMax+1), strings.Repeat("a", detailMax) + "…"},
		// "é" is two bytes; cutting between them would leave invalid UTF-8.
		{"rune boundary", strings.Repeat("a", detailMax-1) + "éé", strings.Repeat("a", detailMax-1) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clip(tt.in); got != tt.want {
				t.Errorf("clip = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProbersFillResult(t *testing.T) {
	srv := startDNS(t)
	probers := NewProbers(ProberOptions{Resolver: srv.addr})
	spec := ProbeSpec{Name: "dns-up", Kind: "dns", Target: "up.example"}
	r := runProbe(t, probers, spec, probeTimeout)
	if r.Probe != spec.Name || r.Kind != spec.Kind || r.Target != spec.Target {
		t.Errorf("result names %q/%q/%q, want %q/%q/%q", r.Probe, r.Kind, r.Target, spec.Name, spec.Kind, spec.Target)
	}
	for _, kind := range []string{"http", "dns", "tcp", "tls", "websocket"} {
		if probers[kind] == nil {
			t.Errorf("no prober for %q", kind)
		}
	}
}

// TestReportThrottle checks that http and websocket probes tell the Monitor
// when a host answers 403 or 429, with the Retry-After it sent, and only then.
func TestReportThrottle(t *testing.T) {
	srv := httptest.NewServer(newWSSite(t, make(chan int, 1)))
	t.Cleanup(srv.Close)
	probers := NewProbers(ProberOptions{HTTPClient: srv.Client()})
	host := srv.Listener.Addr().String()
	none := []string(nil)
	tests := []struct {
		name string
		spec ProbeSpec
		want []string // Retry-After of each report
	}{
		{"http 429", ProbeSpec{Kind: "http", Target: "http://" + host + "/429"}, []string{"30"}},
		{"http 403", ProbeSpec{Kind: "http", Target: "http://" + host + "/403"}, []string{""}},
		{"http 403 accepted", ProbeSpec{Kind: "http", Target: "http://" + host + "/403", Status: []StatusRange{{403, 403}}}, none},
		{"http 503", ProbeSpec{Kind: "http", Target: "http://" + host + "/503"}, none},
		{"http login wall", ProbeSpec{Kind: "http", Target: "http://" + host + "/login"}, none},
		{"websocket 429", ProbeSpec{Kind: "websocket", Target: "ws://" + host + "/429"}, []string{"30"}},
		{"websocket 403", ProbeSpec{Kind: "websocket", Target: "ws://" + host + "/chat"}, []string{""}},
		{"websocket 503", ProbeSpec{Kind: "websocket", Target: "ws://" + host + "/503"}, none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			ctx, cancel := context.WithTimeout(t.Context(), probeTimeout)
			defer cancel()
			probers[tt.spec.Kind](withThrottleHook(ctx, func(ra string) { got = append(got, ra) }), tt.spec)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reports (-want +got):\n%s", diff)
			}
		})
	}
}
