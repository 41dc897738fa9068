package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The subcommands, as the README and docs/design.md promise them.
var subcommands = []string{"run", "check", "config", "backup", "replay", "healthcheck", "version", "help"}

func TestHelpListsCommandsEnvironmentAndExitCodes(t *testing.T) {
	// Every variable the program reads must be in the help: record them.
	var read []string
	getenv := func(k string) string {
		if !slices.Contains(read, k) {
			read = append(read, k)
		}
		return ""
	}
	run(context.Background(), []string{"run"}, getenv, &syncBuffer{}, &syncBuffer{}) // stops at the missing token
	if len(read) < 5 {
		t.Fatalf("run read only %q from the environment", read)
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"-help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := runCommand(nil, args...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, errOut)
			}
			for _, name := range subcommands {
				if !regexp.MustCompile(`(?m)^  outagebot ` + name + `\b`).MatchString(out) {
					t.Errorf("help lacks a line for %q:\n%s", name, out)
				}
			}
			for _, k := range read {
				if !regexp.MustCompile(`(?m)^  ` + k + ` `).MatchString(out) {
					t.Errorf("help lacks %s, which the program reads:\n%s", k, out)
				}
			}
			for _, code := range []string{"0", "1", "2", "3"} {
				if !regexp.MustCompile(`(?m)^  ` + code + `  \S`).MatchString(out) {
					t.Errorf("help lacks exit code %s:\n%s", code, out)
				}
			}
		})
	}
}

// flagLine matches a flag in the flag package's listing.
var flagLine = regexp.MustCompile(`(?m)^  -(\S+)`)

func TestEachCommandListsOnlyItsFlags(t *testing.T) {
	want := map[string][]string{
		"run":         {"api-url", "channel", "channel-lang", "config", "db", "listen", "log-level", "schedule", "webhook-url"},
		"check":       {"config", "log-level"},
		"config":      {"config", "schedule"},
		"backup":      {"db", "from"},
		"replay":      {"config", "log-level", "v"},
		"healthcheck": {"from"},
		"version":     nil,
		"help":        nil,
	}
	for _, name := range subcommands {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCommand(nil, name, "-h")
			if code != exitOK || errOut != "" {
				t.Fatalf("%s -h: exit %d, stderr %q; want 0 and nothing", name, code, errOut)
			}
			if !strings.HasPrefix(out, "usage: outagebot "+name) {
				t.Errorf("%s -h begins %q, want its usage line", name, out)
			}
			var got []string
			for _, m := range flagLine.FindAllStringSubmatch(out, -1) {
				got = append(got, m[1])
			}
			slices.Sort(got)
			if diff := cmp.Diff(want[name], got); diff != "" {
				t.Errorf("flags of %s (-want +got):\n%s\n%s", name, diff, out)
			}
			// outagebot help NAME says the same.
			if _, help, _ := runCommand(nil, "help", name); help != out {
				t.Errorf("help %s = %q, want what %s -h says, %q", name, help, name, out)
			}
		})
	}
	if code, _, errOut := runCommand(nil, "help", "frobnicate"); code != exitUsage || !strings.Contains(errOut, "unknown command") {
		t.Errorf("help of an unknown command: exit %d, %q", code, errOut)
	}
}

