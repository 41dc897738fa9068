package checks

import (
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestTLSProbe(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	// The handshakes the probes abort on purpose are expected, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	addr := srv.Listener.Addr().String()
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
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
		{name: "not TLS", opts: ProberOptions{RootCAs: roots}, target: plain.Listener.Addr().String(),
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
