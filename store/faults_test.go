package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"
)

// Disk faults at the database file. A database written by a newer schema is
// covered by TestOpenRefusesNewerSchema.

// mount runs mount(8) with args and unmounts target when the test ends.
func mount(t *testing.T, target string, args ...string) error {
	t.Helper()
	if out, err := exec.Command("mount", append(args, target)...).CombinedOutput(); err != nil {
		return fmt.Errorf("mount %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", target).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", target, err, out)
		}
	})
	return nil
}

// makeReadOnly makes the file at path unwritable to this process and
// returns the error that opening it for writing should then meet. Modes do
// not stop root, so as root the file is bind-mounted read-only onto itself.
func makeReadOnly(t *testing.T, path string) error {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		return fs.ErrPermission
	}
	if err := mount(t, path, "--bind", path); err != nil {
		t.Skipf("running as root, whom file modes do not stop, and cannot bind-mount the file read-only: %v", err)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", path).CombinedOutput(); err != nil {
		t.Skipf("running as root, whom file modes do not stop, and cannot remount the file read-only: %v: %s", err, bytes.TrimSpace(out))
	}
	return syscall.EROFS
}

// openCatchingFaults is Open that reports a panic or a memory fault instead
// of dying of it. bbolt trusts the page numbers it reads and reads pages
// through mmap, so a short file makes it panic or raise SIGBUS, which would
// otherwise kill the whole test binary. After a fault the half-opened file
// stays open until the process exits.
func openCatchingFaults(path string) (db *DB, fault any, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { fault = recover() }()
	db, err = Open(path, Options{})
	return db, nil, err
}

// refusedOpen opens the file at path, which must fail with an error, not a
// crash, and leave the file as it was; it returns the error.
func refusedOpen(t *testing.T, path string) error {
	t.Helper()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, fault, err := openCatchingFaults(path)
	if fault != nil {
		t.Fatalf("Open crashed instead of returning an error: %v", fault)
	}
	if err == nil {
		_ = db.Close()
		t.Fatal("Open succeeded")
	}
	after, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if !bytes.Equal(before, after) {
		t.Error("the failed Open changed the file")
	}
	return err
}

