package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// ednsSize is the UDP answer size advertised to resolvers, the one the DNS
// flag day of 2020 settled on to avoid fragmented answers.
const ednsSize = 1232

// dnsCheck asks DNS servers about a name: a resolver, several resolvers at
// once, or the name servers of the name's zone.
type dnsCheck struct {
	resolver    string // for specs that name none
	resolverErr error  // why there is no default resolver, when there is none
	authPort    string // the port authoritative servers are asked on
	dialer      *net.Dialer
}

// newDNSCheck uses resolver as the default server or, when it is empty, the
// first nameserver of the resolv.conf file at path. Authoritative probes
// query the zone's name servers on authPort.
func newDNSCheck(resolver, resolvConf string, authPort int, dialer *net.Dialer) *dnsCheck {
	c := &dnsCheck{resolver: resolver, authPort: strconv.Itoa(authPort), dialer: dialer}
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

// nameServer is a DNS server to ask: its address, and how people should
// read its name in a detail.
type nameServer struct {
	addr, label string
}

// run asks the spec's resolver, or each of its resolvers at once, or the
// name servers of the target's zone, and judges their answers together with
// verdict. Failing names resolvers only: the zone's name servers are found,
// not configured, and an operator could do nothing about one of them.
func (c *dnsCheck) run(ctx context.Context, spec ProbeSpec, start time.Time) outcome {
	record := strings.ToUpper(spec.Record)
	if record == "" {
		record = "A"
	}
	qtype, ok := dns.StringToType[record]
	if !ok {
		return outcome{class: ClassDNSServFail, detail: clip(fmt.Sprintf("unknown record type %q", spec.Record))}
	}
	resolvers := spec.Resolvers
	if len(resolvers) == 0 {
		server := spec.Resolver
		if server == "" {
			if c.resolverErr != nil {
				return outcome{class: ClassDNSServFail, detail: clip("no DNS resolver: " + c.resolverErr.Error())}
			}
			server = c.resolver
		}
		resolvers = []string{server}
	}
	var servers []nameServer
	recurse := !spec.Authoritative
	if spec.Authoritative {
		var class Class
		var detail string
		if servers, class, detail = c.zoneServers(ctx, spec.Target, resolvers[0], start); servers == nil {
			return outcome{class: class, detail: clip(detail)}
		}
	} else {
		for _, r := range resolvers {
			servers = append(servers, nameServer{addr: r, label: r})
		}
	}
	o := verdict(c.askAll(ctx, question(spec.Target, qtype, recurse), servers, spec.MinAnswers, start), fromServers)
	if spec.Authoritative {
		o.failing = nil
	}
	return o
}

// question is a query for name's records of type qtype; recurse asks the
// server to find the answer elsewhere if it does not hold it itself.
func question(name string, qtype uint16, recurse bool) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = recurse
	q.SetEdns0(ednsSize, false)
	return q
}

// askAll puts q to every server at once and returns their answers in the
// order of servers.
func (c *dnsCheck) askAll(ctx context.Context, q *dns.Msg, servers []nameServer, minAnswers int, start time.Time) []answer {
	answers := make([]answer, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		// Packing a message writes to it, so every query needs its own.
		q := q.Copy()
		q.Id = dns.Id()
		wg.Go(func() {
			answers[i] = c.ask(ctx, q, s, minAnswers, start)
			answers[i].took = time.Since(start)
		})
	}
	wg.Wait()
	// Servers that never answered all waited for the same deadline: one
	// duration for all lets grouped list them together.
	took := ended(ctx, start)
	for i := range answers {
		if answers[i].class == ClassDNSTimeout {
			answers[i].what = took
		}
	}
	return answers
}

// ask puts q to one server and judges its reply: good when it holds at
// least minAnswers (at least 1) records of the type asked for.
func (c *dnsCheck) ask(ctx context.Context, q *dns.Msg, s nameServer, minAnswers int, start time.Time) answer {
	r, err := c.query(ctx, q, s.addr)
	if err != nil {
		class, what := queryFailure(ctx, err, start)
		return answer{class: class, what: what, from: s.label}
	}
	if r.Rcode != dns.RcodeSuccess {
		class, what := rcodeFailure(r.Rcode)
		return answer{class: class, what: what, from: s.label}
	}
	qtype := q.Question[0].Qtype
	n := 0
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype {
			n++
		}
	}
	what := fmt.Sprintf("%d answers", n)
	if n == 1 {
		what = "1 answer"
	}
	if want := max(minAnswers, 1); n < want {
		if want > 1 {
			what += fmt.Sprintf(", want %d", want)
		}
		return answer{class: ClassDNSServFail, what: what, from: s.label}
	}
	return answer{class: ClassOK, what: what, from: s.label}
}

