package checks

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

func TestDNSProbe(t *testing.T) {
	srv := startDNS(t)
	silent := blackhole(t)
	closed := closedPort(t, "udp")
	at := regexp.QuoteMeta(" from " + srv.addr)
	tests := []struct {
		name     string
		resolver string // ProberOptions.Resolver
		spec     ProbeSpec
		short    bool // the probe is expected to time out
		class    Class
		detail   string // regular expression
	}{
		{name: "A", resolver: srv.addr, spec: ProbeSpec{Target: "up.example"}, class: ClassOK, detail: "1 answer" + at},
		{name: "fully qualified", resolver: srv.addr, spec: ProbeSpec{Target: "up.example."}, class: ClassOK, detail: "1 answer" + at},
		{name: "TXT, lower case", resolver: srv.addr, spec: ProbeSpec{Target: "up.example", Record: "txt"}, class: ClassOK, detail: "1 answer" + at},
		{name: "no AAAA", resolver: srv.addr, spec: ProbeSpec{Target: "up.example", Record: "AAAA"}, class: ClassDNSServFail, detail: "0 answers" + at},
		{name: "CNAME without address", resolver: srv.addr, spec: ProbeSpec{Target: "alias.example"}, class: ClassDNSServFail, detail: "0 answers" + at},
		{name: "CNAME asked for", resolver: srv.addr, spec: ProbeSpec{Target: "alias.example", Record: "CNAME"}, class: ClassOK, detail: "1 answer" + at},
		{name: "enough answers", resolver: srv.addr, spec: ProbeSpec{Target: "multi.example", MinAnswers: 2}, class: ClassOK, detail: "2 answers" + at},
		{name: "too few answers", resolver: srv.addr, spec: ProbeSpec{Target: "multi.example", MinAnswers: 3}, class: ClassDNSServFail, detail: "2 answers, want 3" + at},
		{name: "NXDOMAIN", resolver: srv.addr, spec: ProbeSpec{Target: "nx.example"}, class: ClassDNSNXDomain, detail: "NXDOMAIN" + at},
		{name: "SERVFAIL", resolver: srv.addr, spec: ProbeSpec{Target: "broken.example"}, class: ClassDNSServFail, detail: "SERVFAIL" + at},
		{name: "REFUSED", resolver: srv.addr, spec: ProbeSpec{Target: "refused.example"}, class: ClassDNSServFail, detail: "REFUSED" + at},
		{name: "truncated, retried over TCP", resolver: srv.addr, spec: ProbeSpec{Target: "big.example"}, class: ClassOK, detail: "1 answer" + at},
		{name: "spec resolver wins", resolver: silent, spec: ProbeSpec{Target: "up.example", Resolver: srv.addr}, class: ClassOK, detail: "1 answer" + at},
		{name: "resolver never answers", resolver: silent, spec: ProbeSpec{Target: "up.example"}, short: true, class: ClassDNSTimeout,
			detail: "timeout after " + durationRE + " from " + regexp.QuoteMeta(silent)},
		{name: "nothing listens", resolver: closed, spec: ProbeSpec{Target: "up.example"}, class: ClassDNSServFail,
			detail: "connection refused by " + regexp.QuoteMeta(closed)},
		{name: "unknown record type", resolver: srv.addr, spec: ProbeSpec{Target: "up.example", Record: "BOGUS"}, class: ClassDNSServFail,
			detail: `unknown record type "BOGUS"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probers := NewProbers(ProberOptions{Resolver: tt.resolver})
			spec := tt.spec
			spec.Kind = "dns"
			timeout := probeTimeout
			if tt.short {
				timeout = shortTimeout
			}
			checkResult(t, runProbe(t, probers, spec, timeout), tt.class, tt.detail)
		})
	}
}

func TestDNSTruncationUsesTCP(t *testing.T) {
	srv := startDNS(t)
	probers := NewProbers(ProberOptions{Resolver: srv.addr})
	for _, target := range []string{"up.example", "big.example"} {
		runProbe(t, probers, ProbeSpec{Kind: "dns", Target: target}, probeTimeout)
	}
	if n := srv.tcpQueries.Load(); n != 1 {
		t.Errorf("%d queries over TCP, want 1 (only the truncated answer retried)", n)
	}
}

// TestDNSCancel checks that canceling the round ends a DNS probe waiting for
// its answer at once, although the DNS client itself only honours deadlines.
func TestDNSCancel(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	probers := NewProbers(ProberOptions{Resolver: silent.LocalAddr().String()})
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	done := make(chan Result)
	go func() { done <- probers["dns"](ctx, ProbeSpec{Kind: "dns", Target: "up.example"}) }()
	// Once the query has arrived, the probe is waiting for the answer.
	if _, _, err := silent.ReadFrom(make([]byte, 512)); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case r := <-done:
		checkResult(t, r, ClassDNSTimeout, "canceled after "+durationRE+" from .*")
	case <-time.After(probeTimeout):
		t.Fatal("probe still running after cancel")
	}
}

func TestSystemResolver(t *testing.T) {
	tests := []struct {
		name    string
		conf    string // resolv.conf content; empty means no file
		want    string
		wantErr bool
	}{
		{name: "first nameserver", conf: "search example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n", want: "192.0.2.53:53"},
		{name: "IPv6", conf: "nameserver 2001:db8::53\n", want: "[2001:db8::53]:53"},
		{name: "no nameserver", conf: "search example\n", wantErr: true},
		{name: "no file", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "resolv.conf")
			if tt.conf != "" {
				if err := os.WriteFile(path, []byte(tt.conf), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := systemResolver(path)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("systemResolver = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestDNSNoResolver checks that a machine without a resolver configured says
// so in the detail instead of querying some guessed address.
func TestDNSNoResolver(t *testing.T) {
	c := newDNSCheck("", filepath.Join(t.TempDir(), "missing"), &net.Dialer{})
	probe := timed(c.run)
	r := runProbe(t, map[string]Prober{"dns": probe}, ProbeSpec{Kind: "dns", Target: "up.example"}, probeTimeout)
	checkResult(t, r, ClassDNSServFail, "no DNS resolver: reading .*missing: .*")
}
