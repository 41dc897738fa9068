package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
)

// check runs one round of every probe, prints a table and returns the exit
// code of the contract: 0 all operational, 1 something degraded or down,
// 3 unknown because this machine is offline.
//
// One round says less than the bot knows: the bot counts a probe only once
// it has answered as expected several times (a target this machine cannot
// reach never alerts anyone), and a single failure is often noise. So every
// probe that did not answer as expected is marked unverified, with what may
// be wrong on this machine's side.
func check(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) int {
	mon := checks.NewMonitor(cfg.Services, cfg.Control, checks.MonitorOptions{
		Probers: checks.NewProbers(checks.ProberOptions{UserAgent: userAgent}),
		Logger:  log,
	})
	ctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.Thresholds.RoundTimeout))
	defer cancel()
	obs, control := mon.Round(ctx, nil)
	offline, why, publicDNSDown := checks.OfflineNow(control)

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTATE\tPROBE\tKIND\tCLASS\tLATENCY\tDETAIL")
	code := exitOK
	unverified := 0
	for _, o := range obs {
		o.ControlOK, o.PublicDNSDown = !offline, publicDNSDown
		state := checks.Glance(o)
		switch state {
		case checks.Degraded, checks.Down:
			code = max(code, exitFailed)
		case checks.Unknown:
			if offline {
				code = exitUnknown
			}
		}
		for i, r := range o.Results {
			svc, st := "", ""
			if i == 0 {
				svc, st = o.Service, string(state)
			}
			if r.Class != checks.ClassOK {
				unverified++
			}
			printResult(tw, svc, st, r)
		}
	}
	for i, r := range control {
		svc := ""
		if i == 0 {
			svc = "(control)"
		}
		printResult(tw, svc, string(r.Role), r)
	}
	tw.Flush()
	switch {
	case offline:
		fmt.Fprintf(out, "\nThis machine looks offline (%s), so the state of Meta's services is unknown.\n", why)
	case unverified > 0:
		fmt.Fprintf(out, "\n%d probes did not answer as expected (marked unverified). One round cannot tell a failing service\n"+
			"from a target this machine cannot reach: the bot counts a probe as evidence only after it has answered\n"+
			"as expected %d times in a row, and warns in its log about probes that never do.\n",
			unverified, cfg.Thresholds.ProveAfter)
	}
	if publicDNSDown && !offline {
		fmt.Fprintln(out, "The public resolvers cannot be reached from here: probes that ask them say nothing.")
	}
	return code
}

func printResult(w io.Writer, service, state string, r checks.Result) {
	detail := r.Detail
	if r.Class != checks.ClassOK && r.Role == "" {
		detail = "unverified: " + detail + checks.Hint(r)
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", service, state, r.Probe, r.Kind, r.Class,
		r.Latency.Round(time.Millisecond), detail)
}
