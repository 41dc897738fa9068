package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// Update is a Telegram update as the Bot API sent it.
type Update struct {
	ID   int
	JSON []byte
	// Redelivered is how many times RedeliverUpdates returned the update
	// before.
	Redelivered int
}

// The inbox keeps the updates taken from Telegram until their handlers have
// finished. Telegram forgets an update as soon as getUpdates asks past it,
// which the poller does long before a slow handler is done: without the
// inbox, a crash would lose the commands in flight.
//
// A value is one byte that counts the update's redeliveries, then the JSON.

// Offset returns the stored getUpdates offset, 0 when never set.
func (db *DB) Offset() (int, error) {
	var offset int
	err := db.view(func(tx *bbolt.Tx) error {
		v := bucket(tx, bucketMeta).Get([]byte(keyOffset))
		if v == nil {
			return nil
		}
		if len(v) != 8 {
			return fmt.Errorf("corrupt value %x", v)
		}
		offset = int(int64(binary.BigEndian.Uint64(v)))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read getUpdates offset: %w", err)
	}
	return offset, nil
}

// TakeUpdates stores offset as the getUpdates offset and keeps updates in
// the inbox, in one transaction, so that asking Telegram for offset next
// loses none of them.
func (db *DB) TakeUpdates(offset int, updates []Update) error {
	err := db.update(func(tx *bbolt.Tx) error {
		inbox := bucket(tx, bucketInbox)
		for _, u := range updates {
			if err := inbox.Put(updateKey(u.ID), append([]byte{0}, u.JSON...)); err != nil {
				return fmt.Errorf("keep update %d: %w", u.ID, err)
			}
		}
		return bucket(tx, bucketMeta).Put([]byte(keyOffset), u64Key(uint64(int64(offset))))
	})
	if err != nil {
		return fmt.Errorf("store getUpdates offset %d: %w", offset, err)
	}
	return nil
}

// DoneUpdate removes a handled update from the inbox. Concurrent calls share
// one write transaction.
func (db *DB) DoneUpdate(id int) error {
	err := db.batch(func(tx *bbolt.Tx) error {
		return bucket(tx, bucketInbox).Delete(updateKey(id))
	})
	if err != nil {
		return fmt.Errorf("forget handled update %d: %w", id, err)
	}
	return nil
}

// RedeliverUpdates returns the updates in the inbox, oldest first: those
// taken and not yet handled when the last process stopped. It counts one
// more redelivery of each, in the same transaction, so that an update whose
// handling kills the process can be told from one that a crash interrupted.
func (db *DB) RedeliverUpdates() ([]Update, error) {
	var out []Update
	err := db.update(func(tx *bbolt.Tx) error {
		out = out[:0]
		inbox := bucket(tx, bucketInbox)
		c := inbox.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 || len(v) == 0 {
				return fmt.Errorf("corrupt update %x: %x", k, v)
			}
			out = append(out, Update{
				ID:          int(int64(binary.BigEndian.Uint64(k))),
				JSON:        bytes.Clone(v[1:]),
				Redelivered: int(v[0]),
			})
		}
		for _, u := range out {
			v := append([]byte{byte(min(u.Redelivered+1, 255))}, u.JSON...)
			if err := inbox.Put(updateKey(u.ID), v); err != nil {
				return fmt.Errorf("count redelivery of update %d: %w", u.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redeliver updates: %w", err)
	}
	return out, nil
}

// updateKey encodes an update id; Telegram's are positive and increasing.
func updateKey(id int) []byte {
	return u64Key(uint64(int64(id)))
}
