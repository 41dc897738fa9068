package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.etcd.io/bbolt"
)

// openTest opens a fresh database in a temporary directory, closed when the
// test ends.
func openTest(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outagebot.db")
	return openAt(t, path), path
}

// openAt opens the database at path, closed when the test ends.
func openAt(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		// A test may already have closed it to reopen the file.
		_ = db.Close()
	})
	return db
}

// reopen closes db and opens the same file again, as a restart would.
func reopen(t testing.TB, db *DB, path string) *DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return openAt(t, path)
}

func TestOpenCreatesFileWithMode0600(t *testing.T) {
	_, path := openTest(t)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode of new DB file = %v, want -rw-------", got)
	}
}

func TestOpenLockedByAnotherHandle(t *testing.T) {
	_, path := openTest(t)
	tests := []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{"default timeout", 0, 2 * time.Second},
		{"explicit timeout", 300 * time.Millisecond, 300 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// bbolt polls the lock with time.Sleep, so the bubble's fake
			// clock measures the wait exactly and instantly.
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				db, err := Open(path, Options{Timeout: tc.timeout})
				waited := time.Since(start)
				if err == nil {
					_ = db.Close()
					t.Fatal("Open of a locked DB succeeded")
				}
				want := "open DB " + path + ": database is locked by another process (is another outagebot running?)"
				if err.Error() != want {
					t.Errorf("error = %q, want %q", err, want)
				}
				if slack := 100 * time.Millisecond; waited < tc.want-slack || waited > tc.want+slack {
					t.Errorf("Open gave up after %v, want about %v", waited, tc.want)
				}
			})
		})
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	db, path := openTest(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchema), u64Key(schemaVersion+1))
	}); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path, Options{})
	if err == nil {
		_ = db.Close()
		t.Fatal("Open of a DB with a newer schema succeeded")
	}
	for _, want := range []string{"open DB " + path, "schema version 2 is newer", "upgrade outagebot"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestOffsetRoundTrip(t *testing.T) {
	db, path := openTest(t)
	got, err := db.Offset()
	if err != nil {
		t.Fatal(err)
	}
	if got != 0 {
		t.Errorf("Offset of a new DB = %d, want 0", got)
	}
	for _, want := range []int{1, 987654321012} {
		if err := db.TakeUpdates(want, nil); err != nil {
			t.Fatal(err)
		}
		db = reopen(t, db, path)
		got, err := db.Offset()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Offset after TakeUpdates(%d) and a restart = %d", want, got)
		}
	}
}

func TestChatKeyOrdersLikeIDs(t *testing.T) {
	ids := []int64{-1 << 63, -1001234567890, -42, -1, 0, 1, 42, 1<<63 - 1}
	for i := 1; i < len(ids); i++ {
		a, b := chatKey(ids[i-1]), chatKey(ids[i])
		if string(a) >= string(b) {
			t.Errorf("chatKey(%d) = %x does not sort before chatKey(%d) = %x", ids[i-1], a, ids[i], b)
		}
	}
	for _, id := range ids {
		if got := chatFromKey(chatKey(id)); got != id {
			t.Errorf("chatFromKey(chatKey(%d)) = %d", id, got)
		}
	}
}
