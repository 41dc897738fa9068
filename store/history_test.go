package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
)

// observation is a round's observation of service at t0+at with one result
// per latency given; a negative latency stands for a failed probe.
func observation(service string, at time.Duration, controlOK bool, latencies ...time.Duration) checks.Observation {
	o := checks.Observation{Service: service, At: t0.Add(at), ControlOK: controlOK}
	for _, l := range latencies {
		r := checks.Result{Probe: "p", Class: checks.ClassOK, Latency: l}
		if l < 0 {
			r.Class, r.Latency = checks.ClassHTTP5xx, -l
		}
		o.Results = append(o.Results, r)
	}
	return o
}

func TestAddRoundSamples(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		obs  []checks.Observation
		want []Sample
	}{
		{"median of an odd count", []checks.Observation{observation("whatsapp", 0, true, 30*ms, 10*ms, 20*ms)},
			[]Sample{{At: t0, Latency: 20 * ms, OK: 3, Probes: 3}}},
		{"mean of the middle two of an even count", []checks.Observation{observation("whatsapp", 0, true, 40*ms, 10*ms, 20*ms, 30*ms)},
			[]Sample{{At: t0, Latency: 25 * ms, OK: 4, Probes: 4}}},
		{"failed probes take no part in the latency", []checks.Observation{observation("whatsapp", 0, true, 10*ms, -9*time.Second)},
			[]Sample{{At: t0, Latency: 10 * ms, OK: 1, Probes: 2}}},
		{"nothing succeeded", []checks.Observation{observation("whatsapp", 0, true, -ms, -ms)},
			[]Sample{{At: t0, OK: 0, Probes: 2}}},
		{"offline rounds are left out", []checks.Observation{observation("whatsapp", 0, false, 10*ms)}, nil},
		{"rounds in time order, other services apart", []checks.Observation{
			observation("whatsapp", time.Minute, true, 5*ms),
			observation("instagram", 30*time.Second, true, 7*ms),
			observation("whatsapp", 30*time.Second, true, 6*ms),
		}, []Sample{
			{At: t0.Add(30 * time.Second), Latency: 6 * ms, OK: 1, Probes: 1},
			{At: t0.Add(time.Minute), Latency: 5 * ms, OK: 1, Probes: 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			if err := db.AddRound(tc.obs); err != nil {
				t.Fatal(err)
			}
			got, err := db.Samples("whatsapp", t0, t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Samples (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSamplesRange(t *testing.T) {
	db, _ := openTest(t)
	for _, at := range []time.Duration{-time.Second, 0, time.Minute, 2 * time.Minute, 2*time.Minute + time.Second} {
		if err := db.AddRound([]checks.Observation{observation("whatsapp", at, true, time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Samples("whatsapp", t0, t0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var at []time.Time
	for _, s := range got {
		at = append(at, s.At)
	}
	want := []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)}
	if diff := cmp.Diff(want, at); diff != "" {
		t.Errorf("times of Samples(t0, t0+2m), both ends included (-want +got):\n%s", diff)
	}
	if got, err := db.Samples("threads", t0, t0.Add(time.Hour)); err != nil || got != nil {
		t.Errorf("Samples of a service never sampled = %v, %v; want nothing", got, err)
	}
}

func TestPruneSamplesKeepsRetentionAcrossRestart(t *testing.T) {
	db, path := openTest(t)
	var obs []checks.Observation
	for _, service := range []string{"whatsapp", "instagram"} {
		for h := range 5 {
			obs = append(obs, observation(service, time.Duration(h)*time.Hour, true, time.Millisecond))
		}
	}
	if err := db.AddRound(obs); err != nil {
		t.Fatal(err)
	}
	if err := db.PruneSamples(t0.Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	for _, service := range []string{"whatsapp", "instagram"} {
		got, err := db.Samples(service, t0.Add(-time.Hour), t0.Add(10*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var hours []int
		for _, s := range got {
			hours = append(hours, int(s.At.Sub(t0)/time.Hour))
		}
		if diff := cmp.Diff([]int{2, 3, 4}, hours); diff != "" {
			t.Errorf("%s: hours kept after pruning before hour 2 (-want +got):\n%s", service, diff)
		}
	}
}
