package checks

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// WarningKind says what an operator warning is about.
type WarningKind string

// Kinds of operator warnings. None of them is ever told to users: each is a
// sign that an assumption about an endpoint, or about this machine, does not
// hold here.
const (
	// WarnUnproven: a probe has never answered as expected since it was
	// added: this machine may not reach its target at all.
	WarnUnproven WarningKind = "unproven"
	// WarnUnreached: one of the targets of a probe with several never
	// answers, though the probe does through another.
	WarnUnreached WarningKind = "unreached"
	// WarnOdd: a proven probe has answered, but not as expected, for
	// Thresholds.OddFor: Meta changed something.
	WarnOdd WarningKind = "odd"
	// WarnNoisy: a probe fails so often when all is well that it cannot
	// tell an outage from its usual self.
	WarnNoisy WarningKind = "noisy"
	// WarnControl: the control probes of a role fail while Meta's services
	// answer: the control probe, not the network, is wrong.
	WarnControl WarningKind = "control"
)

// Warning is something the operator should look at.
type Warning struct {
	Service string // "" for a control probe
	Probe   string
	Kind    WarningKind
	Class   Class  // how the probe's last check ended
	Text    string // one sentence for the log and `outagebot check`
}

// warnings returns the warnings due for tracks (the probes of service, ""
// for the control), marking each as given, and forgets those whose cause is
// gone so that they are given again if it comes back.
func warnings(service string, tracks map[string]*ProbeTrack, clock time.Duration, th Thresholds) []Warning {
	var out []Warning
	for _, name := range sortedKeys(tracks) {
		t := tracks[name]
		due := map[WarningKind]string{}
		if !t.Proven && clock-t.Seen >= time.Duration(th.WarnAfter) {
			due[WarnUnproven] = fmt.Sprintf("%s: %s since it was added%s; it is not used as evidence until it answers as expected",
				name, t.Class, hint(t.Kind, t.Class, t.Detail))
		}
		if len(t.Unreached) > 0 && clock-t.UnreachedAt >= time.Duration(th.WarnAfter) {
			due[WarnUnreached] = fmt.Sprintf("%s: %s never answered, the probe answers through its other targets%s",
				name, strings.Join(t.Unreached, ", "), portHint(t.Unreached))
		}
		if t.Proven && t.OddAt > 0 && clock-t.OddAt >= time.Duration(th.OddFor) {
			due[WarnOdd] = fmt.Sprintf("%s: answering %s (%s) for %s: Meta may have changed something; the probe's expectations may need updating (users are not told)",
				name, t.Class, t.Detail, time.Duration(clock-t.OddAt).Round(time.Minute))
		}
		if t.Proven && t.Checks >= priorChecks && t.usual(th) >= th.FailureRate {
			due[WarnNoisy] = fmt.Sprintf("%s: fails in %.0f%% of its checks when all is well; it cannot tell an outage and is not used as evidence",
				name, 100*t.usual(th))
		}
		kept := t.Warned[:0]
		for _, k := range t.Warned {
			if _, ok := due[k]; ok {
				kept = append(kept, k)
			}
		}
		t.Warned = kept
		for _, k := range []WarningKind{WarnUnproven, WarnUnreached, WarnOdd, WarnNoisy} {
			if text, ok := due[k]; ok && !slices.Contains(t.Warned, k) {
				t.Warned = append(t.Warned, k)
				out = append(out, Warning{Service: service, Probe: name, Kind: k, Class: t.Class, Text: text})
			}
		}
	}
	return out
}

// hint suggests, for a probe that never answered as expected, what about
// this machine may be the cause.
func hint(kind string, class Class, detail string) string {
	switch class {
	case ClassTCPTimeout, ClassTCPRefused:
		if kind == kindTCP || kind == kindTLS {
			return " — is outbound traffic to that port blocked here?"
		}
		return " — is this machine's route to it blocked?"
	case ClassDNSTimeout, ClassDNSServFail:
		return " — can this machine reach that DNS server (outbound port 53)?"
	case ClassDNSNXDomain:
		return " — does the name still exist, or does the local resolver filter it?"
	case ClassTLSError:
		return " — is TLS intercepted here (" + detail + ")?"
	case ClassHTTPBlocked:
		return " — Meta throttles this machine's address"
	case ClassHTTPUnexpected, ClassBodyMismatch:
		return " — is a proxy or a captive portal answering, or did the endpoint change?"
	}
	return ""
}

// portHint names the ports of unreached host:port targets, which are often
// blocked outbound (WhatsApp's 5222, for one).
func portHint(targets []string) string {
	var ports []string
	for _, t := range targets {
		if _, port, err := net.SplitHostPort(t); err == nil && !slices.Contains(ports, port) {
			ports = append(ports, port)
		}
	}
	if len(ports) == 0 {
		return ""
	}
	return " — is outbound port " + strings.Join(ports, ", ") + " blocked here?"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
