package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/outagebot/outagebot/checks"
)

// Buckets of people's problem reports. Nothing in them names a person: a
// reporter is known only by a salted hash of their Telegram user id, and only
// for as long as the retention keeps it.
const (
	bucketReports   = "reports"   // service -> nested bucket: timeKey(bucket start) -> reportCounts JSON
	bucketReporters = "reporters" // service -> nested bucket: reporter hash -> time of the last counted report
)

// keyReportSalt in bucketMeta holds the secret that reporter hashes are keyed
// with. Without it, a hash of a user id could be reversed by hashing every
// plausible id.
const keyReportSalt = "report_salt"

const reportSaltSize = 32

// reportCounts is the stored form of a checks.ReportBucket.
type reportCounts struct {
	Count int            `json:"count"`
	Kinds map[string]int `json:"kinds,omitempty"`
	Langs map[string]int `json:"langs,omitempty"` // reporters' languages, primary subtags
	Last  time.Time      `json:"last,omitzero"`   // the latest report counted
}

// initReportSalt creates the reporter-hash salt the first time the database
// is opened; afterwards it checks that the salt is intact, because hashes
// made with another salt would let everyone report again at once.
func initReportSalt(tx *bbolt.Tx) error {
	meta := bucket(tx, bucketMeta)
	if salt := meta.Get([]byte(keyReportSalt)); salt != nil {
		if len(salt) != reportSaltSize {
			return fmt.Errorf("corrupt report salt of %d bytes", len(salt))
		}
		return nil
	}
	salt := make([]byte, reportSaltSize)
	if _, err := rand.Read(salt); err != nil {
		return fmt.Errorf("create report salt: %w", err)
	}
	if err := meta.Put([]byte(keyReportSalt), salt); err != nil {
		return fmt.Errorf("store report salt: %w", err)
	}
	return nil
}

// reporterKey is what the database knows of a reporter: HMAC-SHA256 of the
// user id under the salt.
func reporterKey(salt []byte, userID int64) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write(u64Key(uint64(userID)))
	return m.Sum(nil)
}

// timeKey encodes the second of t so that byte order is time order, before
// 1970 included (see chatKey).
func timeKey(t time.Time) []byte {
	return u64Key(uint64(t.Unix()) ^ 1<<63)
}

// timeFromKey decodes a key written by timeKey, in UTC.
func timeFromKey(k []byte) time.Time {
	return time.Unix(int64(binary.BigEndian.Uint64(k)^1<<63), 0).UTC()
}

// AddReport records that the user has a problem with service, of kind (one
// of checks.ReportKinds, or "" when unspecified), written in lang (the
// primary subtag of the user's language code, "" when unknown: a proxy for
// where people are affected, never a location). Only the first report of a
// user per service within perUser counts: it adds to the count and kinds of
// the checks.ReportBucketSize bucket of at and reports true; later ones
// report false and change nothing, so they do not extend the period either.
// The user id itself is never stored. Concurrent calls share one write
// transaction.
func (db *DB) AddReport(service, kind, lang string, userID int64, at time.Time, perUser time.Duration) (counted bool, err error) {
	err = db.batch(func(tx *bbolt.Tx) error {
		// Batch may run this function more than once.
		counted = false
		salt := bucket(tx, bucketMeta).Get([]byte(keyReportSalt))
		reporters, err := bucket(tx, bucketReporters).CreateBucketIfNotExists([]byte(service))
		if err != nil {
			return fmt.Errorf("create reporter bucket: %w", err)
		}
		who := reporterKey(salt, userID)
		if v := reporters.Get(who); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("corrupt reporter time %x", v)
			}
			if last := time.Unix(0, int64(binary.BigEndian.Uint64(v))); at.Sub(last) < perUser {
				return nil
			}
		}
		if err := reporters.Put(who, u64Key(uint64(at.UnixNano()))); err != nil {
			return fmt.Errorf("mark reporter: %w", err)
		}
		buckets, err := bucket(tx, bucketReports).CreateBucketIfNotExists([]byte(service))
		if err != nil {
			return fmt.Errorf("create report bucket: %w", err)
		}
		key := timeKey(at.Truncate(checks.ReportBucketSize))
		var rc reportCounts
		if _, err := getJSON(buckets, key, &rc); err != nil {
			return err
		}
		rc.Count++
		if rc.Kinds == nil {
			rc.Kinds = make(map[string]int)
		}
		rc.Kinds[kind]++
		if lang != "" {
			if rc.Langs == nil {
				rc.Langs = make(map[string]int)
			}
			rc.Langs[lang]++
		}
		if at.After(rc.Last) {
			rc.Last = at.UTC()
		}
		if err := putJSON(buckets, key, rc); err != nil {
			return err
		}
		counted = true
		return nil
	})
	if err != nil {
		// The user id stays out of errors too: they end up in logs.
		return false, fmt.Errorf("add report about %s: %w", service, err)
	}
	return counted, nil
}

// ReportBuckets returns the service's report buckets that start in
// [from, to), oldest first.
func (db *DB) ReportBuckets(service string, from, to time.Time) ([]checks.ReportBucket, error) {
	var out []checks.ReportBucket
	err := db.view(func(tx *bbolt.Tx) error {
		b := bucket(tx, bucketReports).Bucket([]byte(service))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(timeKey(from)); k != nil; k, v = c.Next() {
			start := timeFromKey(k)
			if !start.Before(to) {
				break
			}
			// The key has whole seconds; from may not.
			if start.Before(from) {
				continue
			}
			var rc reportCounts
			if err := json.Unmarshal(v, &rc); err != nil {
				return fmt.Errorf("decode bucket of %s: %w", start.Format(time.RFC3339), err)
			}
			out = append(out, checks.ReportBucket{Start: start, Count: rc.Count, Kinds: rc.Kinds, Langs: rc.Langs, Last: rc.Last})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read reports about %s from %s to %s: %w",
			service, from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return out, nil
}

// PruneReports deletes, for every service, the report buckets that start
// before before and the reporter marks whose last counted report is older.
func (db *DB) PruneReports(before time.Time) error {
	err := db.update(func(tx *bbolt.Tx) error {
		if err := pruneNested(bucket(tx, bucketReports), func(k, _ []byte) bool {
			return timeFromKey(k).Before(before)
		}); err != nil {
			return fmt.Errorf("prune report buckets: %w", err)
		}
		limit := before.UnixNano()
		if err := pruneNested(bucket(tx, bucketReporters), func(_, v []byte) bool {
			// A corrupt mark would fail every report of its reporter.
			return len(v) != 8 || int64(binary.BigEndian.Uint64(v)) < limit
		}); err != nil {
			return fmt.Errorf("prune reporter marks: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune reports before %s: %w", before.Format(time.RFC3339), err)
	}
	return nil
}

// pruneNested deletes the entries of every bucket nested in parent for which
// old is true. Deleting while iterating makes a bbolt cursor skip entries, so
// the keys are collected first.
func pruneNested(parent *bbolt.Bucket, old func(k, v []byte) bool) error {
	var names [][]byte
	if err := parent.ForEach(func(k, v []byte) error {
		if v == nil {
			names = append(names, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, name := range names {
		b := parent.Bucket(name)
		var doomed [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			if old(k, v) {
				doomed = append(doomed, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("delete %x from %s: %w", k, name, err)
			}
		}
	}
	return nil
}
