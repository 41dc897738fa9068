package store

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// keyStatusPost in bucketMeta holds the StatusPost JSON: there is only ever
// one.
const keyStatusPost = "status_post"

// StatusPost is the announcement channel's pinned summary of every service,
// which is edited in place whenever its text changes.
type StatusPost struct {
	// Channel is the channel as configured ("@name" or "-100…") when the
	// message was posted: a bot moved to another channel posts anew there.
	Channel   string `json:"channel"`
	MessageID int    `json:"message_id"`
	Text      string `json:"text"`   // what the message says now
	Pinned    bool   `json:"pinned"` // pinChatMessage succeeded
}

// StatusPost returns the channel's status message, if it was posted.
func (db *DB) StatusPost() (StatusPost, bool, error) {
	var p StatusPost
	var ok bool
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		ok, err = getJSON(bucket(tx, bucketMeta), []byte(keyStatusPost), &p)
		return err
	})
	if err != nil {
		return StatusPost{}, false, fmt.Errorf("read the channel's status message: %w", err)
	}
	return p, ok, nil
}

// SetStatusPost records the channel's status message.
func (db *DB) SetStatusPost(p StatusPost) error {
	err := db.update(func(tx *bbolt.Tx) error {
		return putJSON(bucket(tx, bucketMeta), []byte(keyStatusPost), p)
	})
	if err != nil {
		return fmt.Errorf("store the channel's status message: %w", err)
	}
	return nil
}
