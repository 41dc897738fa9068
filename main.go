// Command outagebot is a Telegram bot that tells people, in their chats,
// groups and a public channel, when WhatsApp, Instagram, Facebook, Messenger
// or Threads go down and when they come back.
//
// Usage:
//
//	outagebot [run]   start the bot (TELEGRAM_TOKEN required)
//	outagebot check   probe every service once and print a table
//	outagebot config  print the effective configuration as YAML
//	outagebot backup [-from URL] [-db FILE] FILE
//	                  write a consistent copy of the database, even while
//	                  the bot runs
//	outagebot replay [-v] FILE…
//	                  run the detector over recorded outages and score it
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	// Chats choose the time zone of their quiet hours by IANA name: the
	// binary carries the zone database, so that every name works whatever
	// the image or host provides (scratch images have none).
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/outagebot/outagebot/bot"
	"github.com/outagebot/outagebot/config"
	"github.com/outagebot/outagebot/replay"
)

// Exit codes, part of the public contract (DESIGN.md).
const (
	exitOK      = 0
	exitFailed  = 1 // run: a fatal error; check: some service degraded or down; replay: a target missed
	exitUsage   = 2 // usage, configuration or trace error
	exitUnknown = 3 // check: the control probes failed, so nothing is known
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// settings are the values that flags and environment variables provide;
// flags win over the environment.
type settings struct {
	token       string
	apiURL      string
	db          string
	channel     string
	channelLang string // language of the channel's posts
	configPath  string
	schedule    string
	logLevel    string
	listen      string // operator's HTTP address: metrics, health, backups, webhook
	webhookURL  string // public URL of the webhook; empty: long polling
	adminToken  string // bearer token of /backup
	from        string // backup: the running bot's base URL
}

// run is the whole program, separated from main so that tests drive it with
// their own arguments, environment and outputs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run", "check", "config", "replay", "backup":
	default:
		fmt.Fprintf(stderr, "outagebot: unknown command %q (want run, check, config, replay or backup)\n", cmd)
		return exitUsage
	}

	s := settings{
		token:       getenv("TELEGRAM_TOKEN"),
		apiURL:      cmp.Or(getenv("TELEGRAM_API_URL"), "https://api.telegram.org"),
		db:          cmp.Or(getenv("OUTAGEBOT_DB"), "outagebot.db"),
		channel:     getenv("OUTAGEBOT_CHANNEL"),
		channelLang: cmp.Or(getenv("OUTAGEBOT_CHANNEL_LANG"), "en"),
		configPath:  getenv("OUTAGEBOT_CONFIG"),
		schedule:    getenv("OUTAGEBOT_SCHEDULE"),
		logLevel:    cmp.Or(getenv("OUTAGEBOT_LOG_LEVEL"), "info"),
		listen:      getenv("OUTAGEBOT_LISTEN"),
		webhookURL:  getenv("OUTAGEBOT_WEBHOOK_URL"),
		adminToken:  getenv("OUTAGEBOT_ADMIN_TOKEN"),
	}
	fs := flag.NewFlagSet("outagebot "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.configPath, "config", s.configPath, "YAML configuration file (env OUTAGEBOT_CONFIG; default: the embedded catalog)")
	fs.StringVar(&s.schedule, "schedule", s.schedule, "cron spec of the probe rounds, e.g. \"@every 30s\" (env OUTAGEBOT_SCHEDULE; overrides the YAML)")
	fs.StringVar(&s.logLevel, "log-level", s.logLevel, "debug, info, warn or error (env OUTAGEBOT_LOG_LEVEL)")
	if cmd == "run" || cmd == "backup" {
		fs.StringVar(&s.db, "db", s.db, "database file (env OUTAGEBOT_DB)")
	}
	if cmd == "run" {
		fs.StringVar(&s.apiURL, "api-url", s.apiURL, "Bot API base URL (env TELEGRAM_API_URL)")
		fs.StringVar(&s.channel, "channel", s.channel, "announcement channel, @name or -100… id (env OUTAGEBOT_CHANNEL)")
		fs.StringVar(&s.channelLang, "channel-lang", s.channelLang, "language of the channel's posts, e.g. en, it, pt-BR (env OUTAGEBOT_CHANNEL_LANG)")
		fs.StringVar(&s.listen, "listen", s.listen, "address of /metrics, /healthz, /backup and the webhook, e.g. 127.0.0.1:9090 (env OUTAGEBOT_LISTEN; default: none)")
		fs.StringVar(&s.webhookURL, "webhook-url", s.webhookURL, "public https:// URL Telegram pushes updates to, instead of long polling (env OUTAGEBOT_WEBHOOK_URL)")
	}
	if cmd == "backup" {
		fs.StringVar(&s.from, "from", "", "base URL of the running bot, e.g. http://127.0.0.1:9090 (default: OUTAGEBOT_LISTEN's)")
	}
	verbose := false
	if cmd == "replay" {
		fs.BoolVar(&verbose, "v", false, "print every transition, even of long traces")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case cmd == "replay" && fs.NArg() == 0:
		fmt.Fprintln(stderr, "usage: outagebot replay [-v] FILE…")
		return exitUsage
	case cmd == "backup" && fs.NArg() != 1:
		fmt.Fprintln(stderr, "usage: outagebot backup [-from URL] [-db FILE] FILE")
		return exitUsage
	case cmd != "replay" && cmd != "backup" && fs.NArg() > 0:
		fmt.Fprintf(stderr, "outagebot %s: unexpected arguments %q\n", cmd, fs.Args())
		return exitUsage
	}
	if cmd == "backup" {
		return backup(ctx, s, fs.Arg(0), stdout, stderr)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(s.logLevel)); err != nil {
		fmt.Fprintf(stderr, "outagebot: OUTAGEBOT_LOG_LEVEL / -log-level: %q is not debug, info, warn or error\n", s.logLevel)
		return exitUsage
	}
	cfg, err := loadConfig(s)
	if err != nil {
		fmt.Fprintf(stderr, "outagebot: %v\n", err)
		return exitUsage
	}

	switch cmd {
	case "config":
		out, err := cfg.YAML()
		if err != nil {
			fmt.Fprintf(stderr, "outagebot config: %v\n", err)
			return exitFailed
		}
		stdout.Write(out)
		return exitOK
	case "check":
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
		return check(ctx, cfg, stdout, log)
	case "replay":
		return replayTraces(ctx, cfg, fs.Args(), verbose, stdout, stderr, level)
	}
	if s.token == "" {
		fmt.Fprintln(stderr, "outagebot: TELEGRAM_TOKEN is not set (get one from @BotFather)")
		return exitUsage
	}
	if err := s.checkOps(); err != nil {
		fmt.Fprintf(stderr, "outagebot: %v\n", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(bot.RedactWriter(stderr, s.token), &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, s, cfg, log); err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		log.Error("outagebot stopped", "err", err)
		return exitFailed
	}
	return exitOK
}

