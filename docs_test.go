package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/outagebot/outagebot/config"
)

// The documentation is held to the code: its links resolve, and the
// environment variables, metrics, subcommands, flags, YAML keys, messages,
// tests and fuzz targets it names exist. readme_test.go runs the README's
// commands.

// markdown is one Markdown file of the repository, read once.
type markdown struct {
	path  string // relative to the repository's root, with slashes
	lines []string
}

// fence is a fenced code block.
type fence struct {
	lang  string // the info string: "sh", "yaml", "" …
	line  int    // 1-based line of the opening fence
	lines []string
}

func readMarkdown(t *testing.T, path string) markdown {
	t.Helper()
	data, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	return markdown{path: path, lines: strings.Split(string(data), "\n")}
}

// docs returns README.md and docs/*.md.
func docs(t *testing.T) []markdown {
	t.Helper()
	paths, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 8 {
		t.Fatalf("docs/ holds %d pages: %q", len(paths), paths)
	}
	all := []markdown{readMarkdown(t, "README.md")}
	for _, p := range paths {
		all = append(all, readMarkdown(t, filepath.ToSlash(p)))
	}
	return all
}

// fenceLine opens or closes a fenced block, indented or not (in a list).
var fenceLine = regexp.MustCompile("^\\s*```\\s*(\\S*)")

