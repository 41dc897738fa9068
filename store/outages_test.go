package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
)

func TestLatestOutages(t *testing.T) {
	db, _ := openTest(t)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	// 1 whatsapp 0-2; 2 instagram 1-9, the longest; 3 whatsapp 3-4;
	// 4 facebook from 5 and 5 messenger 6-8, one Meta-wide outage (4);
	// 6 whatsapp from 10, open.
	for _, tr := range []checks.Transition{
		{Service: "whatsapp", To: checks.Down, At: at(0)},
		{Service: "instagram", To: checks.Degraded, At: at(1)},
		{Service: "whatsapp", To: checks.Operational, At: at(2)},
		{Service: "whatsapp", To: checks.Degraded, At: at(3)},
		{Service: "whatsapp", To: checks.Operational, At: at(4)},
		{Service: "facebook", To: checks.Down, At: at(5)},
		{Service: "messenger", To: checks.Down, At: at(6), GroupWith: "facebook"},
		{Service: "messenger", To: checks.Operational, At: at(8)},
		{Service: "instagram", To: checks.Operational, At: at(9)},
		{Service: "whatsapp", To: checks.Down, At: at(10)},
	} {
		if err := db.Commit(nil, []checks.Transition{tr}, false); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{"whatsapp", "instagram", "facebook", "messenger", "threads"}
	tests := []struct {
		name     string
		services []string
		n        int
		want     []uint64
	}{
		{"none", all, 0, nil},
		{"the latest", all, 1, []uint64{6}},
		{"a long outage updated late comes before later ones", all, 3, []uint64{6, 2, 5}},
		{"a Meta-wide outage counts once, by its incident updated last", all, 10, []uint64{6, 2, 5, 3, 1}},
		{"by its services' incidents only", []string{"facebook", "whatsapp"}, 10, []uint64{6, 4, 3, 1}},
		{"one service", []string{"whatsapp"}, 2, []uint64{6, 3}},
		{"never failed", []string{"threads"}, 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			outages, err := db.LatestOutages(tc.services, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, inc := range outages {
				got = append(got, inc.ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}
