package store

import (
	"errors"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// InUse reports whether a running process, a bot, holds the database file
// at path open: what `outagebot backup` must never write over, whatever the
// path it was named by. It asks for the file's lock once, without waiting,
// and reads nothing if it gets it; a missing file, or one that is not a
// database, is not in use.
func InUse(path string) bool {
	// Any timeout shorter than bbolt's retry interval means one attempt.
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Nanosecond})
	if err == nil {
		bdb.Close()
	}
	return errors.Is(err, bolterrors.ErrTimeout)
}
