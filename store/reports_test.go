package store

import (
	"bytes"
	"encoding/binary"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"

	"github.com/outagebot/outagebot/checks"
)

const perUser = 30 * time.Minute

// report is one AddReport call and whether it should count.
type report struct {
	service string
	kind    string
	user    int64
	at      time.Duration // after t0
	counted bool
}

func addReports(t *testing.T, db *DB, reports []report) {
	t.Helper()
	for i, r := range reports {
		counted, err := db.AddReport(r.service, r.kind, "", r.user, t0.Add(r.at), perUser)
		if err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		if counted != r.counted {
			t.Errorf("report %d (%s by %d at +%v): counted = %v, want %v", i, r.service, r.user, r.at, counted, r.counted)
		}
	}
}

func TestAddReportOncePerUserAndWindow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reports []report
	}{
		{"first report counts", []report{{"whatsapp", "", 1, 0, true}}},
		{"again within the period", []report{
			{"whatsapp", "", 1, 0, true},
			{"whatsapp", "login", 1, 29*time.Minute + 59*time.Second, false},
		}},
		{"again after the period", []report{
			{"whatsapp", "", 1, 0, true},
			{"whatsapp", "", 1, perUser, true},
		}},
		{"an uncounted report does not extend the period", []report{
			{"whatsapp", "", 1, 0, true},
			{"whatsapp", "", 1, 20 * time.Minute, false},
			{"whatsapp", "", 1, 30 * time.Minute, true},
			{"whatsapp", "", 1, 59 * time.Minute, false},
		}},
		{"other people count", []report{
			{"whatsapp", "", 1, 0, true},
			{"whatsapp", "", 2, 0, true},
			{"whatsapp", "", -1001234, 0, true},
		}},
		{"other services count", []report{
			{"whatsapp", "", 1, 0, true},
			{"instagram", "", 1, time.Minute, true},
			{"instagram", "", 1, 2 * time.Minute, false},
		}},
		{"a clock stepping back does not count again", []report{
			{"whatsapp", "", 1, time.Hour, true},
			{"whatsapp", "", 1, 0, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			addReports(t, db, tc.reports)
		})
	}
}

func TestReportBuckets(t *testing.T) {
	db, path := openTest(t)
	berlin := time.FixedZone("CET", 3600)
	addReports(t, db, []report{
		{"whatsapp", "login", 1, time.Minute, true},
		{"whatsapp", "", 2, 4*time.Minute + 59*time.Second, true},
		{"whatsapp", "login", 3, 3 * time.Minute, true},
		{"whatsapp", "login", 3, 4 * time.Minute, false},
		{"whatsapp", "media", 4, 5 * time.Minute, true},
		{"whatsapp", "web", 5, -time.Second, true},
		{"instagram", "app", 1, 2 * time.Minute, true},
	})
	// A moment in another zone lands in the same UTC bucket.
	if _, err := db.AddReport("whatsapp", "web", "", 6, t0.Add(6*time.Minute).In(berlin), perUser); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)

	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, tc := range []struct {
		name     string
		service  string
		from, to time.Time
		want     []checks.ReportBucket
	}{
		{"all of whatsapp", "whatsapp", at(-time.Hour), at(time.Hour), []checks.ReportBucket{
			{Start: at(-time.Minute), Count: 1, Kinds: map[string]int{"web": 1}, Last: at(-time.Second)},
			{Start: at(time.Minute), Count: 1, Kinds: map[string]int{"login": 1}, Last: at(time.Minute)},
			{Start: at(3 * time.Minute), Count: 1, Kinds: map[string]int{"login": 1}, Last: at(3 * time.Minute)},
			{Start: at(4 * time.Minute), Count: 1, Kinds: map[string]int{"": 1}, Last: at(4*time.Minute + 59*time.Second)},
			{Start: at(5 * time.Minute), Count: 1, Kinds: map[string]int{"media": 1}, Last: at(5 * time.Minute)},
			{Start: at(6 * time.Minute), Count: 1, Kinds: map[string]int{"web": 1}, Last: at(6 * time.Minute)},
		}},
		{"from is inclusive, to exclusive", "whatsapp", at(time.Minute), at(4 * time.Minute), []checks.ReportBucket{
			{Start: at(time.Minute), Count: 1, Kinds: map[string]int{"login": 1}, Last: at(time.Minute)},
			{Start: at(3 * time.Minute), Count: 1, Kinds: map[string]int{"login": 1}, Last: at(3 * time.Minute)},
		}},
		{"from within a second after a start", "whatsapp", at(5*time.Minute + time.Millisecond), at(time.Hour), []checks.ReportBucket{
			{Start: at(6 * time.Minute), Count: 1, Kinds: map[string]int{"web": 1}, Last: at(6 * time.Minute)},
		}},
		{"other service", "instagram", at(-time.Hour), at(time.Hour), []checks.ReportBucket{
			{Start: at(2 * time.Minute), Count: 1, Kinds: map[string]int{"app": 1}, Last: at(2 * time.Minute)},
		}},
		{"never reported", "threads", at(-time.Hour), at(time.Hour), nil},
		{"empty range", "whatsapp", at(time.Hour), at(2 * time.Hour), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.ReportBuckets(tc.service, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReportBuckets mismatch (-want +got):\n%s", diff)
			}
			for _, b := range got {
				if b.Start.Location() != time.UTC {
					t.Errorf("bucket %v not in UTC", b.Start)
				}
			}
		})
	}
}

