package checks

import (
	"cmp"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
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
			detail: "connection refused from " + regexp.QuoteMeta(closed)},
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
	c := newDNSCheck("", filepath.Join(t.TempDir(), "missing"), 53, &net.Dialer{})
	probe := timed(c.run)
	r := runProbe(t, map[string]Prober{"dns": probe}, ProbeSpec{Kind: "dns", Target: "up.example"}, probeTimeout)
	checkResult(t, r, ClassDNSServFail, "no DNS resolver: reading .*missing: .*")
}

func TestDNSResolvers(t *testing.T) {
	srv, srv2 := startDNS(t), startDNS(t)
	silent, silent2 := blackhole(t), blackhole(t)
	closed := closedPort(t, "udp")
	q := regexp.QuoteMeta
	tests := []struct {
		name      string
		resolver  string // ProberOptions.Resolver
		resolvers []string
		target    string
		min       int  // spec.MinAnswers
		short     bool // some resolver is expected to time out
		class     Class
		detail    string   // regular expression
		failing   []string // Result.Failing
	}{
		{name: "all answer", resolvers: []string{srv.addr, srv2.addr}, target: "up.example",
			class: ClassOK, detail: "1 answer from " + q(srv.addr)},
		{name: "one of three answers", resolvers: []string{silent, closed, srv2.addr}, target: "up.example", short: true,
			class: ClassOK, detail: "1 answer from " + q(srv2.addr) + q(" (2 of 3 failed)"), failing: []string{silent, closed}},
		{name: "all fail alike", resolvers: []string{srv.addr, srv2.addr}, target: "broken.example",
			class: ClassDNSServFail, detail: "SERVFAIL from " + q(srv.addr+", "+srv2.addr)},
		{name: "name missing everywhere", resolvers: []string{srv.addr, srv2.addr}, target: "nx.example",
			class: ClassDNSNXDomain, detail: "NXDOMAIN from " + q(srv.addr+", "+srv2.addr)},
		{name: "most common failure", resolvers: []string{srv.addr, silent, silent2}, target: "broken.example", short: true,
			class: ClassDNSTimeout, detail: "SERVFAIL from " + q(srv.addr) + "; timeout after " + durationRE + " from " + q(silent+", "+silent2)},
		{name: "tie goes to the first failure", resolvers: []string{silent, srv.addr}, target: "broken.example", short: true,
			class: ClassDNSTimeout, detail: "timeout after " + durationRE + " from " + q(silent) + "; SERVFAIL from " + q(srv.addr)},
		{name: "refused and failing", resolvers: []string{closed, srv.addr, srv2.addr}, target: "broken.example",
			class: ClassDNSServFail, detail: "connection refused from " + q(closed) + "; SERVFAIL from " + q(srv.addr+", "+srv2.addr)},
		{name: "too few answers from each", resolvers: []string{srv.addr, srv2.addr}, target: "multi.example", min: 3,
			class: ClassDNSServFail, detail: "2 answers, want 3 from " + q(srv.addr+", "+srv2.addr)},
		{name: "the list wins over the default", resolver: silent, resolvers: []string{srv.addr}, target: "up.example",
			class: ClassOK, detail: "1 answer from " + q(srv.addr)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probers := NewProbers(ProberOptions{Resolver: tt.resolver})
			spec := ProbeSpec{Kind: "dns", Target: tt.target, Resolvers: tt.resolvers, MinAnswers: tt.min}
			timeout := probeTimeout
			if tt.short {
				timeout = shortTimeout
			}
			r := runProbe(t, probers, spec, timeout)
			checkResult(t, r, tt.class, tt.detail)
			if !slices.Equal(r.Failing, tt.failing) {
				t.Errorf("Failing = %q, want %q", r.Failing, tt.failing)
			}
		})
	}
}

