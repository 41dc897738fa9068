package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/outagebot/outagebot/checks"
)

// bucketSamples keeps what every round measured of every service, for
// /history: service -> nested bucket: timeKey(round) -> sample, encoded by
// appendSample.
const bucketSamples = "samples"

// sampleSize is the length of an encoded sample: the latency in nanoseconds
// (8 bytes), then the ok and total probe counts (2 bytes each). A fixed
// binary layout keeps a month of rounds of every service to a few megabytes.
const sampleSize = 12

// Sample is what one round measured of one service.
type Sample struct {
	// At is when the round observed the service, to the second.
	At time.Time
	// Latency is the median time the round's successful probes of the
	// service took; zero when none succeeded.
	Latency time.Duration
	// OK counts the probes that succeeded, Probes all that ran.
	OK, Probes int
}

// AddRound records a sample for each observation of a round. Observations
// made while every control probe failed are left out: they say nothing
// about Meta, only that this machine was offline. A later sample of a
// service in the same second replaces an earlier one.
func (db *DB) AddRound(obs []checks.Observation) error {
	err := db.update(func(tx *bbolt.Tx) error {
		for _, o := range obs {
			if !o.ControlOK || len(o.Results) == 0 {
				continue
			}
			b, err := bucket(tx, bucketSamples).CreateBucketIfNotExists([]byte(o.Service))
			if err != nil {
				return fmt.Errorf("create the samples of %s: %w", o.Service, err)
			}
			if err := b.Put(timeKey(o.At), appendSample(nil, sampleOf(o))); err != nil {
				return fmt.Errorf("store the sample of %s: %w", o.Service, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record a round of %d observations: %w", len(obs), err)
	}
	return nil
}

// sampleOf summarises an observation.
func sampleOf(o checks.Observation) Sample {
	var ok []time.Duration
	for _, r := range o.Results {
		if r.Class == checks.ClassOK {
			ok = append(ok, r.Latency)
		}
	}
	return Sample{At: o.At, Latency: median(ok), OK: len(ok), Probes: len(o.Results)}
}

// median returns the middle of ds, or the mean of the two middle values of
// an even count; zero for none. It sorts ds.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	mid := len(ds) / 2
	if len(ds)%2 == 1 {
		return ds[mid]
	}
	return ds[mid-1] + (ds[mid]-ds[mid-1])/2
}

func appendSample(b []byte, s Sample) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(max(s.Latency, 0)))
	b = binary.BigEndian.AppendUint16(b, uint16(min(s.OK, math.MaxUint16)))
	return binary.BigEndian.AppendUint16(b, uint16(min(s.Probes, math.MaxUint16)))
}

func decodeSample(k, v []byte) (Sample, error) {
	if len(k) != 8 || len(v) != sampleSize {
		return Sample{}, fmt.Errorf("corrupt sample %x: %x", k, v)
	}
	return Sample{
		At:      timeFromKey(k),
		Latency: time.Duration(binary.BigEndian.Uint64(v)),
		OK:      int(binary.BigEndian.Uint16(v[8:])),
		Probes:  int(binary.BigEndian.Uint16(v[10:])),
	}, nil
}

// Samples returns the service's samples taken from from to to, both
// included, oldest first.
func (db *DB) Samples(service string, from, to time.Time) ([]Sample, error) {
	var out []Sample
	err := db.view(func(tx *bbolt.Tx) error {
		b := bucket(tx, bucketSamples).Bucket([]byte(service))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		first, last := timeKey(from), timeKey(to)
		// Counted first: a month of rounds is 86,400 samples, and a slice
		// grown by append to that many would allocate five times its size.
		n := 0
		for k, _ := c.Seek(first); k != nil && bytes.Compare(k, last) <= 0; k, _ = c.Next() {
			n++
		}
		if n > 0 {
			out = make([]Sample, 0, n)
		}
		for k, v := c.Seek(first); k != nil && bytes.Compare(k, last) <= 0; k, v = c.Next() {
			s, err := decodeSample(k, v)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the samples of %s from %s to %s: %w",
			service, from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return out, nil
}

// PruneSamples deletes, for every service, the samples taken before before.
func (db *DB) PruneSamples(before time.Time) error {
	err := db.update(func(tx *bbolt.Tx) error {
		parent := bucket(tx, bucketSamples)
		var services [][]byte
		if err := parent.ForEach(func(k, v []byte) error {
			if v == nil {
				services = append(services, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		limit := timeKey(before)
		for _, service := range services {
			// Keys are in time order, so the old ones are a prefix. Deleting
			// while iterating makes a bbolt cursor skip entries: collect first.
			b := parent.Bucket(service)
			var doomed [][]byte
			c := b.Cursor()
			for k, _ := c.First(); k != nil && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
				doomed = append(doomed, bytes.Clone(k))
			}
			for _, k := range doomed {
				if err := b.Delete(k); err != nil {
					return fmt.Errorf("delete sample %x of %s: %w", k, service, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune samples before %s: %w", before.Format(time.RFC3339), err)
	}
	return nil
}
