package store

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// Ping reports whether the database is sound and still takes writes. It
// fails with the damage any transaction met since Open (see Damage): a
// damaged page fails only the reads that reach it, so a write elsewhere
// would pass. Otherwise it commits a write transaction that bumps the meta
// bucket's sequence, a counter nothing else uses: reading alone would pass
// on a full disk or a file gone read-only, which are exactly what a health
// check must catch.
func (db *DB) Ping() error {
	if err := db.Damage(); err != nil {
		return err
	}
	err := db.update(func(tx *bbolt.Tx) error {
		_, err := bucket(tx, bucketMeta).NextSequence()
		return err
	})
	if err != nil {
		return fmt.Errorf("write to DB: %w", err)
	}
	return nil
}