func TestAddReportConcurrently(t *testing.T) {
	db, _ := openTest(t)
	const people = 50
	var wg sync.WaitGroup
	errs := make(chan error, people)
	for user := range people {
		wg.Go(func() {
			if _, err := db.AddReport("whatsapp", "messages", "it", int64(user), t0, perUser); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := db.ReportBuckets("whatsapp", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []checks.ReportBucket{{Start: t0, Count: people, Kinds: map[string]int{"messages": people}, Langs: map[string]int{"it": people}, Last: t0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReportBuckets mismatch (-want +got):\n%s", diff)
	}
}

// reporterKeys returns the keys of the service's reporter marks and the salt.
func reporterKeys(t *testing.T, db *DB, service string) (keys [][]byte, salt []byte) {
	t.Helper()
	if err := db.bolt.View(func(tx *bbolt.Tx) error {
		salt = bytes.Clone(bucket(tx, bucketMeta).Get([]byte(keyReportSalt)))
		b := bucket(tx, bucketReporters).Bucket([]byte(service))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			keys = append(keys, bytes.Clone(k))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return keys, salt
}

func TestReporterIsASaltedHash(t *testing.T) {
	const user = 987654321012
	db, path := openTest(t)
	addReports(t, db, []report{{"whatsapp", "", user, 0, true}})
	keys, salt := reporterKeys(t, db, "whatsapp")
	if len(salt) != reportSaltSize {
		t.Fatalf("salt has %d bytes, want %d", len(salt), reportSaltSize)
	}
	if len(keys) != 1 {
		t.Fatalf("%d reporter marks, want 1", len(keys))
	}
	if !bytes.Equal(keys[0], reporterKey(salt, user)) {
		t.Errorf("reporter key %x is not the HMAC of the user id under the salt", keys[0])
	}
	if len(keys[0]) != 32 || bytes.Contains(keys[0], u64Key(user)) {
		t.Errorf("reporter key %x is not a SHA-256 HMAC or contains the id", keys[0])
	}

	// The salt survives a restart, so the same person stays the same
	// reporter.
	db = reopen(t, db, path)
	if _, again := reporterKeys(t, db, "whatsapp"); !bytes.Equal(again, salt) {
		t.Errorf("salt changed across a restart: %x, was %x", again, salt)
	}
	addReports(t, db, []report{{"whatsapp", "login", user, 10 * time.Minute, false}})

	// Another database has another salt: its hashes cannot be matched with
	// these.
	other, _ := openTest(t)
	addReports(t, other, []report{{"whatsapp", "", user, 0, true}})
	if otherKeys, otherSalt := reporterKeys(t, other, "whatsapp"); bytes.Equal(otherSalt, salt) || bytes.Equal(otherKeys[0], keys[0]) {
		t.Errorf("two databases share salt %x or hash %x", otherSalt, otherKeys[0])
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, enc := range map[string][]byte{
		"decimal":       []byte(strconv.Itoa(user)),
		"big-endian":    binary.BigEndian.AppendUint64(nil, user),
		"little-endian": binary.LittleEndian.AppendUint64(nil, user),
	} {
		if bytes.Contains(raw, enc) {
			t.Errorf("the DB file contains the user id (%s)", name)
		}
	}
}

func TestOpenRefusesCorruptSalt(t *testing.T) {
	db, path := openTest(t)
	if err := db.bolt.Update(func(tx *bbolt.Tx) error {
		return bucket(tx, bucketMeta).Put([]byte(keyReportSalt), []byte("short"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err == nil {
		_ = db.Close()
		t.Fatal("Open with a corrupt report salt succeeded")
	}
	if want := "open DB " + path + ": corrupt report salt of 5 bytes"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestPruneReports(t *testing.T) {
	db, path := openTest(t)
	addReports(t, db, []report{
		{"whatsapp", "", 1, 0, true},
		{"whatsapp", "", 2, 9 * time.Minute, true},
		{"whatsapp", "", 3, 10 * time.Minute, true},
		{"instagram", "", 1, 5 * time.Minute, true},
	})
	if err := db.PruneReports(t0.Add(10 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)

	for _, tc := range []struct {
		service string
		want    []checks.ReportBucket
	}{
		{"whatsapp", []checks.ReportBucket{{Start: t0.Add(10 * time.Minute), Count: 1, Kinds: map[string]int{"": 1}, Last: t0.Add(10 * time.Minute)}}},
		{"instagram", nil},
	} {
		got, err := db.ReportBuckets(tc.service, t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s buckets after pruning (-want +got):\n%s", tc.service, diff)
		}
	}
	// Users 1 and 2 were forgotten, so within what would have been their
	// period they count again; user 3 was kept.
	addReports(t, db, []report{
		{"whatsapp", "", 1, 11 * time.Minute, true},
		{"whatsapp", "", 2, 11 * time.Minute, true},
		{"whatsapp", "", 3, 11 * time.Minute, false},
		{"instagram", "", 1, 11 * time.Minute, true},
	})
}
