package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/internal/golden"
)

// place is where an *Error points, without its wording.
type place struct {
	Line int
	Key  string
}

// configErrors returns the *Error values inside err, failing the test if
// err holds anything else.
func configErrors(t *testing.T, err error) []*Error {
	t.Helper()
	if err == nil {
		return nil
	}
	all := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	}
	out := make([]*Error, len(all))
	for i, e := range all {
		ce, ok := errors.AsType[*Error](e)
		if !ok {
			t.Fatalf("error %q is a %T, want *config.Error", e, e)
		}
		out[i] = ce
	}
	return out
}

func places(errs []*Error) []place {
	ps := make([]place, len(errs))
	for i, e := range errs {
		ps[i] = place{e.Line, e.Key}
	}
	return ps
}

func TestDefault(t *testing.T) {
	// Parsing the file itself, rather than validating Default(), makes a
	// mistake in it name its line.
	if _, err := Parse("default.yaml", []byte(defaultYAML)); err != nil {
		t.Fatalf("embedded default.yaml: %v", err)
	}
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	var ids []string
	for _, s := range c.Services {
		ids = append(ids, s.ID)
	}
	if diff := cmp.Diff([]string{"whatsapp", "instagram", "facebook", "messenger", "threads"}, ids); diff != "" {
		t.Errorf("default service ids (-want +got):\n%s", diff)
	}
	if len(c.Control) == 0 {
		t.Error("the default has no control probes: the offline guard would be off")
	}
	// The offline rules tell our own DNS and route failing from Meta
	// failing only if every part of our path is checked: web and both DNS
	// roles by two probes each, so that one site's or zone's bad day never
	// fails a whole role.
	roles := make(map[checks.Role]int)
	for _, p := range c.Control {
		if p.Role == "" {
			t.Errorf("control probe %s has no explicit role", p.Name)
		}
		roles[p.ControlRole()]++
	}
	wantRoles := map[checks.Role]int{checks.RoleWeb: 2, checks.RolePublicDNS: 2, checks.RoleSystemDNS: 2, checks.RoleRoute: 1}
	if diff := cmp.Diff(wantRoles, roles); diff != "" {
		t.Errorf("control probes by role (-want +got):\n%s", diff)
	}
	for _, s := range c.Services {
		t.Run(s.ID, func(t *testing.T) {
			// Outages have left the home pages up: one kind of evidence is never enough.
			kinds := make(map[string]bool)
			for _, p := range s.Probes {
				kinds[p.Kind] = true
				if p.Timeout <= 0 {
					t.Errorf("probe %s has no timeout of its own", p.Name)
				}
			}
			if len(s.Probes) < 3 || len(kinds) < 2 {
				t.Errorf("%d probes of %d kinds, want at least 3 of at least 2", len(s.Probes), len(kinds))
			}
		})
	}
}

func TestDefaultIsFresh(t *testing.T) {
	a := Default()
	a.Services[0].Probes[0].Name = "changed"
	a.Control[0].Status[0] = checks.StatusRange{Low: 599, High: 599}
	if diff := cmp.Diff(Default(), a); diff == "" {
		t.Fatal("changing one Default() changed the next one")
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	custom := mustParse(t, `
schedule: "0 * * * *"
thresholds: {down_after: 3, up_after: 4, recheck: 1m30s, round_timeout: 50s}
limits: {global_per_second: 500, chat_per_second: 0.5, group_per_minute: 10, alert_share: 0.8, paid_broadcast: true}
control:
  - {name: own_dns, kind: dns, role: system_dns, target: example.com}
  - {name: transit, kind: tcp, role: route, targets: ['192.0.2.1:443', 'www.example.net:443']}
services:
  - id: svc_1
    name: "Service: one"
    aliases: []
    probes:
      - name: api
        kind: http
        target: https://api.example.com/v1?q=1
        method: HEAD
        status: []
        body_contains: "ok: yes"
        json: {error.type: OAuthException, "a.b": "2"}
        max_bytes: 1024
        follow_redirects: true
        headers: {Accept: application/json}
      - name: ns
        kind: dns
        target: _dmarc.example.com.
        resolver: "[2001:db8::53]:53"
        record: TXT
        min_answers: 2
      - name: port
        kind: tcp
        target: 192.0.2.1:443
        timeout: 1.5s
      - name: ports
        kind: tls
        targets: [chat.example.com:5222, chat.example.com:443]
        server_name: example.com
      - name: media
        kind: http
        target: https://media.example.com/
        status: [200-428, 430-499, 503]
        json: {error.code: "*"}
`)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"default", Default()},
		{"custom", custom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.cfg.YAML()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse("printed.yaml", out)
			if err != nil {
				t.Fatalf("Parse(YAML()) = %v\n%s", err, out)
			}
			if diff := cmp.Diff(tc.cfg, got); diff != "" {
				t.Errorf("Parse(YAML()) differs (-want +got):\n%s\n%s", diff, out)
			}
		})
	}
}

