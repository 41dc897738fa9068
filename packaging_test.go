package main

// docker build cannot run here (no daemon in CI's test step): these tests
// read the Dockerfile, .dockerignore and compose.yaml and check what makes
// the image build from a clean clone and run as documented.

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
}

// readDockerfile returns the instructions of each stage.
func readDockerfile(t *testing.T, file string) [][]instruction {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages [][]instruction
	var line string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue // comments end nothing, even inside a continued line
		}
		if cont, ok := strings.CutSuffix(text, `\`); ok {
			line += cont + " "
			continue
		}
		line += text
		cmd, args, _ := strings.Cut(line, " ")
		line = ""
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %s before FROM", file, in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}

// all returns the arguments of every cmd instruction in stage.
func all(stage []instruction, cmd string) []string {
	var out []string
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// execForm parses a JSON array of a CMD, ENTRYPOINT or HEALTHCHECK.
func execForm(t *testing.T, what, s string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(s), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("%s %s is not in exec form (a JSON array): distroless has no shell", what, s)
	}
	return argv
}

// envOf returns the variables the ENV instructions of stage set.
func envOf(stage []instruction) map[string]string {
	env := map[string]string{}
	for _, args := range all(stage, "ENV") {
		for _, kv := range strings.Fields(args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = strings.Trim(v, `"`)
			}
		}
	}
	return env
}

func TestDockerfile(t *testing.T) {
	stages := readDockerfile(t, "Dockerfile")
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a small final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// The Go of the build stage is at least the one go.mod asks for.
	goMod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(goMod))
	have := regexp.MustCompile(`^golang:(\d+)\.(\d+)`).FindStringSubmatch(build[0].args)
	if want == nil || have == nil || !goAtLeast(have[1:], want[1:]) {
		t.Errorf("build stage FROM %s, go.mod wants go %v", build[0].args, want)
	}
	// The revision a context without .git cannot give reaches the binary.
	if runs := strings.Join(all(build, "RUN"), "\n"); !strings.Contains(runs, "-X main.buildRevision=${REVISION}") ||
		!slices.Contains(all(build, "ARG"), `REVISION=""`) {
		t.Errorf("the build does not link REVISION into main.buildRevision:\n%s", runs)
	}

	entry := execForm(t, "ENTRYPOINT", lastOf(t, final, "ENTRYPOINT"))
	users := all(final, "USER")
	if len(users) == 0 {
		t.Fatal("the final stage has no USER: it would run as root")
	}
	if user, _, _ := strings.Cut(users[len(users)-1], ":"); user == "root" || user == "0" {
		t.Errorf("USER %s, want a non-root user", users[len(users)-1])
	}
	if !slices.ContainsFunc(all(final, "EXPOSE"), func(p string) bool { return slices.Contains(strings.Fields(p), "9090") }) {
		t.Errorf("no EXPOSE 9090 in %q", all(final, "EXPOSE"))
	}
	env := envOf(final)
	if env["OUTAGEBOT_LISTEN"] != ":9090" {
		t.Errorf("OUTAGEBOT_LISTEN = %q in the image, want :9090", env["OUTAGEBOT_LISTEN"])
	}
	if db := env["OUTAGEBOT_DB"]; !slices.Contains(all(final, "VOLUME"), path.Dir(db)) {
		t.Errorf("OUTAGEBOT_DB %q is not on a VOLUME (%q)", db, all(final, "VOLUME"))
	}

	// HEALTHCHECK [options] CMD ["/outagebot", "healthcheck"]: the binary
	// asks its own /healthz at OUTAGEBOT_LISTEN.
	hc := lastOf(t, final, "HEALTHCHECK")
	_, argv, ok := strings.Cut(hc, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %s has no CMD", hc)
	}
	if got := execForm(t, "HEALTHCHECK", argv); !slices.Equal(got, []string{entry[0], "healthcheck"}) {
		t.Errorf("HEALTHCHECK runs %q, want %q", got, []string{entry[0], "healthcheck"})
	}
	if _, ok := lookup("healthcheck"); !ok {
		t.Error("the binary has no healthcheck command")
	}
}

func lastOf(t *testing.T, stage []instruction, cmd string) string {
	t.Helper()
	args := all(stage, cmd)
	if len(args) == 0 {
		t.Fatalf("the final stage has no %s", cmd)
	}
	return args[len(args)-1]
}

// goAtLeast compares major.minor versions.
func goAtLeast(have, want []string) bool {
	n := func(s []string) [2]int {
		var v [2]int
		for i := range v {
			for _, c := range s[i] {
				v[i] = v[i]*10 + int(c-'0')
			}
		}
		return v
	}
	h, w := n(have), n(want)
	return h[0] > w[0] || h[0] == w[0] && h[1] >= w[1]
}

// dockerignore is a .dockerignore, matched as Docker does: a path is left
// out when the last pattern that matches it or one of its parent
// directories does not begin with "!".
type dockerignore []struct {
	re      *regexp.Regexp
	include bool
}

