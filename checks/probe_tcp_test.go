package checks

import (
	"net"
	"regexp"
	"testing"
	"time"
)

func TestTCPProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := startDNS(t)
	named := resolvingDialer(srv.addr)
	silentResolver := resolvingDialer(blackhole(t))
	tests := []struct {
		name    string
		dialer  *net.Dialer
		target  string
		timeout time.Duration
		class   Class
		detail  string // regular expression
	}{
		{"listening", nil, l.Addr().String(), probeTimeout, ClassOK, "connected to " + regexp.QuoteMeta(l.Addr().String())},
		{"closed port", nil, closedPort(t, "tcp"), probeTimeout, ClassTCPRefused, "connection refused"},
		{"connect hangs", hangingDialer(t), l.Addr().String(), shortTimeout, ClassTCPTimeout, "connect timeout after " + durationRE},
		{"name resolves", named, "up.example:" + port, probeTimeout, ClassOK, "connected to " + regexp.QuoteMeta(l.Addr().String())},
		{"no such name", named, "nx.example:443", probeTimeout, ClassDNSNXDomain, "no such host nx.example"},
		{"resolver fails", named, "broken.example:443", probeTimeout, ClassDNSServFail, "DNS: server misbehaving"},
		{"resolver never answers", silentResolver, "up.example:443", shortTimeout, ClassDNSTimeout, "DNS timeout after " + durationRE},
		{"no port", nil, "127.0.0.1", probeTimeout, ClassTCPRefused, ".*missing port.*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probers := NewProbers(ProberOptions{Dialer: tt.dialer})
			r := runProbe(t, probers, ProbeSpec{Kind: "tcp", Target: tt.target}, tt.timeout)
			checkResult(t, r, tt.class, tt.detail)
		})
	}
}
