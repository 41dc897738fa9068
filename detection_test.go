package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
	"github.com/outagebot/outagebot/store"
)

// TestTargetUnreachableFromTheStart runs the bot on a host that cannot reach
// one of WhatsApp's targets from the start (a port blocked outbound): nobody
// hears of it, the operator is warned once and `check` names it; then
// WhatsApp really fails on its other probes and that is announced.
func TestTargetUnreachableFromTheStart(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	wa, ig, control := newMeta(t), newMeta(t), newMeta(t)
	blocked := closedPort(t)
	cfg := filepath.Join(t.TempDir(), "outagebot.yaml")
	y := fmt.Sprintf(`schedule: "@every 1s"
thresholds: {down_after: 2, up_after: 2, prove_after: 2, warn_after: 3s, recheck: 150ms, round_timeout: 900ms}
official: {url: ""}   # tests never reach metastatus.com
control:
  - {name: local, kind: http, target: %[3]s/generate_204, timeout: 500ms}
services:
  - id: whatsapp
    name: WhatsApp
    probes:
      - {name: web, kind: http, target: %[1]s/, timeout: 500ms}
      - {name: api, kind: http, target: %[1]s/api, timeout: 500ms}
      - {name: chat_tcp, kind: tcp, target: %[4]s, timeout: 500ms}
  - id: instagram
    name: Instagram
    probes:
      - {name: web, kind: http, target: %[2]s/, timeout: 500ms}
`, wa.URL, ig.URL, control.URL, blocked)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TELEGRAM_TOKEN":      token,
		"TELEGRAM_API_URL":    tg.URL,
		"OUTAGEBOT_DB":        filepath.Join(t.TempDir(), "outagebot.db"),
		"OUTAGEBOT_CONFIG":    cfg,
		"OUTAGEBOT_LOG_LEVEL": "debug",
	}
	user, dm := subscriber("Amal")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := startSubscribed(ctx, t, tg, env, dm, user)
	warning := regexp.MustCompile(`level=WARN msg="probe needs the operator's attention: chat_tcp: tcp_refused since it was added[^"]*" part=watcher service=whatsapp probe=chat_tcp kind=unproven`)
	eventually(t, "the operator's warning about chat_tcp", func() bool { return warning.MatchString(p.stderr.String()) }, p.stderr)
	// Rounds go on well past the warning: it is given once, and nobody
	// hears of the unreachable target.
	rounds := strings.Count(p.stderr.String(), "round done")
	eventually(t, "five more rounds", func() bool { return strings.Count(p.stderr.String(), "round done") >= rounds+5 }, p.stderr)
	if n := strings.Count(p.stderr.String(), "probe needs the operator's attention"); n != 1 {
		t.Errorf("%d operator warnings, want 1; logs:\n%s", n, p.stderr)
	}
	if n := len(tg.Messages()); n != 1 {
		t.Errorf("%d messages sent, want only the reply to /subscribe: %q", n, texts(tg.Messages()))
	}

	// `outagebot check` on this host names the probe and suggests why.
	var out, errOut bytes.Buffer
	run(ctx, []string{"check"}, func(k string) string { return env[k] }, &out, &errOut)
	if !regexp.MustCompile(`chat_tcp\s+tcp\s+tcp_refused\s+\S+\s+unverified: .*outbound traffic to that port blocked`).MatchString(out.String()) {
		t.Errorf("check does not name chat_tcp as unverified, with a hint:\n%s", out.String())
	}

	// WhatsApp really fails, on the probes that work from here.
	wa.down.Store(true)
	if err := tg.Wait(ctx, func(s *bottest.Server) bool { return len(s.MessagesTo(42)) == 2 }); err != nil {
		t.Fatalf("the outage was not announced: %v\nmessages: %q\nlogs:\n%s", err, texts(tg.Messages()), p.stderr)
	}
	alert := tg.MessagesTo(42)[1].Plain()
	for _, want := range []string{"WhatsApp", "web", "api"} {
		if !strings.Contains(alert, want) {
			t.Errorf("alert %q lacks %q", alert, want)
		}
	}
	if strings.Contains(alert, "chat_tcp") {
		t.Errorf("alert %q cites the probe that never worked from here", alert)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit code %d; logs:\n%s", code, p.stderr)
	}
}

