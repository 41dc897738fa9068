// Package ops is the operator's view of a running outagebot: Prometheus
// metrics of what the bot's parts do, a health check that tells whether they
// are all still alive, and online backups of the database, all served over
// HTTP.
//
// The parts themselves know nothing of Prometheus: they take small hook
// functions in their options (checks.MonitorOptions.OnResult,
// bot.SenderOptions.OnSend, ...), and a Console's methods are those hooks.
//
// Beside them, Public serves what anyone may read, with no token: the
// incidents as an Atom feed and the state of every service as JSON.
package ops

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/outagebot/outagebot/checks"
)

// DB is what the Console needs of the database: what it reports at scrape
// time, and a write to prove that it still takes writes.
type DB interface {
	Statuses() (map[string]checks.Status, error)
	OutboxLen() (int, error)
	Ping() error
}

// Options configure a Console.
type Options struct {
	// Registry receives the Console's collectors and is what MetricsHandler
	// serves; required. It must not already hold metrics of the same names.
	Registry *prometheus.Registry
	DB       DB               // required
	Now      func() time.Time // default time.Now
	Log      *slog.Logger     // default discards
}

// Console counts and times what the bot's parts report through their hooks,
// reads the services' states and the outbox at scrape time, and tells from
// the parts' heartbeats whether they are alive. Its methods are safe for
// concurrent use.
type Console struct {
	reg     *prometheus.Registry
	db      DB
	now     func() time.Time
	log     *slog.Logger
	hearts  [numParts]heart
	ping    pinger
	vantage vantage

	probes         *prometheus.CounterVec
	probeSeconds   *prometheus.HistogramVec
	transitions    *prometheus.CounterVec
	rounds         prometheus.Counter
	polls          *prometheus.CounterVec
	sent           *prometheus.CounterVec
	throttled      *prometheus.CounterVec
	shed           *prometheus.CounterVec
	paused         prometheus.Counter
	updates        *prometheus.CounterVec
	handlerSeconds *prometheus.HistogramVec
	warnings       *prometheus.CounterVec
}

// NewConsole returns a Console whose collectors are registered in
// o.Registry. Like prometheus.MustRegister, it panics when the registry
// already holds metrics of the same names: that is a programming error.
func NewConsole(o Options) *Console {
	c := &Console{
		reg: o.Registry,
		db:  o.DB,
		now: o.Now,
		log: o.Log,
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outagebot_probe_results_total",
			Help: `Probe runs by service, probe and result class; the control probes have service "` + controlService + `".`,
		}, []string{"service", "probe", "class"}),
		probeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "outagebot_probe_duration_seconds",
			Help:    "Time until a probe's answer or failure.",
			Buckets: prometheus.DefBuckets,
		}, []string{"service", "probe"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outagebot_transitions_total",
			Help: "Committed changes of a service's announced state.",
		}, []string{"service", "from", "to"}),
		rounds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outagebot_rounds_total",
			Help: "Probe rounds finished, re-checks included, whatever their outcome.",
		}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outagebot_getupdates_total",
			Help: "getUpdates calls by result (ok or error).",
		}, []string{"result"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outagebot_messages_sent_total",
			Help: "Notification deliveries by result: sent, throttled, chat_gone, migrated, channel_refused, rejected, transient.",
		}, []string{"result"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outagebot_telegram_throttled_total",
			Help: "Bot API answers 429 Too Many Requests, by method.",
		}, []string{"method"}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outagebot_replies_shed_total",
			Help: "Replies to commands dropped unsent, by reason: queue_full (newer replies pushed them out), deadline (not sent within the reply wait), chat_busy (their chat could not take another message in time).",
		}, []string{"reason"}),
		paused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outagebot_sending_paused_total",
			Help: "Times all sending paused because Telegram throttled several chats within a second; a 429 in one chat holds only that chat.",
		}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outagebot_updates_handled_total",
			Help: "Telegram updates that reached a handler, by kind.",
		}, []string{"kind"}),
		handlerSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "outagebot_handler_duration_seconds",
			Help:    "Time a handler took to answer an update, by kind.",
			Buckets: prometheus.DefBuckets,
		}, []string{"kind"}),
		warnings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outagebot_operator_warnings_total",
			Help: "Warnings for the operator about probes: unproven, unreached, odd, noisy, control.",
		}, []string{"kind"}),
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.ping.db = o.DB
	c.reg.MustRegister(c.probes, c.probeSeconds, c.transitions, c.rounds, c.polls, c.sent,
		c.throttled, c.shed, c.paused, c.updates, c.handlerSeconds, c.warnings, newStateCollector(o.DB), c.newOfflineGauge())
	return c
}

// MetricsHandler serves the registry in Prometheus' formats. A metric that
// cannot be read (the database failing) is left out and logged; the others
// are still served.
func (c *Console) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{c.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// errorLog is promhttp's Logger on slog.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) { l.log.Error("metrics scrape failed", "err", fmt.Sprint(v...)) }