// fences returns the fenced code blocks.
func (m markdown) fences() []fence {
	var out []fence
	var cur *fence
	for i, l := range m.lines {
		f := fenceLine.FindStringSubmatch(l)
		switch {
		case f != nil && cur == nil:
			cur = &fence{lang: f[1], line: i + 1}
		case f != nil:
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	return out
}

// prose returns the lines outside fenced blocks, each with its number.
func (m markdown) prose() map[int]string {
	out := map[int]string{}
	in := false
	for i, l := range m.lines {
		if fenceLine.MatchString(l) {
			in = !in
			continue
		}
		if !in {
			out[i+1] = l
		}
	}
	return out
}

// codeSpan is an inline code span; doubled backticks do not occur in these
// pages.
var codeSpan = regexp.MustCompile("`([^`]+)`")

// spans returns the inline code spans of the prose, tables included.
func (m markdown) spans() []string {
	var out []string
	for _, l := range m.prose() {
		for _, s := range codeSpan.FindAllStringSubmatch(l, -1) {
			out = append(out, s[1])
		}
	}
	return out
}

var (
	heading = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	mdLink  = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)
)

// anchors returns the anchors GitHub gives the page's headings.
func (m markdown) anchors() map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range m.prose() {
		h := heading.FindStringSubmatch(l)
		if h == nil {
			continue
		}
		slug := slugify(h[2])
		if n := seen[slug]; n > 0 {
			out[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// slugify is GitHub's anchor of a heading: the text as rendered (code
// spans and links reduced to their text, emphasis dropped), lower-cased,
// every character but letters, marks, digits, connector punctuation
// (the underscore), spaces and hyphens dropped, spaces made hyphens.
func slugify(h string) string {
	h = mdLink.ReplaceAllString(h, "$1")
	h = strings.NewReplacer("`", "", "**", "", "*", "").Replace(h)
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.Pc):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSlugify(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"Quick start", "quick-start"},
		{"People's reports: a significance test, in episodes", "peoples-reports-a-significance-test-in-episodes"},
		{"`outagebot healthcheck`", "outagebot-healthcheck"},
		{"Any-of: several targets or resolvers", "any-of-several-targets-or-resolvers"},
		{"Evidence from probes, whatever the failure class", "evidence-from-probes-whatever-the-failure-class"},
		{"outagebot — design", "outagebot--design"},
		{"Answers as of the last round", "answers-as-of-the-last-round"},
		{"control_probes and **roles**", "control_probes-and-roles"},
	} {
		if got := slugify(tc.heading); got != tc.want {
			t.Errorf("slugify(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
}

// TestDocLinks checks that every link of README.md and docs/*.md to a file
// of the repository names one that exists, and that every #anchor names a
// heading of its page.
func TestDocLinks(t *testing.T) {
	pages := map[string]markdown{}
	for _, m := range docs(t) {
		pages[m.path] = m
	}
	checked := 0
	for _, m := range docs(t) {
		for n, l := range m.prose() {
			for _, link := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(l, ""), -1) {
				target := link[2]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				file, anchor, _ := strings.Cut(target, "#")
				dest := m.path
				if file != "" {
					dest = filepath.ToSlash(filepath.Join(filepath.Dir(m.path), file))
					if dest == ".." || strings.HasPrefix(dest, "../") || filepath.IsAbs(file) {
						t.Errorf("%s:%d: %s leaves the repository", m.path, n, target)
						continue
					}
					if _, err := os.Stat(filepath.FromSlash(dest)); err != nil {
						t.Errorf("%s:%d: %s: no such file in the repository", m.path, n, target)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				page, ok := pages[dest]
				if !ok {
					if !strings.HasSuffix(dest, ".md") {
						t.Errorf("%s:%d: %s: an anchor into a file that is not Markdown", m.path, n, target)
						continue
					}
					page = readMarkdown(t, dest)
				}
				if !page.anchors()[anchor] {
					t.Errorf("%s:%d: %s: %s has no heading #%s", m.path, n, target, dest, anchor)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d links into the repository checked: the link pattern no longer finds them", checked)
	}
}

// TestReadmeShape holds the README to what a newcomer needs first: the
// sections in the order they need them, the quick start within the first
// screen, and all of it short.
func TestReadmeShape(t *testing.T) {
	readme := readMarkdown(t, "README.md")
	if n := len(readme.lines); n > 250 {
		t.Errorf("README.md has %d lines; keep it under 250 and move details to docs/", n)
	}
	var sections []string
	for n, l := range readme.prose() {
		if h := heading.FindStringSubmatch(l); h != nil && len(h[1]) == 2 {
			sections = append(sections, fmt.Sprintf("%04d %s", n, h[2]))
		}
	}
	slices.Sort(sections)
	var got []string
	for _, s := range sections {
		got = append(got, s[5:])
	}
	want := []string{"Quick start", "Create the bot", "Commands", "Configuration", "Operating it", "Performance", "Languages", "More"}
	if !slices.Equal(got, want) {
		t.Errorf("README sections = %q, want %q", got, want)
	}
	if first := sections[0]; first[5:] != "Quick start" || first[:4] > "0040" {
		t.Errorf("the quick start begins at line %s, want within the first screen (40 lines)", first[:4])
	}
}

// goFiles returns the repository's Go files, testdata aside.
func goFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata"):
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(path, ".go"):
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// goSources returns the text of the repository's Go files, tests apart.
func goSources(t *testing.T) (code, tests string) {
	t.Helper()
	var c, ts strings.Builder
	for _, path := range goFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(path, "_test.go") {
			ts.Write(data)
		} else {
			c.Write(data)
		}
	}
	return c.String(), ts.String()
}

var (
	envName    = regexp.MustCompile(`\b(?:OUTAGEBOT|TELEGRAM)_[A-Z][A-Z_]*\b`)
	metricName = regexp.MustCompile(`\boutagebot_[a-z][a-z_]*\b`)
	// programLine is a command line of the program: the word after it, if
	// any, is a subcommand or a flag.
	programLine = regexp.MustCompile(`^(?:\$ )?(?:[A-Z_]+=\S+ )*(?:\./|/)?outagebot(?:\s+(\S+))?(.*)$`)
)

// TestDocsNameRealThings checks that what README.md and docs/*.md name
// exists: environment variables the program reads (or, outside the
// README, that a benchmark reads), metrics it registers, subcommands and
// their flags, and, in the README's configuration table, YAML keys.
func TestDocsNameRealThings(t *testing.T) {
	code, tests := goSources(t)
	known := map[string]bool{}
	for _, e := range environment() {
		known[e.name] = true
	}
	flagsOf := map[string][]string{}
	for _, c := range commands() {
		_, out, _ := runCommand(nil, c.name, "-h")
		for _, m := range flagLine.FindAllStringSubmatch(out, -1) {
			flagsOf[c.name] = append(flagsOf[c.name], "-"+m[1])
		}
	}
	counts := map[string]int{}
	for _, m := range docs(t) {
		text := strings.Join(m.lines, "\n")
		for _, name := range envName.FindAllString(text, -1) {
			counts["env"]++
			switch {
			case known[name]:
			case m.path != "README.md" && strings.Contains(tests, `"`+name+`"`):
				// A benchmark's knob, documented with its benchmark.
			default:
				t.Errorf("%s names %s, which outagebot does not read (see `outagebot help`)", m.path, name)
			}
		}
		for _, name := range metricName.FindAllString(text, -1) {
			counts["metric"]++
			if !strings.Contains(code, `"`+name+`"`) {
				t.Errorf("%s names the metric %s, which outagebot does not register", m.path, name)
			}
		}
		lines := m.spans()
		for _, f := range m.fences() {
			for _, l := range f.lines {
				// A console block's commands follow a prompt; the rest is
				// their output.
				if f.lang == "sh" || f.lang == "console" && strings.HasPrefix(l, "$ ") {
					lines = append(lines, l)
				}
			}
		}
		for _, l := range lines {
			inv := programLine.FindStringSubmatch(strings.TrimSpace(l))
			if inv == nil || inv[1] == "" {
				continue
			}
			counts["invocation"]++
			sub, rest := inv[1], strings.Fields(inv[2])
			switch {
			case slices.Contains([]string{"-h", "-help", "--help", "-version", "--version"}, sub):
				continue
			case strings.HasPrefix(sub, "-"):
				// Flags of the default command, run.
				rest, sub = append([]string{sub}, rest...), "run"
			case strings.ToUpper(sub) == sub:
				// A placeholder: outagebot COMMAND -h.
				continue
			}
			if _, ok := lookup(sub); !ok {
				t.Errorf("%s: %q: outagebot has no subcommand %q", m.path, l, sub)
				continue
			}
			for _, arg := range rest {
				if flag, _, _ := strings.Cut(arg, "="); strings.HasPrefix(flag, "-") && flag != "-h" && !slices.Contains(flagsOf[sub], flag) {
					t.Errorf("%s: %q: outagebot %s has no flag %s (it has %q)", m.path, l, sub, flag, flagsOf[sub])
				}
			}
		}
	}
	for _, kind := range []string{"env", "metric", "invocation"} {
		if counts[kind] < 20 {
			t.Errorf("only %d %s names found in the docs: the pattern no longer finds them", counts[kind], kind)
		}
	}
}

// table returns the rows of the page's table whose header begins with
// "| first |", each as its cells.
func table(t *testing.T, page markdown, first string) [][]string {
	t.Helper()
	var rows [][]string
	in := false
	for _, l := range page.lines {
		switch {
		case strings.HasPrefix(l, "| "+first+" |"):
			in = true
		case in && strings.HasPrefix(l, "|---"):
		case in && strings.HasPrefix(l, "|"):
			cells := strings.Split(strings.Trim(l, "|"), " | ")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		case in:
			return rows
		}
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no table headed %q", page.path, first)
	}
	return rows
}

// TestReadmeSettingsTable checks the README's table of settings against
// the program: every variable it reads is there, with the flag of run that
// says it stands for that variable.
func TestReadmeSettingsTable(t *testing.T) {
	readme := readMarkdown(t, "README.md")
	_, runHelp, _ := runCommand(nil, "run", "-h")
	var listed []string
	for _, row := range table(t, readme, "env") {
		env, flag := strings.Trim(row[0], "`"), strings.Trim(row[1], "`")
		listed = append(listed, env)
		if flag == "—" {
			if strings.Contains(runHelp, "env "+env) {
				t.Errorf("README says %s has no flag, but run -h lists one", env)
			}
			continue
		}
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(flag) + ` .*\n.*\(env ` + env + `[;)]`).MatchString(runHelp) {
			t.Errorf("README pairs %s with %s, which run -h does not:\n%s", env, flag, runHelp)
		}
	}
	var all []string
	for _, e := range environment() {
		all = append(all, e.name)
	}
	slices.Sort(all)
	slices.Sort(listed)
	if !slices.Equal(all, listed) {
		t.Errorf("README's settings = %q, want every variable outagebot reads, %q", listed, all)
	}
}

// yamlWords returns every key and scalar value in n.
func yamlWords(n *yaml.Node, into map[string]bool) {
	if n.Kind == yaml.ScalarNode {
		into[n.Value] = true
	}
	for _, c := range n.Content {
		yamlWords(c, into)
	}
}

// TestReadmeConfiguration checks the README's table of YAML keys against
// the effective configuration that `outagebot config` prints, and that
// every YAML example of the README is a configuration outagebot accepts.
func TestReadmeConfiguration(t *testing.T) {
	readme := readMarkdown(t, "README.md")
	code, printed, errOut := runCommand(nil, "config")
	if code != exitOK {
		t.Fatalf("config: exit %d: %s", code, errOut)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(printed), &doc); err != nil {
		t.Fatal(err)
	}
	sections := map[string]*yaml.Node{}
	root := doc.Content[0]
	for i := 0; i < len(root.Content); i += 2 {
		sections[root.Content[i].Value] = root.Content[i+1]
	}
	var keys []string
	for _, row := range table(t, readme, "key") {
		key := strings.Trim(row[0], "`")
		keys = append(keys, key)
		section, ok := sections[key]
		if !ok {
			t.Errorf("README's configuration table names %q, which is no key of `outagebot config`", key)
			continue
		}
		words := map[string]bool{}
		yamlWords(section, words)
		for _, s := range codeSpan.FindAllStringSubmatch(row[1], -1) {
			if w := s[1]; regexp.MustCompile(`^[a-z_]+$`).MatchString(w) && !words[w] {
				t.Errorf("README's configuration table names %q under %s, which `outagebot config` does not have there", w, key)
			}
		}
	}
	var all []string
	for k := range sections {
		all = append(all, k)
	}
	slices.Sort(all)
	slices.Sort(keys)
	if !slices.Equal(all, keys) {
		t.Errorf("README's configuration table = %q, want every top-level key, %q", keys, all)
	}
	examples := 0
	for _, f := range readme.fences() {
		if f.lang != "yaml" {
			continue
		}
		examples++
		if _, err := config.Parse(fmt.Sprintf("README.md:%d", f.line), []byte(strings.Join(f.lines, "\n"))); err != nil {
			t.Errorf("a YAML example of the README is refused: %v", err)
		}
	}
	if examples == 0 {
		t.Error("the README shows no YAML example")
	}
}

// TestReadmeTroubleshooting checks that the messages the README's
// troubleshooting table quotes are the program's: every piece of a quoted
// message between ellipses, of ten characters or more, is in the source (or
// in the Dockerfile, for the image's paths). (docs/operations.md quotes
// whole log lines, values filled in: no substring test fits them.)
func TestReadmeTroubleshooting(t *testing.T) {
	code, _ := goSources(t)
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	corpus := code + string(dockerfile)
	checked := 0
	for _, row := range table(t, readMarkdown(t, "README.md"), "you see") {
		for _, s := range codeSpan.FindAllStringSubmatch(row[0], -1) {
			for piece := range strings.SplitSeq(s[1], "…") {
				if len(piece) < 10 {
					continue
				}
				checked++
				if !strings.Contains(corpus, piece) {
					t.Errorf("README's troubleshooting quotes %q, which outagebot never says", piece)
				}
			}
		}
	}
	if checked < 8 {
		t.Errorf("only %d messages checked", checked)
	}
}

// goTestCommand is a go test command line in the docs.
var goTestCommand = regexp.MustCompile(`^(?:[A-Z_]+=\S+ )*go test (.*)$`)

// TestDocsGoTestCommands checks that every `go test` command the docs show
// names tests, benchmarks or fuzz targets that exist in its package, so
// that the figures they reproduce can still be reproduced.
func TestDocsGoTestCommands(t *testing.T) {
	funcs := map[string][]string{} // package directory → Test, Benchmark and Fuzz functions
	names := func(dir string) []string {
		if got, ok := funcs[dir]; ok {
			return got
		}
		files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no tests in %s", dir)
		}
		var got []string
		for _, f := range files {
			file, err := parser.ParseFile(gotoken.NewFileSet(), f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
					got = append(got, fd.Name.Name)
				}
			}
		}
		funcs[dir] = got
		return got
	}
	checked := 0
	for _, m := range docs(t) {
		lines := m.spans()
		for _, f := range m.fences() {
			if f.lang == "sh" {
				lines = append(lines, f.lines...)
			}
		}
		for _, l := range lines {
			c := goTestCommand.FindStringSubmatch(strings.TrimSpace(l))
			if c == nil {
				continue
			}
			args := shellWords(c[1])
			pkg := "."
			var patterns [][2]string // flag, pattern
			for i := 0; i < len(args); i++ {
				switch a := args[i]; {
				case (a == "-run" || a == "-bench" || a == "-fuzz") && i+1 < len(args):
					patterns = append(patterns, [2]string{a, args[i+1]})
					i++
				case strings.HasPrefix(a, "-"):
					if !strings.Contains(a, "=") && slices.Contains([]string{"-benchtime", "-fuzztime", "-timeout", "-count"}, a) {
						i++
					}
				default:
					pkg = a
				}
			}
			if strings.HasSuffix(pkg, "...") {
				continue
			}
			for _, p := range patterns {
				if p[1] == "^$" {
					continue
				}
				checked++
				prefix := map[string]string{"-run": "Test", "-bench": "Benchmark", "-fuzz": "Fuzz"}[p[0]]
				re, err := regexp.Compile(strings.Split(p[1], "/")[0])
				if err != nil {
					t.Errorf("%s: %q: %v", m.path, l, err)
					continue
				}
				if !slices.ContainsFunc(names(pkg), func(n string) bool { return strings.HasPrefix(n, prefix) && re.MatchString(n) }) {
					t.Errorf("%s: %q: %s %s matches no %s function in %s", m.path, l, p[0], p[1], prefix, pkg)
				}
			}
		}
	}
	if checked < 15 {
		t.Errorf("only %d go test patterns checked: the pattern no longer finds them", checked)
	}
}

// shellWords splits a command line into words as a shell would, for the
// quoting the docs use: single and double quotes, no escapes.
func shellWords(line string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

func TestShellWords(t *testing.T) {
	got := shellWords(`OUTAGEBOT_BENCH_RATE=30 go test -run '^$' -bench "At Limits" -benchtime=1x ./bot/`)
	want := []string{"OUTAGEBOT_BENCH_RATE=30", "go", "test", "-run", "^$", "-bench", "At Limits", "-benchtime=1x", "./bot/"}
	if !slices.Equal(got, want) {
		t.Errorf("shellWords = %q, want %q", got, want)
	}
}

// ciFuzzTargets are the package:Fuzz:executions targets of .ci/run's loop.
var ciFuzzTargets = regexp.MustCompile(`\b([a-z]+):(Fuzz[A-Za-z]+):([0-9]+)\b`)

// TestCIFuzzesEveryTarget checks that .ci/run fuzzes every Fuzz function of
// the repository, and that docs/development.md shows the command for each.
func TestCIFuzzesEveryTarget(t *testing.T) {
	var want []string
	for _, path := range goFiles(t) {
		if !strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(gotoken.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Fuzz") {
				want = append(want, filepath.ToSlash(filepath.Dir(path))+":"+fd.Name.Name)
			}
		}
	}
	if len(want) < 8 {
		t.Fatalf("found only %q", want)
	}
	script, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	executions := map[string]string{}
	for _, m := range ciFuzzTargets.FindAllStringSubmatch(string(script), -1) {
		got = append(got, m[1]+":"+m[2])
		executions[m[1]+":"+m[2]] = m[3]
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf(".ci/run fuzzes %q, want every Fuzz function: %q", got, want)
	}
	dev := readMarkdown(t, "docs/development.md")
	shown := strings.Join(dev.lines, "\n")
	for _, target := range want {
		pkg, fn, _ := strings.Cut(target, ":")
		line := fmt.Sprintf("go test -run '^$' -fuzz '^%s$' -fuzztime %sx -fuzzminimizetime 100x ./%s/", fn, executions[target], pkg)
		if !strings.Contains(shown, line) {
			t.Errorf("docs/development.md does not show %s", line)
		}
	}
}

// logMessage is the message of a log line the docs quote.
var logMessage = regexp.MustCompile(`msg=\\?"((?:[^"\\]|\\[^"])*)\\?"`)

// TestDocsLogMessages checks that the log lines the docs quote are the
// program's: each message is a string of the source, or, where the program
// appends details after a colon, begins with one.
func TestDocsLogMessages(t *testing.T) {
	code, _ := goSources(t)
	checked := 0
	for _, m := range docs(t) {
		for _, q := range logMessage.FindAllStringSubmatch(strings.Join(m.lines, "\n"), -1) {
			msg, _, _ := strings.Cut(q[1], "…")
			checked++
			if strings.Contains(code, `"`+msg+`"`) {
				continue
			}
			if head, _, ok := strings.Cut(msg, ": "); ok && strings.Contains(code, `"`+head+`: "`) {
				continue
			}
			if !strings.Contains(code, `"`+msg) {
				t.Errorf("%s quotes the log message %q, which outagebot never logs", m.path, msg)
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d log messages checked", checked)
	}
}
