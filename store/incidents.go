package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/outagebot/outagebot/checks"
)

// ChannelID is the outbox key of the configured announcement channel. The
// channel's real id may be unknown (it can be configured as @name), and zero
// is never a real chat id.
const ChannelID int64 = 0

// Statuses returns the persisted detector state of every service, by id.
func (db *DB) Statuses() (map[string]checks.Status, error) {
	statuses := make(map[string]checks.Status)
	err := db.view(func(tx *bbolt.Tx) error {
		b := bucket(tx, bucketStatuses)
		return b.ForEach(func(k, _ []byte) error {
			var s checks.Status
			if _, err := getJSON(b, k, &s); err != nil {
				return err
			}
			statuses[string(k)] = s
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read service statuses: %w", err)
	}
	return statuses, nil
}

// Commit stores a round's outcome in one transaction: the new statuses, and
// for every transition the incident it opens, updates or resolves plus an
// outbox mark for every subscriber of the service and, when channel is true,
// for the channel (ChannelID).
//
// A transition updates the service's open incident if there is one, and
// otherwise opens a new one (Version 1, Start and Worst from the
// transition). Every update raises Version, sets State to To, Worst to the
// most severe state seen, Updated to At, and Evidence when the transition
// carries some. A transition to Operational resolves the incident (End = At);
// one with no open incident to resolve records and announces nothing.
func (db *DB) Commit(statuses []checks.Status, transitions []checks.Transition, channel bool) error {
	err := db.update(func(tx *bbolt.Tx) error {
		for _, s := range statuses {
			if err := putJSON(bucket(tx, bucketStatuses), []byte(s.Service), s); err != nil {
				return fmt.Errorf("store status of %s: %w", s.Service, err)
			}
		}
		for _, t := range transitions {
			inc, ok, err := applyTransition(tx, t)
			if err != nil {
				return fmt.Errorf("record %s going %s: %w", t.Service, t.To, err)
			}
			if !ok {
				continue
			}
			if err := markSubscribers(tx, inc, channel); err != nil {
				return fmt.Errorf("queue incident %d of %s: %w", inc.ID, t.Service, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit %d statuses and %d transitions: %w", len(statuses), len(transitions), err)
	}
	return nil
}

// Incident returns the incident with the given id and whether it exists.
func (db *DB) Incident(id uint64) (checks.Incident, bool, error) {
	var (
		inc checks.Incident
		ok  bool
	)
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		inc, ok, err = getIncident(tx, id)
		return err
	})
	if err != nil {
		return checks.Incident{}, false, fmt.Errorf("read incident %d: %w", id, err)
	}
	return inc, ok, nil
}

// OpenIncident returns the service's unresolved incident, if it has one.
func (db *DB) OpenIncident(service string) (checks.Incident, bool, error) {
	var (
		inc checks.Incident
		ok  bool
	)
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		inc, ok, err = openIncident(tx, service)
		return err
	})
	if err != nil {
		return checks.Incident{}, false, fmt.Errorf("read open incident of %s: %w", service, err)
	}
	return inc, ok, nil
}

// Incidents returns the service's incidents that were open at some moment at
// or after since (unresolved ones included), newest first.
func (db *DB) Incidents(service string, since time.Time) ([]checks.Incident, error) {
	var incs []checks.Incident
	err := db.view(func(tx *bbolt.Tx) error {
		history := bucket(tx, bucketHistory).Bucket([]byte(service))
		if history == nil {
			return nil
		}
		c := history.Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			inc, ok, err := getIncident(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("incident %x is in the history but missing", k)
			}
			// A service has one incident at a time, so the ones before an
			// incident that ended before since ended earlier still.
			if inc.Resolved() && inc.End.Before(since) {
				break
			}
			incs = append(incs, inc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list incidents of %s since %s: %w", service, since.Format(time.RFC3339), err)
	}
	return incs, nil
}

// applyTransition opens, updates or resolves the service's incident and
// returns it, or reports false when there is nothing to record.
func applyTransition(tx *bbolt.Tx, t checks.Transition) (checks.Incident, bool, error) {
	inc, open, err := openIncident(tx, t.Service)
	if err != nil {
		return checks.Incident{}, false, err
	}
	if !open {
		if t.To == checks.Operational {
			return checks.Incident{}, false, nil
		}
		id, err := bucket(tx, bucketIncidents).NextSequence()
		if err != nil {
			return checks.Incident{}, false, fmt.Errorf("allocate incident id: %w", err)
		}
		inc = checks.Incident{ID: id, Service: t.Service, Start: t.At}
		if t.GroupWith != "" {
			if inc.Group, err = joinGroup(tx, t.GroupWith, id); err != nil {
				return checks.Incident{}, false, err
			}
		}
	}
	inc.State = t.To
	if severity(t.To) > severity(inc.Worst) {
		inc.Worst = t.To
	}
	inc.Version++
	inc.Updated = t.At
	if len(t.Evidence) > 0 {
		inc.Evidence = t.Evidence
	}
	if t.Official != "" {
		inc.Official = t.Official
	}
	if t.Reports.Count > 0 {
		inc.Reports = t.Reports
	}

	id := u64Key(inc.ID)
	openIdx := bucket(tx, bucketOpenIncidents)
	if t.To == checks.Operational {
		inc.End = t.At
		if err := openIdx.Delete([]byte(t.Service)); err != nil {
			return checks.Incident{}, false, fmt.Errorf("close incident %d: %w", inc.ID, err)
		}
	} else if err := openIdx.Put([]byte(t.Service), id); err != nil {
		return checks.Incident{}, false, fmt.Errorf("mark incident %d open: %w", inc.ID, err)
	}
	if err := putJSON(bucket(tx, bucketIncidents), id, inc); err != nil {
		return checks.Incident{}, false, fmt.Errorf("write incident %d: %w", inc.ID, err)
	}
	history, err := bucket(tx, bucketHistory).CreateBucketIfNotExists([]byte(t.Service))
	if err != nil {
		return checks.Incident{}, false, fmt.Errorf("create incident history: %w", err)
	}
	if err := history.Put(id, nil); err != nil {
		return checks.Incident{}, false, fmt.Errorf("add incident %d to the history: %w", inc.ID, err)
	}
	return inc, true, nil
}

// joinGroup adds incident id to the Meta-wide group led by service's open
// incident, making that incident a group if it was alone, and returns the
// group's id. With no open incident to join, id stays alone (0).
func joinGroup(tx *bbolt.Tx, service string, id uint64) (uint64, error) {
	lead, ok, err := openIncident(tx, service)
	if err != nil || !ok {
		return 0, err
	}
	if lead.Group == 0 {
		lead.Group = lead.ID
		if err := putJSON(bucket(tx, bucketIncidents), u64Key(lead.ID), lead); err != nil {
			return 0, fmt.Errorf("make incident %d a group: %w", lead.ID, err)
		}
		if err := addToGroup(tx, lead.ID, lead.ID); err != nil {
			return 0, err
		}
	}
	return lead.Group, addToGroup(tx, lead.Group, id)
}

func addToGroup(tx *bbolt.Tx, group, id uint64) error {
	members, err := bucket(tx, bucketGroups).CreateBucketIfNotExists(u64Key(group))
	if err != nil {
		return fmt.Errorf("create group %d: %w", group, err)
	}
	if err := members.Put(u64Key(id), nil); err != nil {
		return fmt.Errorf("add incident %d to group %d: %w", id, group, err)
	}
	return nil
}

// GroupIncidents returns the incidents of a Meta-wide group, by id.
func (db *DB) GroupIncidents(group uint64) ([]checks.Incident, error) {
	var incs []checks.Incident
	err := db.view(func(tx *bbolt.Tx) error {
		members := bucket(tx, bucketGroups).Bucket(u64Key(group))
		if members == nil {
			return nil
		}
		return members.ForEach(func(k, _ []byte) error {
			inc, ok, err := getIncident(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			if ok {
				incs = append(incs, inc)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list incidents of group %d: %w", group, err)
	}
	return incs, nil
}

// severity orders states so that Worst can keep the most severe one.
func severity(s checks.State) int {
	switch s {
	case checks.Down:
		return 2
	case checks.Degraded:
		return 1
	}
	return 0
}

// markSubscribers queues inc at its current version for every subscriber of
// its service and, when channel is true, for the channel.
func markSubscribers(tx *bbolt.Tx, inc checks.Incident, channel bool) error {
	outbox := bucket(tx, bucketOutbox)
	m := Mark{Incident: inc.ID, Version: inc.Version}
	if channel {
		if err := mark(outbox, ChannelID, m); err != nil {
			return err
		}
	}
	subscribers := bucket(tx, bucketServiceChats).Bucket([]byte(inc.Service))
	if subscribers == nil {
		return nil
	}
	return subscribers.ForEach(func(k, _ []byte) error {
		return mark(outbox, chatFromKey(k), m)
	})
}

func getIncident(tx *bbolt.Tx, id uint64) (checks.Incident, bool, error) {
	var inc checks.Incident
	ok, err := getJSON(bucket(tx, bucketIncidents), u64Key(id), &inc)
	if err != nil {
		return checks.Incident{}, false, fmt.Errorf("read incident %d: %w", id, err)
	}
	return inc, ok, nil
}

func openIncident(tx *bbolt.Tx, service string) (checks.Incident, bool, error) {
	id := bucket(tx, bucketOpenIncidents).Get([]byte(service))
	if id == nil {
		return checks.Incident{}, false, nil
	}
	if len(id) != 8 {
		return checks.Incident{}, false, fmt.Errorf("corrupt open incident id %x", id)
	}
	inc, ok, err := getIncident(tx, binary.BigEndian.Uint64(id))
	if err != nil {
		return checks.Incident{}, false, err
	}
	if !ok {
		return checks.Incident{}, false, fmt.Errorf("open incident %d is missing", binary.BigEndian.Uint64(id))
	}
	return inc, true, nil
}
