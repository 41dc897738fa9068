package store

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestInboxKeepsUpdatesUntilDone(t *testing.T) {
	db, path := openTest(t)
	batch := []Update{
		{ID: 100, JSON: []byte(`{"update_id":100}`)},
		{ID: 101, JSON: []byte(`{"update_id":101}`)},
		{ID: 102, JSON: []byte(`{"update_id":102}`)},
	}
	if err := db.TakeUpdates(103, batch); err != nil {
		t.Fatal(err)
	}
	if err := db.DoneUpdate(101); err != nil {
		t.Fatal(err)
	}
	// A crash now: the restarted process finds the offset past the batch
	// and the two updates whose handlers had not finished. Each restart
	// counts one more redelivery.
	for redelivered := range 2 {
		db = reopen(t, db, path)
		if got, err := db.Offset(); err != nil || got != 103 {
			t.Errorf("Offset() = %d, %v, want 103", got, err)
		}
		got, err := db.RedeliverUpdates()
		if err != nil {
			t.Fatal(err)
		}
		want := []Update{batch[0], batch[2]}
		for i := range want {
			want[i].Redelivered = redelivered
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("RedeliverUpdates() after restart %d (-want +got):\n%s", redelivered+1, diff)
		}
	}

	// Handlers finish at once, and a done update may be done again.
	var wg sync.WaitGroup
	for _, id := range []int{100, 102, 102, 999} {
		wg.Go(func() {
			if err := db.DoneUpdate(id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, err := db.RedeliverUpdates(); err != nil || len(got) != 0 {
		t.Errorf("RedeliverUpdates() after every DoneUpdate = %v, %v, want none", got, err)
	}
}
