package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// command is one of outagebot's subcommands.
type command struct {
	name    string
	args    string // what its usage line shows after the flags
	summary string // one line in the list of commands
	// flags binds the command's flags, and only those, to s.
	flags            func(fs *flag.FlagSet, s *settings)
	minArgs, maxArgs int // arguments after the flags; maxArgs -1: no limit
	run              func(ctx context.Context, inv invocation) int
}

// commands lists every subcommand, in the order help shows them.
func commands() []command {
	return []command{
		{name: "run", summary: "start the bot; the default command",
			flags: flagSet(configFlag, scheduleFlag, logLevelFlag, dbFlag, botFlags), run: runBot},
		{name: "check", summary: "probe every service once and print a table",
			flags: flagSet(configFlag, logLevelFlag), run: runCheck},
		{name: "config", summary: "print the effective configuration as YAML",
			flags: flagSet(configFlag, scheduleFlag), run: runConfig},
		{name: "backup", args: "FILE", minArgs: 1, maxArgs: 1,
			summary: "copy the database to FILE, even while the bot runs",
			flags:   flagSet(dbFlag, fromFlag), run: runBackup},
		{name: "replay", args: "FILE…", minArgs: 1, maxArgs: -1,
			summary: "score the detector on recorded outages",
			flags:   flagSet(configFlag, logLevelFlag, verboseFlag), run: runReplay},
		{name: "healthcheck", summary: "ask the running bot's /healthz: exit 0 if healthy, else 1",
			flags: flagSet(fromFlag), run: runHealthcheck},
		{name: "version", summary: "print the version and the revision it was built from", run: runVersion},
		{name: "help", args: "[COMMAND]", maxArgs: 1, summary: "print this help, or a command's", run: runHelp},
	}
}

