package store

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// ChannelPost is the announcement channel's one post about an incident,
// which is edited in place as the incident evolves.
type ChannelPost struct {
	MessageID int       `json:"message_id"`
	Version   uint64    `json:"version"`  // incident version the post shows
	Edited    time.Time `json:"edited"`   // last send or edit, for debouncing
	Resolved  bool      `json:"resolved"` // the post shows the recovery and the reply went out
}

// ChannelPost returns the channel post of an incident, if it was posted.
func (db *DB) ChannelPost(incident uint64) (ChannelPost, bool, error) {
	var p ChannelPost
	var ok bool
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		ok, err = getJSON(bucket(tx, bucketChannelPosts), u64Key(incident), &p)
		return err
	})
	if err != nil {
		return ChannelPost{}, false, fmt.Errorf("read channel post of incident %d: %w", incident, err)
	}
	return p, ok, nil
}

// SetChannelPost records the channel post of an incident.
func (db *DB) SetChannelPost(incident uint64, p ChannelPost) error {
	err := db.update(func(tx *bbolt.Tx) error {
		return putJSON(bucket(tx, bucketChannelPosts), u64Key(incident), p)
	})
	if err != nil {
		return fmt.Errorf("store channel post of incident %d: %w", incident, err)
	}
	return nil
}
