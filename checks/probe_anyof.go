package checks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// answer is how one of several ways to the same truth answered: a resolver
// or name server of a dns probe, or a target of a tcp or tls probe.
type answer struct {
	class Class
	what  string        // "SERVFAIL", "2 answers", "connection refused"
	from  string        // the server's or target's label
	took  time.Duration // from the probe's start to this answer
}

// answerText says what one or more servers or targets (from, listed) answered.
type answerText func(what, from string) string

// fromServers reads "SERVFAIL from 1.1.1.1:53, 8.8.8.8:53".
func fromServers(what, from string) string { return what + " from " + from }

// atTargets reads "g.whatsapp.net:5222: connect timeout after 8s": a
// target's own detail often names an address already.
func atTargets(what, from string) string { return from + ": " + what }

// anyOf runs c against every one of spec.Targets at once, as if each were
// the spec's only Target, and judges their answers with verdict. A spec
// without Targets goes to c as it is. Every target is waited for, so that
// one that never answers is named even when another answered at once.
func anyOf(c check) check {
	return func(ctx context.Context, spec ProbeSpec, start time.Time) outcome {
		if len(spec.Targets) == 0 {
			return c(ctx, spec, start)
		}
		answers := make([]answer, len(spec.Targets))
		var wg sync.WaitGroup
		for i, target := range spec.Targets {
			one := spec
			one.Target, one.Targets = target, nil
			wg.Go(func() {
				o := c(ctx, one, start)
				answers[i] = answer{class: o.class, what: o.detail, from: target, took: time.Since(start)}
			})
		}
		wg.Wait()
		return verdict(answers, atTargets)
	}
}

// verdict combines the answers of servers or targets that are each a
// separate way to the same truth, so one good answer is enough: the probe
// is ok, its detail the first good answer's, its latency the time the
// fastest good answer took, and failing names the others. When every one
// failed, the most common failure (the first to reach that count, among
// equals: list the way you trust most first) names the class, and the
// detail lists every answer, grouped.
func verdict(answers []answer, text answerText) outcome {
	var good []answer
	var failing []string
	counts := make(map[Class]int)
	worst := answers[0].class
	for _, a := range answers {
		if a.class == ClassOK {
			good = append(good, a)
			continue
		}
		if !slices.Contains(failing, a.from) {
			failing = append(failing, a.from)
		}
		counts[a.class]++
		if counts[a.class] > counts[worst] {
			worst = a.class
		}
	}
	if len(good) == 0 {
		return outcome{class: worst, detail: clip(grouped(answers, text))}
	}
	o := outcome{class: ClassOK, detail: text(good[0].what, good[0].from), failing: failing, latency: good[0].took}
	for _, a := range good[1:] {
		o.latency = min(o.latency, a.took)
	}
	if len(good) < len(answers) {
		o.detail += fmt.Sprintf(" (%d of %d failed)", len(answers)-len(good), len(answers))
	}
	o.detail = clip(o.detail)
	return o
}

// grouped lists answers with the servers or targets that gave the same one
// together, "SERVFAIL from a, b; timeout after 8s from c", so that four name
// servers timing out fit in one short detail.
func grouped(answers []answer, text answerText) string {
	var whats []string
	from := make(map[string][]string)
	for _, a := range answers {
		if _, ok := from[a.what]; !ok {
			whats = append(whats, a.what)
		}
		if !slices.Contains(from[a.what], a.from) {
			from[a.what] = append(from[a.what], a.from)
		}
	}
	parts := make([]string, len(whats))
	for i, w := range whats {
		parts[i] = text(w, strings.Join(from[w], ", "))
	}
	return strings.Join(parts, "; ")
}