func readDockerignore(t *testing.T) dockerignore {
	t.Helper()
	data, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var d dockerignore
	for line := range strings.SplitSeq(string(data), "\n") {
		p := strings.TrimSpace(line)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		include := strings.HasPrefix(p, "!")
		p = path.Clean(strings.TrimPrefix(strings.TrimPrefix(p, "!"), "/"))
		var re strings.Builder
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case p[i] == '*':
				re.WriteString("[^/]*")
			case p[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		d = append(d, struct {
			re      *regexp.Regexp
			include bool
		}{regexp.MustCompile("^" + re.String() + "$"), include})
	}
	return d
}

func (d dockerignore) excludes(file string) bool {
	excluded := false
	for _, p := range d {
		for dir := file; dir != "."; dir = path.Dir(dir) {
			if p.re.MatchString(dir) {
				excluded = !p.include
				break
			}
		}
	}
	return excluded
}

func TestDockerignore(t *testing.T) {
	ignore := readDockerignore(t)
	for _, file := range []string{
		".git", ".git/HEAD", ".git/objects/ab/cdef", // history, and size
		"outagebot.db", "data/outagebot.db", ".outagebot.db.123.tmp", "outagebot.db.bak", // subscribers' chat ids
		"outagebot.env", "deploy/.env", // the token
		"outagebot", "outagebot.test", // local builds
	} {
		if !ignore.excludes(file) {
			t.Errorf(".dockerignore lets %s into the build context", file)
		}
	}
	// Everything the build reads must be there.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to list the build's files: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-f", `{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}
{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	needed := []string{"go.mod", "go.sum"}
	for _, f := range strings.Fields(string(out)) {
		needed = append(needed, strings.TrimPrefix(f, wd+"/"))
	}
	if len(needed) < 20 {
		t.Fatalf("go list found only %q", needed)
	}
	for _, f := range needed {
		if ignore.excludes(f) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", f)
		}
	}
}

func TestCompose(t *testing.T) {
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build       struct{ Context string }
			Restart     string
			EnvFile     any `yaml:"env_file"`
			Environment any
			Volumes     []string
			Ports       []string
			Healthcheck struct{ Test []string }
		}
		Volumes map[string]any
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatal(err)
	}
	if len(compose.Services) != 1 {
		t.Fatalf("%d services, want the bot alone", len(compose.Services))
	}
	final := readDockerfile(t, "Dockerfile")
	image := final[len(final)-1]
	entry := execForm(t, "ENTRYPOINT", lastOf(t, image, "ENTRYPOINT"))
	dataDir := path.Dir(envOf(image)["OUTAGEBOT_DB"])
	for name, svc := range compose.Services {
		if svc.Build.Context != "." {
			t.Errorf("%s builds %q, want this directory", name, svc.Build.Context)
		}
		if !slices.Contains([]string{"always", "unless-stopped", "on-failure"}, svc.Restart) {
			t.Errorf("%s: restart %q, want it restarted", name, svc.Restart)
		}
		// The settings, the token among them, come from a file that git
		// and the build context both leave out, never from compose.yaml.
		envFile, _ := svc.EnvFile.(string)
		if envFile == "" {
			t.Errorf("%s: env_file %v, want one file", name, svc.EnvFile)
		} else {
			checkEnvFile(t, envFile)
		}
		if svc.Environment != nil {
			t.Errorf("%s: environment %v in compose.yaml: settings go in %s", name, svc.Environment, envFile)
		}
		volume := slices.IndexFunc(svc.Volumes, func(v string) bool {
			src, dst, _ := strings.Cut(v, ":")
			_, declared := compose.Volumes[src]
			return declared && dst == dataDir
		})
		if volume < 0 {
			t.Errorf("%s: volumes %q, want a named volume on %s", name, svc.Volumes, dataDir)
		}
		if got := svc.Healthcheck.Test; !slices.Equal(got, []string{"CMD", entry[0], "healthcheck"}) {
			t.Errorf("%s: healthcheck %q, want [CMD %s healthcheck]", name, got, entry[0])
		}
		if !slices.ContainsFunc(svc.Ports, func(p string) bool { return strings.HasSuffix(p, ":9090") }) {
			t.Errorf("%s: ports %q, want 9090 published", name, svc.Ports)
		}
	}
}

// checkEnvFile checks that the env file is kept out of git and of the
// build context, and that its example sets only variables outagebot reads.
func checkEnvFile(t *testing.T, file string) {
	t.Helper()
	if !readDockerignore(t).excludes(file) {
		t.Errorf(".dockerignore lets %s, which holds the token, into the build context", file)
	}
	gitignore, err := os.ReadFile(".gitignore")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(gitignore)), "/"+file) {
		t.Errorf(".gitignore does not keep %s out of git", file)
	}
	example, err := os.ReadFile(file + ".example")
	if err != nil {
		t.Fatalf("no example of %s: %v", file, err)
	}
	known := map[string]bool{}
	for _, v := range environment() {
		known[v.name] = true
	}
	for line := range strings.SplitSeq(string(example), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if !ok || !known[name] {
			t.Errorf("%s.example: %q is not a variable outagebot reads", file, line)
		}
	}
	if !strings.Contains(string(example), "\nTELEGRAM_TOKEN=") {
		t.Errorf("%s.example has no TELEGRAM_TOKEN", file)
	}
}

func TestLicenseAndCI(t *testing.T) {
	license, err := os.ReadFile("LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Apache License\n", "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS", "APPENDIX: How to apply the Apache License"} {
		if !strings.Contains(string(license), want) {
			t.Errorf("LICENSE lacks %q: not the full Apache-2.0 text", want)
		}
	}
	data, err := os.ReadFile(".github/workflows/ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var ci struct {
		On   map[string]any
		Jobs map[string]struct {
			Steps []struct{ Run string }
		}
	}
	if err := yaml.Unmarshal(data, &ci); err != nil {
		t.Fatal(err)
	}
	for _, event := range []string{"push", "pull_request"} {
		if _, ok := ci.On[event]; !ok {
			t.Errorf("CI does not run on %s", event)
		}
	}
	runsCI := false
	for _, job := range ci.Jobs {
		for _, step := range job.Steps {
			runsCI = runsCI || regexp.MustCompile(`(^|\s)(bash )?\.ci/run$`).MatchString(strings.TrimSpace(step.Run))
		}
	}
	if !runsCI {
		t.Error("no CI step runs .ci/run")
	}
}