func TestOpenReadOnlyFile(t *testing.T) {
	db, path := openTest(t)
	if _, err := db.Subscribe(Chat{ID: 42, Type: "private"}, []string{"whatsapp"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := makeReadOnly(t, path)

	db, err = Open(path, Options{})
	if err == nil {
		_ = db.Close()
		t.Fatal("Open of a read-only file succeeded; the first write would fail instead")
	}
	if !errors.Is(err, want) || !strings.Contains(err.Error(), path) {
		t.Errorf("error = %q, want it to name %s and wrap %q", err, path, want)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the failed Open changed the file")
	}
}

func TestOpenFileThatIsNotADatabase(t *testing.T) {
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	// A real database cut after its two meta pages: both are valid and point
	// at pages the file no longer has, as after a copy interrupted by a full
	// disk.
	db, path := openTest(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"a line of text", []byte("this is not a database\n")},
		{"random bytes", random},
		{"zeros", make([]byte, 32<<10)},
		{"another program's database", append([]byte("SQLite format 3\x00"), make([]byte, 8<<10)...)},
		{"truncated database", whole[:2*os.Getpagesize()]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outagebot.db")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := refusedOpen(t, path); !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestWriteToFullDisk fills a small tmpfs with subscriptions until a write
// fails, then checks that the failure was an error, not a crash, and that
// the database kept exactly what was reported as written. It mounts a file
// system, so it runs only as root on Linux and when asked:
//
//	sudo OUTAGEBOT_DISK_TESTS=1 go test -run FullDisk -v ./store/
func TestWriteToFullDisk(t *testing.T) {
	if os.Getenv("OUTAGEBOT_DISK_TESTS") != "1" {
		t.Skip("mounts a tmpfs: set OUTAGEBOT_DISK_TESTS=1 and run as root on Linux")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := mount(t, dir, "-t", "tmpfs", "-o", "size=256k", "tmpfs"); err != nil {
		t.Fatal(err)
	}
	// The filler takes half the space, so that freeing it later makes room.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 128<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "outagebot.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })

	// Subscribe in concurrent rounds, as handlers do, so that bbolt batches
	// them; a whole batch fails together.
	var subscribed []int64
	var failure error
	next := int64(1)
	for failure == nil && next < 1e6 {
		ids := make([]int64, 32)
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i := range ids {
			ids[i] = next
			next++
			wg.Go(func() {
				chat := Chat{ID: ids[i], Type: "private", Title: strings.Repeat("x", 64)}
				_, errs[i] = db.Subscribe(chat, []string{"whatsapp", "instagram"})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				failure = err
				continue
			}
			subscribed = append(subscribed, ids[i])
		}
	}
	t.Logf("%d chats subscribed before the disk filled: %v", len(subscribed), failure)
	if !errors.Is(failure, syscall.ENOSPC) {
		t.Fatalf("the write that filled the disk failed with %v, want an error wrapping ENOSPC", failure)
	}
	if len(subscribed) == 0 {
		t.Fatal("not even the first subscriptions fit: the test proves nothing")
	}
	slices.Sort(subscribed)

	// The database after the failure, and after a restart on the still full
	// disk, holds every subscription reported as done and no other.
	check := func(db *DB, when string) {
		t.Helper()
		for _, service := range []string{"whatsapp", "instagram"} {
			got, err := db.Subscribers(service)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if diff := cmp.Diff(subscribed, got); diff != "" {
				t.Errorf("%s: Subscribers(%q) differ from the successful Subscribe calls (-want +got):\n%s", when, service, diff)
			}
		}
		if err := db.bolt.View(func(tx *bbolt.Tx) error {
			for err := range tx.Check() {
				t.Errorf("%s: bbolt consistency check: %v", when, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check(db, "after the failed write")
	if err := db.Close(); err != nil {
		t.Fatalf("Close after the failed write: %v", err)
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen on the full disk: %v", err)
	}
	check(db, "after reopening")

	// Once the operator frees space, writes work again without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Subscribe(Chat{ID: next, Type: "private"}, []string{"whatsapp"}); err != nil {
		t.Errorf("Subscribe after space was freed: %v", err)
	}
}

// fillForDamage gives the chats and the outbox 300 entries each, enough for
// each bucket to have pages of its own rather than live inline in its
// parent's.
func fillForDamage(t *testing.T, db *DB) {
	t.Helper()
	err := db.update(func(tx *bbolt.Tx) error {
		for id := int64(1); id <= 300; id++ {
			if err := putChat(tx, Chat{ID: id, Type: "private", Lang: "it", Added: t0}); err != nil {
				return err
			}
			if _, err := subscribe(tx, id, "whatsapp"); err != nil {
				return err
			}
			if err := mark(bucket(tx, bucketOutbox), id, Mark{Incident: 1, Version: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// damagePage overwrites the root page of the named bucket of db's file at
// path with fill's bytes, as a bad disk sector or a stray write would. db
// may stay open: bbolt maps the file shared, so it sees the change.
func damagePage(t *testing.T, db *DB, path, name string, fill func([]byte)) {
	t.Helper()
	var offset, size int64
	if err := db.view(func(tx *bbolt.Tx) error {
		size = int64(tx.DB().Info().PageSize)
		offset = int64(bucket(tx, name).Root()) * size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if offset == 0 {
		t.Fatalf("bucket %s lives inline in its parent: give it more entries", name)
	}
	page := make([]byte, size)
	fill(page)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(page, offset); err != nil {
		t.Fatal(err)
	}
}

func zeros([]byte) {}

func randomBytes(page []byte) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range page {
		page[i] = byte(rng.Uint32())
	}
}

func TestOpenRefusesDamagedFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bucket string
		fill   func([]byte)
	}{
		{"zeroed outbox page", bucketOutbox, zeros},
		{"zeroed chats page", bucketChats, zeros},
		{"chats page of random bytes", bucketChats, randomBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, path := openTest(t)
			fillForDamage(t, db)
			damagePage(t, db, path, tc.bucket, tc.fill)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			err := refusedOpen(t, path)
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("error %q does not wrap ErrDamaged", err)
			}
			for _, want := range []string{path, "outagebot backup", "docs/robustness.md"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

// TestDamageFoundAfterOpen damages pages of a database in use: the
// operations that reach them fail with ErrDamaged instead of panicking, the
// others carry on, and Ping reports the damage from then on.
func TestDamageFoundAfterOpen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bucket string
		reach  func(*DB) error // an operation that reads the damaged page
	}{
		{"chats, read", bucketChats, func(db *DB) error { _, _, err := db.Chat(5); return err }},
		{"chats, batched write", bucketChats, func(db *DB) error {
			_, err := db.Subscribe(Chat{ID: 7, Type: "private"}, []string{"threads"})
			return err
		}},
		{"outbox, read", bucketOutbox, func(db *DB) error { _, err := db.Outbox(nil, 10); return err }},
		{"outbox, write", bucketOutbox, func(db *DB) error {
			return db.AckAll([]Delivery{{ChatID: 5, Marks: []Mark{{Incident: 1, Version: 1}}}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, path := openTest(t)
			fillForDamage(t, db)
			if err := db.Ping(); err != nil {
				t.Fatalf("Ping before the damage: %v", err)
			}
			damagePage(t, db, path, tc.bucket, zeros)

			err := tc.reach(db)
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("operation on the damaged page: %v, want ErrDamaged", err)
			}
			if _, err := db.Statuses(); err != nil {
				t.Errorf("Statuses, which does not reach the damage: %v", err)
			}
			err = db.Ping()
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "outagebot backup") {
				t.Errorf("Ping after the damage = %v, want ErrDamaged and how to restore", err)
			}
		})
	}
}
