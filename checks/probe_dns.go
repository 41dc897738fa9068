package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// ednsSize is the UDP answer size advertised to resolvers, the one the DNS
// flag day of 2020 settled on to avoid fragmented answers.
const ednsSize = 1232

// dnsCheck asks a DNS server about a name.
type dnsCheck struct {
	resolver    string // for specs that name none
	resolverErr error  // why there is no default resolver, when there is none
	dialer      *net.Dialer
}

// newDNSCheck uses resolver as the default server or, when it is empty, the
// first nameserver of the resolv.conf file at path.
func newDNSCheck(resolver, resolvConf string, dialer *net.Dialer) *dnsCheck {
	c := &dnsCheck{resolver: resolver, dialer: dialer}
	if resolver == "" {
		c.resolver, c.resolverErr = systemResolver(resolvConf)
	}
	return c
}

// systemResolver returns the first nameserver of a resolv.conf file as host:port.
func systemResolver(path string) (string, error) {
	conf, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if len(conf.Servers) == 0 {
		return "", fmt.Errorf("reading %s: no nameserver", path)
	}
	return net.JoinHostPort(conf.Servers[0], conf.Port), nil
}

func (c *dnsCheck) run(ctx context.Context, spec ProbeSpec, start time.Time) (Class, string) {
	server := spec.Resolver
	if server == "" {
		if c.resolverErr != nil {
			return ClassDNSServFail, clip("no DNS resolver: " + c.resolverErr.Error())
		}
		server = c.resolver
	}
	record := strings.ToUpper(spec.Record)
	if record == "" {
		record = "A"
	}
	qtype, ok := dns.StringToType[record]
	if !ok {
		return ClassDNSServFail, clip(fmt.Sprintf("unknown record type %q", spec.Record))
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(spec.Target), qtype)
	q.SetEdns0(ednsSize, false)

	r, err := c.exchange(ctx, q, "udp", server)
	if err == nil && r.Truncated {
		r, err = c.exchange(ctx, q, "tcp", server)
	}
	if err != nil {
		if isTimeout(ctx, err) {
			return ClassDNSTimeout, ended(ctx, start) + " from " + server
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return ClassDNSServFail, "connection refused by " + server
		}
		return ClassDNSServFail, errText(err)
	}
	if r.Rcode != dns.RcodeSuccess {
		class := ClassDNSServFail
		if r.Rcode == dns.RcodeNameError {
			class = ClassDNSNXDomain
		}
		rcode, ok := dns.RcodeToString[r.Rcode]
		if !ok {
			rcode = fmt.Sprintf("RCODE %d", r.Rcode)
		}
		return class, rcode + " from " + server
	}
	n := 0
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype {
			n++
		}
	}
	detail := fmt.Sprintf("%d answers", n)
	if n == 1 {
		detail = "1 answer"
	}
	if want := max(spec.MinAnswers, 1); n < want {
		if want > 1 {
			detail += fmt.Sprintf(", want %d", want)
		}
		return ClassDNSServFail, detail + " from " + server
	}
	return ClassOK, detail + " from " + server
}

// exchange sends q to server over network and waits for the answer until
// ctx ends, whether by its deadline or by being canceled.
func (c *dnsCheck) exchange(ctx context.Context, q *dns.Msg, network, server string) (*dns.Msg, error) {
	client := &dns.Client{Net: network, Dialer: c.dialer}
	if deadline, ok := ctx.Deadline(); ok {
		// The client's own timeouts (2 s by default) would cut probes with a
		// longer timeout short.
		client.Timeout = time.Until(deadline)
	}
	conn, err := client.DialContext(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", server, err)
	}
	defer conn.Close()
	// The client only honours the context's deadline; closing the
	// connection is what makes a cancel end the wait at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	r, _, err := client.ExchangeWithConnContext(ctx, q, conn)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", server, err)
	}
	return r, nil
}
