// Command outagebot is a Telegram bot that tells people, in their chats,
// groups and a public channel, when WhatsApp, Instagram, Facebook, Messenger
// or Threads go down and when they come back.
//
// Usage:
//
//	outagebot [run]        start the bot (TELEGRAM_TOKEN required)
//	outagebot check        probe every service once and print a table
//	outagebot config       print the effective configuration as YAML
//	outagebot backup FILE  write a consistent copy of the database, even
//	                       while the bot runs
//	outagebot replay FILE… run the detector over recorded outages and
//	                       score it
//	outagebot healthcheck  ask the running bot's /healthz (exit 0 or 1)
//	outagebot version      print the version and VCS revision
//	outagebot help [CMD]   list the commands, environment and exit codes
//
// `outagebot help` prints the details: every flag, environment variable
// and exit code.
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

	"github.com/outagebot/outagebot/bot"
	"github.com/outagebot/outagebot/config"
	"github.com/outagebot/outagebot/replay"
)

// Exit codes, part of the public contract (docs/design.md).
const (
	exitOK      = 0
	exitFailed  = 1 // run: a fatal error; check: some service degraded or down; replay: a target missed; healthcheck: unhealthy
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
	from        string // backup, healthcheck: the running bot's base URL
	verbose     bool   // replay: print every transition
}

// Defaults of the settings that have one.
const (
	defaultAPIURL      = "https://api.telegram.org"
	defaultDB          = "outagebot.db"
	defaultChannelLang = "en"
	defaultLogLevel    = "info"
)

// settingsFrom reads the settings from the environment.
func settingsFrom(getenv func(string) string) settings {
	return settings{
		token:       getenv("TELEGRAM_TOKEN"),
		apiURL:      cmp.Or(getenv("TELEGRAM_API_URL"), defaultAPIURL),
		db:          cmp.Or(getenv("OUTAGEBOT_DB"), defaultDB),
		channel:     getenv("OUTAGEBOT_CHANNEL"),
		channelLang: cmp.Or(getenv("OUTAGEBOT_CHANNEL_LANG"), defaultChannelLang),
		configPath:  getenv("OUTAGEBOT_CONFIG"),
		schedule:    getenv("OUTAGEBOT_SCHEDULE"),
		logLevel:    cmp.Or(getenv("OUTAGEBOT_LOG_LEVEL"), defaultLogLevel),
		listen:      getenv("OUTAGEBOT_LISTEN"),
		webhookURL:  getenv("OUTAGEBOT_WEBHOOK_URL"),
		adminToken:  getenv("OUTAGEBOT_ADMIN_TOKEN"),
	}
}

// invocation is what a command runs with.
type invocation struct {
	s      settings
	args   []string // what follows the flags
	stdout io.Writer
	stderr io.Writer
}

// run is the whole program, separated from main so that tests drive it with
// their own arguments, environment and outputs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	name := "run"
	if len(args) > 0 {
		switch first := args[0]; first {
		case "-h", "-help", "--help":
			printHelp(stdout)
			return exitOK
		case "-version", "--version":
			name, args = "version", args[1:]
		default:
			if !strings.HasPrefix(first, "-") {
				name, args = first, args[1:]
			}
		}
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "outagebot: unknown command %q; the commands are %s (outagebot help says more)\n", name, commandNames())
		return exitUsage
	}
	s := settingsFrom(getenv)
	fs := cmd.flagSet(&s)
	// The flag package prints its own parse errors; the usage goes to
	// stdout when asked for, and is only pointed at after a mistake.
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmd.printUsage(stdout, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "run 'outagebot %s -h' for its flags\n", cmd.name)
		return exitUsage
	}
	if n := fs.NArg(); n < cmd.minArgs || cmd.maxArgs >= 0 && n > cmd.maxArgs {
		if n > cmd.maxArgs && cmd.maxArgs == 0 {
			fmt.Fprintf(stderr, "outagebot %s: unexpected arguments %q\n", cmd.name, fs.Args())
		}
		fmt.Fprintf(stderr, "usage: %s\n", cmd.usageLine())
		return exitUsage
	}
	return cmd.run(ctx, invocation{s: s, args: fs.Args(), stdout: stdout, stderr: stderr})
}

