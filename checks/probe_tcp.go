package checks

import (
	"context"
	"net"
	"time"
)

// tcpCheck connects to host:port and hangs up at once: being able to connect
// is the whole test (WhatsApp's port 443 does not even speak TLS).
func tcpCheck(d *net.Dialer) targetCheck {
	return func(ctx context.Context, spec ProbeSpec, start time.Time) (Class, string) {
		conn, err := d.DialContext(ctx, "tcp", spec.Target)
		if err != nil {
			return dialFailure(ctx, err, start)
		}
		conn.Close() // a failed close says nothing about the service
		return ClassOK, "connected to " + conn.RemoteAddr().String()
	}
}