func lookup(name string) (command, bool) {
	cmds := commands()
	i := slices.IndexFunc(cmds, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return cmds[i], true
}

// commandNames lists the commands' names for a message.
func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// flagSet returns a command's flags: each of defs binds some.
func flagSet(defs ...func(fs *flag.FlagSet, s *settings)) func(fs *flag.FlagSet, s *settings) {
	return func(fs *flag.FlagSet, s *settings) {
		for _, def := range defs {
			def(fs, s)
		}
	}
}

func configFlag(fs *flag.FlagSet, s *settings) {
	fs.StringVar(&s.configPath, "config", s.configPath, "YAML configuration `file` (env OUTAGEBOT_CONFIG; default: the embedded catalog)")
}

func scheduleFlag(fs *flag.FlagSet, s *settings) {
	fs.StringVar(&s.schedule, "schedule", s.schedule, "cron `spec` of the probe rounds, e.g. \"@every 30s\"; rounds at least 5 s apart (env OUTAGEBOT_SCHEDULE; overrides the YAML)")
}

func logLevelFlag(fs *flag.FlagSet, s *settings) {
	fs.StringVar(&s.logLevel, "log-level", s.logLevel, "debug, info, warn or error (env OUTAGEBOT_LOG_LEVEL)")
}

func dbFlag(fs *flag.FlagSet, s *settings) {
	fs.StringVar(&s.db, "db", s.db, "database `file` (env OUTAGEBOT_DB)")
}

func fromFlag(fs *flag.FlagSet, s *settings) {
	fs.StringVar(&s.from, "from", s.from, "base `URL` of the running bot, e.g. http://127.0.0.1:9090 (default: OUTAGEBOT_LISTEN's address)")
}

func verboseFlag(fs *flag.FlagSet, s *settings) {
	fs.BoolVar(&s.verbose, "v", s.verbose, "print every transition, even of long traces")
}

// botFlags are the flags only `run` has.
func botFlags(fs *flag.FlagSet, s *settings) {
	fs.StringVar(&s.apiURL, "api-url", s.apiURL, "Bot API base `URL` (env TELEGRAM_API_URL)")
	fs.StringVar(&s.channel, "channel", s.channel, "announcement `channel`, @name or -100… id (env OUTAGEBOT_CHANNEL)")
	fs.StringVar(&s.channelLang, "channel-lang", s.channelLang, "`language` of the channel's posts, e.g. en, it, pt-BR (env OUTAGEBOT_CHANNEL_LANG)")
	fs.StringVar(&s.listen, "listen", s.listen, "`address` of /metrics, /healthz, /backup, /feed.atom, /status.json and the webhook, e.g. 127.0.0.1:9090 (env OUTAGEBOT_LISTEN; default: none)")
	fs.StringVar(&s.webhookURL, "webhook-url", s.webhookURL, "public https:// `URL` Telegram pushes updates to, instead of long polling (env OUTAGEBOT_WEBHOOK_URL)")
}

// flagSet returns the command's flags, bound to s.
func (c command) flagSet(s *settings) *flag.FlagSet {
	fs := flag.NewFlagSet("outagebot "+c.name, flag.ContinueOnError)
	if c.flags != nil {
		c.flags(fs, s)
	}
	return fs
}

// usageLine is "outagebot NAME [flags] ARGS", without [flags] when it has
// none.
func (c command) usageLine() string {
	parts := []string{"outagebot", c.name}
	if c.flags != nil {
		parts = append(parts, "[flags]")
	}
	if c.args != "" {
		parts = append(parts, c.args)
	}
	return strings.Join(parts, " ")
}

// printUsage prints the command's usage line, summary and flags.
func (c command) printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n\n%s.\n", c.usageLine(), upperFirst(c.summary))
	if c.flags != nil {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// envVar is an environment variable outagebot reads.
type envVar struct{ name, what string }

// environment lists every environment variable, as help shows them.
func environment() []envVar {
	return []envVar{
		{"TELEGRAM_TOKEN", "the bot's token from @BotFather (run; required)"},
		{"TELEGRAM_API_URL", "Bot API base URL (default " + defaultAPIURL + ")"},
		{"OUTAGEBOT_DB", "database file (default " + defaultDB + ")"},
		{"OUTAGEBOT_CHANNEL", "announcement channel, @name or -100… id (default: none)"},
		{"OUTAGEBOT_CHANNEL_LANG", "language of the channel's posts (default " + defaultChannelLang + ")"},
		{"OUTAGEBOT_CONFIG", "YAML configuration file (default: the embedded catalog)"},
		{"OUTAGEBOT_SCHEDULE", "cron spec of the probe rounds (default: the YAML's, @every 30s)"},
		{"OUTAGEBOT_LOG_LEVEL", "debug, info, warn or error (default " + defaultLogLevel + ")"},
		{"OUTAGEBOT_LISTEN", "address of /metrics, /healthz, /backup, /feed.atom, /status.json and the webhook, e.g. 127.0.0.1:9090"},
		{"OUTAGEBOT_WEBHOOK_URL", "public https:// URL for updates instead of long polling (needs OUTAGEBOT_LISTEN)"},
		{"OUTAGEBOT_ADMIN_TOKEN", "bearer token of /backup, 16 characters or more (default: /backup is off)"},
	}
}

// printHelp prints every command, environment variable and exit code.
func printHelp(w io.Writer) {
	fmt.Fprint(w, `outagebot tells Telegram chats, groups and a channel when WhatsApp, Instagram,
Facebook, Messenger or Threads go down, and when they are back.

Usage:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.usageLine(), c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, "\nEnvironment (a command's flags override it):\n")
	for _, v := range environment() {
		fmt.Fprintf(tw, "  %s\t%s\n", v.name, v.what)
	}
	tw.Flush()
	fmt.Fprint(w, `
Exit codes:
  0  success; check: every service is operational; healthcheck: healthy
  1  failure; check: some service is degraded or down; replay: a target was
     missed; healthcheck: unhealthy or not answering
  2  usage or configuration error
  3  check: the state is unknown: every control probe failed, this machine
     looks offline

Run 'outagebot COMMAND -h' for a command's flags.
`)
}

// runHelp is `outagebot help [COMMAND]`.
func runHelp(_ context.Context, inv invocation) int {
	if len(inv.args) == 0 {
		printHelp(inv.stdout)
		return exitOK
	}
	c, ok := lookup(inv.args[0])
	if !ok {
		fmt.Fprintf(inv.stderr, "outagebot help: unknown command %q; the commands are %s\n", inv.args[0], commandNames())
		return exitUsage
	}
	c.printUsage(inv.stdout, c.flagSet(&inv.s))
	return exitOK
}
