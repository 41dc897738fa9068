package store

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Stats counts the work the database has done. Benchmarks take it before and
// after a load and compare: bbolt's own statistics count read transactions
// but not committed write transactions, and every commit is an fsync, the
// cost that batching concurrent writers saves.
type Stats struct {
	// Commits is the number of write transactions committed since the file
	// was created (bbolt's transaction id).
	Commits uint64
	// ReadTxs is the number of read transactions started since Open.
	ReadTxs int
	// CommitTime is the time commits since Open spent writing their pages
	// and syncing the file: mostly the disk's fsync latency.
	CommitTime time.Duration
}

// Stats returns the database's counters.
func (db *DB) Stats() (Stats, error) {
	// Read bbolt's counters first: the transaction below is one more.
	bs := db.bolt.Stats()
	s := Stats{ReadTxs: bs.TxN, CommitTime: bs.TxStats.GetWriteTime()}
	err := db.view(func(tx *bbolt.Tx) error {
		s.Commits = uint64(tx.ID())
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("read DB stats: %w", err)
	}
	return s, nil
}
