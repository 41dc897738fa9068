package checks

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
	"unicode/utf8"
)

// Prober runs one probe; ctx carries the deadline (the probe's timeout). It
// never returns an error: every failure is a Class in the Result.
// Result.Probe/Kind/Target are filled from the spec.
type Prober func(ctx context.Context, spec ProbeSpec) Result

// ProberOptions injects the network clients the probers use, so that tests
// can point them at 127.0.0.1.
type ProberOptions struct {
	// HTTPClient is used for http and websocket probes. Nil means a client
	// that honours the proxy environment variables, verifies TLS and opens a
	// new connection for every probe. Its CheckRedirect is replaced: redirects
	// are followed only when the spec says so, and then at most five.
	HTTPClient *http.Client
	// Resolver is the DNS server (host:port) for dns probes whose spec names
	// none. Empty means the first nameserver of /etc/resolv.conf.
	Resolver string
	// AuthoritativePort is the port authoritative dns probes query the zone's
	// name servers on. Zero means 53.
	AuthoritativePort int
	// Dialer connects tcp and tls probes, the default HTTP client and dns
	// queries. Nil means a dialer with a 30 s connect timeout.
	Dialer *net.Dialer
	// RootCAs are the certificate authorities tls probes trust. Nil means
	// the system's.
	RootCAs *x509.CertPool
	// UserAgent is sent with every http probe. Empty means
	// "outagebot/1 (+https://github.com/outagebot/outagebot)".
	UserAgent string
}

// Probe kinds, the keys of the table NewProbers returns.
const (
	kindHTTP      = "http"
	kindDNS       = "dns"
	kindTCP       = "tcp"
	kindTLS       = "tls"
	kindWebSocket = "websocket"
)

const (
	defaultUserAgent = "outagebot/1 (+https://github.com/outagebot/outagebot)"
	resolvConfPath   = "/etc/resolv.conf"
	// detailMax bounds how much text from a remote server or an error ends up
	// in a Result.Detail, which is shown to people.
	detailMax = 120
)

// NewProbers returns the table of probers by kind: "http", "dns", "tcp",
// "tls" and "websocket".
func NewProbers(o ProberOptions) map[string]Prober {
	dialer := o.Dialer
	if dialer == nil {
		dialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	}
	client := o.HTTPClient
	if client == nil {
		client = defaultHTTPClient(dialer)
	}
	web := newHTTPCheck(client, cmp.Or(o.UserAgent, defaultUserAgent))
	names := newDNSCheck(o.Resolver, resolvConfPath, cmp.Or(o.AuthoritativePort, 53), dialer)
	return map[string]Prober{
		kindHTTP:      timed(oneTarget(web.run)),
		kindDNS:       timed(names.run),
		kindTCP:       timed(anyOf(oneTarget(tcpCheck(dialer)))),
		kindTLS:       timed(anyOf(oneTarget(tlsCheck(dialer, o.RootCAs)))),
		kindWebSocket: timed(oneTarget(web.websocket)),
	}
}

// check is the body of a prober. start is when the probe began, for
// details like "timeout after 10s".
type check func(ctx context.Context, spec ProbeSpec, start time.Time) outcome

// outcome is how a check ended.
type outcome struct {
	class  Class
	detail string // for people
	// failing and latency are those of a probe of several targets or
	// resolvers, one of which answered: the ones that failed, and how long
	// the first good answer took (zero: as long as the check).
	failing []string
	latency time.Duration
}

// targetCheck probes spec.Target alone and says how that ended in a class
// and a detail.
type targetCheck func(ctx context.Context, spec ProbeSpec, start time.Time) (Class, string)

// oneTarget makes a check of a targetCheck.
func oneTarget(f targetCheck) check {
	return func(ctx context.Context, spec ProbeSpec, start time.Time) outcome {
		class, detail := f(ctx, spec, start)
		return outcome{class: class, detail: detail}
	}
}

// timed turns a check into a Prober, so that every kind measures latency and
// labels its result the same way.
func timed(c check) Prober {
	return func(ctx context.Context, spec ProbeSpec) Result {
		start := time.Now()
		o := c(ctx, spec, start)
		return Result{
			Probe:   spec.Name,
			Kind:    spec.Kind,
			Target:  spec.DisplayTarget(),
			Class:   o.class,
			Latency: cmp.Or(o.latency, time.Since(start)),
			Detail:  o.detail,
			Failing: o.failing,
		}
	}
}

// throttleKey is the context key of the hook through which a prober tells
// the Monitor that a host asked it to slow down. It travels in the context,
// as net/http/httptrace's hooks do, so that every kind keeps the one Prober
// signature.
type throttleKey struct{}

// withThrottleHook returns a context under which probers that get a 403 or
// 429 call f, before they return, with the answer's Retry-After header ("" when
// it has none).
func withThrottleHook(ctx context.Context, f func(retryAfter string)) context.Context {
	return context.WithValue(ctx, throttleKey{}, f)
}

// reportThrottle tells whoever runs the probe that resp asked it to slow
// down, if it did.
func reportThrottle(ctx context.Context, resp *http.Response) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return
	}
	if f, ok := ctx.Value(throttleKey{}).(func(string)); ok {
		f(resp.Header.Get("Retry-After"))
	}
}

// connFailure classifies the errors every kind that connects can meet: DNS
// failures of the target's name and refused or reset connections. ok is
// false for any other error.
func connFailure(ctx context.Context, err error, start time.Time) (class Class, detail string, ok bool) {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return ClassDNSNXDomain, "no such host " + dnsErr.Name, true
		case dnsErr.IsTimeout || ctx.Err() != nil:
			return ClassDNSTimeout, "DNS " + ended(ctx, start), true
		}
		return ClassDNSServFail, clip("DNS: " + dnsErr.Err), true
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassTCPRefused, "connection refused", true
	case errors.Is(err, syscall.ECONNRESET):
		return ClassTCPRefused, "connection reset", true
	}
	return "", "", false
}

// dialFailure classifies an error from connecting to a probe's target.
func dialFailure(ctx context.Context, err error, start time.Time) (Class, string) {
	if class, detail, ok := connFailure(ctx, err, start); ok {
		return class, detail
	}
	if isTimeout(ctx, err) {
		return ClassTCPTimeout, "connect " + ended(ctx, start)
	}
	// Unreachable hosts and networks refuse us as surely as a RST.
	return ClassTCPRefused, errText(err)
}

// isTimeout reports whether err means the probe ran out of time, whether by
// its context or by a deadline on a connection.
func isTimeout(ctx context.Context, err error) bool {
	var netErr net.Error
	return ctx.Err() != nil ||
		errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}

// ended says how a probe that ran out of time ended: "timeout after 10s", or
// "canceled after 2s" when the round was stopped before the probe's deadline.
func ended(ctx context.Context, start time.Time) string {
	how := "timeout"
	if errors.Is(ctx.Err(), context.Canceled) {
		how = "canceled"
	}
	return how + " after " + roundDuration(time.Since(start)).String()
}

// roundDuration keeps durations readable in details: "10s", not "10.000213s".
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// errText is an error's message without the method and URL that url.Error
// prefixes: details are short, and URLs can be long.
func errText(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return clip(err.Error())
}

// clip shortens s to detailMax bytes without splitting a UTF-8 sequence.
func clip(s string) string {
	if len(s) <= detailMax {
		return s
	}
	cut := detailMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
