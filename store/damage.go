package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"go.etcd.io/bbolt"
)

// ErrDamaged says that the database file is damaged: a page bbolt cannot
// read, or pages that its accounting does not add up for. Such a file only
// gets worse with writes; the cure is the last backup.
var ErrDamaged = errors.New("the database file is damaged")

// restoreHint is what an operator should do about ErrDamaged.
const restoreHint = "stop outagebot and put back the last copy that `outagebot backup` made " +
	"(see docs/robustness.md)"

// maxCheckErrors bounds how many of bbolt's findings an error quotes: one
// damaged page can make it report thousands of unreachable ones.
const maxCheckErrors = 3

// damaged records r, a panic met inside a transaction, as the database's
// damage, keeping the first one, and returns it as an error.
func (db *DB) damaged(r any) error {
	err := fmt.Errorf("%w: %v", ErrDamaged, r)
	db.damage.CompareAndSwap(nil, &err)
	return err
}

// Damage returns the first damage a transaction met since Open, with what to
// do about it, or nil.
func (db *DB) Damage() error {
	if err := db.damage.Load(); err != nil {
		return fmt.Errorf("%w; %s", *err, restoreHint)
	}
	return nil
}

// Every transaction goes through view, update or batch rather than bbolt's
// own methods. bbolt trusts what it reads: a damaged page makes it panic, and
// a page number past the end of the file makes it read outside its memory
// map, a fault that kills the process. Here both cost the operation that
// met them an error, and the damage is remembered for the health check.

func (db *DB) view(fn func(*bbolt.Tx) error) error   { return db.guard(db.bolt.View, fn) }
func (db *DB) update(fn func(*bbolt.Tx) error) error { return db.guard(db.bolt.Update, fn) }

// batch is bbolt's Batch, which runs fn on a goroutine of bbolt's: fn turns
// faults into panics there too, bbolt returns such a panic as an error, and
// Batch then runs fn again alone, on this goroutine, where guard catches it.
func (db *DB) batch(fn func(*bbolt.Tx) error) error {
	return db.guard(db.bolt.Batch, func(tx *bbolt.Tx) error {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		return fn(tx)
	})
}

// guard runs fn in a transaction begun by run, turning a panic or a memory
// fault on the way into ErrDamaged. bbolt rolls the transaction back as the
// panic passes, so its locks are free again.
func (db *DB) guard(run func(func(*bbolt.Tx) error) error, fn func(*bbolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = db.damaged(r)
		}
	}()
	return run(fn)
}

// verify checks the database file at path before Open writes to it, so that
// damage is refused at start, with a clear error, rather than met by a panic
// in the middle of a fan-out. It opens the file read-only on a handle of its
// own: the pages it reads leave the process's memory when that handle
// closes. A missing or empty file passes: Open creates it.
//
// First every key of every bucket is read, in this goroutine, where a fault
// is a panic (see Open): bbolt's consistency check runs on a goroutine of its
// own, where a page number past the end of the file would kill the process.
// Then bbolt's check (Tx.Check) proves that every page is either reachable
// exactly once or free.
func verify(path string, opts *bbolt.Options) (err error) {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) || err == nil && info.Size() == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	if err := readThrough(path); err != nil {
		return err
	}
	ro := *opts
	ro.ReadOnly = true
	bdb, err := bbolt.Open(path, 0o600, &ro)
	if err != nil {
		return err
	}
	defer bdb.Close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrDamaged, r)
		}
	}()
	return bdb.View(func(tx *bbolt.Tx) error {
		if tx.Size() > info.Size() {
			return fmt.Errorf("%w: it is %d bytes long, but its pages need %d: it was cut short", ErrDamaged, info.Size(), tx.Size())
		}
		if err := tx.ForEach(func(_ []byte, b *bbolt.Bucket) error { return readKeys(b) }); err != nil {
			return err
		}
		var found []string
		n := 0
		for err := range tx.Check() {
			if n++; n <= maxCheckErrors {
				found = append(found, err.Error())
			}
		}
		if n == 0 {
			return nil
		}
		if n > maxCheckErrors {
			found = append(found, fmt.Sprintf("and %d more problems", n-maxCheckErrors))
		}
		return fmt.Errorf("%w: %s", ErrDamaged, strings.Join(found, "; "))
	})
}

// readThrough reads the file at path once, front to back, into the page
// cache. The check then reads pages through the memory map in the order of
// the B+trees, one page per fault: from a cold disk that took 8 s for a
// 200 MB file against 0.8 s after one sequential read.
func readThrough(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// readKeys reads every key of b and of the buckets nested in it, checking
// that each sorts after the one before.
func readKeys(b *bbolt.Bucket) error {
	var prev []byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return fmt.Errorf("%w: key %x comes after %x", ErrDamaged, k, prev)
		}
		prev = k
		if v != nil {
			continue
		}
		if nested := b.Bucket(k); nested != nil {
			if err := readKeys(nested); err != nil {
				return err
			}
		}
	}
	return nil
}
