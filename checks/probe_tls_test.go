package checks

import (
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tlsServer starts a TLS server until the test ends and returns its address
// and the roots that trust its certificate, which is valid for 127.0.0.1
// and example.com until 2084; plain is a server at another address that
// speaks HTTP without TLS.
func tlsServer(t *testing.T) (addr, plain string, roots *x509.CertPool) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	// The handshakes the probes abort on purpose are expected, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots = x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	unencrypted := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(unencrypted.Close)
	return srv.Listener.Addr().String(), unencrypted.Listener.Addr().String(), roots
}

func TestTLSProbe(t *testing.T) {
	addr, plainAddr, roots := tlsServer(t)
	mute := silentListener(t)
	dnsSrv := startDNS(t)
	tests := []struct {
		name       string
		opts       ProberOptions
		target     string
		serverName string
		short      bool // the probe is expected to time out
		class      Class
		detail     string // regular expression
	}{
		// httptest's certificate is valid for 127.0.0.1 and example.com,
		// until 2084.
		{name: "trusted", opts: ProberOptions{RootCAs: roots}, target: addr,
			class: ClassOK, detail: `TLS 1\.3, cert expires in [0-9]+ d`},
		{name: "server name given", opts: ProberOptions{RootCAs: roots}, target: addr, serverName: "example.com",
			class: ClassOK, detail: `TLS 1\.3, cert expires in [0-9]+ d`},
		{name: "name resolved, certificate for another", opts: ProberOptions{RootCAs: roots, Dialer: resolvingDialer(dnsSrv.addr)},
			target: "up.example:" + strconv.Itoa(port(t, addr)), class: ClassTLSError, detail: ".*certificate is valid for .*, not up\\.example"},
		{name: "name resolved, server name given", opts: ProberOptions{RootCAs: roots, Dialer: resolvingDialer(dnsSrv.addr)},
			target: "up.example:" + strconv.Itoa(port(t, addr)), serverName: "example.com", class: ClassOK, detail: `TLS 1\.3, .*`},
		{name: "certificate for another name", opts: ProberOptions{RootCAs: roots}, target: addr, serverName: "edge-chat.facebook.com",
			class: ClassTLSError, detail: ".*certificate is valid for .*, not edge-chat\\.facebook\\.com"},
		// The system's roots do not include httptest's.
		{name: "untrusted", target: addr, class: ClassTLSError, detail: ".*certificate.*"},
		{name: "not TLS", opts: ProberOptions{RootCAs: roots}, target: plainAddr,
			class: ClassTLSError, detail: "tls: first record does not look like a TLS handshake"},
		{name: "handshake never answered", opts: ProberOptions{RootCAs: roots}, target: mute, short: true,
			class: ClassTLSError, detail: "TLS handshake timeout after " + durationRE},
		{name: "refused", target: closedPort(t, "tcp"), class: ClassTCPRefused, detail: "connection refused"},
		{name: "connect hangs", opts: ProberOptions{Dialer: hangingDialer(t)}, target: addr, short: true,
			class: ClassTCPTimeout, detail: "connect timeout after " + durationRE},
		{name: "no such name", opts: ProberOptions{Dialer: resolvingDialer(dnsSrv.addr)}, target: "nx.example:443",
			class: ClassDNSNXDomain, detail: "no such host nx.example"},
		{name: "no port", target: "127.0.0.1", class: ClassTCPRefused, detail: ".*missing port.*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probers := NewProbers(tt.opts)
			timeout := probeTimeout
			if tt.short {
				timeout = shortTimeout
			}
			spec := ProbeSpec{Kind: "tls", Target: tt.target, ServerName: tt.serverName}
			checkResult(t, runProbe(t, probers, spec, timeout), tt.class, tt.detail)
		})
	}
}

func TestTLSAnyOf(t *testing.T) {
	addr, plainAddr, roots := tlsServer(t)
	mute, closed := silentListener(t), closedPort(t, "tcp")
	q := regexp.QuoteMeta
	tests := []struct {
		name       string
		targets    []string
		serverName string
		short      bool // some target is expected to time out
		class      Class
		detail     string // regular expression
		failing    []string
	}{
		{name: "the second answers", targets: []string{closed, addr},
			class: ClassOK, detail: q(addr+": ") + `TLS 1\.3, cert expires in [0-9]+ d` + q(" (1 of 2 failed)"), failing: []string{closed}},
		{name: "one never finishes its handshake", targets: []string{mute, addr}, short: true,
			class: ClassOK, detail: q(addr+": ") + `TLS 1\.3, .*` + q(" (1 of 2 failed)"), failing: []string{mute}},
		{name: "the server name holds for every target", targets: []string{addr, plainAddr}, serverName: "example.com",
			class: ClassOK, detail: q(addr+": ") + `TLS 1\.3, .*` + q(" (1 of 2 failed)"), failing: []string{plainAddr}},
		// The target's name comes first, so a long error is clipped.
		{name: "a certificate for another name everywhere", targets: []string{addr}, serverName: "edge-chat.facebook.com",
			class: ClassTLSError, detail: q(addr+": ") + ".*certificate is valid for .*, not edge-…"},
		{name: "all fail, the first listed names the class", targets: []string{plainAddr, closed},
			class: ClassTLSError, detail: q(plainAddr + ": tls: first record does not look like a TLS handshake; " + closed + ": connection refused")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probers := NewProbers(ProberOptions{RootCAs: roots})
			timeout := probeTimeout
			if tt.short {
				timeout = shortTimeout
			}
			spec := ProbeSpec{Kind: "tls", Targets: tt.targets, ServerName: tt.serverName}
			r := runProbe(t, probers, spec, timeout)
			checkResult(t, r, tt.class, tt.detail)
			if diff := cmp.Diff(tt.failing, r.Failing); diff != "" {
				t.Errorf("Failing (-want +got):\n%s", diff)
			}
		})
	}
}

// silentListener returns the address of a TCP listener that accepts
// connections and never says a word.
func silentListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on TCP: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String()
}

func TestLifetime(t *testing.T) {
	tests := []struct {
		left time.Duration
		want string
	}{
		{41*24*time.Hour + 5*time.Hour, "41 d"},
		{24 * time.Hour, "1 d"},
		{24*time.Hour - time.Second, "23 h"},
		{59 * time.Minute, "0 h"},
		{-time.Hour, "0 h"},
	}
	for _, tt := range tests {
		t.Run(tt.left.String(), func(t *testing.T) {
			if got := lifetime(tt.left); got != tt.want {
				t.Errorf("lifetime(%v) = %q, want %q", tt.left, got, tt.want)
			}
		})
	}
}
