package replay

import (
	"fmt"
	"slices"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// OutageScore is how the detector did on one outage.
type OutageScore struct {
	Outage
	// Detected says whether one of the outage's services was announced in
	// trouble (degraded or down) during it; Delay is from the outage's start
	// to that announcement, First.
	Detected bool
	Delay    time.Duration
	First    checks.Transition
	// Recovered says whether, after the outage's end, every one of its
	// services was announced operational again; Recovery is how long after
	// the end the last of them was. Both are meaningful only when detected.
	Recovered bool
	Recovery  time.Duration
	// Transitions is the most transitions one of its services announced
	// from its start to settleAfter past its end, an escalation from
	// degraded to down not counted; Busiest is that service.
	Transitions int
	Busiest     string
	// FalseRecoveries are announcements that one of its services was
	// operational while the outage went on.
	FalseRecoveries []checks.Transition
	// Share is the least share, over its services, of the outage past its
	// delay target during which the service was announced in trouble;
	// Thinnest is that service. HasShare is false for an outage no longer
	// than its delay target.
	Share    float64
	Thinnest string
	HasShare bool
	// RegionalAs is the language that announcements of trouble during the
	// outage said it mainly hit ("" when none did): it must be the
	// outage's own Regional (see Figures.WrongRegional).
	RegionalAs string
}

// settleAfter is how long after an outage's end its transitions are still
// counted as its own: the recovery, and any flapping around it.
const settleAfter = 10 * time.Minute

// Score is how the detector did on a trace.
type Score struct {
	Outages []OutageScore
	// FalseAlarms are announcements of trouble, or of worse trouble, at a
	// moment when no outage covered the service.
	FalseAlarms []checks.Transition
	// Warnings are the operator warnings given (distinct probes and kinds).
	Warnings []checks.Warning
}

// Evaluate scores the transitions of a replay, in the order they were
// announced, against the outages of its trace, whose delay targets t gives.
// Every service starts operational.
func Evaluate(outages []Outage, ts []checks.Transition, t Targets) Score {
	var s Score
	for _, o := range outages {
		s.Outages = append(s.Outages, evaluateOutage(o, ts, t))
	}
	for _, tr := range ts {
		if !worse(tr) {
			continue
		}
		covered := slices.ContainsFunc(outages, func(o Outage) bool {
			return o.Covers(tr.Service) && !tr.At.Before(o.Start) && !tr.At.After(o.End)
		})
		if !covered {
			s.FalseAlarms = append(s.FalseAlarms, tr)
		}
	}
	return s
}

func evaluateOutage(o Outage, ts []checks.Transition, targets Targets) OutageScore {
	os := OutageScore{Outage: o}
	// A service still announced in trouble when the outage starts (from an
	// earlier, overlapping one) has nothing left to announce.
	for _, svc := range o.Services {
		if t, ok := lastBefore(ts, svc, o.Start); ok && trouble(t.To) {
			os.Detected, os.First = true, t
			break
		}
	}
	if !os.Detected {
		i := slices.IndexFunc(ts, func(t checks.Transition) bool {
			return o.Covers(t.Service) && trouble(t.To) && !t.At.Before(o.Start) && !t.At.After(o.End)
		})
		if i >= 0 {
			os.Detected, os.First, os.Delay = true, ts[i], ts[i].At.Sub(o.Start)
		}
	}
	delayTarget := targets.OtherDelay
	if o.SeenBy == SeenByProbes {
		delayTarget = targets.ProbesDelay
	}
	from := o.Start.Add(delayTarget)
	os.HasShare = o.End.After(from)
	os.Share = 1
	for _, svc := range o.Services {
		n := 0
		for _, t := range ts {
			if t.Service == svc && !t.At.Before(o.Start) && !t.At.After(o.End.Add(settleAfter)) &&
				!(t.From == checks.Degraded && t.To == checks.Down) {
				n++
			}
			if t.Service == svc && t.To == checks.Operational && t.At.After(o.Start) && t.At.Before(o.End) {
				os.FalseRecoveries = append(os.FalseRecoveries, t)
			}
		}
		if n > os.Transitions || os.Busiest == "" {
			os.Transitions, os.Busiest = max(n, os.Transitions), svc
		}
		if os.HasShare {
			if share := troubleShare(ts, svc, from, o.End); share < os.Share || os.Thinnest == "" {
				os.Share, os.Thinnest = min(share, os.Share), svc
			}
		}
	}
	for _, t := range ts {
		if o.Covers(t.Service) && trouble(t.To) && !t.At.Before(o.Start) && !t.At.After(o.End) &&
			t.Reports.Regional && len(t.Reports.Where) > 0 {
			os.RegionalAs = t.Reports.Where[0]
			break
		}
	}
	if !os.Detected {
		return os
	}
	os.Recovered = true
	for _, svc := range o.Services {
		t, ok := lastBefore(ts, svc, o.End.Add(time.Nanosecond)) // at or before the end
		if !ok || !trouble(t.To) {
			continue // operational when the outage ended
		}
		i := slices.IndexFunc(ts, func(t checks.Transition) bool {
			return t.Service == svc && t.To == checks.Operational && t.At.After(o.End)
		})
		if i < 0 {
			os.Recovered = false
			continue
		}
		os.Recovery = max(os.Recovery, ts[i].At.Sub(o.End))
	}
	return os
}

// troubleShare is the share of [from, to) during which service was
// announced in trouble.
func troubleShare(ts []checks.Transition, service string, from, to time.Time) float64 {
	in := false
	if t, ok := lastBefore(ts, service, from); ok {
		in = trouble(t.To)
	}
	var total time.Duration
	at := from
	for _, t := range ts {
		if t.Service != service || t.At.Before(from) || !t.At.Before(to) {
			continue
		}
		if in {
			total += t.At.Sub(at)
		}
		in, at = trouble(t.To), t.At
	}
	if in {
		total += to.Sub(at)
	}
	return float64(total) / float64(to.Sub(from))
}

// lastBefore returns the last transition of service before t.
func lastBefore(ts []checks.Transition, service string, t time.Time) (checks.Transition, bool) {
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Service == service && ts[i].At.Before(t) {
			return ts[i], true
		}
	}
	return checks.Transition{}, false
}

