package store

import (
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// bucketSettings holds each chat's alert settings: chatKey -> Settings JSON.
// A chat without an entry has the default settings.
const bucketSettings = "settings"

// Settings are how one chat wants its alerts. The zero value is the default:
// degraded and down alike, recoveries announced, never silent, in the chat's
// main (or General) topic.
type Settings struct {
	// OnlyDown keeps incidents that never got worse than degraded from the
	// chat.
	OnlyDown bool `json:"only_down,omitempty"`
	// NoRecoveries keeps the news that an incident is over from the chat.
	NoRecoveries bool `json:"no_recoveries,omitempty"`
	// QuietFrom and QuietTo ("22:00", "07:00") bound the quiet hours, read
	// on the clock of TimeZone: alerts in them are sent silently. Both are
	// empty when the chat has no quiet hours.
	QuietFrom string `json:"quiet_from,omitempty"`
	QuietTo   string `json:"quiet_to,omitempty"`
	// TimeZone is an IANA zone name ("Europe/Rome"); empty means UTC.
	TimeZone string `json:"time_zone,omitempty"`
	// TopicID is the forum topic alerts go to (message_thread_id); 0 is the
	// chat itself, or the General topic of a forum.
	TopicID int `json:"topic_id,omitempty"`
}

// clockLayout is how quiet hours are written: 24-hour, minutes included.
const clockLayout = "15:04"

// Validate reports what is wrong with s: a quiet-hours bound that is not a
// 24-hour "15:04" clock, one bound without the other, or a time zone that
// does not load. SetSettings holds a newly chosen zone to CheckTimeZone too.
func (s Settings) Validate() error {
	if (s.QuietFrom == "") != (s.QuietTo == "") {
		return fmt.Errorf("quiet hours %q to %q: give both ends or neither", s.QuietFrom, s.QuietTo)
	}
	for _, c := range []string{s.QuietFrom, s.QuietTo} {
		if _, err := minuteOfDay(c); c != "" && err != nil {
			return err
		}
	}
	if _, err := s.Location(); err != nil {
		return err
	}
	return nil
}

// CheckTimeZone reports whether name is a time zone a chat may choose: a
// zone of the tz database written exactly as the database names it
// ("Europe/Rome", "UTC", "America/Argentina/Buenos_Aires"), which loads.
//
// time.LoadLocation alone is not enough: it reads the system's zoneinfo
// directory before the tzdata embedded in the binary, and a directory
// answers to more than zone names: "Europe//Rome", "posixrules",
// "right/UTC" (clocks counting leap seconds), "localtime". Such a name
// loads on one machine and not on the next, where only the embedded data
// is, and the chat's quiet hours would silently fall back to UTC. Every
// zone of the embedded data has a name of words that start with a capital
// letter, separated by single slashes; the files that are not zones start
// with a small letter or hold a dot. A test holds this rule to the
// embedded data and to the system's directory.
func CheckTimeZone(name string) error {
	if !zoneName(name) || name == "Local" {
		// "Local" is the server's own zone, which tells a reader nothing.
		return fmt.Errorf("time zone %q: want a tz database name such as Europe/Rome", name)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return fmt.Errorf("time zone %q: %w", name, err)
	}
	return nil
}

// maxZoneName bounds a zone name; the longest in the database has 32
// characters.
const maxZoneName = 64

// zoneName reports whether name is written as the tz database writes zone
// names: words of ASCII letters, digits and "_+-", each starting with a
// capital letter, separated by single slashes.
func zoneName(name string) bool {
	if name == "" || len(name) > maxZoneName {
		return false
	}
	for word := range strings.SplitSeq(name, "/") {
		if word == "" || word[0] < 'A' || word[0] > 'Z' {
			return false
		}
		for _, r := range word {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '+' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Location returns the chat's time zone, UTC when none is set. It loads
// whatever was stored, even a name that CheckTimeZone would now refuse:
// a chat that chose a zone keeps its clock as long as the zone loads.
func (s Settings) Location() (*time.Location, error) {
	if s.TimeZone == "" {
		return time.UTC, nil
	}
	if s.TimeZone == "Local" {
		// The server's own zone, which tells a reader nothing.
		return nil, fmt.Errorf("time zone %q: want an IANA zone name such as Europe/Rome", s.TimeZone)
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", s.TimeZone, err)
	}
	return loc, nil
}

// QuietAt reports whether t, read on the clock of loc (the chat's
// Location), falls in the quiet hours: from QuietFrom included to QuietTo
// excluded, across midnight when QuietFrom is the later clock. Equal
// bounds, no quiet hours and invalid ones all mean never.
func (s Settings) QuietAt(t time.Time, loc *time.Location) bool {
	from, errFrom := minuteOfDay(s.QuietFrom)
	to, errTo := minuteOfDay(s.QuietTo)
	if errFrom != nil || errTo != nil || from == to {
		return false
	}
	local := t.In(loc)
	now := local.Hour()*60 + local.Minute()
	if from < to {
		return from <= now && now < to
	}
	return now >= from || now < to
}

// minuteOfDay parses a "15:04" clock into minutes since midnight.
func minuteOfDay(clock string) (int, error) {
	t, err := time.Parse(clockLayout, clock)
	if err != nil || len(clock) != len(clockLayout) {
		return 0, fmt.Errorf("clock %q: want hours and minutes such as 07:30", clock)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Settings returns the chat's settings, the defaults when it has none.
func (db *DB) Settings(chatID int64) (Settings, error) {
	var s Settings
	err := db.view(func(tx *bbolt.Tx) error {
		_, err := getJSON(bucket(tx, bucketSettings), chatKey(chatID), &s)
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("read settings of chat %d: %w", chatID, err)
	}
	return s, nil
}

// SetSettings stores the chat's settings, replacing the previous ones, after
// checking them with Validate, and a time zone other than the stored one
// with CheckTimeZone: a chat that chose a zone before CheckTimeZone was as
// strict keeps it while it changes other settings. Settings equal to the
// defaults are not stored at all.
func (db *DB) SetSettings(chatID int64, s Settings) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("set settings of chat %d: %w", chatID, err)
	}
	err := db.batch(func(tx *bbolt.Tx) error {
		if s.TimeZone != "" {
			var old Settings
			if _, err := getJSON(bucket(tx, bucketSettings), chatKey(chatID), &old); err != nil {
				return fmt.Errorf("read settings: %w", err)
			}
			if s.TimeZone != old.TimeZone {
				if err := CheckTimeZone(s.TimeZone); err != nil {
					return err
				}
			}
		}
		return putSettings(tx, chatID, s)
	})
	if err != nil {
		return fmt.Errorf("set settings of chat %d: %w", chatID, err)
	}
	return nil
}

func putSettings(tx *bbolt.Tx, chatID int64, s Settings) error {
	b := bucket(tx, bucketSettings)
	if s == (Settings{}) {
		if err := b.Delete(chatKey(chatID)); err != nil {
			return fmt.Errorf("delete settings: %w", err)
		}
		return nil
	}
	if err := putJSON(b, chatKey(chatID), s); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	return nil
}

// migrateSettings gives the supergroup a group became the group's settings,
// when the group had any: like the rest of its record, the old chat's
// choices win.
func migrateSettings(tx *bbolt.Tx, from, to int64) error {
	var s Settings
	ok, err := getJSON(bucket(tx, bucketSettings), chatKey(from), &s)
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	if !ok {
		return nil
	}
	return putSettings(tx, to, s)
}
