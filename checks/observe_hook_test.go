package checks

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWatcherOnObserve(t *testing.T) {
	tests := []struct {
		name string
		// observe is the Watcher's Observe; it is called with the services
		// of each attempt (nil: all).
		observe func(ctx context.Context, services []string) []Observation
		want    [][]string // services of each batch given to OnObserve
	}{
		{
			"a round and its re-checks",
			func(_ context.Context, _ []string) []Observation {
				return []Observation{
					{Service: "whatsapp", ControlOK: true, At: time.Now(), Results: []Result{{Probe: "web", Class: ClassHTTP5xx}}},
				}
			},
			// A failure under way is re-checked every 5 s while the
			// round (25 s) has time for it: at 0, 5, 10, 15 and 20 s.
			[][]string{{"whatsapp"}, {"whatsapp"}, {"whatsapp"}, {"whatsapp"}, {"whatsapp"}},
		},
		{
			"a round cut short by its deadline",
			func(ctx context.Context, _ []string) []Observation {
				<-ctx.Done()
				return []Observation{{Service: "whatsapp", ControlOK: true, At: time.Now()}}
			},
			nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var got [][]string
				w := &Watcher{
					Observe: tc.observe,
					Store: &memStates{statuses: map[string]Status{
						"whatsapp": provenStatus("whatsapp", "web"),
					}},
					Thresholds: testThresholds(),
					Log:        slog.New(slog.DiscardHandler),
					OnObserve: func(obs []Observation) {
						var services []string
						for _, o := range obs {
							services = append(services, o.Service)
						}
						got = append(got, services)
					},
				}
				w.Round(t.Context())
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("OnObserve calls (-want +got):\n%s", diff)
				}
			})
		})
	}
}
