package replay

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/outagebot/outagebot/checks"
)

const (
	// longTrace is the number of rounds above which transitions are only
	// counted unless asked for: a month of noise is thousands of lines.
	longTrace = 1000
	// falseAlarmsListed bounds the false alarms listed unless asked for.
	falseAlarmsListed = 20
)

// Print writes the replay: the trace, its transitions (for short traces or
// when verbose), each outage's detection and recovery, the false alarms and
// a summary line saying PASS or FAIL against the trace's targets.
func (r *Result) Print(w io.Writer, verbose bool) error {
	p := &printer{w: w}
	tr := r.Trace
	p.printf("%s\n", tr.Name)
	p.printf("  %s: %s to %s, %d rounds every %s, seed %d\n", tr.File, stamp(tr.Start), stamp(tr.End), r.Rounds, tr.Interval, tr.Seed)
	if verbose || r.Rounds <= longTrace {
		p.printf("  transitions (%d):\n", len(r.Transitions))
		for _, t := range r.Transitions {
			p.printf("    %s\n", transitionLine(t))
		}
	} else {
		p.printf("  transitions: %d (-v lists them)\n", len(r.Transitions))
	}
	if len(r.Score.Outages) > 0 {
		p.printf("  outages:\n")
	}
	for _, o := range r.Score.Outages {
		p.printf("    %s\n", outageLine(o))
	}
	alarms := r.Score.FalseAlarms
	p.printf("  false alarms: %d\n", len(alarms))
	if !verbose && len(alarms) > falseAlarmsListed {
		alarms = alarms[:falseAlarmsListed]
	}
	for _, t := range alarms {
		p.printf("    %s\n", transitionLine(t))
	}
	if n := len(r.Score.FalseAlarms) - len(alarms); n > 0 {
		p.printf("    … and %d more (-v lists them)\n", n)
	}
	p.printf("  operator warnings: %d\n", len(r.Score.Warnings))
	for _, wn := range r.Score.Warnings {
		p.printf("    %s %s: %s\n", cmp.Or(wn.Service, "(control)"), wn.Probe, wn.Kind)
	}
	p.summary("  ", r.Score.Figures(), tr.Targets, r.Misses(), false)
	return p.err
}

// PrintOverall writes the figures of all the results together. It says PASS
// when every trace met its own targets; the medians shown are over all the
// outages, next to the default targets.
func PrintOverall(w io.Writer, results []*Result) error {
	p := &printer{w: w}
	scores := make([]Score, len(results))
	for i, r := range results {
		scores[i] = r.Score
	}
	p.printf("overall, %d traces:\n", len(results))
	p.summary("  ", Merge(scores...).Figures(), DefaultTargets(), Overall(results), true)
	return p.err
}

// printer writes formatted text and keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// summary writes the figures, then PASS, or FAIL and why. Targets are shown
// beside the figures judged there and nowhere else, so that PASS never
// stands beside a target that was missed: a trace's own lines judge
// everything but the median delays; the overall lines (overall) judge the
// median delays over all traces, and every trace by its own targets.
func (p *printer) summary(indent string, f Figures, t Targets, misses []string, overall bool) {
	judged := func(figure, target string, here bool) string {
		if here {
			return figure + " (" + target + ")"
		}
		return figure
	}
	delay := func(has bool, d, target time.Duration) string {
		if !has {
			return "none"
		}
		return judged(short(d), "≤ "+short(target), overall)
	}
	recovery := judged(short(f.WorstRecovery), "≤ "+short(t.Recovery), !overall)
	if f.Unrecovered > 0 {
		recovery = fmt.Sprintf("%d not recovered", f.Unrecovered)
	}
	p.printf("%sdetected %d/%d · false alarms %s · false recoveries %s · median delay, probes %s, official/reports %s · worst recovery %s\n",
		indent, f.Detected, f.Outages,
		judged(fmt.Sprint(f.FalseAlarms), fmt.Sprint("≤ ", t.FalseAlarms), !overall),
		judged(fmt.Sprint(f.FalseRecoveries), fmt.Sprint("≤ ", t.FalseRecoveries), !overall),
		delay(f.HasProbes, f.ProbesDelay, t.ProbesDelay), delay(f.HasOther, f.OtherDelay, t.OtherDelay), recovery)
	p.printf("%smost transitions of a service in an outage %s · least share of an outage announced in trouble %s · operator warnings %s\n",
		indent,
		judged(fmt.Sprint(f.MostTransitions), fmt.Sprint("≤ ", t.Transitions), !overall),
		judged(fmt.Sprintf("%.0f%%", 100*f.WorstShare), fmt.Sprintf("≥ %.0f%%", 100*t.TroubleShare), !overall),
		judged(fmt.Sprint(f.Warnings), fmt.Sprint("expected ", t.Warnings), !overall))
	if overall {
		p.printf("%s(each trace is judged on its own targets above; the medians here)\n", indent)
	}
	if len(misses) == 0 {
		p.printf("%sPASS\n", indent)
		return
	}
	p.printf("%sFAIL: %s\n", indent, strings.Join(misses, "; "))
}

