package checks

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"
)

// tlsCheck connects to host:port and completes a TLS handshake, verifying
// the certificate against roots (nil: the system's) for spec.ServerName or
// else the target's host. Meta's chat edges (edge-chat.facebook.com) speak
// TLS before anything else, so a finished handshake shows them serving
// where a bare connect would only show a load balancer listening.
func tlsCheck(d *net.Dialer, roots *x509.CertPool) targetCheck {
	return func(ctx context.Context, spec ProbeSpec, start time.Time) (Class, string) {
		host, _, err := net.SplitHostPort(spec.Target)
		if err != nil {
			// Dialing would fail the same way, as it does for tcp probes.
			return ClassTCPRefused, errText(err)
		}
		raw, err := d.DialContext(ctx, "tcp", spec.Target)
		if err != nil {
			return dialFailure(ctx, err, start)
		}
		conn := tls.Client(raw, &tls.Config{ServerName: cmp.Or(spec.ServerName, host), RootCAs: roots})
		// After a handshake, Close says goodbye with a close_notify alert.
		defer conn.Close()
		if err := conn.HandshakeContext(ctx); err != nil {
			if isTimeout(ctx, err) {
				return ClassTLSError, "TLS handshake " + ended(ctx, start)
			}
			return ClassTLSError, errText(err)
		}
		state := conn.ConnectionState()
		left := time.Until(state.PeerCertificates[0].NotAfter)
		return ClassOK, tls.VersionName(state.Version) + ", cert expires in " + lifetime(left)
	}
}

// lifetime says how long a certificate has left: whole days, or whole hours
// on its last day.
func lifetime(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day {
		return fmt.Sprintf("%d d", d/day)
	}
	return fmt.Sprintf("%d h", max(d, 0)/time.Hour)
}
