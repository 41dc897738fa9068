package checks

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMonitorOnResult(t *testing.T) {
	type call struct {
		service, probe string
		class          Class
	}
	synctest.Test(t, func(t *testing.T) {
		var got []call
		m := NewMonitor([]Service{
			{ID: "whatsapp", Probes: []ProbeSpec{httpSpec("w1", "up"), httpSpec("w2", "down")}},
			{ID: "instagram", Probes: []ProbeSpec{httpSpec("i1", "up")}},
		}, []ProbeSpec{httpSpec("c1", "down")}, MonitorOptions{
			Probers: fakeProbers(),
			OnResult: func(service string, r Result) {
				got = append(got, call{service, r.Probe, r.Class})
			},
		})
		m.Round(t.Context(), nil)
		want := []call{
			{"", "c1", ClassHTTP5xx},
			{"whatsapp", "w1", ClassOK},
			{"whatsapp", "w2", ClassHTTP5xx},
			{"instagram", "i1", ClassOK},
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(call{})); diff != "" {
			t.Errorf("OnResult calls (-want +got):\n%s", diff)
		}
	})
}

// memStates is a StateStore in memory whose Commit can be made to fail.
type memStates struct {
	statuses  map[string]Status
	commitErr error
}

func (m *memStates) Statuses() (map[string]Status, error) {
	out := make(map[string]Status, len(m.statuses))
	for k, v := range m.statuses {
		out[k] = v
	}
	return out, nil
}

func (m *memStates) Commit(statuses []Status, _ []Transition, _ bool) error {
	if m.commitErr != nil {
		return m.commitErr
	}
	for _, s := range statuses {
		m.statuses[s.Service] = s
	}
	return nil
}

// provenStatus is the status of an operational service whose probes have
// all proven themselves (with an empty spec, as hand-made results have).
func provenStatus(service string, probes ...string) Status {
	s := Status{Service: service, State: Operational, Announced: Operational, Probes: map[string]*ProbeTrack{}}
	for _, p := range probes {
		s.Probes[p] = &ProbeTrack{Proven: true}
	}
	return s
}

func TestWatcherHooks(t *testing.T) {
	down := func(_ context.Context, _ []string) []Observation {
		return []Observation{{Service: "whatsapp", ControlOK: true, At: time.Now(), Results: []Result{
			{Probe: "web", Kind: kindHTTP, Class: ClassHTTP5xx}, {Probe: "api", Kind: kindTCP, Class: ClassTCPTimeout},
		}}}
	}
	tests := []struct {
		name      string
		commitErr error
		want      []string // "from>to" of each transition reported
	}{
		{"committed transitions are reported", nil, []string{"operational>down"}},
		{"nothing is reported when the commit fails", errors.New("disk full"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var got []string
				rounds := 0
				w := &Watcher{
					Observe: down,
					Store: &memStates{statuses: map[string]Status{
						"whatsapp": provenStatus("whatsapp", "web", "api"),
					}, commitErr: tc.commitErr},
					Thresholds:   testThresholds(),
					Log:          slog.New(slog.DiscardHandler),
					OnTransition: func(tr Transition) { got = append(got, string(tr.From)+">"+string(tr.To)) },
					OnRound:      func() { rounds++ },
				}
				w.Round(t.Context())
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("OnTransition calls (-want +got):\n%s", diff)
				}
				if rounds != 1 {
					t.Errorf("OnRound called %d times for one round, want 1", rounds)
				}
			})
		})
	}
}
