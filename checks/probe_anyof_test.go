package checks

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAnyOfVerdict(t *testing.T) {
	ok := func(from string, took time.Duration) answer { return answer{ClassOK, "1 answer", from, took} }
	fail := func(class Class, what, from string) answer { return answer{class, what, from, 8 * time.Second} }
	tests := []struct {
		name    string
		answers []answer
		text    answerText
		want    outcome
	}{
		{"one good", []answer{ok("a", time.Second)}, fromServers,
			outcome{class: ClassOK, detail: "1 answer from a", latency: time.Second}},
		{"one bad", []answer{fail(ClassDNSNXDomain, "NXDOMAIN", "a")}, fromServers,
			outcome{class: ClassDNSNXDomain, detail: "NXDOMAIN from a"}},
		{"first good named, fastest timed", []answer{fail(ClassDNSServFail, "SERVFAIL", "a"), ok("b", 3*time.Second), ok("c", time.Second)}, fromServers,
			outcome{class: ClassOK, detail: "1 answer from b (1 of 3 failed)", failing: []string{"a"}, latency: time.Second}},
		{"every failure named once", []answer{
			fail(ClassDNSServFail, "SERVFAIL", "a"),
			ok("b", time.Second),
			fail(ClassDNSTimeout, "timeout after 8s", "c"),
			fail(ClassDNSTimeout, "timeout after 8s", "c"),
		}, fromServers, outcome{class: ClassOK, detail: "1 answer from b (3 of 4 failed)", failing: []string{"a", "c"}, latency: time.Second}},
		{"majority", []answer{
			fail(ClassDNSServFail, "SERVFAIL", "a"),
			fail(ClassDNSTimeout, "timeout after 8s", "b"),
			fail(ClassDNSTimeout, "timeout after 8s", "c"),
		}, fromServers, outcome{class: ClassDNSTimeout, detail: "SERVFAIL from a; timeout after 8s from b, c"}},
		{"first to the top count among equals", []answer{
			fail(ClassDNSServFail, "SERVFAIL", "a"),
			fail(ClassDNSTimeout, "timeout after 8s", "b"),
			fail(ClassDNSTimeout, "timeout after 8s", "c"),
			fail(ClassDNSServFail, "REFUSED", "d"),
		}, fromServers, outcome{class: ClassDNSTimeout, detail: "SERVFAIL from a; timeout after 8s from b, c; REFUSED from d"}},
		{"one server named once", []answer{
			fail(ClassDNSTimeout, "timeout after 8s", "a.ns"),
			fail(ClassDNSTimeout, "timeout after 8s", "a.ns"),
			fail(ClassDNSTimeout, "timeout after 8s", "b.ns"),
		}, fromServers, outcome{class: ClassDNSTimeout, detail: "timeout after 8s from a.ns, b.ns"}},
		{"targets, one answers", []answer{
			fail(ClassTCPTimeout, "connect timeout after 8s", "g.example:5222"),
			{ClassOK, "connected to 192.0.2.1:443", "g.example:443", 40 * time.Millisecond},
		}, atTargets, outcome{class: ClassOK, detail: "g.example:443: connected to 192.0.2.1:443 (1 of 2 failed)",
			failing: []string{"g.example:5222"}, latency: 40 * time.Millisecond}},
		{"targets, a tie goes to the first listed", []answer{
			fail(ClassTCPTimeout, "connect timeout after 8s", "g.example:5222"),
			fail(ClassTCPRefused, "connection refused", "g.example:443"),
		}, atTargets, outcome{class: ClassTCPTimeout, detail: "g.example:5222: connect timeout after 8s; g.example:443: connection refused"}},
		{"targets failing alike", []answer{
			fail(ClassDNSNXDomain, "no such host g.example", "g.example:5222"),
			fail(ClassDNSNXDomain, "no such host g.example", "g.example:443"),
		}, atTargets, outcome{class: ClassDNSNXDomain, detail: "g.example:5222, g.example:443: no such host g.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verdict(tt.answers, tt.text)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(outcome{})); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}
}