// problems prints each problem with the settings and returns exitUsage, or
// returns exitOK when there are none.
func problems(w io.Writer, errs ...error) int {
	code := exitOK
	for _, err := range errs {
		if err != nil {
			fmt.Fprintf(w, "outagebot: %v\n", err)
			code = exitUsage
		}
	}
	return code
}

// runBot is `outagebot run`: every setting is checked before anything
// connects, then the bot serves until ctx ends.
func runBot(ctx context.Context, inv invocation) int {
	s := inv.s
	level, levelErr := s.level()
	cfg, cfgErr := loadConfig(s)
	var tokenErr error
	if s.token == "" {
		tokenErr = errors.New("TELEGRAM_TOKEN is not set (get one from @BotFather)")
	}
	if code := problems(inv.stderr, tokenErr, cfgErr, levelErr, checkAPIURL(s.apiURL), checkChannel(s.channel),
		checkChannelLang(s.channelLang), checkListen(s.listen), s.checkOps()); code != exitOK {
		return code
	}
	log := slog.New(slog.NewTextHandler(bot.RedactWriter(inv.stderr, s.token), &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, s, cfg, log); err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		log.Error("outagebot stopped", "err", err)
		return exitFailed
	}
	return exitOK
}

// configAndLevel reads the configuration and the log level, as the
// commands that probe need them; code is exitOK when both are good.
func (inv invocation) configAndLevel() (cfg config.Config, level slog.Level, code int) {
	level, levelErr := inv.s.level()
	cfg, cfgErr := loadConfig(inv.s)
	return cfg, level, problems(inv.stderr, cfgErr, levelErr)
}

// runCheck is `outagebot check`.
func runCheck(ctx context.Context, inv invocation) int {
	cfg, level, code := inv.configAndLevel()
	if code != exitOK {
		return code
	}
	log := slog.New(slog.NewTextHandler(inv.stderr, &slog.HandlerOptions{Level: level}))
	return check(ctx, cfg, inv.stdout, log)
}

// runConfig is `outagebot config`.
func runConfig(_ context.Context, inv invocation) int {
	cfg, err := loadConfig(inv.s)
	if code := problems(inv.stderr, err); code != exitOK {
		return code
	}
	out, err := cfg.YAML()
	if err != nil {
		fmt.Fprintf(inv.stderr, "outagebot config: %v\n", err)
		return exitFailed
	}
	inv.stdout.Write(out)
	return exitOK
}

// runReplay is `outagebot replay`: it runs the detector configured by the
// settings over each trace file and prints how it did. It returns 0 when
// every trace meets its targets, 1 when one does not, and 2 when a trace
// cannot be read.
func runReplay(ctx context.Context, inv invocation) int {
	cfg, level, code := inv.configAndLevel()
	if code != exitOK {
		return code
	}
	// The watcher logs each transition at info level and each operator
	// warning at warn level, which stdout already shows; only its errors
	// are worth stderr.
	log := slog.New(slog.NewTextHandler(inv.stderr, &slog.HandlerOptions{Level: max(level, slog.LevelError)}))
	pass, err := replay.Files(ctx, inv.args, replay.FromConfig(cfg, log), inv.s.verbose, inv.stdout)
	if err != nil {
		fmt.Fprintf(inv.stderr, "outagebot replay: %v\n", err)
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

// level parses the log level.
func (s settings) level() (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.logLevel)); err != nil {
		return level, fmt.Errorf("OUTAGEBOT_LOG_LEVEL / -log-level: %q is not debug, info, warn or error", s.logLevel)
	}
	return level, nil
}

// loadConfig reads the YAML (or the embedded catalog) and applies the
// schedule override, validating it like the file's own.
func loadConfig(s settings) (config.Config, error) {
	cfg := config.Default()
	if s.configPath != "" {
		var err error
		if cfg, err = config.Load(s.configPath); err != nil {
			if _, ok := errors.AsType[*config.Error](err); !ok {
				// The file cannot be read: say which setting named it.
				err = fmt.Errorf("OUTAGEBOT_CONFIG / -config: %w", err)
			}
			return cfg, err
		}
	}
	if s.schedule != "" {
		if err := cfg.CheckSchedule(s.schedule); err != nil {
			return cfg, fmt.Errorf("OUTAGEBOT_SCHEDULE / -schedule: %v", err)
		}
		cfg.Schedule = s.schedule
	}
	return cfg, nil
}
