package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/outagebot/outagebot/bot"
	"github.com/outagebot/outagebot/ops"
	"github.com/outagebot/outagebot/store"
)

// Paths of the operator's HTTP server on OUTAGEBOT_LISTEN.
const (
	pathMetrics = "/metrics"
	pathHealth  = "/healthz"
	pathBackup  = "/backup"
	pathFeed    = "/feed.atom"
	pathStatus  = "/status.json"
)

// minAdminToken is the shortest OUTAGEBOT_ADMIN_TOKEN accepted: it guards a
// copy of every chat id.
const minAdminToken = 16

// opsShutdown bounds how long requests in flight (a backup download) may
// finish once the bot stops.
const opsShutdown = time.Second

// checkOps validates the operator's settings of `run`.
func (s settings) checkOps() error {
	if s.adminToken != "" && len(s.adminToken) < minAdminToken {
		return fmt.Errorf("OUTAGEBOT_ADMIN_TOKEN is shorter than %d characters (try: openssl rand -hex 32)", minAdminToken)
	}
	if s.webhookURL == "" {
		return nil
	}
	if s.listen == "" {
		return errors.New("OUTAGEBOT_WEBHOOK_URL needs OUTAGEBOT_LISTEN, the address where Telegram's pushes arrive")
	}
	_, err := webhookPattern(s.webhookURL)
	return err
}

// webhookPattern is the ServeMux pattern that matches the webhook URL's
// path, or an error saying why the URL cannot be a webhook.
func webhookPattern(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("OUTAGEBOT_WEBHOOK_URL / -webhook-url: %q is not an https:// URL (Telegram pushes updates only over HTTPS)", raw)
	}
	path := cmp.Or(u.Path, "/")
	switch {
	case path == pathMetrics || path == pathHealth || path == pathBackup || path == pathFeed || path == pathStatus:
		return "", fmt.Errorf("OUTAGEBOT_WEBHOOK_URL / -webhook-url: the path %s is the operator's; pick another", path)
	case strings.ContainsAny(path, "{}"):
		return "", fmt.Errorf("OUTAGEBOT_WEBHOOK_URL / -webhook-url: the path %s may not contain braces", path)
	case strings.HasSuffix(path, "/"):
		// Without {$}, a trailing slash would match every path below it.
		path += "{$}"
	}
	return http.MethodPost + " " + path, nil
}

// newConsole returns the console of a running bot, on a registry of its
// own that also holds the Go runtime's and the process's metrics, and which
// build this is.
func newConsole(db *store.DB, log *slog.Logger) *ops.Console {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfoGauge(readBuild(debug.ReadBuildInfo, buildRevision)))
	return ops.NewConsole(ops.Options{Registry: reg, DB: db, Log: log})
}

// buildInfoGauge is outagebot_build_info: 1, with the build in its labels,
// so that dashboards can tell which version runs where.
func buildInfoGauge(b buildInfo) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "outagebot_build_info",
		Help: "Always 1; the labels say which build is running: module version, VCS revision (empty when unknown) and Go version.",
		ConstLabels: prometheus.Labels{
			"version": b.version, "revision": b.revision, "goversion": b.goVersion,
		},
	})
	g.Set(1)
	return g
}

// serveOps serves /metrics, /healthz, /backup and, in webhook mode (hook not
// nil), the webhook on s.listen until stop is called; with no listen address
// it does nothing. The bound address is logged, so that ":0" can be used.
// It also serves public's /feed.atom and /status.json, to anyone.
func serveOps(s settings, console *ops.Console, public *ops.Public, db *store.DB, hook *bot.Webhook, log *slog.Logger) (stop func(), err error) {
	if s.listen == "" {
		return func() {}, nil
	}
	mux := http.NewServeMux()
	mux.Handle(http.MethodGet+" "+pathMetrics, console.MetricsHandler())
	mux.Handle(http.MethodGet+" "+pathHealth, console.HealthHandler())
	mux.Handle(http.MethodGet+" "+pathBackup, ops.BackupHandler(db, s.adminToken, log))
	mux.Handle(http.MethodGet+" "+pathFeed, public.FeedHandler())
	mux.Handle(http.MethodGet+" "+pathStatus, public.StatusHandler())
	if hook != nil {
		pattern, err := webhookPattern(s.webhookURL)
		if err != nil {
			return nil, err
		}
		mux.Handle(pattern, hook)
	}
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return nil, fmt.Errorf("OUTAGEBOT_LISTEN: %w", err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("the operator's HTTP server failed", "err", err)
		}
	}()
	log.Info("operator endpoints listening", "addr", ln.Addr().String(), "webhook", hook != nil,
		"backup", s.adminToken != "")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), opsShutdown)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		<-done
	}, nil
}