// replayTraces is `outagebot replay`: it runs the detector configured by cfg
// over each trace file and prints how it did. It returns 0 when every trace
// meets its targets, 1 when one does not, and 2 when a trace cannot be read.
func replayTraces(ctx context.Context, cfg config.Config, files []string, verbose bool, stdout, stderr io.Writer, level slog.Level) int {
	// The watcher logs each transition at info level and each operator
	// warning at warn level, which stdout already shows; only its errors
	// are worth stderr.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: max(level, slog.LevelError)}))
	pass, err := replay.Files(ctx, files, replay.FromConfig(cfg, log), verbose, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "outagebot replay: %v\n", err)
		if ctx.Err() != nil {
			return exitFailed // interrupted, not a bad trace
		}
		return exitUsage
	}
	if !pass {
		return exitFailed
	}
	return exitOK
}

// loadConfig reads the YAML (or the embedded catalog) and applies the
// schedule override, validating it like the file's own.
func loadConfig(s settings) (config.Config, error) {
	cfg := config.Default()
	if s.configPath != "" {
		var err error
		if cfg, err = config.Load(s.configPath); err != nil {
			return cfg, err
		}
	}
	if s.schedule != "" {
		if _, err := cron.ParseStandard(s.schedule); err != nil {
			return cfg, fmt.Errorf("OUTAGEBOT_SCHEDULE / -schedule: %q: %v", s.schedule, err)
		}
		cfg.Schedule = s.schedule
	}
	return cfg, nil
}