// TestProbeSchema checks how the probe fields added after the first
// release read and print: status codes and ranges, any-of targets and
// control roles. Files written before them must print back as they were.
func TestProbeSchema(t *testing.T) {
	c := mustParse(t, `
control:
  - {name: a, kind: dns, role: public_dns, target: example.com, resolver: '192.0.2.53:53'}
  - {name: b, kind: http, target: 'https://example.com/', status: [204]}
services:
  - id: x
    name: X
    probes:
      - {name: old, kind: http, target: 'https://x/', status: [200, 301, 302]}
      - {name: ranges, kind: http, target: 'https://x/', status: [200-299, '307', ' 400 - 404 ', 404-404]}
      - {name: present, kind: http, target: 'https://x/', json: {error.code: '*'}}
      - {name: chat, kind: tcp, targets: ['x:5222', 'x:443']}
`)
	codes := func(rs ...checks.StatusRange) []checks.StatusRange { return rs }
	r := func(low, high int) checks.StatusRange { return checks.StatusRange{Low: low, High: high} }
	want := []checks.ProbeSpec{
		{Name: "old", Kind: "http", Target: "https://x/", Status: codes(r(200, 200), r(301, 301), r(302, 302))},
		{Name: "ranges", Kind: "http", Target: "https://x/", Status: codes(r(200, 299), r(307, 307), r(400, 404), r(404, 404))},
		{Name: "present", Kind: "http", Target: "https://x/", JSON: map[string]string{"error.code": checks.AnyJSONValue}},
		{Name: "chat", Kind: "tcp", Targets: []string{"x:5222", "x:443"}},
	}
	if diff := cmp.Diff(want, c.Services[0].Probes); diff != "" {
		t.Errorf("probes (-want +got):\n%s", diff)
	}
	if got := []checks.Role{c.Control[0].ControlRole(), c.Control[1].ControlRole()}; !cmp.Equal(got, []checks.Role{checks.RolePublicDNS, checks.RoleWeb}) {
		t.Errorf("control roles = %v, want public_dns and web (the default)", got)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"    role: public_dns\n",
		"    status: [204]\n",
		"        status: [200, 301, 302]\n",
		"        status: [200-299, 307, 400-404, 404]\n",
		"          error.code: '*'\n",
		"        targets: ['x:5222', 'x:443']\n",
	} {
		if !strings.Contains(string(out), line) {
			t.Errorf("YAML() lacks %q:\n%s", line, out)
		}
	}
	if strings.Contains(string(out), "role: web") {
		t.Errorf("YAML() gave a role to a control probe that had none:\n%s", out)
	}
}

func mustParse(t *testing.T, data string) Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestYAMLGolden(t *testing.T) {
	got, err := Default().YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "default.golden.yaml"), got)
}

