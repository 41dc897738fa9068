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
// 3 unknown because the control probes failed.
func check(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) int {
	mon := checks.NewMonitor(cfg.Services, cfg.Control, checks.MonitorOptions{
		Probers: checks.NewProbers(checks.ProberOptions{UserAgent: userAgent}),
		Logger:  log,
	})
	ctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.Thresholds.RoundTimeout))
	defer cancel()
	obs, control := mon.Round(ctx, nil)

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTATE\tPROBE\tKIND\tCLASS\tLATENCY\tDETAIL")
	code := exitOK
	for _, o := range obs {
		state := checks.Verdict(o)
		switch state {
		case checks.Degraded, checks.Down:
			code = max(code, exitFailed)
		case checks.Unknown:
			if !o.ControlOK {
				code = exitUnknown
			}
		}
		for i, r := range o.Results {
			svc, st := "", ""
			if i == 0 {
				svc, st = o.Service, string(state)
			}
			printResult(tw, svc, st, r)
		}
	}
	for i, r := range control {
		svc := ""
		if i == 0 {
			svc = "(control)"
		}
		printResult(tw, svc, "", r)
	}
	tw.Flush()
	if code == exitUnknown {
		fmt.Fprintln(out, "\nEvery control probe failed: this machine looks offline, so the state of Meta's services is unknown.")
	}
	return code
}

func printResult(w io.Writer, service, state string, r checks.Result) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", service, state, r.Probe, r.Kind, r.Class,
		r.Latency.Round(time.Millisecond), r.Detail)
}