// zoneServers finds the name servers of the zone holding name: it asks
// resolver for the NS records of name, then of each parent up to the
// second level, and returns the servers' IPv4 addresses (the family every
// vantage point has) on c.authPort, from the glue the resolver sent or else
// asked of it. When it finds none, the class and detail say why.
func (c *dnsCheck) zoneServers(ctx context.Context, name, resolver string, start time.Time) ([]nameServer, Class, string) {
	for zone := dns.Fqdn(name); dns.CountLabel(zone) >= 2; zone = parent(zone) {
		r, err := c.query(ctx, question(zone, dns.TypeNS, true), resolver)
		if err != nil {
			class, what := queryFailure(ctx, err, start)
			return nil, class, "NS lookup: " + what + " from " + resolver
		}
		// A name that does not exist still lies in its parent's zone, whose
		// servers will say so with authority.
		if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
			class, what := rcodeFailure(r.Rcode)
			return nil, class, "NS lookup: " + what + " from " + resolver
		}
		var names []string
		for _, rr := range r.Answer {
			if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, zone) {
				names = append(names, ns.Ns)
			}
		}
		if len(names) > 0 {
			return c.addresses(ctx, zone, names, r.Extra, resolver, start)
		}
	}
	return nil, ClassDNSServFail, "no name servers found for " + name
}

// parent is the name one label up: "facebook.com." for "www.facebook.com.".
func parent(name string) string {
	next, _ := dns.NextLabel(name, 0)
	return name[next:]
}

// addresses returns the IPv4 addresses of the zone's name servers, taken
// from glue or asked of resolver.
func (c *dnsCheck) addresses(ctx context.Context, zone string, names []string, glue []dns.RR, resolver string, start time.Time) ([]nameServer, Class, string) {
	var servers []nameServer
	for _, ns := range names {
		label := strings.TrimSuffix(ns, ".")
		ips := ipv4s(glue, ns)
		if len(ips) == 0 {
			if r, err := c.query(ctx, question(ns, dns.TypeA, true), resolver); err == nil {
				ips = ipv4s(r.Answer, ns)
			}
		}
		for _, ip := range ips {
			servers = append(servers, nameServer{addr: net.JoinHostPort(ip, c.authPort), label: label})
		}
	}
	if len(servers) == 0 {
		zone = strings.TrimSuffix(zone, ".")
		if ctx.Err() != nil {
			return nil, ClassDNSTimeout, "name server addresses: " + ended(ctx, start) + " from " + resolver
		}
		return nil, ClassDNSServFail, "no address for the name servers of " + zone
	}
	return servers, ClassOK, ""
}

// ipv4s returns the addresses of the A records of name among rrs.
func ipv4s(rrs []dns.RR, name string) []string {
	var ips []string
	for _, rr := range rrs {
		if a, ok := rr.(*dns.A); ok && strings.EqualFold(a.Hdr.Name, name) {
			ips = append(ips, a.A.String())
		}
	}
	return ips
}

// queryFailure classifies an error from asking a DNS server.
func queryFailure(ctx context.Context, err error, start time.Time) (Class, string) {
	switch {
	case isTimeout(ctx, err):
		return ClassDNSTimeout, ended(ctx, start)
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassDNSServFail, "connection refused"
	}
	return ClassDNSServFail, errText(err)
}

// rcodeFailure classifies an answer whose response code is not NOERROR.
func rcodeFailure(rcode int) (Class, string) {
	class := ClassDNSServFail
	if rcode == dns.RcodeNameError {
		class = ClassDNSNXDomain
	}
	text, ok := dns.RcodeToString[rcode]
	if !ok {
		text = fmt.Sprintf("RCODE %d", rcode)
	}
	return class, text
}

// query asks server over UDP, and again over TCP when the answer did not fit.
func (c *dnsCheck) query(ctx context.Context, q *dns.Msg, server string) (*dns.Msg, error) {
	r, err := c.exchange(ctx, q, "udp", server)
	if err == nil && r.Truncated {
		r, err = c.exchange(ctx, q, "tcp", server)
	}
	return r, err
}

// exchange sends q to server over network and waits for the answer until
// ctx ends, whether by its deadline or by being canceled. Its errors leave
// the server out: details name it already.
func (c *dnsCheck) exchange(ctx context.Context, q *dns.Msg, network, server string) (*dns.Msg, error) {
	client := &dns.Client{Net: network, Dialer: c.dialer}
	if deadline, ok := ctx.Deadline(); ok {
		// The client's own timeouts (2 s by default) would cut probes with a
		// longer timeout short.
		client.Timeout = time.Until(deadline)
	}
	conn, err := client.DialContext(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	// The client only honours the context's deadline; closing the
	// connection is what makes a cancel end the wait at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	r, _, err := client.ExchangeWithConnContext(ctx, q, conn)
	if err != nil {
		return nil, fmt.Errorf("querying over %s: %w", network, err)
	}
	return r, nil
}