func trouble(s checks.State) bool { return s == checks.Degraded || s == checks.Down }

// worse reports whether t tells people about new or worse trouble; going
// from down to degraded is a step toward recovery, not an alarm.
func worse(t checks.Transition) bool {
	return trouble(t.To) && (t.From == checks.Operational || t.From == checks.Degraded && t.To == checks.Down)
}

// Merge puts several scores together, for an overall summary.
func Merge(scores ...Score) Score {
	var all Score
	for _, s := range scores {
		all.Outages = append(all.Outages, s.Outages...)
		all.FalseAlarms = append(all.FalseAlarms, s.FalseAlarms...)
		all.Warnings = append(all.Warnings, s.Warnings...)
	}
	return all
}

// Figures are a score's summary numbers.
type Figures struct {
	Outages, Detected int
	FalseAlarms       int
	// ProbesDelay is the median detection delay of the detected outages
	// seen by probes, OtherDelay that of the others; zero with the matching
	// Has false when there are none.
	ProbesDelay, OtherDelay time.Duration
	HasProbes, HasOther     bool
	// WorstRecovery is the longest recovery delay of the detected outages
	// that recovered; Unrecovered counts those that did not.
	WorstRecovery time.Duration
	Unrecovered   int
	// FalseRecoveries counts "operational" announced during outages.
	FalseRecoveries int
	// MostTransitions is the most transitions a service announced in one
	// outage; WorstShare the least share of an outage announced in trouble
	// (1 when no outage is long enough to judge it).
	MostTransitions int
	WorstShare      float64
	Warnings        int
	// Regional counts the outages announced as mainly hitting the
	// speakers of some language when they did not, or not so when they
	// did (those the detector missed aside).
	WrongRegional int
}

