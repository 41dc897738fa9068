package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Every probe of WhatsApp fails for ten minutes: the shipped detector
	// sees it within a round and a re-check.
	good := write("good.yaml", `start: 2024-01-01T10:00:00Z
end: 2024-01-01T10:30:00Z
services: {whatsapp: {}}
outages:
  - {name: 5xx, services: [whatsapp], start: 2024-01-01T10:10:00Z, end: 2024-01-01T10:20:00Z, seen_by: probes}
events:
  - {from: 2024-01-01T10:10:00Z, to: 2024-01-01T10:20:00Z, services: [whatsapp], failing: all, class: http_5xx}
`)
	// Nothing could have seen this one.
	missed := write("missed.yaml", `start: 2024-01-01T10:00:00Z
end: 2024-01-01T10:30:00Z
services: {whatsapp: {}}
outages:
  - {name: silent, services: [whatsapp], start: 2024-01-01T10:10:00Z, end: 2024-01-01T10:20:00Z, seen_by: reports}
`)
	// More than a thousand rounds: transitions are counted, not listed.
	long := write("long.yaml", `start: 2024-01-01T00:00:00Z
end: 2024-01-01T10:00:00Z
services: {whatsapp: {}}
outages:
  - {name: 5xx, services: [whatsapp], start: 2024-01-01T05:00:00Z, end: 2024-01-01T05:10:00Z, seen_by: probes}
events:
  - {from: 2024-01-01T05:00:00Z, to: 2024-01-01T05:10:00Z, services: [whatsapp], failing: all, class: http_5xx}
`)
	bad := write("bad.yaml", "start: 2024-01-01T10:00:00Z\nend: 2024-01-01T10:30:00Z\nnoise:\n  jitter: 0.1\n")
	// A trace may name the services of the user's configuration.
	lab := write("lab.yaml", `start: 2024-01-01T10:00:00Z
end: 2024-01-01T10:30:00Z
outages:
  - {services: [lab], start: 2024-01-01T10:10:00Z, end: 2024-01-01T10:20:00Z, seen_by: probes}
events:
  - {from: 2024-01-01T10:10:00Z, to: 2024-01-01T10:20:00Z, services: [lab], failing: all, class: tcp_refused}
`)
	labConfig := write("lab-config.yaml", `services:
  - id: lab
    name: Lab
    probes:
      - {name: api, kind: tcp, target: "127.0.0.1:9", timeout: 1s}
      - {name: web, kind: http, target: "http://127.0.0.1:9/", timeout: 1s}
`)

	for _, tc := range []struct {
		name      string
		args      []string
		env       map[string]string
		code      int
		stdout    []string
		stdoutNot []string
		stderr    string
	}{
		{name: "targets met", args: []string{"replay", good}, code: 0,
			stdout: []string{"operational → down  http_5xx: dns_authoritative,dns,chat_dns,chat_tcp,chat_ws,web,media", "detected after", "  PASS\n"}},
		{name: "an outage missed", args: []string{"replay", missed}, code: 1, stdout: []string{"MISSED", "FAIL: 1 of 1 outages missed"}},
		{name: "several traces", args: []string{"replay", good, missed}, code: 1,
			stdout: []string{"overall, 2 traces:", missed + " missed its targets"}},
		{name: "long trace", args: []string{"replay", long}, code: 0,
			stdout: []string{"1200 rounds", "transitions: 2 (-v lists them)"}, stdoutNot: []string{"operational → down"}},
		{name: "long trace, verbose", args: []string{"replay", "-v", long}, code: 0,
			stdout: []string{"transitions (2):", "operational → down"}},
		{name: "the user's configuration", args: []string{"replay", lab}, env: map[string]string{"OUTAGEBOT_CONFIG": labConfig}, code: 0,
			stdout: []string{"lab        operational → down  tcp_refused: api,web", "PASS"}},
		{name: "a service the configuration lacks", args: []string{"replay", lab}, code: 2,
			stderr: "lab.yaml:4: outages[0].services[0]: unknown service \"lab\""},
		{name: "invalid trace", args: []string{"replay", good, bad}, code: 2, stderr: `bad.yaml:4: unknown key "jitter"`},
		{name: "no trace", args: []string{"replay"}, code: 2, stderr: "usage: outagebot replay [flags] FILE…"},
		{name: "missing trace", args: []string{"replay", filepath.Join(dir, "nope.yaml")}, code: 2, stderr: "nope.yaml: no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, &out, &errOut)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out.String(), errOut.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tc.stdoutNot {
				if strings.Contains(out.String(), s) {
					t.Errorf("stdout has %q:\n%s", s, out.String())
				}
			}
			if !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut.String())
			}
			if tc.stderr == "" && errOut.Len() > 0 {
				t.Errorf("unexpected stderr:\n%s", errOut.String())
			}
		})
	}
}