func TestParseOnTopOfDefault(t *testing.T) {
	oneService := []checks.Service{{
		ID:     "status_page",
		Name:   "Status page",
		Probes: []checks.ProbeSpec{{Name: "web", Kind: "http", Target: "https://status.example.com/"}},
	}}
	for _, tc := range []struct {
		name string
		yaml string
		edit func(*Config) // applied to Default() to get the expected result
	}{
		{"empty file", "", func(*Config) {}},
		{"comments only", "# nothing to change\n", func(*Config) {}},
		{"schedule only", "schedule: '@every 1m'\n", func(c *Config) { c.Schedule = "@every 1m" }},
		{
			"one threshold", "thresholds:\n  down_after: 3\n",
			func(c *Config) { c.Thresholds.DownAfter = 3 },
		},
		{
			"one limit", "limits: {paid_broadcast: true, global_per_second: 100}\n",
			func(c *Config) { c.Limits.PaidBroadcast, c.Limits.GlobalPerSecond = true, 100 },
		},
		{"empty control list", "control: []\n", func(c *Config) { c.Control = nil }},
		{"null control list", "control:\n", func(c *Config) { c.Control = nil }},
		{
			"control replaced as a whole", "control:\n  - {name: gw, kind: tcp, target: '192.0.2.1:53'}\n",
			func(c *Config) { c.Control = []checks.ProbeSpec{{Name: "gw", Kind: "tcp", Target: "192.0.2.1:53"}} },
		},
		{
			"services replaced as a whole",
			"services:\n  - id: status_page\n    name: Status page\n    probes:\n      - {name: web, kind: http, target: 'https://status.example.com/'}\n",
			func(c *Config) { c.Services = oneService },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := Default()
			tc.edit(&want)
			got := mustParse(t, tc.yaml)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.yaml, diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []place
		msgs []string // each a part of the matching error's message
	}{
		{
			name: "unknown top-level key",
			yaml: "schedule: '@every 1m'\nshedule: '@every 2m'\n",
			want: []place{{2, "shedule"}},
			msgs: []string{"unknown key (want one of schedule, thresholds, limits, official, reports, history, control, services)"},
		},
		{
			name: "unknown key in thresholds",
			yaml: "thresholds:\n  down_after: 3\n  down: 2\n",
			want: []place{{3, "thresholds.down"}},
			msgs: []string{"unknown key (want one of down_after, single_after, up_after, noise, failure_rate, false_recovery, prove_after, warn_after, odd_for, recheck, round_timeout, weak_for, group_window)"},
		},
		{
			name: "unknown key in a probe",
			yaml: "control:\n  - name: a\n    kind: dns\n    target: example.com\n    resolvr: 1.1.1.1:53\n",
			want: []place{{5, "control[0].resolvr"}},
			msgs: []string{"unknown key (want one of name, kind, role, target, targets, timeout, method,"},
		},
		{
			name: "every unknown key, in file order",
			yaml: "services:\n  - id: a\n    nme: A\n    probes: []\nlimit: {}\n",
			want: []place{{3, "services[0].nme"}, {5, "limit"}},
			msgs: []string{"unknown key", "unknown key"},
		},
		{
			name: "wrong type",
			yaml: "thresholds:\n  down_after: many\n",
			want: []place{{2, "thresholds.down_after"}},
			msgs: []string{`want a whole number, got the text "many"`},
		},
		{
			name: "wrong type in a block list",
			yaml: "control:\n  - name: a\n    kind: http\n    target: https://example.com/\n    status:\n      - 200\n      - ok\n",
			want: []place{{7, "control[0].status[1]"}},
			msgs: []string{`invalid HTTP status "ok" (want a code such as 200 or a range such as 200-499)`},
		},
		{
			name: "a list for a mapping",
			yaml: "thresholds:\n  - down_after: 3\n",
			want: []place{{2, "thresholds"}},
			msgs: []string{"want a mapping (key: value), got a list"},
		},
		{
			name: "a mapping for a list",
			yaml: "services:\n  whatsapp: {}\n",
			want: []place{{2, "services"}},
			msgs: []string{"want a list, got a mapping"},
		},
		{
			name: "every kind of wrong value",
			yaml: "schedule: [a]\nlimits:\n  paid_broadcast: maybe\n  global_per_second: lots\n",
			want: []place{{1, "schedule"}, {3, "limits.paid_broadcast"}, {4, "limits.global_per_second"}},
			msgs: []string{"want text, got a list", `want true or false, got the text "maybe"`, `want a number, got the text "lots"`},
		},
		{
			name: "bad duration",
			yaml: "thresholds:\n  recheck: soon\n",
			want: []place{{2, "thresholds.recheck"}},
			msgs: []string{`invalid duration "soon"`},
		},
		{
			name: "duplicate key",
			yaml: "schedule: '@every 1m'\nschedule: '@every 2m'\n",
			want: []place{{2, "schedule"}},
			msgs: []string{"already defined at line 1"},
		},
		{
			name: "not a mapping",
			yaml: "- schedule\n",
			want: []place{{1, ""}},
			msgs: []string{"want a mapping (key: value), got a list"},
		},
		{
			name: "syntax error",
			yaml: "schedule: '@every 1m'\nlimits\n",
			want: []place{{2, ""}},
			msgs: []string{"could not find expected ':'"},
		},
		{
			name: "carriage return alone",
			yaml: "schedule: '@every 1m'\r\nlimits: {}\rthresholds: {}\n",
			want: []place{{2, ""}},
			msgs: []string{"a carriage return without a line feed"},
		},
		{
			name: "second document",
			yaml: "schedule: '@every 1m'\n---\nschedule: '@every 2m'\n",
			want: []place{{3, ""}},
			msgs: []string{"a second YAML document is not allowed"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bot.yaml", []byte(tc.yaml))
			errs := configErrors(t, err)
			if diff := cmp.Diff(tc.want, places(errs)); diff != "" {
				t.Fatalf("Parse errors %v, places (-want +got):\n%s", err, diff)
			}
			for i, e := range errs {
				if e.File != "bot.yaml" || !strings.Contains(e.Msg, tc.msgs[i]) {
					t.Errorf("error %d = %+v, want file bot.yaml and message containing %q", i, e, tc.msgs[i])
				}
				// People write YAML: Go's names for things mean nothing to them.
				if goTalk.MatchString(e.Msg) {
					t.Errorf("error %d = %q speaks of Go types", i, e)
				}
			}
		})
	}
}

// goTalk matches what yaml.v3 says in Go's terms: type names, tags.
var goTalk = regexp.MustCompile(`\b(config|checks)\.[A-Z]|\bin type\b|\binto\b|!!|\[\]|\bint\b|float64`)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("schedule: '@every 1m'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("schedule: '@every 1m'\nschedul: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	c, err := Load(good)
	if err != nil {
		t.Fatalf("Load(good) = %v", err)
	}
	want := Default()
	want.Schedule = "@every 1m"
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Load(good) (-want +got):\n%s", diff)
	}

	_, err = Load(bad)
	if got, want := err.Error(), bad+":2: schedul: unknown key"; !strings.HasPrefix(got, want) {
		t.Errorf("Load(bad) = %q, want it to begin with %q", got, want)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, ok := errors.AsType[*Error](err); ok {
		t.Errorf("Load(missing) = %v: an unreadable file is not a mistake in it", err)
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		err  Error
		want string
	}{
		{
			Error{File: "bot.yaml", Line: 12, Key: "services[1].probes[0].kind", Msg: `unknown probe kind "ftp" (want http, dns, tcp, tls or websocket)`},
			`bot.yaml:12: services[1].probes[0].kind: unknown probe kind "ftp" (want http, dns, tcp, tls or websocket)`,
		},
		{Error{File: "bot.yaml", Key: "services[0].probes[0].timeout", Msg: "too long"}, "bot.yaml: services[0].probes[0].timeout: too long"},
		{Error{File: "bot.yaml", Line: 3, Msg: "bad syntax"}, "bot.yaml:3: bad syntax"},
		{Error{Line: 3, Key: "schedule", Msg: "bad"}, "line 3: schedule: bad"},
		{Error{Key: "schedule", Msg: "bad"}, "schedule: bad"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}
