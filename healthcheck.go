package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// healthcheckTimeout bounds `outagebot healthcheck`: /healthz itself waits
// up to 5 s for the database (ops.pingTimeout), and container runtimes
// give a check 30 s by default.
const healthcheckTimeout = 10 * time.Second

// runHealthcheck is `outagebot healthcheck`: it asks the running bot's
// /healthz (at -from, else at OUTAGEBOT_LISTEN), prints the answer and
// exits 0 when the bot is healthy, 1 when it is not or does not answer. It
// is what the image's HEALTHCHECK runs: distroless has no curl. It never
// exits 2 over the settings, which Docker reserves.
func runHealthcheck(ctx context.Context, inv invocation) int {
	s := inv.s
	if err := cmp.Or(checkFrom(s.from), checkListen(s.listen)); err != nil {
		fmt.Fprintf(inv.stderr, "outagebot healthcheck: %v\n", err)
		return exitFailed
	}
	base := cmp.Or(s.from, listenURL(s.listen))
	if base == "" {
		fmt.Fprintln(inv.stderr, "outagebot healthcheck: nowhere to ask: set OUTAGEBOT_LISTEN as the bot has it, or -from")
		return exitFailed
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+pathHealth, nil)
	if err != nil {
		fmt.Fprintf(inv.stderr, "outagebot healthcheck: %v\n", err)
		return exitFailed
	}
	resp, err := localClient().Do(req)
	if err != nil {
		fmt.Fprintf(inv.stderr, "outagebot healthcheck: no answer: %v\n", err)
		return exitFailed
	}
	defer resp.Body.Close()
	// The report says which part is unwell; the container runtime keeps it.
	io.Copy(inv.stdout, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(inv.stderr, "outagebot healthcheck: unhealthy: %s\n", resp.Status)
		return exitFailed
	}
	return exitOK
}
