package checks

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Vantage is what the detector knows of this machine's own network: the
// control probes' tracks, and whether it is offline now.
type Vantage struct {
	Probes map[string]*ProbeTrack `json:"probes,omitempty"`
	// Offline is set while the machine's own network fails; Since (wall
	// clock) is when that began and Why says which part fails.
	Offline bool      `json:"offline,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	Why     string    `json:"why,omitempty"`
	// Failing counts, by role, the checks in a row in which every proven
	// control probe of the role failed: one such check may be chance,
	// two are the network.
	Failing map[Role]int `json:"failing,omitempty"`
	// Contradicted holds, by role, the detector clock since when the
	// role's control probes have failed while Meta's services answered,
	// and Warned the roles the operator has been warned about.
	Contradicted map[Role]time.Duration `json:"contradicted,omitempty"`
	Warned       []Role                 `json:"warned,omitempty"`
}

// VantageStore keeps the Vantage across restarts, so that a machine that
// starts offline knows which control probes used to work.
type VantageStore interface {
	Vantage() (Vantage, error)
	SetVantage(Vantage) error
}

// offlineRoles are the roles whose failure leaves this machine unable to see
// Meta at all.
var offlineRoles = []Role{RoleWeb, RoleSystemDNS, RoleRoute}

// metaAnswers counts the service probes' results of one round: proven is
// the proven probes and answered those of them that answered as expected;
// reached is every probe, proven or not, that answered as expected.
type metaAnswers struct {
	proven, answered, reached int
}

// vantageVerdict is what the control probes of one round say.
type vantageVerdict struct {
	offline       bool
	why           string
	publicDNSDown bool
	warnings      []Warning
	proven        []string // control probes that proved themselves in this round
}

// judge folds a round's control results into the vantage and says whether
// this machine is offline: when every proven control probe of one of the
// web, system_dns or route roles failed, twice in a row (once may be
// chance). A control probe that never worked from here proves nothing
// either way, with one exception: when a role has no proven control probe
// and every one of them fails while not one of Meta's probes (proven or
// not) answers either, nothing answers from here at all. That is this
// machine, as on a first start with its resolver down, and it is offline
// as if the role's probes were proven; otherwise every probe would sit
// unproven and each would be reported on its own. When the failing role is contradicted by Meta's own probes (at
// least half of the proven ones answered as expected), the control probe,
// not the network, is wrong: the round counts, and the operator is warned
// if that lasts OddFor, as for a probe whose target changed. Failing public
// resolvers only silence the probes that ask them. While this machine is
// offline, the unproven control probes' time to prove themselves starts
// over, as the service probes' does (see Decide).
func (v *Vantage) judge(control []Result, meta metaAnswers, clock time.Duration, th Thresholds) vantageVerdict {
	if v.Probes == nil {
		v.Probes = make(map[string]*ProbeTrack)
	}
	type tally struct {
		proven, failed int
		failures       []string
	}
	roles := make(map[Role]*tally)
	// the roles' probes that never worked from here: how many of them
	// answered in this round, and how the others failed
	type untried struct {
		answered int
		failures []string
	}
	unproven := make(map[Role]*untried)
	var verdict vantageVerdict
	seen := make(map[string]bool, len(control))
	for _, r := range control {
		seen[r.Probe] = true
		t := trackOf(v.Probes, r, clock)
		t.Class, t.Detail, t.Kind = r.Class, r.Detail, r.Kind
		role := cmp.Or(r.Role, RoleWeb)
		if !t.Proven {
			t.OKRun++
			if r.Class != ClassOK {
				t.OKRun = 0
			}
			t.Proven = t.OKRun >= th.ProveAfter
			if t.Proven {
				verdict.proven = append(verdict.proven, r.Probe)
			}
			if unproven[role] == nil {
				unproven[role] = &untried{}
			}
			if u := unproven[role]; r.Class == ClassOK {
				u.answered++
			} else {
				u.failures = append(u.failures, r.Probe+": "+string(r.Class))
			}
			continue
		}
		if roles[role] == nil {
			roles[role] = &tally{}
		}
		tl := roles[role]
		tl.proven++
		if r.Class != ClassOK {
			tl.failed++
			tl.failures = append(tl.failures, r.Probe+": "+string(r.Class))
		}
	}
	for name := range v.Probes {
		if !seen[name] {
			delete(v.Probes, name)
		}
	}
	failing := make(map[Role]int)
	for role, tl := range roles {
		if tl.failed == tl.proven {
			failing[role] = v.Failing[role] + 1
		}
	}
	for _, role := range offlineRoles {
		if u := unproven[role]; roles[role] == nil && u != nil && u.answered == 0 && meta.reached == 0 {
			n := len(u.failures)
			roles[role] = &tally{proven: n, failed: n, failures: u.failures}
			failing[role] = v.Failing[role] + 1
		}
	}
	v.Failing = failing
	down := func(role Role) bool { return failing[role] >= 2 }

	verdict.publicDNSDown = down(RolePublicDNS)
	var why []string
	contradicted := make(map[Role]time.Duration)
	for _, role := range offlineRoles {
		if !down(role) {
			continue
		}
		if meta.proven < 3 || 2*meta.answered < meta.proven {
			why = append(why, string(role)+" ("+strings.Join(roles[role].failures, ", ")+")")
			continue
		}
		since, ok := v.Contradicted[role]
		if !ok {
			since = clock
		}
		contradicted[role] = since
		if clock-since >= time.Duration(th.OddFor) && !slices.Contains(v.Warned, role) {
			v.Warned = append(v.Warned, role)
			verdict.warnings = append(verdict.warnings, Warning{Probe: string(role), Kind: WarnControl, Text: fmt.Sprintf(
				"control probes of role %s fail (%s) while %d of %d of Meta's probes answer as expected: check the control probes' targets",
				role, strings.Join(roles[role].failures, ", "), meta.answered, meta.proven)})
		}
	}
	v.Contradicted = contradicted
	v.Warned = slices.DeleteFunc(v.Warned, func(role Role) bool { _, ok := contradicted[role]; return !ok })
	verdict.offline = len(why) > 0
	verdict.why = strings.Join(why, "; ")
	if verdict.offline {
		restartUnproven(v.Probes, clock)
	}
	verdict.warnings = append(verdict.warnings, warnings("", v.Probes, clock, th)...)
	return verdict
}

// OfflineNow judges control results with no history, every control probe
// taken as proven: what `outagebot check` can say from one round. It
// returns whether this machine is offline and why, and whether the public
// resolvers are out of reach.
func OfflineNow(control []Result) (offline bool, why string, publicDNSDown bool) {
	v := Vantage{Probes: make(map[string]*ProbeTrack, len(control)), Failing: make(map[Role]int)}
	for _, r := range control {
		v.Probes[r.Probe] = &ProbeTrack{Spec: r.Spec, Proven: true}
		v.Failing[cmp.Or(r.Role, RoleWeb)] = 1 // one round is all there is
	}
	verdict := v.judge(control, metaAnswers{}, 0, Thresholds{ProveAfter: 1, WarnAfter: Duration(time.Hour)})
	return verdict.offline, verdict.why, verdict.publicDNSDown
}
