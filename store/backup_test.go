package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// txID is the id of the last committed write transaction.
func txID(t *testing.T, db *DB) int {
	t.Helper()
	var id int
	if err := db.bolt.View(func(tx *bbolt.Tx) error { id = int(tx.ID()); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPing(t *testing.T) {
	db, _ := openTest(t)
	before := txID(t, db)
	if err := db.Ping(); err != nil {
		t.Fatalf("Ping of an open DB: %v", err)
	}
	if after := txID(t, db); after != before+1 {
		t.Errorf("Ping committed %d write transactions, want 1", after-before)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err := db.Ping()
	if err == nil || !errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		t.Errorf("Ping of a closed DB = %v, want an error wrapping %v", err, bolterrors.ErrDatabaseNotOpen)
	}
}

// checkSnapshot opens the snapshot in data as a database, runs bbolt's
// consistency check on it and returns it.
func checkSnapshot(t *testing.T, data []byte) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snapshot.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	snap := openAt(t, path)
	var problems []error
	if err := snap.bolt.View(func(tx *bbolt.Tx) error {
		// Drain the channel: its producer stops only at the end.
		for err := range tx.Check() {
			problems = append(problems, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("snapshot fails bbolt's consistency check: %v", problems)
	}
	return snap
}

func TestBackupWhileInUse(t *testing.T) {
	db, _ := openTest(t)
	if _, err := db.Subscribe(Chat{ID: 42, Type: "private"}, []string{"whatsapp", "threads"}); err != nil {
		t.Fatal(err)
	}
	if err := db.TakeUpdates(777, nil); err != nil {
		t.Fatal(err)
	}

	// A writer subscribes new chats while the backup runs: the snapshot
	// must be one committed state, both directions of every subscription
	// included.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for id := int64(1000); ; id++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.Subscribe(Chat{ID: id, Type: "private"}, []string{"instagram"}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var buf bytes.Buffer
	n, err := db.Backup(&buf)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("Backup returned %d bytes, wrote %d", n, buf.Len())
	}

	snap := checkSnapshot(t, buf.Bytes())
	subs, err := snap.Subscriptions(42)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"threads", "whatsapp"}, subs); diff != "" {
		t.Errorf("subscriptions of chat 42 in the snapshot (-want +got):\n%s", diff)
	}
	if offset, err := snap.Offset(); err != nil || offset != 777 {
		t.Errorf("offset in the snapshot = %d, %v; want 777", offset, err)
	}
	followers, err := snap.Subscribers("instagram")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range followers {
		subs, err := snap.Subscriptions(id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"instagram"}, subs); diff != "" {
			t.Fatalf("chat %d follows instagram in one direction only (-want +got):\n%s", id, diff)
		}
	}
}

func TestBackupFile(t *testing.T) {
	db, path := openTest(t)
	if _, err := db.Subscribe(Chat{ID: -100, Type: "group"}, []string{"facebook"}); err != nil {
		t.Fatal(err)
	}

	t.Run("locked by a running process", func(t *testing.T) {
		// bbolt polls the lock with time.Sleep: the bubble's clock makes
		// the timeout instant.
		synctest.Test(t, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := BackupFile(path, &buf, Options{Timeout: time.Second})
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
				t.Errorf("BackupFile of an open DB = %v, want %v naming the file", err, ErrLocked)
			}
		})
	})

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("closed", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := BackupFile(path, &buf, Options{})
		if err != nil {
			t.Fatalf("BackupFile: %v", err)
		}
		if n != int64(buf.Len()) {
			t.Errorf("BackupFile returned %d bytes, wrote %d", n, buf.Len())
		}
		subs, err := checkSnapshot(t, buf.Bytes()).Subscriptions(-100)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"facebook"}, subs); diff != "" {
			t.Errorf("subscriptions in the snapshot (-want +got):\n%s", diff)
		}
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Error("BackupFile changed the database file")
		}
	})

	t.Run("missing", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope.db")
		if _, err := BackupFile(missing, &bytes.Buffer{}, Options{}); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("BackupFile of a missing file = %v, want an error naming it", err)
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("BackupFile created %s (%v)", missing, err)
		}
	})
}
