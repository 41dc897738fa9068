package ops

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/outagebot/outagebot/checks"
)

// vantage is what the Console knows of the bot's own connections, beside
// the heartbeats: whether it has reached Telegram yet, and whether this
// machine is online at all.
type vantage struct {
	mu sync.Mutex
	// connecting is when the bot began trying to reach Telegram; zero once
	// it has, or when it never reported trying.
	connecting time.Time
	connectErr string // why the last attempt failed; empty before the first
	// offline is the first round whose control probes all failed, of the
	// stretch that is still going on; zero while online.
	offline time.Time
}

// Connecting tells the Console that the bot has not reached Telegram yet:
// err says why the last attempt failed (nil before the first). Health fails
// while it has not, saying why, so that an orchestrator that starts the bot
// can tell "still starting" from "running"; the operator endpoints answer
// all the while.
func (c *Console) Connecting(err error) {
	c.vantage.mu.Lock()
	defer c.vantage.mu.Unlock()
	if c.vantage.connecting.IsZero() {
		c.vantage.connecting = c.now()
	}
	if err != nil {
		c.vantage.connectErr = err.Error()
	}
}

// Connected tells the Console that the bot has reached Telegram.
func (c *Console) Connected() {
	c.vantage.mu.Lock()
	defer c.vantage.mu.Unlock()
	c.vantage.connecting, c.vantage.connectErr = time.Time{}, ""
}

// Observed follows, round by round, whether this machine is online: when
// every observation of a round says that the machine's own network fails
// (checks.Observation.ControlOK, judged by the checks.Watcher), it looks
// offline, every service's state is unknown, and Health fails
// until a round's control probes pass again. Going offline and coming back
// are logged as warnings. Observed is (part of) a checks.Watcher.OnObserve.
func (c *Console) Observed(obs []checks.Observation) {
	if len(obs) == 0 {
		return
	}
	offline := !slices.ContainsFunc(obs, func(o checks.Observation) bool { return o.ControlOK })
	at := obs[0].At
	if at.IsZero() {
		at = c.now()
	}
	c.vantage.mu.Lock()
	since := c.vantage.offline
	switch {
	case offline && since.IsZero():
		c.vantage.offline = at
	case !offline && !since.IsZero():
		c.vantage.offline = time.Time{}
	}
	c.vantage.mu.Unlock()
	switch {
	case offline && since.IsZero():
		c.log.Warn("this machine looks offline: its own network fails, so the state of every service is unknown until it is back",
			"failing", obs[0].Offline)
	case !offline && !since.IsZero():
		c.log.Warn("back online: the control probes pass again", "offline_for", at.Sub(since).Round(time.Second))
	}
}

// vantageReport returns the Health lines of the bot's connections, each a
// failure: none when all is well.
func (c *Console) vantageReport(now time.Time) []string {
	c.vantage.mu.Lock()
	defer c.vantage.mu.Unlock()
	var report []string
	if since := c.vantage.connecting; !since.IsZero() {
		line := "telegram: not connected yet, trying since " + moment(since, now)
		if c.vantage.connectErr != "" {
			line += ": " + c.vantage.connectErr
		}
		report = append(report, line)
	}
	if since := c.vantage.offline; !since.IsZero() {
		report = append(report, "offline: control probes failing since "+moment(since, now)+
			"; every service's state is unknown")
	}
	return report
}

// moment shows a past moment and how long ago it was.
func moment(t, now time.Time) string {
	return fmt.Sprintf("%s (%v ago)", t.UTC().Format(time.RFC3339), now.Sub(t).Round(time.Second))
}

// newOfflineGauge reads, at scrape time, whether this machine is offline.
func (c *Console) newOfflineGauge() prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "outagebot_offline",
		Help: "1 while this machine's own network fails (see docs/detection.md): it looks offline and every service's state is unknown; else 0.",
	}, func() float64 {
		c.vantage.mu.Lock()
		defer c.vantage.mu.Unlock()
		if c.vantage.offline.IsZero() {
			return 0
		}
		return 1
	})
}