// fakeResolver is a DNS server on 127.0.0.1 that answers every A question
// with 127.0.0.1, until it is stopped.
func fakeResolver(t *testing.T) (addr string, stop func()) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, question := range q.Question {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.IPv4(127, 0, 0, 1),
			})
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	var stopped bool
	stop = func() {
		if !stopped {
			stopped = true
			_ = srv.Shutdown()
		}
	}
	t.Cleanup(stop)
	return pc.LocalAddr().String(), stop
}

// TestOwnResolverDiesNothingIsAnnounced runs the detection as the bot wires
// it (monitor, evidence, watcher, database) with real DNS over UDP: this
// machine's own resolver dies while a public resolver still answers. Every
// service becomes unknown, and nothing is announced to anyone.
func TestOwnResolverDiesNothingIsAnnounced(t *testing.T) {
	system, killSystem := fakeResolver(t)
	public, _ := fakeResolver(t)
	meta := newMeta(t)
	y := fmt.Sprintf(`thresholds: {down_after: 2, up_after: 2, prove_after: 2, recheck: 100ms, round_timeout: 2s}
official: {url: ""}
control:
  - {name: dns_system, kind: dns, role: system_dns, target: example.com, timeout: 300ms}
  - {name: dns_public, kind: dns, role: public_dns, target: example.com, resolver: '%[2]s', timeout: 300ms}
services:
  - id: whatsapp
    name: WhatsApp
    probes:
      - {name: dns, kind: dns, target: whatsapp.net, timeout: 300ms}
      - {name: chat_dns, kind: dns, target: g.whatsapp.net, timeout: 300ms}
      - {name: web, kind: http, target: %[3]s/, timeout: 300ms}
  - id: facebook
    name: Facebook
    probes:
      - {name: dns, kind: dns, target: facebook.com, resolvers: ['%[2]s'], timeout: 300ms}
      - {name: cdn_dns, kind: dns, target: static.xx.fbcdn.net, timeout: 300ms}
      - {name: web, kind: http, target: %[3]s/, timeout: 300ms}
`, system, public, meta.URL)
	cfg, err := config.Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "outagebot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []int64{1, 2} {
		if _, err := db.Subscribe(store.Chat{ID: id, Type: "private"}, []string{"whatsapp", "facebook"}); err != nil {
			t.Fatal(err)
		}
	}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cat := checks.NewCatalog(cfg.Services)
	ev := &evidence{
		mon: checks.NewMonitor(cfg.Services, cfg.Control, checks.MonitorOptions{
			// The system's resolver, as resolv.conf would name it.
			Probers: checks.NewProbers(checks.ProberOptions{Resolver: system}),
		}),
		catalog: cat,
		reports: &checks.Reports{Source: db, Rule: cfg.Reports},
		now:     time.Now,
		log:     log,
	}
	var transitions []checks.Transition
	var offline []string
	w := &checks.Watcher{Observe: ev.observe, Store: db, Vantage: db, Thresholds: cfg.Thresholds, Interval: time.Second,
		Channel: true, Log: log,
		OnTransition: func(tr checks.Transition) { transitions = append(transitions, tr) },
		OnObserve: func(obs []checks.Observation) {
			if !obs[0].ControlOK {
				offline = append(offline, obs[0].Offline)
			}
		}}
	for range 4 {
		w.Round(t.Context())
	}
	statuses, err := db.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range statuses {
		if st.State != checks.Operational || len(st.Unverified()) != 0 {
			t.Fatalf("%s before: %s, unverified %v; want every probe proven and the service operational\n%s", id, st.State, st.Unverified(), &logs)
		}
	}

	killSystem()
	for range 8 {
		w.Round(t.Context())
	}
	if len(transitions) != 0 {
		t.Errorf("announced %+v while this machine's resolver was dead", transitions)
	}
	if n, err := db.OutboxLen(); err != nil || n != 0 {
		t.Errorf("outbox holds %d chats (%v), want none", n, err)
	}
	if len(offline) == 0 || !strings.Contains(offline[len(offline)-1], "system_dns") {
		t.Errorf("offline rounds %q, want this machine offline because of its own resolver", offline)
	}
	statuses, err = db.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range statuses {
		if st.State != checks.Unknown || st.Announced != checks.Operational {
			t.Errorf("%s: %s (announced %s), want unknown and still announced operational", id, st.State, st.Announced)
		}
	}
}
