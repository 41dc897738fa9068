package store

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// Ping reports whether the database still takes writes. It commits a write
// transaction that bumps the meta bucket's sequence, a counter nothing else
// uses: reading alone would pass on a full disk or a file gone read-only,
// which are exactly what a health check must catch.
func (db *DB) Ping() error {
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		_, err := bucket(tx, bucketMeta).NextSequence()
		return err
	})
	if err != nil {
		return fmt.Errorf("write to DB: %w", err)
	}
	return nil
}