// zoneResolver answers like a recursive resolver that knows these zones:
//
//	zone.test.    NS ns1.zone.test. and ns2.zone.test., glue 127.0.0.1
//	noglue.test.  NS ns.noglue.test. without glue; ns.noglue.test. A 127.0.0.1
//	noaddr.test.  NS ns.noaddr.test., a name without an address
//	broken.test.  SERVFAIL
//	split.test.   NS ns1.split.test. (127.0.0.1) and ns2.split.test. (127.0.0.2,
//	              where no server listens)
//
// Other names under zone.test. exist but hold no NS records; anything else
// is NXDOMAIN.
func zoneResolver(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	question := q.Question[0]
	hdr := func(name string, rrtype uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: rrtype, Class: dns.ClassINET, Ttl: 60}
	}
	ns := func(zone string, names ...string) {
		for _, n := range names {
			m.Answer = append(m.Answer, &dns.NS{Hdr: hdr(zone, dns.TypeNS), Ns: n})
		}
	}
	a := func(name string) dns.RR { return &dns.A{Hdr: hdr(name, dns.TypeA), A: net.IPv4(127, 0, 0, 1)} }
	switch name := question.Name; {
	case question.Qtype == dns.TypeNS && name == "zone.test.":
		ns(name, "ns1.zone.test.", "ns2.zone.test.")
		m.Extra = append(m.Extra, a("ns1.zone.test."), a("ns2.zone.test."))
	case question.Qtype == dns.TypeNS && name == "split.test.":
		ns(name, "ns1.split.test.", "ns2.split.test.")
		m.Extra = append(m.Extra, a("ns1.split.test."),
			&dns.A{Hdr: hdr("ns2.split.test.", dns.TypeA), A: net.IPv4(127, 0, 0, 2)})
	case question.Qtype == dns.TypeNS && name == "noglue.test.":
		ns(name, "ns.noglue.test.")
	case question.Qtype == dns.TypeNS && name == "noaddr.test.":
		ns(name, "ns.noaddr.test.")
	case question.Qtype == dns.TypeA && name == "ns.noglue.test.":
		m.Answer = append(m.Answer, a(name))
	case name == "broken.test.":
		m.Rcode = dns.RcodeServerFailure
	case strings.HasSuffix(name, ".zone.test."), name == "ns.noaddr.test.":
	default:
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

// zoneServer is an authoritative server for zone.test. and noglue.test. It
// answers A records with authority, NXDOMAIN for names it does not hold,
// and counts the queries that asked it to recurse.
type zoneServer struct {
	recursive atomic.Int32
}

func (s *zoneServer) answer(w dns.ResponseWriter, q *dns.Msg) {
	if q.RecursionDesired {
		s.recursive.Add(1)
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	question := q.Question[0]
	switch question.Name {
	case "zone.test.", "www.zone.test.", "noglue.test.", "split.test.":
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A:   net.IPv4(192, 0, 2, 10),
		})
	default:
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

func TestDNSAuthoritative(t *testing.T) {
	resolver := serveDNS(t, dns.HandlerFunc(zoneResolver))
	zone := &zoneServer{}
	authPort := port(t, serveDNS(t, dns.HandlerFunc(zone.answer)))
	silentPort := port(t, blackhole(t))
	silent := blackhole(t)
	q := regexp.QuoteMeta
	tests := []struct {
		name      string
		target    string
		resolvers []string // spec.Resolvers; default ProberOptions.Resolver = resolver
		authPort  int
		short     bool // the probe is expected to time out
		class     Class
		detail    string // regular expression
	}{
		{name: "zone apex", target: "zone.test", class: ClassOK, detail: "1 answer from ns1.zone.test"},
		{name: "below the apex", target: "www.zone.test", class: ClassOK, detail: "1 answer from ns1.zone.test"},
		{name: "no glue", target: "noglue.test", class: ClassOK, detail: "1 answer from ns.noglue.test"},
		// The failing name server is not named in Failing: it was found,
		// not configured.
		{name: "one name server of two", target: "split.test", class: ClassOK, detail: "1 answer from ns1.split.test " + q("(1 of 2 failed)")},
		{name: "first of the resolvers", target: "zone.test", resolvers: []string{resolver, silent},
			class: ClassOK, detail: "1 answer from ns1.zone.test"},
		{name: "name missing from the zone", target: "missing.zone.test",
			class: ClassDNSNXDomain, detail: "NXDOMAIN from ns1.zone.test, ns2.zone.test"},
		{name: "name servers silent", target: "zone.test", authPort: silentPort, short: true,
			class: ClassDNSTimeout, detail: "timeout after " + durationRE + " from ns1.zone.test, ns2.zone.test"},
		{name: "NS lookup fails", target: "broken.test",
			class: ClassDNSServFail, detail: "NS lookup: SERVFAIL from " + q(resolver)},
		{name: "resolver silent", target: "zone.test", resolvers: []string{silent}, short: true,
			class: ClassDNSTimeout, detail: "NS lookup: timeout after " + durationRE + " from " + q(silent)},
		{name: "no zone", target: "nothing.example",
			class: ClassDNSServFail, detail: "no name servers found for nothing.example"},
		{name: "name servers without address", target: "noaddr.test",
			class: ClassDNSServFail, detail: "no address for the name servers of noaddr.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probers := NewProbers(ProberOptions{Resolver: resolver, AuthoritativePort: cmp.Or(tt.authPort, authPort)})
			spec := ProbeSpec{Kind: "dns", Target: tt.target, Resolvers: tt.resolvers, Authoritative: true}
			timeout := probeTimeout
			if tt.short {
				timeout = shortTimeout
			}
			r := runProbe(t, probers, spec, timeout)
			checkResult(t, r, tt.class, tt.detail)
			if r.Failing != nil {
				t.Errorf("Failing = %q, want none for name servers", r.Failing)
			}
		})
	}
	if n := zone.recursive.Load(); n > 0 {
		t.Errorf("%d queries to the authoritative server asked for recursion", n)
	}
}

// port is the port number of a host:port address.
func port(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