func TestReadBuild(t *testing.T) {
	info := func(settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/outagebot/outagebot",
				Version: "v1.4.0"}, Settings: settings}, true
		}
	}
	for _, tc := range []struct {
		name     string
		read     func() (*debug.BuildInfo, bool)
		linked   string // what -ldflags -X set, the Docker image's way
		want     buildInfo
		wantText []string
	}{
		{
			name: "built from a checkout",
			read: info(debug.BuildSetting{Key: "vcs.revision", Value: "d1f8f7ba0f794efa4728568058148c5862a5bf87"},
				debug.BuildSetting{Key: "vcs.time", Value: "2026-11-22T02:07:57Z"},
				debug.BuildSetting{Key: "vcs.modified", Value: "true"}),
			linked: "ignored",
			want: buildInfo{version: "v1.4.0", revision: "d1f8f7ba0f794efa4728568058148c5862a5bf87",
				time: "2026-11-22T02:07:57Z", modified: true, goVersion: "go1.26.8"},
			wantText: []string{"outagebot v1.4.0\n", "revision: d1f8f7ba0f794efa4728568058148c5862a5bf87\n",
				"committed: 2026-11-22T02:07:57Z\n", "modified: true", "go: go1.26.8 "},
		},
		{
			name:     "built without VCS information, revision linked in",
			read:     info(),
			linked:   "0123abc",
			want:     buildInfo{version: "v1.4.0", revision: "0123abc", goVersion: "go1.26.8"},
			wantText: []string{"revision: 0123abc\n"},
		},
		{
			name:     "nothing known",
			read:     func() (*debug.BuildInfo, bool) { return nil, false },
			want:     buildInfo{version: "(devel)", goVersion: runtime.Version()},
			wantText: []string{"outagebot (devel)\n", "revision: unknown (built without VCS information"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readBuild(tc.read, tc.linked)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(buildInfo{})); diff != "" {
				t.Errorf("readBuild (-want +got):\n%s", diff)
			}
			var out strings.Builder
			got.write(&out)
			for _, w := range tc.wantText {
				if !strings.Contains(out.String(), w) {
					t.Errorf("version output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}} {
		code, out, errOut := runCommand(nil, args...)
		if code != exitOK || !strings.HasPrefix(out, "outagebot ") || !strings.Contains(out, "\nrevision: ") || errOut != "" {
			t.Errorf("%q: exit %d, %q %q; want 0 and the version with its revision", args, code, out, errOut)
		}
	}
}

// TestVersionOfABuiltBinary builds the binary from a fresh clone of this
// checkout, as an operator would, and asks it its version: it must name the
// commit it was built from.
func TestVersionOfABuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the repository and builds the binary")
	}
	gitTool, err := exec.LookPath("git")
	if err != nil {
		t.Skipf("no git: %v", err)
	}
	git := func(dir string, args ...string) string {
		t.Helper()
		out, err := exec.Command(gitTool, append([]string{"-C", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if exec.Command(gitTool, "rev-parse", "--git-dir").Run() != nil {
		t.Skip("not a git checkout")
	}
	head := git(".", "rev-parse", "HEAD")
	src := filepath.Join(t.TempDir(), "outagebot")
	git(".", "clone", "--quiet", "--no-checkout", ".", src)
	git(src, "checkout", "--quiet", "--detach", head)

	bin := filepath.Join(t.TempDir(), "outagebot")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, flag := range []string{"version", "-version"} {
		out, err := exec.Command(bin, flag).Output()
		if err != nil {
			t.Fatalf("outagebot %s: %v", flag, err)
		}
		if want := "\nrevision: " + head + "\n"; !strings.Contains(string(out), want) {
			t.Errorf("outagebot %s:\n%s\nwant %q", flag, out, want)
		}
		if strings.Contains(string(out), "modified") {
			t.Errorf("outagebot %s says a clean clone was modified:\n%s", flag, out)
		}
	}
}

func TestBadSettingsStopBeforeAnythingConnects(t *testing.T) {
	// Telegram is out of reach: a bot that got past its settings would
	// retry getMe for ever, and the test would time out.
	unreachable := "http://" + closedPort(t)
	fast := filepath.Join(t.TempDir(), "fast.yaml")
	if err := os.WriteFile(fast, []byte("schedule: '@every 1ms'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want []string // each named in stderr
	}{
		{"listen address", nil, map[string]string{"OUTAGEBOT_LISTEN": "bad"}, []string{"OUTAGEBOT_LISTEN", `"bad"`}},
		{"listen address as a URL", []string{"-listen", "http://127.0.0.1:9090"}, nil, []string{"OUTAGEBOT_LISTEN / -listen", "not host:port"}},
		{"listen port", nil, map[string]string{"OUTAGEBOT_LISTEN": "127.0.0.1:99999"}, []string{"OUTAGEBOT_LISTEN", "99999"}},
		{"channel", nil, map[string]string{"OUTAGEBOT_CHANNEL": "notachannel"}, []string{"OUTAGEBOT_CHANNEL", "notachannel"}},
		{"channel id of a group", []string{"-channel", "-4567"}, nil, []string{"OUTAGEBOT_CHANNEL / -channel", "-4567"}},
		{"channel language", nil, map[string]string{"OUTAGEBOT_CHANNEL_LANG": "klingon"}, []string{"OUTAGEBOT_CHANNEL_LANG", "klingon", "pt-BR"}},
		{"API URL", nil, map[string]string{"TELEGRAM_API_URL": "notaurl"}, []string{"TELEGRAM_API_URL", "notaurl"}},
		{"schedule in the environment", nil, map[string]string{"OUTAGEBOT_SCHEDULE": "@every 1ms"}, []string{"OUTAGEBOT_SCHEDULE", "at least 5s apart"}},
		{"schedule flag", []string{"-schedule", "@every 2s"}, nil, []string{"OUTAGEBOT_SCHEDULE / -schedule", "at least 5s apart"}},
		{"schedule in the YAML", nil, map[string]string{"OUTAGEBOT_CONFIG": fast}, []string{"fast.yaml:1: schedule:", "at least 5s apart"}},
		{"config file missing", nil, map[string]string{"OUTAGEBOT_CONFIG": "/nonexistent/outagebot.yaml"}, []string{"OUTAGEBOT_CONFIG / -config", "no such file"}},
		{"log level", nil, map[string]string{"OUTAGEBOT_LOG_LEVEL": "loud"}, []string{"OUTAGEBOT_LOG_LEVEL", "loud"}},
		{"all at once", nil, map[string]string{"OUTAGEBOT_LISTEN": "bad", "OUTAGEBOT_CHANNEL": "x", "OUTAGEBOT_CHANNEL_LANG": "tlh", "OUTAGEBOT_SCHEDULE": "@every 1s"},
			[]string{"OUTAGEBOT_LISTEN", "OUTAGEBOT_CHANNEL /", "OUTAGEBOT_CHANNEL_LANG", "OUTAGEBOT_SCHEDULE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{
				"TELEGRAM_TOKEN":   token,
				"TELEGRAM_API_URL": unreachable,
				"OUTAGEBOT_DB":     filepath.Join(t.TempDir(), "outagebot.db"),
			}
			for k, v := range tc.env {
				env[k] = v
			}
			errOut := &syncBuffer{}
			done := make(chan int, 1)
			go func() {
				done <- run(context.Background(), tc.args, func(k string) string { return env[k] }, &syncBuffer{}, errOut)
			}()
			select {
			case code := <-done:
				if code != exitUsage {
					t.Errorf("exit %d, want 2; stderr:\n%s", code, errOut)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("still running after 5 s: the bad setting was not caught before connecting; stderr:\n%s", errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut.String(), "cannot reach Telegram") {
				t.Errorf("it tried to connect:\n%s", errOut)
			}
			if _, err := os.Stat(env["OUTAGEBOT_DB"]); err == nil {
				t.Error("the database was created before the settings were checked")
			}
		})
	}
}
