package checks

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

func TestTCPAnyOf(t *testing.T) {
	up, up2 := listening(t), listening(t)
	closed, closed2 := closedPort(t, "tcp"), closedPort(t, "tcp")
	hung := listening(t) // its connects never finish: the dialer hangs them
	srv := startDNS(t)
	q := regexp.QuoteMeta
	tests := []struct {
		name    string
		targets []string
		short   bool // some target is expected to time out
		class   Class
		detail  string // regular expression
		failing []string
	}{
		{name: "all answer", targets: []string{up, up2},
			class: ClassOK, detail: q(up + ": connected to " + up)},
		{name: "the second answers", targets: []string{closed, up},
			class: ClassOK, detail: q(up+": connected to "+up) + q(" (1 of 2 failed)"), failing: []string{closed}},
		{name: "one hangs, one answers", targets: []string{hung, up}, short: true,
			class: ClassOK, detail: q(up+": connected to "+up) + q(" (1 of 2 failed)"), failing: []string{hung}},
		{name: "all refuse", targets: []string{closed, closed2},
			class: ClassTCPRefused, detail: q(closed+", "+closed2) + ": connection refused"},
		{name: "a tie goes to the first listed", targets: []string{hung, closed}, short: true,
			class: ClassTCPTimeout, detail: q(hung+": connect timeout after ") + durationRE + q("; "+closed+": connection refused")},
		{name: "the most common failure", targets: []string{closed, hung, "nx.example:443", closed2}, short: true,
			class: ClassTCPRefused, detail: q(closed+", "+closed2+": connection refused") + ".*"},
		{name: "a name that does not resolve", targets: []string{"nx.example:5222", up},
			class: ClassOK, detail: q(up+": connected to "+up) + q(" (1 of 2 failed)"), failing: []string{"nx.example:5222"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := hangingDialer(t, hung)
			d.Resolver = resolvingDialer(srv.addr).Resolver
			probers := NewProbers(ProberOptions{Dialer: d})
			timeout := probeTimeout
			if tt.short {
				timeout = shortTimeout
			}
			spec := ProbeSpec{Name: "chat", Kind: "tcp", Targets: tt.targets}
			r := runProbe(t, probers, spec, timeout)
			checkResult(t, r, tt.class, tt.detail)
			if diff := cmp.Diff(tt.failing, r.Failing); diff != "" {
				t.Errorf("Failing (-want +got):\n%s", diff)
			}
			if want := strings.Join(tt.targets, ", "); r.Target != want {
				t.Errorf("Target = %q, want %q", r.Target, want)
			}
		})
	}
}

// TestAnyOfLatency checks that an any-of probe that answered takes as long
// as its first good answer, not as long as the target that never answered:
// a blocked port must not make a healthy service look slow.
func TestAnyOfLatency(t *testing.T) {
	up, hung := listening(t), listening(t)
	probers := NewProbers(ProberOptions{Dialer: hangingDialer(t, hung)})
	const timeout = 2 * time.Second
	start := time.Now()
	r := runProbe(t, probers, ProbeSpec{Kind: "tcp", Targets: []string{hung, up}}, timeout)
	if took := time.Since(start); took < timeout*9/10 {
		t.Fatalf("the probe took %v: it did not wait for the hanging target", took)
	}
	if r.Class != ClassOK || r.Latency >= timeout/2 {
		t.Errorf("got %s after %v, want ok well before the %v deadline", r.Class, r.Latency, timeout)
	}
}

// listening returns the address of a TCP listener that accepts connections
// until the test ends.
func listening(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}
