package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot"
	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/store"
)

const adminToken = "0123456789abcdef-admin"

var opsAddrRE = regexp.MustCompile(`msg="operator endpoints listening".* addr=(\S+)`)

// opsAddr waits for the bot to log its operator address and returns it.
func opsAddr(t *testing.T, p *process) string {
	t.Helper()
	var addr string
	eventually(t, "the operator endpoints", func() bool {
		m := opsAddrRE.FindStringSubmatch(p.stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, p.stderr)
	return addr
}

// fetch sends a request to the bot's operator endpoints and returns the
// status and body. It keeps no connection open, for goleak.
func fetch(t *testing.T, method, url, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func runCommand(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestOperatorEndpoints(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	h := newMeta(t)
	dbPath := filepath.Join(t.TempDir(), "outagebot.db")
	env := map[string]string{
		"TELEGRAM_TOKEN":        token,
		"TELEGRAM_API_URL":      tg.URL,
		"OUTAGEBOT_DB":          dbPath,
		"OUTAGEBOT_CONFIG":      writeConfig(t, h.URL, h.URL, h.URL),
		"OUTAGEBOT_LISTEN":      "127.0.0.1:0",
		"OUTAGEBOT_ADMIN_TOKEN": adminToken,
		"OUTAGEBOT_LOG_LEVEL":   "debug",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := start(t, env)
	base := "http://" + opsAddr(t, p)

	tg.SendText(bottest.Chat{ID: 42, Type: "private"}, bottest.User{ID: 42, FirstName: "Ann"}, "/subscribe whatsapp")
	if _, err := tg.WaitMessages(ctx, 1); err != nil {
		t.Fatalf("no reply to /subscribe: %v\n%s", err, p.stderr)
	}
	eventually(t, "a probe round", func() bool { return strings.Contains(p.stderr.String(), "round done") }, p.stderr)

	code, body := fetch(t, http.MethodGet, base+"/healthz", "", "")
	if code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200:\n%s", code, body)
	}
	for _, want := range []string{"poller: ok", "sender: ok", "scheduler: ok", "db: ok"} {
		if !strings.Contains(body, want) {
			t.Errorf("/healthz lacks %q:\n%s", want, body)
		}
	}

	// Scrapes are polled: a handler is counted once it has returned, after
	// its reply is out.
	wantMetrics := []string{
		`outagebot_service_state{service="whatsapp",state="operational"} 1`,
		`outagebot_probe_results_total{class="ok",probe="web",service="whatsapp"} `,
		`outagebot_probe_results_total{class="ok",probe="local",service="(control)"} `,
		`outagebot_probe_duration_seconds_count{probe="api",service="whatsapp"} `,
		`outagebot_outbox_pending_chats 0`,
		`outagebot_updates_handled_total{kind="message"} 1`,
		`outagebot_handler_duration_seconds_count{kind="message"} 1`,
		`outagebot_getupdates_total{result="ok"} `,
		`outagebot_rounds_total `,
		`outagebot_offline 0`,
		`outagebot_build_info{goversion="` + runtime.Version() + `",revision="`,
		`go_goroutines `,
	}
	var missing []string
	eventually(t, "every metric", func() bool {
		_, metrics := fetch(t, http.MethodGet, base+"/metrics", "", "")
		missing = missing[:0]
		for _, m := range wantMetrics {
			if !strings.Contains(metrics, m) {
				missing = append(missing, m)
			}
		}
		return len(missing) == 0
	}, report(func() string { return fmt.Sprintf("missing %q; logs:\n%s", missing, p.stderr) }))

	// The database is backed up while the bot runs, through the bot.
	if code, _ := fetch(t, http.MethodGet, base+"/backup", "Bearer wrong-token-0123456789", ""); code != http.StatusUnauthorized {
		t.Errorf("/backup with a wrong token = %d, want 401", code)
	}
	file := filepath.Join(t.TempDir(), "copy.db")
	if code, out, errOut := runCommand(env, "backup", "-from", base, file); code != 0 || !strings.Contains(out, "wrote") {
		t.Fatalf("backup while running: exit %d, %q %q", code, out, errOut)
	}
	checkBackup(t, file)
	// The live database is no place for a backup, by whatever name: the
	// bot would go on writing to a file that no longer has one.
	live, err := os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	otherDB := map[string]string{"OUTAGEBOT_DB": filepath.Join(t.TempDir(), "other.db"), "OUTAGEBOT_ADMIN_TOKEN": adminToken}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"its own OUTAGEBOT_DB", env, "it is the live database"},
		{"the OUTAGEBOT_DB of a bot started with other settings", otherDB, "a running process holds open"},
	} {
		code, _, errOut := runCommand(tc.env, "backup", "-from", base, dbPath)
		if code != exitUsage || !strings.Contains(errOut, "refusing to write over "+dbPath) || !strings.Contains(errOut, tc.want) {
			t.Errorf("backup onto %s: exit %d, %q; want 2 and %q", tc.name, code, errOut, tc.want)
		}
	}
	if now, err := os.Stat(dbPath); err != nil || !os.SameFile(live, now) {
		t.Errorf("the live database was replaced (%v)", err)
	}
	// The image's HEALTHCHECK.
	if code, out, errOut := runCommand(env, "healthcheck", "-from", base); code != exitOK || !strings.Contains(out, "db: ok") {
		t.Errorf("healthcheck of a healthy bot: exit %d, %q %q; want 0 and its report", code, out, errOut)
	}
	// Without the token the file is read directly, and the lock stops it.
	noToken := map[string]string{"OUTAGEBOT_DB": dbPath}
	if code, _, errOut := runCommand(noToken, "backup", file); code != 1 || !strings.Contains(errOut, "OUTAGEBOT_ADMIN_TOKEN") {
		t.Errorf("backup of a locked DB: exit %d, %q; want 1 and how to do it", code, errOut)
	}

	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM; logs:\n%s", code, p.stderr)
	}
	// With the bot stopped, nothing answers at its address: the file is
	// read directly.
	stopped := map[string]string{"OUTAGEBOT_DB": dbPath, "OUTAGEBOT_LISTEN": strings.TrimPrefix(base, "http://"),
		"OUTAGEBOT_ADMIN_TOKEN": adminToken}
	file2 := filepath.Join(t.TempDir(), "copy2.db")
	if code, _, errOut := runCommand(stopped, "backup", file2); code != 0 || !strings.Contains(errOut, "reading "+dbPath+" directly") {
		t.Fatalf("backup of a stopped bot: exit %d, %q", code, errOut)
	}
	checkBackup(t, file2)
	if strings.Contains(p.stderr.String(), token) {
		t.Error("the token appears in the logs")
	}
}

// report is a fmt.Stringer that says what a failed wait was missing.
type report func() string

func (r report) String() string { return r() }

// checkBackup checks that file is a private copy of the database with chat
// 42's subscription.
func checkBackup(t *testing.T, file string) {
	t.Helper()
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	db, err := store.Open(file, store.Options{})
	if err != nil {
		t.Fatalf("the backup is not a database: %v", err)
	}
	defer db.Close()
	subs, err := db.Subscriptions(42)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"whatsapp"}, subs); diff != "" {
		t.Errorf("subscriptions in the backup (-want +got):\n%s", diff)
	}
}