// Figures sums the score up.
func (s Score) Figures() Figures {
	f := Figures{Outages: len(s.Outages), FalseAlarms: len(s.FalseAlarms), WorstShare: 1, Warnings: len(s.Warnings)}
	var probes, other []time.Duration
	for _, o := range s.Outages {
		f.FalseRecoveries += len(o.FalseRecoveries)
		// An outage the probes see is announced on their evidence, before
		// people's reports can say where they come from: only outages seen
		// by reports must be announced as regional; none may be announced
		// as the wrong region.
		if o.Detected && (o.RegionalAs != "" && o.RegionalAs != o.Regional ||
			o.RegionalAs == "" && o.Regional != "" && o.SeenBy != SeenByProbes) {
			f.WrongRegional++
		}
		f.MostTransitions = max(f.MostTransitions, o.Transitions)
		if o.HasShare {
			f.WorstShare = min(f.WorstShare, o.Share)
		}
		if !o.Detected {
			continue
		}
		f.Detected++
		if o.SeenBy == SeenByProbes {
			probes = append(probes, o.Delay)
		} else {
			other = append(other, o.Delay)
		}
		if !o.Recovered {
			f.Unrecovered++
			continue
		}
		f.WorstRecovery = max(f.WorstRecovery, o.Recovery)
	}
	f.ProbesDelay, f.HasProbes = median(probes)
	f.OtherDelay, f.HasOther = median(other)
	return f
}

// Misses says, one line each, which of a trace's targets the figures miss;
// none means every target is met. The median delays are not among them: a
// median means something over many outages, so a run of several traces
// judges it over all their outages together (see MedianMisses).
func (f Figures) Misses(t Targets) []string {
	var out []string
	if f.Detected < f.Outages {
		out = append(out, fmt.Sprintf("%d of %d outages missed", f.Outages-f.Detected, f.Outages))
	}
	if f.FalseAlarms > t.FalseAlarms {
		out = append(out, fmt.Sprintf("%d false alarms (at most %d)", f.FalseAlarms, t.FalseAlarms))
	}
	if f.FalseRecoveries > t.FalseRecoveries {
		out = append(out, fmt.Sprintf("%d false recoveries (at most %d)", f.FalseRecoveries, t.FalseRecoveries))
	}
	if f.Unrecovered > 0 {
		out = append(out, fmt.Sprintf("%d outages never announced recovered", f.Unrecovered))
	}
	if f.WorstRecovery > t.Recovery {
		out = append(out, fmt.Sprintf("worst recovery %s (at most %s)", short(f.WorstRecovery), short(t.Recovery)))
	}
	if f.MostTransitions > t.Transitions {
		out = append(out, fmt.Sprintf("%d transitions of one service in one outage (at most %d, an escalation aside)", f.MostTransitions, t.Transitions))
	}
	if f.WorstShare < t.TroubleShare {
		out = append(out, fmt.Sprintf("a service announced in trouble for %.0f%% of an outage (at least %.0f%%)", 100*f.WorstShare, 100*t.TroubleShare))
	}
	if f.WrongRegional > 0 {
		out = append(out, fmt.Sprintf("%d outages announced as regional when they were not, or not when they were", f.WrongRegional))
	}
	if f.Warnings != t.Warnings {
		out = append(out, fmt.Sprintf("%d operator warnings (expected %d)", f.Warnings, t.Warnings))
	}
	return out
}

// MedianMisses says which median delay targets the figures miss.
func (f Figures) MedianMisses(t Targets) []string {
	var out []string
	if f.HasProbes && f.ProbesDelay > t.ProbesDelay {
		out = append(out, fmt.Sprintf("median delay of outages seen by probes %s (at most %s)", short(f.ProbesDelay), short(t.ProbesDelay)))
	}
	if f.HasOther && f.OtherDelay > t.OtherDelay {
		out = append(out, fmt.Sprintf("median delay of outages seen by the official page or reports %s (at most %s)", short(f.OtherDelay), short(t.OtherDelay)))
	}
	return out
}

// median returns the median of ds (the mean of the middle two for an even
// count), and false when ds is empty.
func median(ds []time.Duration) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2], true
	}
	return (ds[n/2-1] + ds[n/2]) / 2, true
}
