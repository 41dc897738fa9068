package store

import (
	"errors"
	"fmt"
	"io"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrLocked says that another process holds the database file.
var ErrLocked = errors.New("database is locked by a running process")

// Backup writes a consistent snapshot of the database to w, a valid
// database file, and returns how many bytes it wrote. It runs in a read
// transaction, so the bot keeps working meanwhile: writers carry on, and the
// snapshot is the state of the last commit before Backup began.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("back up DB: %w", err)
	}
	return n, nil
}

// BackupFile writes a snapshot of the database file at path to w, like
// Backup, for when no process has it open: the file is opened read-only and
// left as it is, its schema unchecked. It fails with ErrLocked within
// opts.Timeout when a running process holds the file, which must then be
// backed up through that process.
func BackupFile(path string, w io.Writer, opts Options) (int64, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return 0, fmt.Errorf("back up DB %s: %w", path, ErrLocked)
	}
	if err != nil {
		return 0, fmt.Errorf("back up DB %s: %w", path, err)
	}
	n, err := (&DB{bolt: bdb}).Backup(w)
	if cerr := bdb.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("back up DB %s: close: %w", path, cerr)
	}
	return n, err
}
