// Package history tells how a service did over a recent window: how much of
// the time it was up, how many incidents it had and how long they lasted,
// and a chart of its states and probe latency. It is pure: the caller reads
// the incidents and round samples from the store and gets numbers and PNG
// bytes back.
//
// Definitions, which the /history caption relies on:
//
//   - The service is watched where rounds were recorded: from a round to
//     the next, when they are less than a gap apart (ten typical intervals
//     between rounds, at least five minutes). Longer silences, the bot being
//     stopped for instance, are "no data" and count for nothing.
//   - Uptime is the share of the watched time with no incident open, that
//     is, announced operational. Degraded counts as not up, like down: in
//     both cases subscribers were told something was wrong.
//   - Incidents are those open at some moment of the window. The longest
//     outage is the longest of them, over its whole length (an open one up
//     to the end of the window), even where that reaches before the window.
//   - Mean time to recover is the mean length of the incidents that ended
//     within the window.
//
// The store keeps an incident's worst state, not every change within it, so
// the chart shows a whole incident in the worst state it reached.
package history

import (
	"slices"
	"strings"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// Window is a span of the recent past that /history shows.
type Window struct {
	Name   string // as typed after /history: "24h", "7d", "30d"
	Length time.Duration
}

// Windows returns the spans /history offers, shortest first; the first is
// the default.
func Windows() []Window {
	const day = 24 * time.Hour
	return []Window{{"24h", day}, {"7d", 7 * day}, {"30d", 30 * day}}
}

// ParseWindow returns the window named name, ignoring case.
func ParseWindow(name string) (Window, bool) {
	for _, w := range Windows() {
		if strings.EqualFold(w.Name, name) {
			return w, true
		}
	}
	return Window{}, false
}

// Point is one round's measurement of a service.
type Point struct {
	At time.Time
	// Latency is the median time the round's successful probes took; zero
	// when none succeeded, which still counts as a round watched.
	Latency time.Duration
}

// History is what is known of one service over [From, To).
type History struct {
	From, To time.Time
	// Incidents of the service, in any order; those wholly outside the
	// window are ignored.
	Incidents []checks.Incident
	// Points are the rounds within the window, oldest first.
	Points []Point
}

// Span is a stretch of a history in one state: Operational, Degraded, Down,
// or Unknown where nothing was watched.
type Span struct {
	From, To time.Time
	State    checks.State
}

// Stats sums up a history. Durations are exact; Uptime turns them into a
// share.
type Stats struct {
	Watched time.Duration // time with rounds recorded
	Up      time.Duration // time of Watched with no incident open
	// Incidents counts the incidents open at some moment of the window,
	// Recovered those of them that ended within it.
	Incidents, Recovered int
	Longest              time.Duration // the longest incident, whole
	MTTR                 time.Duration // mean length of the Recovered ones
}

// Uptime is Up as a share of Watched, from 0 to 1, and false when nothing
// was watched.
func (s Stats) Uptime() (float64, bool) {
	if s.Watched <= 0 {
		return 0, false
	}
	return float64(s.Up) / float64(s.Watched), true
}

// Minimum and typical-interval multiple of the silence between rounds that
// counts as not watching: a round or two lost to a slow re-check is not.
const (
	minGap    = 5 * time.Minute
	gapRounds = 10
)

// interval is the typical time between rounds, the median spacing of the
// points; zero with fewer than two.
func (h History) interval() time.Duration {
	if len(h.Points) < 2 {
		return 0
	}
	gaps := make([]time.Duration, len(h.Points)-1)
	for i := range gaps {
		gaps[i] = h.Points[i+1].At.Sub(h.Points[i].At)
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// spacing is how the rounds of a history are spaced: step, the typical
// interval between them, and gap, the longest silence that still counts as
// watched. Finding step sorts every interval, so a history's spacing is
// found once per drawing or summing up, and passed around.
type spacing struct{ step, gap time.Duration }

func (h History) spacing() spacing {
	step := h.interval()
	return spacing{step: step, gap: max(minGap, gapRounds*step)}
}

// stretch is the time [from, to).
type stretch struct{ from, to time.Time }

// watched returns the stretches of the window that rounds cover, in order.
// A round covers the time until the next one when that is within the gap,
// and otherwise one typical interval; the window's ends count as rounds.
func (h History) watched(sp spacing) []stretch {
	gap, step := sp.gap, sp.step
	var out []stretch
	for i, p := range h.Points {
		if p.At.Before(h.From) || !p.At.Before(h.To) {
			continue
		}
		last := len(out) - 1
		switch {
		case last >= 0 && p.At.Sub(h.Points[i-1].At) <= gap:
			out[last].to = p.At
		case last < 0 && p.At.Sub(h.From) <= gap:
			out = append(out, stretch{h.From, p.At})
		default:
			if last >= 0 {
				out[last].to = out[last].to.Add(step)
			}
			out = append(out, stretch{p.At, p.At})
		}
	}
	if last := len(out) - 1; last >= 0 {
		if h.To.Sub(out[last].to) <= gap {
			out[last].to = h.To
		} else {
			out[last].to = out[last].to.Add(step)
		}
	}
	return out
}

// troubles returns the incidents' stretches within the window, with the
// worst state each reached.
func (h History) troubles() []Span {
	var out []Span
	for _, inc := range h.Incidents {
		end := h.To
		if inc.Resolved() && inc.End.Before(end) {
			end = inc.End
		}
		from := later(inc.Start, h.From)
		if !from.Before(end) {
			continue
		}
		state := inc.Worst
		if state != checks.Down && state != checks.Degraded {
			state = inc.State
		}
		out = append(out, Span{from, end, state})
	}
	return out
}

// Timeline returns the window as consecutive spans, oldest first: Unknown
// where nothing was watched, else the worst state of the incident open, else
// Operational.
func (h History) Timeline() []Span { return h.timeline(h.spacing()) }

// timeline is Timeline with the spacing of h.
func (h History) timeline(sp spacing) []Span {
	if !h.From.Before(h.To) {
		return nil
	}
	watched, troubles := h.watched(sp), h.troubles()
	// Every cut lies within the window: the watched stretches and the
	// troubles are clipped to it.
	cuts := []time.Time{h.From, h.To}
	for _, w := range watched {
		cuts = append(cuts, w.from, w.to)
	}
	for _, t := range troubles {
		cuts = append(cuts, t.From, t.To)
	}
	slices.SortFunc(cuts, time.Time.Compare)
	cuts = slices.CompactFunc(cuts, time.Time.Equal)
	var out []Span
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		state := stateAt(from, watched, troubles)
		if last := len(out) - 1; last >= 0 && out[last].State == state {
			out[last].To = to
			continue
		}
		out = append(out, Span{from, to, state})
	}
	return out
}

// stateAt is the state at t, the start of a stretch in which neither the
// watched stretches nor the troubles begin or end.
func stateAt(t time.Time, watched []stretch, troubles []Span) checks.State {
	if !slices.ContainsFunc(watched, func(w stretch) bool { return !t.Before(w.from) && t.Before(w.to) }) {
		return checks.Unknown
	}
	for _, s := range troubles {
		if !t.Before(s.From) && t.Before(s.To) {
			return s.State
		}
	}
	return checks.Operational
}

// Stats sums up the history; see the package documentation for what each
// number means.
func (h History) Stats() Stats {
	var s Stats
	for _, span := range h.Timeline() {
		d := span.To.Sub(span.From)
		if span.State != checks.Unknown {
			s.Watched += d
		}
		if span.State == checks.Operational {
			s.Up += d
		}
	}
	var recovered time.Duration
	for _, inc := range h.Incidents {
		end := h.To
		if inc.Resolved() {
			end = inc.End
		}
		if !inc.Start.Before(h.To) || !end.After(h.From) {
			continue
		}
		s.Incidents++
		s.Longest = max(s.Longest, end.Sub(inc.Start))
		if inc.Resolved() && !end.After(h.To) {
			s.Recovered++
			recovered += end.Sub(inc.Start)
		}
	}
	if s.Recovered > 0 {
		s.MTTR = recovered / time.Duration(s.Recovered)
	}
	return s
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
