package store

import (
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/outagebot/outagebot/checks"
)

// keyVantage in bucketMeta holds what the detector knows of this machine's
// own network (checks.Vantage): which control probes have proven to work
// from here, and whether it is offline.
const keyVantage = "vantage"

// Vantage returns the stored checks.Vantage; the zero value when there is
// none yet.
func (db *DB) Vantage() (checks.Vantage, error) {
	var v checks.Vantage
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		_, err := getJSON(bucket(tx, bucketMeta), []byte(keyVantage), &v)
		return err
	})
	if err != nil {
		return checks.Vantage{}, fmt.Errorf("read the vantage point's state: %w", err)
	}
	return v, nil
}

// SetVantage stores v in place of the stored checks.Vantage.
func (db *DB) SetVantage(v checks.Vantage) error {
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		return putJSON(bucket(tx, bucketMeta), []byte(keyVantage), v)
	})
	if err != nil {
		return fmt.Errorf("store the vantage point's state: %w", err)
	}
	return nil
}
