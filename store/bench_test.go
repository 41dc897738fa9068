package store

import (
	"os"
	"testing"

	"go.etcd.io/bbolt"
)

// BenchmarkSubscribers lists the subscribers of the most followed service in
// a database of 1,000,000 subscriptions over 500,000 chats.
func BenchmarkSubscribers(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a database of 1,000,000 subscriptions")
	}
	const (
		chats   = 500_000
		perTx   = 50_000
		groupID = -1_000_000_000_000 // supergroup ids look like -100xxxxxxxxxx
	)
	others := []string{"instagram", "facebook", "messenger", "threads"}
	db, path := openTest(b)
	// Every chat follows whatsapp and one other service; one in five is a
	// group. Large transactions that insert in key order (groups, negative,
	// first) keep the build to seconds: bbolt splits a page only at commit,
	// so inserting before many keys of the same transaction is quadratic.
	for start := 0; start < chats; start += perTx {
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			for i := start; i < start+perTx; i++ {
				id, kind := int64(i), "private"
				if i < chats/5 {
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

	for b.Loop() {
		ids, err := db.Subscribers("whatsapp")
		if err != nil {
			b.Fatal(err)
		}
		if len(ids) != chats {
			b.Fatalf("Subscribers returned %d chats, want %d", len(ids), chats)
		}
	}
	b.ReportMetric(float64(info.Size()), "dbfile-B")
}
