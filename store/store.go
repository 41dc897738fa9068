// Package store keeps outagebot's state in one bbolt file: chats and their
// subscriptions, service states, incidents, the outbox of pending
// notifications, the getUpdates offset and the updates being handled.
//
// Everything that must change together changes in one transaction: a round's
// new service states, the incidents they open or close and the outbox marks
// for every subscriber are committed at once, so a crash can neither lose nor
// double a notification.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// schemaVersion is the layout this code reads and writes. Raise it, with a
// migration in initialize, whenever a bucket or value changes shape.
const schemaVersion = 1

const defaultTimeout = 2 * time.Second

// Top-level buckets, all created by Open.
const (
	bucketMeta          = "meta"          // keySchema, keyOffset, keyReportSalt, keyStatusPost
	bucketChats         = "chats"         // chatKey -> Chat JSON
	bucketChatServices  = "chat_services" // chatKey + service -> nothing
	bucketServiceChats  = "service_chats" // service -> nested bucket: chatKey -> nothing
	bucketStatuses      = "statuses"      // service -> checks.Status JSON
	bucketIncidents     = "incidents"     // id -> checks.Incident JSON; the sequence allocates ids
	bucketOpenIncidents = "open"          // service -> id of its open incident
	bucketHistory       = "history"       // service -> nested bucket: id -> nothing
	bucketOutbox        = "outbox"        // outboxKey -> []Mark JSON
	bucketChannelPosts  = "channel_posts" // incident or group id -> ChannelPost JSON
	bucketGroups        = "groups"        // group id -> nested bucket: incident id -> nothing
	bucketInbox         = "inbox"         // update id -> the update's JSON, until handled
)

// Keys in bucketMeta.
const (
	keySchema = "schema"
	keyOffset = "offset"
)

// Options tunes Open.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process; zero or negative means 2s. bbolt would otherwise wait forever.
	Timeout time.Duration
}

// DB is outagebot's database. It is safe for concurrent use.
type DB struct {
	bolt   *bbolt.DB
	damage atomic.Pointer[error] // the first ErrDamaged a transaction met
}

// Open opens the database at path, creating it with mode 0600 if needed. An
// existing file keeps its mode. Open refuses a database written by a newer
// schema, fails within opts.Timeout when another process holds it, and
// checks an existing file page by page first: a damaged one is refused with
// an error that wraps ErrDamaged and says how to restore a backup. The
// check reads the whole file: 0.25 s for 214 MB already in the page cache
// (BenchmarkOpenCheck), about as much again from a cold disk.
func Open(path string, opts Options) (db *DB, err error) {
	// A file cut short (a copy interrupted, a full disk) makes bbolt read
	// past the end of its memory map: SIGBUS, which would kill the process
	// with a Go stack trace. SetPanicOnFault turns that fault, in this
	// goroutine, into a panic answered here as an error.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("open DB %s: the file is truncated or corrupt (%v)", path, r)
		}
	}()
	bopts := *bbolt.DefaultOptions
	bopts.Timeout = opts.Timeout
	if bopts.Timeout <= 0 {
		bopts.Timeout = defaultTimeout
	}
	if err := verify(path, &bopts); err != nil {
		return nil, openError(path, err)
	}
	bdb, err := bbolt.Open(path, 0o600, &bopts)
	if err != nil {
		return nil, openError(path, err)
	}
	if err := bdb.Update(initialize); err != nil {
		// The initialization error is the one worth reporting.
		_ = bdb.Close()
		return nil, fmt.Errorf("open DB %s: %w", path, err)
	}
	return &DB{bolt: bdb}, nil
}

// openError is err, met opening the file at path, as Open reports it.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("open DB %s: database is locked by another process (is another outagebot running?)", path)
	case errors.Is(err, ErrDamaged):
		return fmt.Errorf("open DB %s: %w; %s", path, err, restoreHint)
	}
	return fmt.Errorf("open DB %s: %w", path, err)
}

// initialize checks the schema version and creates every bucket, so that the
// rest of the package can rely on them existing.
func initialize(tx *bbolt.Tx) error {
	if meta := tx.Bucket([]byte(bucketMeta)); meta != nil {
		if v := meta.Get([]byte(keySchema)); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("corrupt schema version %x", v)
			}
			if got := binary.BigEndian.Uint64(v); got > schemaVersion {
				return fmt.Errorf("schema version %d is newer than version %d that this outagebot understands: upgrade outagebot or use another DB file", got, schemaVersion)
			}
		}
	}
	for _, name := range []string{
		bucketMeta, bucketChats, bucketChatServices, bucketServiceChats, bucketStatuses,
		bucketIncidents, bucketOpenIncidents, bucketHistory, bucketOutbox, bucketChannelPosts, bucketGroups,
		bucketReports, bucketReporters, bucketSamples, bucketSettings, bucketInbox,
	} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	if err := bucket(tx, bucketMeta).Put([]byte(keySchema), u64Key(schemaVersion)); err != nil {
		return fmt.Errorf("write schema version: %w", err)
	}
	return initReportSalt(tx)
}

// Close releases the database file and its lock.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close DB: %w", err)
	}
	return nil
}

// bucket returns a top-level bucket; Open guarantees it exists.
func bucket(tx *bbolt.Tx, name string) *bbolt.Bucket {
	return tx.Bucket([]byte(name))
}

// has reports whether key is present. Bucket.Get cannot tell an empty value
// from a missing key inside a write transaction, so ask a cursor.
func has(b *bbolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return k != nil && bytes.Equal(k, key)
}

// u64Key encodes v big-endian, so that bbolt's byte order is numeric order.
func u64Key(v uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v)
}

// chatKey encodes a chat id so that byte order is numeric order, negative ids
// (groups, channels) included: flipping the sign bit maps int64 order onto
// uint64 order.
func chatKey(id int64) []byte {
	return u64Key(uint64(id) ^ 1<<63)
}

// chatFromKey decodes the first 8 bytes of k, written by chatKey.
func chatFromKey(k []byte) int64 {
	return int64(binary.BigEndian.Uint64(k) ^ 1<<63)
}

// getJSON decodes the value at key into v and reports whether it was there.
func getJSON(b *bbolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode value at %x: %w", key, err)
	}
	return true, nil
}

// putJSON stores v encoded as JSON at key.
func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode value for %x: %w", key, err)
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("put %x: %w", key, err)
	}
	return nil
}