func TestWebhookMode(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	h := newMeta(t)
	env := map[string]string{
		"TELEGRAM_TOKEN":        token,
		"TELEGRAM_API_URL":      tg.URL,
		"OUTAGEBOT_DB":          filepath.Join(t.TempDir(), "outagebot.db"),
		"OUTAGEBOT_CONFIG":      writeConfig(t, h.URL, h.URL, h.URL),
		"OUTAGEBOT_LISTEN":      "127.0.0.1:0",
		"OUTAGEBOT_WEBHOOK_URL": "https://bot.example/tg/hook",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := start(t, env)
	hook := "http://" + opsAddr(t, p) + "/tg/hook"
	if err := tg.Wait(ctx, func(s *bottest.Server) bool { return len(s.Calls("setWebhook")) == 1 }); err != nil {
		t.Fatalf("no setWebhook: %v\n%s", err, p.stderr)
	}
	set := tg.Calls("setWebhook")[0]
	if got := set.Param("url"); got != "https://bot.example/tg/hook" {
		t.Errorf("setWebhook url = %q", got)
	}
	secret := set.Param("secret_token")

	update := `{"update_id":1,"message":{"message_id":1,"date":1772712000,` +
		`"chat":{"id":42,"type":"private","first_name":"Ann"},"from":{"id":42,"first_name":"Ann"},` +
		`"text":"/help","entities":[{"type":"bot_command","offset":0,"length":5}]}}`
	post := func(secret string) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, strings.NewReader(update))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set(bot.SecretHeader, secret)
		}
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(""); code != http.StatusUnauthorized {
		t.Errorf("update without the secret: %d, want 401", code)
	}
	if code := post(strings.Repeat("0", len(secret))); code != http.StatusUnauthorized {
		t.Errorf("update with a wrong secret: %d, want 401", code)
	}
	if code := post(secret); code != http.StatusOK {
		t.Errorf("update with the secret: %d, want 200", code)
	}
	msgs, err := tg.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatalf("no reply to the pushed /help: %v\n%s", err, p.stderr)
	}
	if len(msgs) != 1 || msgs[0].ChatID != 42 {
		t.Errorf("replies = %+v, want one to chat 42", msgs)
	}

	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM; logs:\n%s", code, p.stderr)
	}
	if n := len(tg.Calls("getUpdates")); n != 0 {
		t.Errorf("%d getUpdates calls in webhook mode, want none", n)
	}
	if n := len(tg.Calls("deleteWebhook")); n != 1 {
		t.Errorf("%d deleteWebhook calls at shutdown, want 1", n)
	}
}

