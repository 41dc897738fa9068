package config

import (
	"bytes"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/outagebot/outagebot/checks"
)

// traceDoc stands for a document type of another package, such as replay's
// traces, that uses YAMLMessage for its own errors.
type traceDoc struct {
	Name     string             `yaml:"name"`
	Interval checks.Duration    `yaml:"interval"`
	Seed     uint64             `yaml:"seed"`
	Probes   map[string][]probe `yaml:"probes"`
}

type probe struct {
	At   string `yaml:"at"`
	Fail bool   `yaml:"fail"`
}

func TestYAMLMessage(t *testing.T) {
	for _, tc := range []struct {
		yaml, want string
	}{
		{"name: x\nschedule: 30s\n", `unknown key "schedule" (want one of name, interval, seed, probes)`},
		{"probes:\n  web:\n    - {at: x, failed: true}\n", `unknown key "failed" (want one of at, fail)`},
		{"seed: -1\n", "want a whole number, 0 or more, got the number -1"},
		{"name: [a, b]\n", "want text, got a list"},
		{"probes: [web]\n", "want a mapping (key: value), got a list"},
		{"probes:\n  web: {at: x}\n", "want a list, got a mapping"},
		{"probes:\n  web:\n    - {fail: sometimes}\n", `want true or false, got the text "sometimes"`},
		{"probes:\n  web:\n    - {at: {t: 1}}\n", "want text, got a mapping"},
		// Messages without Go in them stay as they are.
		{"interval: soon\n", `invalid duration "soon" (use e.g. 10s, 1m30s)`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			dec := yaml.NewDecoder(bytes.NewReader([]byte(tc.yaml)))
			dec.KnownFields(true)
			var doc traceDoc
			err := dec.Decode(&doc)
			if err == nil {
				t.Fatalf("%q decoded without error", tc.yaml)
			}
			msg := err.Error()
			if te, ok := err.(*yaml.TypeError); ok {
				msg = te.Errors[0]
			}
			msg = linePrefix.FindStringSubmatch(msg)[2]
			if got := YAMLMessage(msg, reflect.TypeFor[traceDoc]()); got != tc.want {
				t.Errorf("YAMLMessage(%q) = %q, want %q", msg, got, tc.want)
			}
		})
	}
}
