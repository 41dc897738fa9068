package ops

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/outagebot/outagebot/checks"
)

func TestHealthWhileConnecting(t *testing.T) {
	clk := newClock()
	c, _ := newTestConsole(pingDB{func() error { return nil }}, clk.Now)
	c.Connecting(nil)
	clk.Add(3 * time.Second)
	code, body := healthz(t, c)
	if want := "telegram: not connected yet, trying since 2026-03-05T12:00:00Z (3s ago)\n"; code != http.StatusServiceUnavailable || !strings.HasPrefix(body, want) {
		t.Errorf("before the first attempt ended: %d %q, want 503 beginning %q", code, body, want)
	}
	c.Connecting(errors.New("getMe: dial tcp 127.0.0.1:1: connect: connection refused"))
	clk.Add(4 * time.Second)
	c.Connecting(errors.New("getMe: context deadline exceeded"))
	code, body = healthz(t, c)
	if want := "telegram: not connected yet, trying since 2026-03-05T12:00:00Z (7s ago): getMe: context deadline exceeded\n"; code != http.StatusServiceUnavailable || !strings.HasPrefix(body, want) {
		t.Errorf("while retrying: %d %q, want 503 beginning %q", code, body, want)
	}
	c.Connected()
	if code, body := healthz(t, c); code != http.StatusOK || strings.Contains(body, "telegram") {
		t.Errorf("once connected: %d %q, want 200 and nothing about telegram", code, body)
	}
}

// round returns the observations of a round of two services whose control
// probes passed or not.
func round(at time.Time, controlOK ...bool) []checks.Observation {
	var obs []checks.Observation
	for i, ok := range controlOK {
		obs = append(obs, checks.Observation{Service: []string{"whatsapp", "instagram"}[i], ControlOK: ok, At: at})
	}
	return obs
}

func TestOffline(t *testing.T) {
	clk := newClock()
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	c := NewConsole(Options{Registry: reg, DB: pingDB{func() error { return nil }}, Now: clk.Now,
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}))})
	offline := func(want float64) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(
			"# HELP outagebot_offline 1 while this machine's own network fails (see docs/detection.md): it looks offline and every service's state is unknown; else 0.\n"+
				"# TYPE outagebot_offline gauge\n"+
				"outagebot_offline "+fmt.Sprint(want)+"\n"), "outagebot_offline"); err != nil {
			t.Error(err)
		}
	}

	c.Observed(round(clk.Now(), true, true))
	offline(0)
	if code, _ := healthz(t, c); code != http.StatusOK {
		t.Errorf("online: %d, want 200", code)
	}
	// One service's observation alone passing its control probes means
	// the machine is online.
	c.Observed(round(clk.Now(), false, true))
	offline(0)

	went := clk.Now()
	c.Observed(round(went, false, false))
	for range 5 {
		clk.Add(30 * time.Second)
		c.Observed(round(clk.Now(), false, false))
	}
	offline(1)
	code, body := healthz(t, c)
	if want := "offline: control probes failing since 2026-03-05T12:00:00Z (2m30s ago); every service's state is unknown\n"; code != http.StatusServiceUnavailable || !strings.HasPrefix(body, want) {
		t.Errorf("offline: %d %q, want 503 beginning %q", code, body, want)
	}

	clk.Add(30 * time.Second)
	c.Observed(round(clk.Now(), true, true))
	offline(0)
	if code, body := healthz(t, c); code != http.StatusOK || strings.Contains(body, "offline") {
		t.Errorf("back online: %d %q, want 200 without a word of it", code, body)
	}
	// Six offline rounds, one warning; one back.
	want := []string{
		`level=WARN msg="this machine looks offline: its own network fails, so the state of every service is unknown until it is back" failing=""`,
		`level=WARN msg="back online: the control probes pass again" offline_for=3m0s`,
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(logs.String()), "\n")); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}
