package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	"go.yaml.in/yaml/v3"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/config"
)

// shellCommands returns the commands of the page's sh blocks, in order: a
// line ending in a backslash goes on on the next; comments are dropped.
func (m markdown) shellCommands() []string {
	var out []string
	for _, f := range m.fences() {
		if f.lang != "sh" {
			continue
		}
		cmd := ""
		for _, l := range f.lines {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "#") {
				continue
			}
			if i := strings.Index(l, " #"); i >= 0 {
				l = strings.TrimSpace(l[:i])
			}
			if more, ok := strings.CutSuffix(l, `\`); ok {
				cmd += strings.TrimSpace(more) + " "
				continue
			}
			if cmd += l; cmd != "" {
				out = append(out, strings.Join(strings.Fields(cmd), " "))
			}
			cmd = ""
		}
	}
	return out
}

// readmeWorld is where the README's commands run: a scratch directory with
// the binary the README's go build line builds, on PATH as `outagebot` and
// in the directory as `./outagebot`; a fake Telegram that takes the
// README's token; fake Meta services behind a fast configuration; and the
// operator's settings a bot started from the README would be given.
type readmeWorld struct {
	dir    string   // the working directory
	env    []string // every command's whole environment
	listen string   // OUTAGEBOT_LISTEN
	bot    *runningBot
}

// runningBot is a bot the README started, still running.
type runningBot struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{} // closed once cmd.Wait returned
	err  error         // cmd.Wait's error, once done
}

// stop sends SIGTERM, as a service manager would, and returns the exit
// code: the bot must stop within 10 s.
func (b *runningBot) stop(t *testing.T) int {
	t.Helper()
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
		t.Fatalf("the bot did not stop within 10 s of SIGTERM; log:\n%s", b.log)
	}
	var exit *exec.ExitError
	switch {
	case b.err == nil:
		return 0
	case errors.As(b.err, &exit):
		return exit.ExitCode()
	default:
		t.Fatalf("the bot: %v", b.err)
		return -1
	}
}

// shell runs one command line with bash, as a reader would paste it.
func (w *readmeWorld) shell(line string) *exec.Cmd {
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir, cmd.Env = w.dir, w.env
	return cmd
}

// run runs one command line to its end.
func (w *readmeWorld) run(t *testing.T, line string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut syncBuffer
	cmd := w.shell(line)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("%s: %v", line, err)
	}
	return code, out.String(), errOut.String()
}

// readmeForm is a kind of command the README may show, and how the test
// proves that it works.
type readmeForm struct {
	name  string
	re    *regexp.Regexp
	check func(t *testing.T, w *readmeWorld, cmd string, m []string)
}

// readmeForms are the commands the README may show. Each is run here as
// written, or, where it needs what no test may use (the module proxy,
// a Docker daemon, CI itself), checked against what runs it.
func readmeForms(t *testing.T, healthyStart []string) []readmeForm {
	ciRuns := ciCommands(t)
	inCI := func(t *testing.T, _ *readmeWorld, cmd string, _ []string) {
		if !slices.Contains(ciRuns, cmd) {
			t.Errorf("%q is not run by CI (.github/workflows/ci.yml): add it there as written", cmd)
		}
	}
	return []readmeForm{{
		// Needs the module proxy: the path must be this module's, whose
		// root is the command (this test is its package main).
		name: "go install",
		re:   regexp.MustCompile(`^go install (\S+)@latest$`),
		check: func(t *testing.T, _ *readmeWorld, _ string, m []string) {
			mod, err := os.ReadFile("go.mod")
			if err != nil {
				t.Fatal(err)
			}
			if want := "module " + m[1] + "\n"; !strings.HasPrefix(string(mod), want) {
				t.Errorf("go install %s@latest: go.mod does not begin %q", m[1], want)
			}
		},
	}, {
		// Run before every other command: see testReadmeCommands.
		name:  "go build",
		re:    regexp.MustCompile(`^go build -o outagebot \.$`),
		check: func(*testing.T, *readmeWorld, string, []string) {},
	}, {
		name: "start the bot",
		re:   regexp.MustCompile(`^TELEGRAM_TOKEN=\S+ (?:\./)?outagebot$`),
		check: func(t *testing.T, w *readmeWorld, cmd string, _ []string) {
			if w.bot != nil {
				if code := w.bot.stop(t); code != exitOK {
					t.Errorf("the bot stopped with exit %d; log:\n%s", code, w.bot.log)
				}
				w.bot = nil
			}
			b := &runningBot{cmd: w.shell(cmd), log: &syncBuffer{}, done: make(chan struct{})}
			b.cmd.Stderr = b.log
			if err := b.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { b.err = b.cmd.Wait(); close(b.done) }()
			w.bot = b
			const running = `msg="outagebot is running"`
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(b.log.String(), running) {
				select {
				case <-b.done:
					t.Fatalf("%s: the bot stopped (%v); log:\n%s", cmd, b.err, b.log)
				case <-time.After(50 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: no %s within 20 s; log:\n%s", cmd, running, b.log)
				}
			}
			// The README's healthy start, line by line, in order.
			log := b.log.String()
			at := 0
			for _, want := range healthyStart {
				i := strings.Index(log[at:], want)
				if i < 0 {
					t.Errorf("%s: the log lacks %s after what came before, as the README's healthy start shows; log:\n%s", cmd, want, log)
					break
				}
				at += i + len(want)
			}
		},
	}, {
		name: "outagebot help",
		re:   regexp.MustCompile(`^outagebot help$`),
		check: func(t *testing.T, w *readmeWorld, cmd string, _ []string) {
			if code, out, errOut := w.run(t, cmd); code != exitOK || !strings.Contains(out, "Usage:") {
				t.Errorf("%s: exit %d, %q %q", cmd, code, out, errOut)
			}
		},
	}, {
		name: "outagebot version",
		re:   regexp.MustCompile(`^outagebot version$`),
		check: func(t *testing.T, w *readmeWorld, cmd string, _ []string) {
			if code, out, errOut := w.run(t, cmd); code != exitOK || !strings.HasPrefix(out, "outagebot ") || !strings.Contains(out, "\nrevision: ") {
				t.Errorf("%s: exit %d, %q %q", cmd, code, out, errOut)
			}
		},
	}, {
		name: "outagebot check",
		re:   regexp.MustCompile(`^outagebot check$`),
		check: func(t *testing.T, w *readmeWorld, cmd string, _ []string) {
			if code, out, errOut := w.run(t, cmd); code != exitOK || !strings.Contains(out, "whatsapp") {
				t.Errorf("%s, every service up: exit %d, %q %q; want 0 and the table", cmd, code, out, errOut)
			}
		},
	}, {
		// The bot just started: it is healthy once its parts have reported.
		name: "outagebot healthcheck",
		re:   regexp.MustCompile(`^outagebot healthcheck$`),
		check: func(t *testing.T, w *readmeWorld, cmd string, _ []string) {
			if w.bot == nil {
				t.Fatalf("%s: the README shows it before it starts the bot", cmd)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				code, out, errOut := w.run(t, cmd)
				if code == exitOK && strings.Contains(out, "db: ok") {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: exit %d, %q %q; want 0 from the running bot; its log:\n%s", cmd, code, out, errOut, w.bot.log)
				}
				time.Sleep(200 * time.Millisecond)
			}
		},
	}, {
		name: "outagebot config",
		re:   regexp.MustCompile(`^outagebot config > (\S+)$`),
		check: func(t *testing.T, w *readmeWorld, cmd string, m []string) {
			if code, _, errOut := w.run(t, cmd); code != exitOK {
				t.Fatalf("%s: exit %d, %s", cmd, code, errOut)
			}
			if _, err := config.Load(filepath.Join(w.dir, m[1])); err != nil {
				t.Errorf("%s: the file it wrote is refused: %v", cmd, err)
			}
		},
	}, {
		// The bot runs: the copy comes through its /backup.
		name: "outagebot backup",
		re:   regexp.MustCompile(`^outagebot backup (.+)$`),
		check: func(t *testing.T, w *readmeWorld, cmd string, _ []string) {
			if w.bot == nil {
				t.Fatalf("%s: the README shows it before it starts the bot", cmd)
			}
			code, out, errOut := w.run(t, cmd)
			file, ok := strings.CutPrefix(strings.TrimSpace(out), "wrote ")
			if _, file, _ = strings.Cut(file, " bytes to "); code != exitOK || !ok || file == "" {
				t.Fatalf("%s: exit %d, %q %q", cmd, code, out, errOut)
			}
			path := filepath.Join(w.dir, file)
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s: the copy: %v, %v; want mode 0600", cmd, fi, err)
			}
			db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
			if err != nil {
				t.Fatalf("%s: the copy is no database: %v", cmd, err)
			}
			defer db.Close()
			if err := db.View(func(tx *bbolt.Tx) error {
				n := 0
				tx.ForEach(func([]byte, *bbolt.Bucket) error { n++; return nil })
				if n == 0 {
					return errors.New("no buckets")
				}
				return nil
			}); err != nil {
				t.Errorf("%s: the copy: %v", cmd, err)
			}
		},
	}, {
		name: "the settings file",
		re:   regexp.MustCompile(`^install -m 600 outagebot\.env\.example outagebot\.env$`),
		check: func(t *testing.T, w *readmeWorld, cmd string, _ []string) {
			if code, out, errOut := w.run(t, cmd); code != 0 {
				t.Fatalf("%s: exit %d, %s%s", cmd, code, out, errOut)
			}
			fi, err := os.Stat(filepath.Join(w.dir, "outagebot.env"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, %v; want a file of mode 0600", cmd, fi, err)
			}
		},
	}, {
		name:  "docker",
		re:    regexp.MustCompile(`^(?:REVISION=\$\(git rev-parse HEAD\) )?docker (?:compose|build|run) `),
		check: inCI,
	}, {
		name:  "the tests",
		re:    regexp.MustCompile(`^bash \.ci/run$`),
		check: inCI,
	}}
}

// ciCommands returns the command lines of CI's steps, a backslash going on
// on the next line.
func ciCommands(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(".github/workflows/ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var ci struct {
		Jobs map[string]struct {
			Steps []struct{ Run string }
		}
	}
	if err := yaml.Unmarshal(data, &ci); err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, job := range ci.Jobs {
		for _, step := range job.Steps {
			// A step's script, read as the README's sh blocks are.
			script := markdown{lines: append(append([]string{"```sh"}, strings.Split(step.Run, "\n")...), "```")}
			runs = append(runs, script.shellCommands()...)
		}
	}
	return runs
}

// freeAddr returns a loopback address nothing listens on at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestReadmeCommands runs the README's commands as written, in the
// README's order, in a scratch directory: it builds the binary with the
// README's go build line, starts the bot as the quick start does (against
// a fake Telegram and fake Meta services given by the environment, never
// the internet), and runs the other commands beside it. Commands that need
// what no test may use must be run by CI as written. Every command of the
// README must be one of the forms above, and every form must be in the
// README, so that the README cannot shed its commands unnoticed.
func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the README's commands with it")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skipf("no bash: %v", err)
	}
	readme := readMarkdown(t, "README.md")
	cmds := readme.shellCommands()

	// The README's healthy start: the msg of each line.
	var healthyStart []string
	for _, f := range readme.fences() {
		if len(f.lines) > 0 && strings.HasPrefix(f.lines[0], "level=") {
			for _, l := range f.lines {
				if m := regexp.MustCompile(`msg="[^"]*"`).FindString(l); m != "" {
					healthyStart = append(healthyStart, m)
				}
			}
		}
	}
	if len(healthyStart) < 3 {
		t.Fatalf("the README shows no healthy start log (found %q)", healthyStart)
	}

	forms := readmeForms(t, healthyStart)
	type step struct {
		cmd  string
		form readmeForm
		m    []string
	}
	var steps []step
	used := map[string]int{}
	var build, token string
	for _, cmd := range cmds {
		i := slices.IndexFunc(forms, func(f readmeForm) bool { return f.re.MatchString(cmd) })
		if i < 0 {
			t.Errorf("README command %q is none that this test runs or checks: add its form to readmeForms", cmd)
			continue
		}
		f := forms[i]
		used[f.name]++
		steps = append(steps, step{cmd, f, f.re.FindStringSubmatch(cmd)})
		switch f.name {
		case "go build":
			build = cmd
		case "start the bot":
			tok, _, _ := strings.Cut(strings.TrimPrefix(cmd, "TELEGRAM_TOKEN="), " ")
			if token != "" && tok != token {
				t.Errorf("the README starts the bot with two tokens, %q and %q", token, tok)
			}
			token = tok
		}
	}
	for _, f := range forms {
		if used[f.name] == 0 {
			t.Errorf("the README shows no %q command; drop its form or show it", f.name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	dir, bin := t.TempDir(), t.TempDir()
	// The README's go build line, writing to bin rather than into the
	// repository.
	args := strings.Fields(build)
	args[slices.Index(args, "-o")+1] = filepath.Join(bin, "outagebot")
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	if err := os.Symlink(filepath.Join(bin, "outagebot"), filepath.Join(dir, "outagebot")); err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("outagebot.env.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "outagebot.env.example"), example, 0o644); err != nil {
		t.Fatal(err)
	}

	tg := bottest.NewServer(token)
	defer tg.Close()
	wa, ig, control := newMeta(t), newMeta(t), newMeta(t)
	admin := make([]byte, 16)
	rand.Read(admin)
	w := &readmeWorld{dir: dir, listen: freeAddr(t)}
	w.env = []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + dir,
		"LANG=C.UTF-8",
		"TELEGRAM_API_URL=" + tg.URL,
		"OUTAGEBOT_CONFIG=" + writeConfig(t, wa.URL, ig.URL, control.URL),
		"OUTAGEBOT_LISTEN=" + w.listen,
		"OUTAGEBOT_ADMIN_TOKEN=" + hex.EncodeToString(admin),
	}
	t.Cleanup(func() {
		if w.bot != nil {
			w.bot.stop(t)
		}
	})
	for _, s := range steps {
		t.Run(fmt.Sprintf("%s: %s", s.form.name, s.cmd), func(t *testing.T) {
			s.form.check(t, w, s.cmd, s.m)
		})
	}
	if w.bot == nil {
		t.Fatal("the README never started the bot")
	}
	if code := w.bot.stop(t); code != exitOK {
		t.Errorf("the bot stopped with exit %d, want 0; log:\n%s", code, w.bot.log)
	}
	w.bot = nil
}