// transitionLine is one announced change with its evidence in short.
func transitionLine(t checks.Transition) string {
	line := fmt.Sprintf("%s  %-10s %s → %s", stamp(t.At), t.Service, t.From, t.To)
	if ev := evidence(t); ev != "" {
		line += "  " + ev
	}
	return line
}

// evidence says what a transition was based on: the failing probes by
// class, Meta's word, people's reports and the Meta-wide incident it joins.
func evidence(t checks.Transition) string {
	var parts []string
	var order []checks.Class
	probes := map[checks.Class][]string{}
	for _, r := range t.Evidence {
		if _, seen := probes[r.Class]; !seen {
			order = append(order, r.Class)
		}
		probes[r.Class] = append(probes[r.Class], r.Probe)
	}
	for _, c := range order {
		parts = append(parts, fmt.Sprintf("%s: %s", c, strings.Join(probes[c], ",")))
	}
	if t.Official != "" {
		parts = append(parts, "official: "+t.Official)
	}
	if rs := t.Reports; rs.Spike || rs.Elevated {
		s := fmt.Sprintf("reports: %d (usual %.1f)", rs.Count, rs.Baseline)
		if rs.Top != "" {
			s += fmt.Sprintf(", %.0f%% %s", rs.TopShare*100, rs.Top)
		}
		if rs.Regional {
			s += fmt.Sprintf(", mainly %s (%.0f%%)", rs.Where[0], rs.WhereShare*100)
		} else if len(rs.Where) > 0 {
			s += fmt.Sprintf(", most in %s (%.0f%%)", strings.Join(rs.Where, "+"), rs.WhereShare*100)
		}
		parts = append(parts, s)
	}
	if t.GroupWith != "" {
		parts = append(parts, "Meta-wide, with "+t.GroupWith)
	}
	return strings.Join(parts, " · ")
}

func outageLine(o OutageScore) string {
	line := fmt.Sprintf("%s [%s] %s to %s, seen by %s: ", o.Name, strings.Join(o.Services, ", "), stamp(o.Start), stamp(o.End), o.SeenBy)
	if !o.Detected {
		return line + fmt.Sprintf("MISSED; %d transitions", o.Transitions)
	}
	line += fmt.Sprintf("detected after %s (%s %s at %s)", short(o.Delay), o.First.Service, o.First.To, stamp(o.First.At))
	if !o.Recovered {
		line += ", not announced recovered by the trace's end"
	} else {
		line += fmt.Sprintf(", recovered %s after the end", short(o.Recovery))
	}
	line += fmt.Sprintf("; at most %d transitions (%s)", o.Transitions, o.Busiest)
	if o.HasShare {
		line += fmt.Sprintf(", in trouble %.0f%% of it (least: %s)", 100*o.Share, o.Thinnest)
	}
	if n := len(o.FalseRecoveries); n > 0 {
		line += fmt.Sprintf(", %d false recoveries", n)
	}
	if o.Regional != "" || o.RegionalAs != "" {
		line += fmt.Sprintf("; regional %q, announced as %q", o.Regional, o.RegionalAs)
	}
	return line
}

// stamp writes a moment of a replay, always in UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// short writes a duration to the second.
func short(d time.Duration) string { return d.Round(time.Second).String() }
