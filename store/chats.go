package store

import (
	"bytes"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Chat is a Telegram chat the bot talks to.
type Chat struct {
	ID    int64     `json:"id"`
	Type  string    `json:"type"` // private, group, supergroup, channel
	Title string    `json:"title,omitempty"`
	Lang  string    `json:"lang,omitempty"`
	Added time.Time `json:"added"`
}

// Subscribe records chat, keeping the fields of an existing record that chat
// leaves empty, and subscribes it to services. It returns the services newly
// subscribed, in input order, without those already subscribed or repeated.
// Concurrent calls share one write transaction.
func (db *DB) Subscribe(chat Chat, services []string) (added []string, err error) {
	err = db.batch(func(tx *bbolt.Tx) error {
		// Batch may run this function more than once.
		added = added[:0]
		old, _, err := getChat(tx, chat.ID)
		if err != nil {
			return err
		}
		if err := putChat(tx, mergeChat(old, chat)); err != nil {
			return err
		}
		for _, s := range services {
			ok, err := subscribe(tx, chat.ID, s)
			if err != nil {
				return err
			}
			if ok {
				added = append(added, s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe chat %d: %w", chat.ID, err)
	}
	return added, nil
}

// Unsubscribe removes the chat's subscriptions to services and returns those
// it had, in input order. The chat record stays.
func (db *DB) Unsubscribe(chatID int64, services []string) (removed []string, err error) {
	err = db.batch(func(tx *bbolt.Tx) error {
		removed = removed[:0]
		for _, s := range services {
			ok, err := unsubscribe(tx, chatID, s)
			if err != nil {
				return err
			}
			if ok {
				removed = append(removed, s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unsubscribe chat %d: %w", chatID, err)
	}
	return removed, nil
}

// Subscriptions returns the ids of the services the chat is subscribed to,
// sorted; none for an unknown chat.
func (db *DB) Subscriptions(chatID int64) ([]string, error) {
	var services []string
	if err := db.view(func(tx *bbolt.Tx) error {
		services = subscriptions(tx, chatID)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list subscriptions of chat %d: %w", chatID, err)
	}
	return services, nil
}

// Subscribers returns the ids of the chats subscribed to service, ascending.
func (db *DB) Subscribers(service string) ([]int64, error) {
	var ids []int64
	err := db.view(func(tx *bbolt.Tx) error {
		b := bucket(tx, bucketServiceChats).Bucket([]byte(service))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			ids = append(ids, chatFromKey(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list subscribers of %s: %w", service, err)
	}
	return ids, nil
}

// Chat returns the chat's record and whether there is one.
func (db *DB) Chat(id int64) (Chat, bool, error) {
	var (
		c  Chat
		ok bool
	)
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		c, ok, err = getChat(tx, id)
		return err
	})
	if err != nil {
		return Chat{}, false, fmt.Errorf("read chat %d: %w", id, err)
	}
	return c, ok, nil
}

// SaveChat stores c as the chat's record, replacing any previous one
// entirely: to change one field, read the record with Chat first. The
// subscriptions are untouched.
func (db *DB) SaveChat(c Chat) error {
	if err := db.batch(func(tx *bbolt.Tx) error {
		return putChat(tx, c)
	}); err != nil {
		return fmt.Errorf("save chat %d: %w", c.ID, err)
	}
	return nil
}

// DeleteChat forgets the chat: its record, its subscriptions, its settings
// and its pending notifications. Deleting an unknown chat is not an error.
func (db *DB) DeleteChat(chatID int64) error {
	if err := db.batch(func(tx *bbolt.Tx) error {
		return deleteChat(tx, chatID)
	}); err != nil {
		return fmt.Errorf("delete chat %d: %w", chatID, err)
	}
	return nil
}

// MigrateChat moves a group that Telegram upgraded to a supergroup from its
// old id to its new one: subscriptions and pending notifications are merged
// into whatever the new id already has, the record becomes a supergroup's
// (the old record's fields win where set), the old id's settings replace
// the new one's if it has any, and the old id is forgotten.
func (db *DB) MigrateChat(from, to int64) error {
	if from == to {
		return nil
	}
	err := db.batch(func(tx *bbolt.Tx) error {
		fromChat, _, err := getChat(tx, from)
		if err != nil {
			return err
		}
		toChat, _, err := getChat(tx, to)
		if err != nil {
			return err
		}
		c := mergeChat(toChat, fromChat)
		c.ID, c.Type = to, "supergroup"
		if err := putChat(tx, c); err != nil {
			return err
		}
		for _, s := range subscriptions(tx, from) {
			if _, err := subscribe(tx, to, s); err != nil {
				return err
			}
		}
		outbox := bucket(tx, bucketOutbox)
		marks, err := getMarks(outbox, from)
		if err != nil {
			return err
		}
		for _, m := range marks {
			if err := mark(outbox, to, m); err != nil {
				return err
			}
		}
		if err := migrateSettings(tx, from, to); err != nil {
			return err
		}
		return deleteChat(tx, from)
	})
	if err != nil {
		return fmt.Errorf("migrate chat %d to %d: %w", from, to, err)
	}
	return nil
}

// mergeChat returns c with the fields it leaves empty taken from old, and
// the earlier of the two Added times.
func mergeChat(old, c Chat) Chat {
	if c.Type == "" {
		c.Type = old.Type
	}
	if c.Title == "" {
		c.Title = old.Title
	}
	if c.Lang == "" {
		c.Lang = old.Lang
	}
	if !old.Added.IsZero() && (c.Added.IsZero() || old.Added.Before(c.Added)) {
		// Added is when the chat first came: later writes do not move it.
		c.Added = old.Added
	}
	return c
}

func getChat(tx *bbolt.Tx, id int64) (Chat, bool, error) {
	var c Chat
	ok, err := getJSON(bucket(tx, bucketChats), chatKey(id), &c)
	if err != nil {
		return Chat{}, false, fmt.Errorf("read chat record: %w", err)
	}
	return c, ok, nil
}

func putChat(tx *bbolt.Tx, c Chat) error {
	if err := putJSON(bucket(tx, bucketChats), chatKey(c.ID), c); err != nil {
		return fmt.Errorf("write chat record: %w", err)
	}
	return nil
}

// deleteChat removes everything stored about the chat.
func deleteChat(tx *bbolt.Tx, chatID int64) error {
	for _, s := range subscriptions(tx, chatID) {
		if _, err := unsubscribe(tx, chatID, s); err != nil {
			return err
		}
	}
	if err := bucket(tx, bucketChats).Delete(chatKey(chatID)); err != nil {
		return fmt.Errorf("delete chat record: %w", err)
	}
	if err := bucket(tx, bucketOutbox).Delete(outboxKey(chatID)); err != nil {
		return fmt.Errorf("delete outbox entry: %w", err)
	}
	if err := bucket(tx, bucketSettings).Delete(chatKey(chatID)); err != nil {
		return fmt.Errorf("delete settings: %w", err)
	}
	return nil
}

// chatServiceKey is the key of one subscription in bucketChatServices: the
// chat first, so that a chat's subscriptions are one prefix scan.
func chatServiceKey(chatID int64, service string) []byte {
	return append(chatKey(chatID), service...)
}

// subscribe adds the subscription in both directions and reports whether it
// is new.
func subscribe(tx *bbolt.Tx, chatID int64, service string) (bool, error) {
	byChat := bucket(tx, bucketChatServices)
	k := chatServiceKey(chatID, service)
	if has(byChat, k) {
		return false, nil
	}
	if err := byChat.Put(k, nil); err != nil {
		return false, fmt.Errorf("add %s to the subscriptions of the chat: %w", service, err)
	}
	byService, err := bucket(tx, bucketServiceChats).CreateBucketIfNotExists([]byte(service))
	if err != nil {
		return false, fmt.Errorf("create subscriber index of %s: %w", service, err)
	}
	if err := byService.Put(chatKey(chatID), nil); err != nil {
		return false, fmt.Errorf("add the chat to the subscribers of %s: %w", service, err)
	}
	return true, nil
}

// unsubscribe removes the subscription in both directions and reports whether
// there was one.
func unsubscribe(tx *bbolt.Tx, chatID int64, service string) (bool, error) {
	byChat := bucket(tx, bucketChatServices)
	k := chatServiceKey(chatID, service)
	if !has(byChat, k) {
		return false, nil
	}
	if err := byChat.Delete(k); err != nil {
		return false, fmt.Errorf("remove %s from the subscriptions of the chat: %w", service, err)
	}
	if byService := bucket(tx, bucketServiceChats).Bucket([]byte(service)); byService != nil {
		if err := byService.Delete(chatKey(chatID)); err != nil {
			return false, fmt.Errorf("remove the chat from the subscribers of %s: %w", service, err)
		}
	}
	return true, nil
}

// subscriptions returns the chat's services in byte order. The result is
// collected before any caller deletes, because deleting under a bbolt cursor
// can make it skip keys.
func subscriptions(tx *bbolt.Tx, chatID int64) []string {
	var services []string
	prefix := chatKey(chatID)
	c := bucket(tx, bucketChatServices).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		services = append(services, string(k[len(prefix):]))
	}
	return services
}
