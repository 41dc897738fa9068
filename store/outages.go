package store

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/outagebot/outagebot/checks"
)

// LatestOutages returns the n outages of the services that were updated
// last, newest first, each as its incident updated last: an outage is an
// incident alone, or a Meta-wide group of them (whose incidents
// GroupIncidents returns, with those of other services).
//
// It reads about n incidents, not every service's n latest: a service has
// one incident at a time, so its history, newest first, is also in the
// order of their updates, and merging the histories of the services yields
// every incident in that order.
func (db *DB) LatestOutages(services []string, n int) ([]checks.Incident, error) {
	var out []checks.Incident
	err := db.view(func(tx *bbolt.Tx) error {
		var heads []*historyHead
		for _, s := range services {
			b := bucket(tx, bucketHistory).Bucket([]byte(s))
			if b == nil {
				continue
			}
			h := &historyHead{c: b.Cursor()}
			k, _ := h.c.Last()
			ok, err := h.load(tx, k)
			if err != nil {
				return err
			}
			if ok {
				heads = append(heads, h)
			}
		}
		seen := make(map[uint64]bool)
		for len(out) < n && len(heads) > 0 {
			latest := 0
			for i, h := range heads {
				if cmp.Or(h.inc.Updated.Compare(heads[latest].inc.Updated), cmp.Compare(h.inc.ID, heads[latest].inc.ID)) > 0 {
					latest = i
				}
			}
			h := heads[latest]
			inc := h.inc
			k, _ := h.c.Prev()
			ok, err := h.load(tx, k)
			if err != nil {
				return err
			}
			if !ok {
				heads = slices.Delete(heads, latest, latest+1)
			}
			if key := cmp.Or(inc.Group, inc.ID); !seen[key] {
				seen[key] = true
				out = append(out, inc)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the %d latest outages: %w", n, err)
	}
	return out, nil
}

// historyHead walks one service's history of incidents, newest first.
type historyHead struct {
	c   *bbolt.Cursor
	inc checks.Incident // the incident at the cursor
}

// load reads the incident at key k of the history into h, or reports false
// at the end of the history (k nil).
func (h *historyHead) load(tx *bbolt.Tx, k []byte) (bool, error) {
	if k == nil {
		return false, nil
	}
	inc, ok, err := getIncident(tx, binary.BigEndian.Uint64(k))
	if err != nil {
		return false, err
	}
	if !ok {
		return false, fmt.Errorf("incident %x is in the history but missing", k)
	}
	h.inc = inc
	return true, nil
}