func TestOpsUsageErrors(t *testing.T) {
	with := func(kv ...string) map[string]string {
		env := map[string]string{"TELEGRAM_TOKEN": token}
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"webhook without listen address", nil, with("OUTAGEBOT_WEBHOOK_URL", "https://bot.example/hook"), "needs OUTAGEBOT_LISTEN"},
		{"webhook over plain HTTP", []string{"-listen", "127.0.0.1:0", "-webhook-url", "http://bot.example/hook"}, with(), "not an https:// URL"},
		{"webhook on an operator path", nil, with("OUTAGEBOT_LISTEN", ":0", "OUTAGEBOT_WEBHOOK_URL", "https://bot.example/metrics"), "path /metrics is the operator's"},
		{"short admin token", nil, with("OUTAGEBOT_ADMIN_TOKEN", "hunter2"), "shorter than 16"},
		{"backup without a file", []string{"backup"}, nil, "usage: outagebot backup"},
		{"backup from a bot without the token", []string{"backup", "-from", "http://127.0.0.1:9090", "x.db"}, nil, "-from needs OUTAGEBOT_ADMIN_TOKEN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCommand(tc.env, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

func TestWebhookPattern(t *testing.T) {
	tests := []struct {
		url, want string
		ok        bool
	}{
		{"https://bot.example/tg/hook", "POST /tg/hook", true},
		{"https://bot.example", "POST /{$}", true},
		{"https://bot.example:8443/hook/", "POST /hook/{$}", true},
		{"http://bot.example/hook", "", false},
		{"https:///hook", "", false},
		{"https://bot.example/healthz", "", false},
		{"https://bot.example/feed.atom", "", false},
		{"https://bot.example/status.json", "", false},
		{"https://bot.example/hook/{id}", "", false},
		{"://", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			got, err := webhookPattern(tc.url)
			if got != tc.want || (err == nil) != tc.ok {
				t.Errorf("webhookPattern(%q) = %q, %v; want %q, ok %v", tc.url, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestListenURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":               "",
		":9090":          "http://127.0.0.1:9090",
		"0.0.0.0:9090":   "http://127.0.0.1:9090",
		"[::]:9090":      "http://127.0.0.1:9090",
		"[::1]:9090":     "http://[::1]:9090",
		"10.1.2.3:9090":  "http://10.1.2.3:9090",
		"localhost:9090": "http://localhost:9090",
	} {
		if got := listenURL(addr); got != want {
			t.Errorf("listenURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestWriteAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("connection reset")
	err := writeAtomically(path, func(w io.Writer) error {
		io.WriteString(w, "half of the n")
		return failed
	})
	if !errors.Is(err, failed) {
		t.Errorf("writeAtomically = %v, want %v", err, failed)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("after a failed write the file holds %q, want the old content", got)
	}
	if err := writeAtomically(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Errorf("file holds %q, want new", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the backup (no temporary leftovers)", len(entries))
	}
}

func TestHealthzAnswersWhileTelegramIsOutOfReach(t *testing.T) {
	env := map[string]string{
		"TELEGRAM_TOKEN":   token,
		"TELEGRAM_API_URL": "http://" + closedPort(t),
		"OUTAGEBOT_DB":     filepath.Join(t.TempDir(), "outagebot.db"),
		"OUTAGEBOT_LISTEN": "127.0.0.1:0",
	}
	p := start(t, env)
	base := "http://" + opsAddr(t, p)
	eventually(t, "a failed getMe", func() bool {
		return strings.Contains(p.stderr.String(), "cannot reach Telegram; retrying")
	}, p.stderr)
	code, body := fetch(t, http.MethodGet, base+"/healthz", "", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "telegram: not connected yet, trying since") ||
		!strings.Contains(body, "connection refused") {
		t.Errorf("/healthz while getMe retries = %d %q; want 503 saying Telegram is not reached, and why", code, body)
	}
	if code, metrics := fetch(t, http.MethodGet, base+"/metrics", "", ""); code != http.StatusOK || !strings.Contains(metrics, "outagebot_build_info{") {
		t.Errorf("/metrics while getMe retries = %d, want 200 with outagebot_build_info:\n%s", code, metrics)
	}
	if code, _, _ := runCommand(env, "healthcheck", "-from", base); code != exitFailed {
		t.Errorf("healthcheck while getMe retries: exit %d, want 1", code)
	}
	if code := p.stop(t); code != exitOK {
		t.Errorf("exit %d after SIGTERM while connecting, want 0; logs:\n%s", code, p.stderr)
	}
	if strings.Contains(p.stderr.String(), token) {
		t.Error("the token appears in the logs")
	}
}

func TestHealthcheckOfABotThatIsDown(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"nothing listens", map[string]string{"OUTAGEBOT_LISTEN": closedPort(t)}, nil, "no answer"},
		{"nothing listens at -from", nil, []string{"-from", "http://" + closedPort(t)}, "no answer"},
		{"no address to ask", nil, nil, "set OUTAGEBOT_LISTEN"},
		// Docker reserves exit code 2: a bad address is unhealthy too.
		{"a bad address", map[string]string{"OUTAGEBOT_LISTEN": "bad"}, nil, "OUTAGEBOT_LISTEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCommand(tc.env, append([]string{"healthcheck"}, tc.args...)...)
			if code != exitFailed || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
		})
	}
}

func TestOfflineIsUnhealthyAndTheBoardShowsUnknown(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	tg.AddChannel("outages", -100777)
	h, control := newMeta(t), newMeta(t)
	env := map[string]string{
		"TELEGRAM_TOKEN":    token,
		"TELEGRAM_API_URL":  tg.URL,
		"OUTAGEBOT_DB":      filepath.Join(t.TempDir(), "outagebot.db"),
		"OUTAGEBOT_CONFIG":  writeConfig(t, h.URL, h.URL, control.URL),
		"OUTAGEBOT_LISTEN":  "127.0.0.1:0",
		"OUTAGEBOT_CHANNEL": "@outages",
	}
	p := start(t, env)
	base := "http://" + opsAddr(t, p)
	board := func() string {
		msgs := slices.DeleteFunc(tg.MessagesTo(-100777), func(m bottest.Message) bool { return !statusMessage(m) })
		if len(msgs) == 0 {
			return ""
		}
		return msgs[len(msgs)-1].Plain()
	}
	eventually(t, "a green board", func() bool { return strings.Contains(board(), "🟢 WhatsApp") }, p.stderr)
	if code, body := fetch(t, http.MethodGet, base+"/healthz", "", ""); code != http.StatusOK {
		t.Fatalf("/healthz online = %d:\n%s", code, body)
	}

	// This machine is offline: its control probe fails, and so does every
	// probe of Meta. (A control probe failing while Meta answers would be
	// the control's fault, not the network's.)
	control.down.Store(true)
	h.down.Store(true)
	var body string
	eventually(t, "/healthz to say offline", func() bool {
		var code int
		code, body = fetch(t, http.MethodGet, base+"/healthz", "", "")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "offline: control probes failing since")
	}, report(func() string { return body + "\n" + p.stderr.String() }))
	eventually(t, "the board to show unknown", func() bool {
		return strings.Contains(board(), "⚪ WhatsApp") && strings.Contains(board(), "⚪ Instagram")
	}, report(func() string { return board() }))
	if strings.Contains(board(), "🟢") {
		t.Errorf("the board shows a service green while offline:\n%s", board())
	}
	offlineWarn := regexp.MustCompile(`level=WARN msg="this machine looks offline`)
	if n := len(offlineWarn.FindAllString(p.stderr.String(), -1)); n != 1 {
		t.Errorf("%d warnings that the machine is offline, want 1; logs:\n%s", n, p.stderr)
	}
	if code, out, _ := runCommand(env, "healthcheck", "-from", base); code != exitFailed || !strings.Contains(out, "offline") {
		t.Errorf("healthcheck while offline: exit %d, %q; want 1 and why", code, out)
	}
	if n := len(alerts(tg.MessagesTo(-100777))); n != 0 {
		t.Errorf("%d alerts posted while offline, want none", n)
	}

	control.down.Store(false)
	h.down.Store(false)
	eventually(t, "/healthz to be healthy again", func() bool {
		code, _ := fetch(t, http.MethodGet, base+"/healthz", "", "")
		return code == http.StatusOK
	}, p.stderr)
	eventually(t, "a green board again", func() bool { return strings.Contains(board(), "🟢 WhatsApp") }, p.stderr)
	backWarn := regexp.MustCompile(`level=WARN msg="back online: the control probes pass again" .*offline_for=\d`)
	eventually(t, "a warning that the machine is back online", func() bool { return backWarn.MatchString(p.stderr.String()) }, p.stderr)
	if code := p.stop(t); code != exitOK {
		t.Fatalf("exit %d; logs:\n%s", code, p.stderr)
	}
}

func TestBackupRefusesTheLiveDatabase(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "outagebot.db")
	db, err := store.Open(live, store.Options{}) // as the running bot holds it
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	link := filepath.Join(dir, "hardlink.db")
	if err := os.Link(live, link); err != nil {
		t.Fatal(err)
	}
	symlink := filepath.Join(t.TempDir(), "symlink.db")
	if err := os.Symlink(live, symlink); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "yesterday.db")
	if err := os.WriteFile(old, []byte("an old backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, db string
		want           string // "": allowed
	}{
		{"the same path", live, live, "it is the live database"},
		{"the same path, spelled otherwise", filepath.Join(dir, ".", "outagebot.db"), live, "it is the live database"},
		{"a database not created yet", filepath.Join(dir, "new.db"), filepath.Join(dir, "new.db"), "it is the live database"},
		{"a hard link", link, live, "the same file as " + live},
		{"a symbolic link", symlink, live, "the same file as " + live},
		{"the database of a bot with another OUTAGEBOT_DB", live, filepath.Join(dir, "other.db"), "a running process holds open"},
		{"an old backup", old, live, ""},
		{"a new file", filepath.Join(dir, "today.db"), live, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkDestination(tc.file, tc.db)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("checkDestination(%s, %s) = %v, want nil", tc.file, tc.db, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("checkDestination(%s, %s) = %v, want an error saying %q", tc.file, tc.db, err, tc.want)
			}
		})
	}
	// The command says so and exits 2, the file untouched.
	code, _, errOut := runCommand(map[string]string{"OUTAGEBOT_DB": live}, "backup", live)
	if code != exitUsage || !strings.Contains(errOut, "outagebot: refusing to write over "+live+": it is the live database") {
		t.Errorf("backup onto the live database: exit %d, %q", code, errOut)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("the live database after the refusal: %v", err)
	}
}
