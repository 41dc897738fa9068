package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// Mark says that a chat must learn incident Incident up to version Version.
// The sender renders the incident as it is when sending, so one mark per
// incident is enough however many times it changed.
type Mark struct {
	Incident uint64 `json:"incident"`
	Version  uint64 `json:"version"`
}

// Delivery is one chat's outbox entry.
type Delivery struct {
	ChatID int64
	Marks  []Mark
	Key    []byte // opaque position in delivery order, for Outbox's after
}

// Outbox delivery classes, in delivery order: one channel post reaches every
// channel member at once, and groups reach many people per message.
const (
	classChannel byte = iota
	classGroup        // negative ids: groups, supergroups, channels
	classPrivate      // positive ids: users
)

// Outbox returns up to limit entries that come after the key after (nil:
// from the start), in delivery order: the channel (ChannelID) first, then
// groups, supergroups and channels, then private chats, each class by
// ascending id.
func (db *DB) Outbox(after []byte, limit int) ([]Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []Delivery
	err := db.view(func(tx *bbolt.Tx) error {
		c := bucket(tx, bucketOutbox).Cursor()
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			d := Delivery{ChatID: chatFromKey(k[1:]), Key: bytes.Clone(k)}
			if err := json.Unmarshal(v, &d.Marks); err != nil {
				return fmt.Errorf("decode outbox of chat %d: %w", d.ChatID, err)
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox after %x: %w", after, err)
	}
	return out, nil
}

// AckAll records that each chat was sent the delivered marks. A mark queued
// with a higher version meanwhile stays, so the chat still learns the newer
// state; an entry goes once no mark remains. One transaction serves all the
// chats: a sender pushing thousands of messages a second pays one fsync per
// batch, not per message.
func (db *DB) AckAll(delivered []Delivery) error {
	err := db.update(func(tx *bbolt.Tx) error {
		for _, d := range delivered {
			if err := ack(tx, d.ChatID, d.Marks); err != nil {
				return fmt.Errorf("chat %d: %w", d.ChatID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ack outbox of %d chats: %w", len(delivered), err)
	}
	return nil
}

func ack(tx *bbolt.Tx, chatID int64, delivered []Mark) error {
	outbox := bucket(tx, bucketOutbox)
	marks, err := getMarks(outbox, chatID)
	if err != nil {
		return err
	}
	var pending []Mark
	for _, m := range marks {
		if !covered(m, delivered) {
			pending = append(pending, m)
		}
	}
	switch {
	case len(pending) == len(marks):
		return nil // nothing delivered that was pending: no write
	case len(pending) == 0:
		return outbox.Delete(outboxKey(chatID))
	}
	return putJSON(outbox, outboxKey(chatID), pending)
}

// OutboxLen returns how many chats have notifications pending.
func (db *DB) OutboxLen() (int, error) {
	var n int
	if err := db.view(func(tx *bbolt.Tx) error {
		n = bucket(tx, bucketOutbox).Stats().KeyN
		return nil
	}); err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

// covered reports whether delivered includes m's incident at m's version or
// later.
func covered(m Mark, delivered []Mark) bool {
	for _, d := range delivered {
		if d.Incident == m.Incident && d.Version >= m.Version {
			return true
		}
	}
	return false
}

// outboxKey is a class byte followed by chatKey, so that bbolt's key order is
// delivery order.
func outboxKey(chatID int64) []byte {
	class := classPrivate
	switch {
	case chatID == ChannelID:
		class = classChannel
	case chatID < 0:
		class = classGroup
	}
	return append([]byte{class}, chatKey(chatID)...)
}

// mark queues m for chatID, raising the version of the chat's existing mark
// for the same incident rather than adding a second one.
func mark(outbox *bbolt.Bucket, chatID int64, m Mark) error {
	marks, err := getMarks(outbox, chatID)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(marks, func(x Mark) bool { return x.Incident == m.Incident }); i >= 0 {
		marks[i].Version = max(marks[i].Version, m.Version)
	} else {
		marks = append(marks, m)
	}
	if err := putJSON(outbox, outboxKey(chatID), marks); err != nil {
		return fmt.Errorf("queue incident %d for chat %d: %w", m.Incident, chatID, err)
	}
	return nil
}

func getMarks(outbox *bbolt.Bucket, chatID int64) ([]Mark, error) {
	var marks []Mark
	if _, err := getJSON(outbox, outboxKey(chatID), &marks); err != nil {
		return nil, fmt.Errorf("read outbox of chat %d: %w", chatID, err)
	}
	return marks, nil
}
