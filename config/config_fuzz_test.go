package config

import (
	"bytes"
	"errors"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// maxFuzzConfig bounds a fuzzed file: the embedded catalog is about 15 KiB.
const maxFuzzConfig = 64 << 10

// FuzzParse feeds Parse any file. It must never panic; what it rejects it
// rejects with *Error values pinned to lines of the file; what it accepts,
// YAML prints back in a form that Parse reads as the same configuration and
// that prints the same again.
func FuzzParse(f *testing.F) {
	for _, data := range []string{
		"",
		"# only a comment\n",
		"schedule: \"*/5 * * * *\"\n",
		"thresholds: {down_after: 3, up_after: 1, recheck: 1m30s}\nlimits: {global_per_second: 900, paid_broadcast: true}\n",
		"control: []\n",
		"services:\n  - id: svc\n    name: Svc\n    aliases: [s]\n    probes:\n      - {name: web, kind: http, target: https://example.com, status: [200, 301], json: {a.b: c}}\n",
		"services:\n  - id: dns\n    name: DNS\n    probes:\n      - {name: ns, kind: dns, target: example.com., resolvers: [\"192.0.2.1:53\", \"[2001:db8::1]:53\"], record: TXT}\n",
		"official: {url: https://metastatus.com, every: 2m, timeout: 10s}\nreports: {floor: 3}\n",
		"services:\n  - id: svc\n    name: Svc\n    probes:\n      - {name: media, kind: http, target: https://example.com, status: [200-428, '430 - 499', '503'], json: {error.code: '*'}}\n",
		"services:\n  - id: chat\n    name: Chat\n    probes:\n      - {name: port, kind: tcp, targets: [g.example.net:5222, '[2001:db8::1]:443']}\n      - {name: edge, kind: tls, targets: ['192.0.2.1:443'], server_name: example.com}\n",
		"control:\n  - {name: own, kind: dns, role: system_dns, target: example.com}\n  - {name: transit, kind: tcp, role: route, target: 'www.example.net:443'}\n  - {name: old, kind: dns, target: example.com, resolver: '192.0.2.53:53'}\n",
		"control:\n  - {name: p, kind: http, target: 'https://x/', status: [599-100, 0x1F4, 2xx, ~]}\n",
		"limits: {global_per_second: .nan}\n",
		"limits: {chat_per_second: -.inf}\n",
		"thresholds: {recheck: 5 seconds}\n",
		"schedul: \"@every 30s\"\n",
		"services:\n  - id: a\n    nmae: A\n",
		"a: &x [1, 2]\nb: *x\n",
		"schedule: \"@every 1s\"\n---\nschedule: \"@every 2s\"\n",
		"\tschedule: x\n",
		"services: {id: 1}\n",
		"[1, 2, 3]\n",
	} {
		f.Add([]byte(data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzConfig {
			t.Skip("larger than any real configuration")
		}
		const name = "fuzz.yaml"
		c, err := Parse(name, data)
		if err != nil {
			checkErrors(t, name, data, err)
			return
		}
		out, err := c.YAML()
		if err != nil {
			t.Fatalf("YAML of an accepted configuration: %v", err)
		}
		back, err := Parse("printed.yaml", out)
		if err != nil {
			t.Fatalf("Parse(YAML()) = %v\ninput:\n%s\nprinted:\n%s", err, data, out)
		}
		if diff := cmp.Diff(c, back); diff != "" {
			t.Fatalf("Parse(YAML()) differs (-parsed +reparsed):\n%s\ninput:\n%s\nprinted:\n%s", diff, data, out)
		}
		again, err := back.YAML()
		if err != nil {
			t.Fatalf("YAML of the reparsed configuration: %v", err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("YAML is not stable:\n%s\nthen:\n%s", out, again)
		}
	})
}

// yamlLineBreak is what YAML 1.1 counts as a line break, and so what the line
// numbers of parse errors count: NEL and the Unicode line and paragraph
// separators end a line too.
var yamlLineBreak = regexp.MustCompile("\r\n|[\r\n\u0085\u2028\u2029]")

// checkErrors holds the error Parse returned for data to its contract: every
// problem is an *Error naming the file and, when it has one, a line of it.
func checkErrors(t *testing.T, name string, data []byte, err error) {
	t.Helper()
	lines := len(yamlLineBreak.Split(string(data), -1))
	for _, leaf := range leaves(err) {
		e, ok := leaf.(*Error)
		if !ok {
			t.Fatalf("Parse error %v (%T) is not a *Error", leaf, leaf)
		}
		if e.File != name || e.Msg == "" || e.Line < 0 || e.Line > lines {
			t.Fatalf("Parse error %+v: want file %q, a message and a line in 0..%d", e, name, lines)
		}
	}
}

// leaves returns the errors that err joins, or err alone.
func leaves(err error) []error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		return joined.Unwrap()
	}
	return []error{err}
}
