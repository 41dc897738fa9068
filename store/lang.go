package store

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// SetLang records chat.Lang as the language the chat reads. A chat without
// a record gets chat as its record; an existing record keeps its other
// fields where chat leaves them empty, and its Added time. Subscriptions are
// untouched.
func (db *DB) SetLang(chat Chat) error {
	if chat.Lang == "" {
		return fmt.Errorf("set language of chat %d: no language given", chat.ID)
	}
	err := db.batch(func(tx *bbolt.Tx) error {
		old, _, err := getChat(tx, chat.ID)
		if err != nil {
			return err
		}
		return putChat(tx, mergeChat(old, chat))
	})
	if err != nil {
		return fmt.Errorf("set language of chat %d: %w", chat.ID, err)
	}
	return nil
}
