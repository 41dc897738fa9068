package main

import (
	"bytes"
	"context"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
)

// TestHistoryEndToEnd runs the bot for a few rounds and asks for the chart:
// the rounds are recorded, and /history draws them.
func TestHistoryEndToEnd(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	wa, ig, control := newMeta(t), newMeta(t), newMeta(t)
	env := map[string]string{
		"TELEGRAM_TOKEN":      token,
		"TELEGRAM_API_URL":    tg.URL,
		"OUTAGEBOT_DB":        filepath.Join(t.TempDir(), "outagebot.db"),
		"OUTAGEBOT_CONFIG":    writeConfig(t, wa.URL, ig.URL, control.URL),
		"OUTAGEBOT_LOG_LEVEL": "debug",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	p := start(t, env)
	eventually(t, "three probe rounds", func() bool {
		return strings.Count(p.stderr.String(), "round done") >= 3
	}, p.stderr)
	dm := bottest.Chat{ID: 42, Type: "private", FirstName: "Ann"}
	tg.SendText(dm, bottest.User{ID: 42, FirstName: "Ann", LanguageCode: "en"}, "/history wa")
	if err := tg.Wait(ctx, func(s *bottest.Server) bool { return len(s.MessagesTo(42)) == 1 }); err != nil {
		t.Fatalf("no reply to /history: %v\nlogs:\n%s", err, p.stderr)
	}
	reply := tg.MessagesTo(42)[0]
	if reply.Photo == nil {
		t.Fatalf("/history answered %q, want a photo; logs:\n%s", reply.Plain(), p.stderr)
	}
	if _, err := png.Decode(bytes.NewReader(reply.Photo)); err != nil {
		t.Errorf("the chart is no PNG: %v", err)
	}
	caption := reply.Plain()
	for _, want := range []string{"WhatsApp, last 24 hours", "Uptime: 100.00 %", "No incidents"} {
		if !strings.Contains(caption, want) {
			t.Errorf("caption lacks %q:\n%s", want, caption)
		}
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0; logs:\n%s", code, p.stderr)
	}
}
