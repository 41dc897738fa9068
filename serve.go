package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
	"github.com/outagebot/outagebot/handlers"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/ops"
	"github.com/outagebot/outagebot/store"
)

// shutdownGrace bounds how long serve waits for each of its two shutdown
// steps (the probe round, then everything else: the sender may be finishing
// a send of up to 5 s), so that SIGTERM ends the process within 10 s.
const shutdownGrace = 4500 * time.Millisecond

// serve runs the bot until ctx ends: the poller and handlers, the sender and
// the probe schedule, all sharing one database.
func serve(ctx context.Context, s settings, cfg config.Config, log *slog.Logger) error {
	db, err := store.Open(s.db, store.Options{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	console := newConsole(db, log.With("part", "ops"))
	cat := checks.NewCatalog(cfg.Services)
	texts, err := locale.New(cat, time.UTC)
	if err != nil {
		return fmt.Errorf("load the texts: %w", err)
	}
	public := ops.NewPublic(ops.PublicOptions{DB: db, Services: cat.Services(), Text: texts.For(s.channelLang),
		Log: log.With("part", "public")})

	// Long polls ask Telegram for 25 s; every other call carries its own
	// deadline or is bounded by this.
	hc := bot.NewHTTPClient(s.token, 40*time.Second)
	hc.Transport = console.Transport(hc.Transport)
	client := bot.NewClient(s.apiURL, hc)
	sup := newSupervisor(log, console.Panicked)
	poller := &bot.Poller{Client: client, Inbox: db, Log: log.With("part", "poller"), OnPoll: console.Polled}
	var updates tele.Poller = poller
	var hook *bot.Webhook // webhook mode when set
	if s.webhookURL != "" {
		hook = bot.NewWebhook(client, s.webhookURL, log.With("part", "webhook"))
		updates = hook
	}
	updates = supervisedPoller{Poller: updates, sup: sup}
	// The operator endpoints answer from the start: while Telegram is out
	// of reach, /healthz says so rather than nothing answering at all.
	stopOps, err := serveOps(s, console, public, db, hook, log.With("part", "ops"))
	if err != nil {
		return err
	}
	defer stopOps()
	console.Connecting(nil)
	me, err := getMe(ctx, client, log, console.Connecting)
	if err != nil {
		return err
	}
	console.Connected()
	log.Info("connected to Telegram", "bot", "@"+me.Username)
	sched, err := cron.ParseStandard(cfg.Schedule)
	if err != nil {
		return fmt.Errorf("schedule %q: %w", cfg.Schedule, err)
	}
	next := sched.Next(time.Now())
	interval := sched.Next(next).Sub(next)
	// Alerts and replies to commands (through telebot) share one sending
	// budget: Telegram's limits, and a share of the global rate for each.
	out := sendingSide{
		token: s.token, client: client, db: db, limits: cfg.Limits,
		channel: s.channel, channelLang: s.channelLang, texts: texts, console: console, log: log,
	}.build()
	sender := out.sender
	b, err := commandSide{
		apiURL: s.apiURL, replies: out.replies, updates: updates, me: me,
		db: db, cfg: cfg, catalog: cat, texts: texts, console: console, interval: interval,
		log: log.With("part", "handlers"),
	}.build()
	if err != nil {
		return err
	}
	if err := handlers.SetCommands(b, texts); err != nil {
		log.Warn("cannot register the command menus", "err", err)
	}

	// The channel's pinned status message is brought up to date after every
	// round: it edits the message only when its text changed.
	onRound := console.RoundDone
	var board *bot.StatusBoard
	if s.channel != "" {
		board = bot.NewStatusBoard(client, db, texts, bot.StatusBoardOptions{
			Channel: s.channel, Lang: s.channelLang, Budget: out.budget, Log: log.With("part", "board"),
		})
		onRound = func() { console.RoundDone(); board.Kick() }
	}

	ev := &evidence{
		mon: checks.NewMonitor(cfg.Services, cfg.Control, checks.MonitorOptions{
			Probers: checks.NewProbers(checks.ProberOptions{UserAgent: userAgent}),
			// Probes of one round start spread over a second, so that
			// Meta's hosts do not see a burst; back-off after a 429 starts
			// at one interval.
			Jitter:   min(probeJitter, time.Duration(cfg.Thresholds.RoundTimeout)/4),
			Interval: interval,
			Logger:   log.With("part", "monitor"),
			OnResult: console.Probed,
		}),
		catalog: cat,
		every:   time.Duration(cfg.Official.Every),
		timeout: time.Duration(cfg.Official.Timeout),
		reports: &checks.Reports{Source: db, Rule: cfg.Reports},
		now:     time.Now,
		log:     log.With("part", "evidence"),
	}
	if cfg.Official.URL != "" {
		ev.official = checks.NewOfficial(checks.OfficialOptions{BaseURL: cfg.Official.URL, UserAgent: userAgent,
			Logger: log.With("part", "official")})
	}
	w := &checks.Watcher{Observe: ev.observe, Store: db, Vantage: db, Thresholds: cfg.Thresholds,
		Interval: interval, Channel: s.channel != "", Notify: sender.Kick, Log: log.With("part", "watcher"),
		OnTransition: console.Transitioned, OnRound: onRound, OnWarning: console.Warned,
		OnObserve: func(obs []checks.Observation) {
			// Whether this machine is online: /healthz, a warning.
			console.Observed(obs)
			if err := db.AddRound(obs); err != nil {
				log.Error("cannot record the round for /history", "err", err)
			}
		}}

	cronLog := cronLogger{log.With("part", "cron")}
	// The supervisor, not cron.Recover, answers a panic in a job: it also
	// fails the health check.
	scheduled := func(job func()) cron.Job {
		return cron.FuncJob(func() { sup.run(ctx.Done(), ops.Scheduler, job) })
	}
	job := cron.NewChain(cron.SkipIfStillRunning(cronLog)).Then(scheduled(func() { w.Round(ctx) }))
	c := cron.New(cron.WithLogger(cronLog))
	c.Schedule(sched, job)
	// Keep the database from growing with what nothing looks at any more:
	// reports older than the baselines, samples older than /history.
	if _, err := c.AddJob("@hourly", scheduled(func() {
		now := time.Now()
		if err := db.PruneReports(cfg.Reports.Since(now)); err != nil {
			log.Error("cannot prune old reports", "err", err)
		}
		if err := db.PruneSamples(now.Add(-time.Duration(cfg.History.Retention))); err != nil {
			log.Error("cannot prune old history samples", "err", err)
		}
	})); err != nil {
		return fmt.Errorf("schedule pruning: %w", err)
	}

	if hook != nil {
		if err := hook.Set(ctx); err != nil {
			return err
		}
	} else {
		console.Watch(ops.Poller, poller.MaxSilence())
	}
	console.Watch(ops.Sender, sender.MaxSilence())
	// A round starts every interval and ends within round_timeout; one more
	// interval keeps a tick skipped behind a slow round from looking dead.
	console.Watch(ops.Scheduler, 2*interval+time.Duration(cfg.Thresholds.RoundTimeout))

	var wg sync.WaitGroup
	wg.Go(func() { sup.run(ctx.Done(), ops.Sender, func() { sender.Run(ctx) }) })
	if board != nil {
		wg.Go(func() { board.Run(ctx) })
	}
	wg.Go(b.Start)
	c.Start()
	// The first round runs now rather than one interval after start; the
	// chain's SkipIfStillRunning keeps it from overlapping a cron tick.
	wg.Go(job.Run)
	log.Info("outagebot is running", "schedule", cfg.Schedule, "services", len(cfg.Services), "channel", s.channel)

	<-ctx.Done()
	log.Info("shutting down")
	if hook != nil {
		// Telegram keeps what comes meanwhile for the next start, webhook or
		// poller; the delete runs while the rest stops.
		wg.Go(func() {
			delCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
			defer cancel()
			if err := hook.Delete(delCtx); err != nil {
				log.Warn("cannot delete the webhook; the next start replaces it", "err", err)
			}
		})
	}
	// Order matters: rounds and the sender stop on ctx; telebot's Stop
	// cancels its in-flight requests and must come after the sender so no
	// notification is cut mid-send; the DB closes last.
	cronDone := c.Stop()
	select {
	case <-cronDone.Done():
	case <-time.After(shutdownGrace):
		log.Warn("a probe round did not stop in time")
	}
	b.Stop()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		return errors.New("shutdown: some goroutines did not stop in time")
	}
	return nil
}

// commandSide is what the bot needs to answer people: telebot with our
// poller (or the webhook), the reply client, the middleware and every
// handler. serve and the load benchmark build it alike, so the benchmark
// measures what runs.
type commandSide struct {
	apiURL  string
	replies *http.Client // through the sending budget (sendingSide)
	updates tele.Poller
	me      tele.User
	db      *store.DB
	cfg     config.Config
	catalog *checks.Catalog
	texts   *locale.Locales
	console *ops.Console
	// interval is the schedule's: how long Telegram may keep answers to
	// inline queries.
	interval time.Duration
	log      *slog.Logger
}

func (cs commandSide) build() (*tele.Bot, error) {
	b, err := tele.NewBot(tele.Settings{
		URL:       cs.apiURL,
		Token:     bot.TokenPlaceholder,
		Client:    cs.replies,
		Poller:    cs.updates,
		ParseMode: tele.ModeHTML,
		Offline:   true, // getMe was called already, with retries
		// The poller runs each update on a goroutine of its own and needs
		// ProcessUpdate to return only once the handler has: it keeps the
		// update until then (see bot.Poller).
		Synchronous: true,
		OnError: func(err error, c tele.Context) {
			if errors.Is(err, bot.ErrReplyShed) {
				return // the budget counts and logs those
			}
			cs.log.Error("handler failed", "err", err, "update", c.Update().ID)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("set up telebot: %w", err)
	}
	b.Me = &cs.me
	db := cs.db
	cfg := handlers.Config{
		Subs: db, Chats: db, States: db, Reports: db, Prefs: db, History: db,
		ReportRule: cs.cfg.Reports, Catalog: cs.catalog, Text: cs.texts,
		Log: cs.log, Now: time.Now, Flood: handlers.DefaultFloodLimit(), Interval: cs.interval,
	}
	// Before the handlers, which bind middleware when registered; Recover
	// first, so that a panic anywhere after it costs an apology, not the
	// update.
	b.Use(handlers.Recover(cfg), cs.console.Middleware)
	handlers.Register(b, cfg)
	return b, nil
}

// probeJitter spreads the start of a round's probes (at most a quarter of
// the round, so that they have time to answer). It is short because a
// round, its re-check and their probe timeouts must fit in round_timeout.
const probeJitter = time.Second

// userAgent is sent with every HTTP probe: Meta should be able to tell who
// is knocking.
const userAgent = "outagebot/1 (+https://github.com/outagebot/outagebot)"

// getMe identifies the bot, retrying while Telegram is unreachable: a bot
// started during a network blip should wait, not exit. Each failure that is
// retried goes to retrying. A rejected token ends at once.
func getMe(ctx context.Context, c *bot.Client, log *slog.Logger, retrying func(error)) (tele.User, error) {
	for attempt := 1; ; attempt++ {
		var me tele.User
		callCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := c.Call(callCtx, "getMe", struct{}{}, &me)
		cancel()
		if err == nil {
			return me, nil
		}
		var ae *bot.APIError
		if errors.As(err, &ae) && (ae.Code == 401 || ae.Code == 404) {
			return me, fmt.Errorf("the Bot API rejected TELEGRAM_TOKEN (%d %s): check it with @BotFather", ae.Code, ae.Description)
		}
		wait := min(time.Duration(attempt)*2*time.Second, 30*time.Second)
		log.Warn("cannot reach Telegram; retrying", "err", err, "retry_in", wait)
		retrying(err)
		select {
		case <-ctx.Done():
			return me, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// cronLogger routes robfig/cron's logging to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug(msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error(msg, append(kv, "err", err)...)
}
