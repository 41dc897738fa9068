package store

import (
	"os"
	"testing"

	"go.etcd.io/bbolt"
)

// benchChats is how many chats buildBenchDB subscribes: 1,000,000
// subscriptions, every chat following whatsapp and one other service.
const benchChats = 500_000

// buildBenchDB fills db with benchChats chats, one in five a group, and
// returns the file's size in bytes.
func buildBenchDB(b *testing.B, db *DB, path string) int64 {
	b.Helper()
	const (
		perTx   = 50_000
		groupID = -1_000_000_000_000 // supergroup ids look like -100xxxxxxxxxx
	)
	others := []string{"instagram", "facebook", "messenger", "threads"}
	// Large transactions that insert in key order (groups, negative, first)
	// keep the build to seconds: bbolt splits a page only at commit, so
	// inserting before many keys of the same transaction is quadratic.
	for start := 0; start < benchChats; start += perTx {
		err := db.update(func(tx *bbolt.Tx) error {
			for i := start; i < start+perTx; i++ {
				id, kind := int64(i), "private"
				if i < benchChats/5 {
					id, kind = groupID+id, "supergroup"
				}
				if err := putChat(tx, Chat{ID: id, Type: kind, Added: t0}); err != nil {
					return err
				}
				for _, s := range []string{"whatsapp", others[i%len(others)]} {
					if _, err := subscribe(tx, id, s); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return info.Size()
}

// BenchmarkSubscribers lists the subscribers of the most followed service in
// a database of 1,000,000 subscriptions over 500,000 chats.
func BenchmarkSubscribers(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a database of 1,000,000 subscriptions")
	}
	db, path := openTest(b)
	size := buildBenchDB(b, db, path)
	for b.Loop() {
		ids, err := db.Subscribers("whatsapp")
		if err != nil {
			b.Fatal(err)
		}
		if len(ids) != benchChats {
			b.Fatalf("Subscribers returned %d chats, want %d", len(ids), benchChats)
		}
	}
	b.ReportMetric(float64(size), "dbfile-B")
}

// BenchmarkOpenCheck times the check that Open runs on an existing file
// (verify), on the database of BenchmarkSubscribers, with the file in the
// page cache as after a restart: from a cold disk, add the time to read the
// file once.
func BenchmarkOpenCheck(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a database of 1,000,000 subscriptions")
	}
	db, path := openTest(b)
	size := buildBenchDB(b, db, path)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := verify(path, &bbolt.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "dbfile-MB")
}
