package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/outagebot/outagebot/bot/bottest"
)

// damageChats is how many chats the damage tests subscribe: enough for the
// chats and the outbox to have pages of their own in the file.
const damageChats = 300

func damageSubscribers() []int64 {
	ids := make([]int64, damageChats)
	for i := range ids {
		ids[i] = int64(1 + i)
	}
	return ids
}

// rootPage returns where, in the closed database at path, the root page of
// the named top-level bucket starts, and the size of a page.
func rootPage(t *testing.T, path, name string) (offset, size int64) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		size = int64(db.Info().PageSize)
		offset = int64(tx.Bucket([]byte(name)).Root()) * size
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if offset == 0 {
		t.Fatalf("bucket %s is inline in its parent", name)
	}
	return offset, size
}

// zeroPage overwrites the page at offset of the file at path with zeros, as
// a bad sector or a stray write would. A running bot sees the change: bbolt
// maps the file shared.
func zeroPage(t *testing.T, path string, offset, size int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, size), offset); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedDatabaseAtStart: a damaged page used to pass the start and then
// crash the sender (the outbox) or silence every command (the chats), on
// every restart. Now the start fails at once, saying what to do.
func TestDamagedDatabaseAtStart(t *testing.T) {
	for _, bucket := range []string{"outbox", "chats"} {
		t.Run(bucket, func(t *testing.T) {
			tg := bottest.NewServer(token)
			defer tg.Close()
			wa := newMeta(t)
			path := filepath.Join(t.TempDir(), "outagebot.db")
			seedOutage(t, path, wa.URL, damageSubscribers())
			offset, size := rootPage(t, path, bucket)
			zeroPage(t, path, offset, size)
			env := map[string]string{
				"TELEGRAM_TOKEN":   token,
				"TELEGRAM_API_URL": tg.URL,
				"OUTAGEBOT_DB":     path,
				"OUTAGEBOT_CONFIG": writeFanOutConfig(t, wa.URL, freeLimits),
			}
			code, _, stderr := runCommand(env)
			if code != exitFailed {
				t.Errorf("exit code %d, want %d", code, exitFailed)
			}
			for _, want := range []string{"open DB " + path, "damaged", "outagebot backup"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Errorf("stderr holds a stack trace:\n%s", stderr)
			}
			if n := len(tg.Calls("")); n != 0 {
				t.Errorf("%d Bot API calls before the database was found damaged, want none", n)
			}
		})
	}
}

// TestDamageFoundWhileRunning damages the chats of a running bot, which
// every command reads: commands get the apology, the health check fails
// naming the damage, and the bot keeps running and answering what does not
// need the damaged page.
func TestDamageFoundWhileRunning(t *testing.T) {
	tg := bottest.NewServer(token)
	defer tg.Close()
	h := newMeta(t)
	path := filepath.Join(t.TempDir(), "outagebot.db")
	if err := seedSubscribers(t, path, damageSubscribers()).Close(); err != nil {
		t.Fatal(err)
	}
	// Nothing writes to the chats until the damage, so their root page
	// stays where it is now.
	chatsOffset, pageSize := rootPage(t, path, "chats")
	p := start(t, map[string]string{
		"TELEGRAM_TOKEN":   token,
		"TELEGRAM_API_URL": tg.URL,
		"OUTAGEBOT_DB":     path,
		"OUTAGEBOT_CONFIG": writeConfig(t, h.URL, h.URL, h.URL),
		"OUTAGEBOT_LISTEN": "127.0.0.1:0",
	})
	base := "http://" + opsAddr(t, p)
	// The other lines depend on how fast this machine runs probe rounds.
	if _, body := fetch(t, http.MethodGet, base+"/healthz", "", ""); !strings.Contains(body, "db: ok") {
		t.Fatalf("/healthz before the damage:\n%s", body)
	}

	zeroPage(t, path, chatsOffset, pageSize)
	user := bottest.User{ID: 4242, FirstName: "Ann", LanguageCode: "en"}
	dm := bottest.Chat{ID: 4242, Type: "private", FirstName: "Ann"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tg.SendText(dm, user, "/subscribe whatsapp")
	if err := tg.Wait(ctx, func(s *bottest.Server) bool { return len(s.MessagesTo(dm.ID)) == 1 }); err != nil {
		t.Fatalf("no answer to /subscribe: %v\n%s", err, p.stderr)
	}
	if got := tg.MessagesTo(dm.ID)[0].Plain(); got != "Something went wrong, please try again." {
		t.Errorf("answer to /subscribe = %q, want the apology", got)
	}
	code, body := fetch(t, http.MethodGet, base+"/healthz", "", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "db: the database file is damaged") ||
		!strings.Contains(body, "outagebot backup") {
		t.Errorf("/healthz after the damage = %d, want 503 naming the damage and the backup:\n%s", code, body)
	}
	if !strings.Contains(p.stderr.String(), "damaged") {
		t.Errorf("the damage was not logged:\n%s", p.stderr)
	}
	tg.SendText(dm, user, "/help")
	if err := tg.Wait(ctx, func(s *bottest.Server) bool { return len(s.MessagesTo(dm.ID)) == 2 }); err != nil {
		t.Fatalf("no answer to /help: %v\n%s", err, p.stderr)
	}
	select {
	case <-p.done:
		t.Fatalf("the bot stopped with %d; logs:\n%s", p.code, p.stderr)
	default:
	}
	if code := p.stop(t); code != exitOK {
		t.Errorf("exit code %d after the stop, want 0; logs:\n%s", code, p.stderr)
	}
}
