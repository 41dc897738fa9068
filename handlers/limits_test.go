package handlers

import (
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
)

var t0 = time.Date(2025, 3, 4, 16, 16, 0, 0, time.UTC)

func TestFloodGateEpisodes(t *testing.T) {
	g := newFloodGate(FloodLimit{Every: time.Second, Burst: 5})
	type admission struct{ ok, warn bool }
	for _, step := range []struct {
		name string
		at   time.Duration
		who  int64
		want []admission
	}{
		{"Bob starts the sweep clock", 0, 2, []admission{{true, false}}},
		{"Alice floods", time.Second, 1, []admission{
			{true, false}, {true, false}, {true, false}, {true, false}, {true, false},
			{false, true}, {false, false},
		}},
		{"Alice still in her flood", 4 * time.Second, 1, []admission{
			{true, false}, {true, false}, {true, false}, {false, false}, {false, false},
		}},
		// Sweeps forget only full buckets: Alice's, two tokens in, stays.
		{"Bob's update sweeps", 6 * time.Second, 2, []admission{{true, false}}},
		// Her bucket is full again before the next sweep: a new flood.
		{"Alice's next flood", 9 * time.Second, 1, []admission{
			{true, false}, {true, false}, {true, false}, {true, false}, {true, false}, {false, true},
		}},
	} {
		for i, want := range step.want {
			ok, warn := g.admit(step.who, t0.Add(step.at))
			if got := (admission{ok, warn}); got != want {
				t.Errorf("%s: update %d: admitted %v, warned %v; want %v, %v",
					step.name, i+1, got.ok, got.warn, want.ok, want.warn)
			}
		}
	}
}

func TestFloodGateForgetsIdlePeople(t *testing.T) {
	g := newFloodGate(DefaultFloodLimit())
	for who := range int64(10_000) {
		g.admit(who, t0)
	}
	if n := len(g.people); n != 10_000 {
		t.Fatalf("%d people remembered, want all 10000 active ones", n)
	}
	// Five seconds later every bucket is full again: the next update sweeps
	// them all away but its sender's.
	g.admit(-1, t0.Add(5*time.Second))
	if n := len(g.people); n != 1 {
		t.Errorf("%d people remembered after they went quiet, want 1", n)
	}
}

func TestNoFloodGate(t *testing.T) {
	for _, l := range []FloodLimit{{}, {Every: time.Second}, {Burst: 5}, {Every: -time.Second, Burst: 5}} {
		if g := newFloodGate(l); g != nil {
			t.Errorf("newFloodGate(%+v) is a gate, want none", l)
		}
	}
}

func TestGroupQuotaForgetsQuietGroups(t *testing.T) {
	q := newGroupQuota(checks.ReportRule{})
	for id := range int64(10_000) {
		q.take(&tele.Chat{ID: -id - 1, Type: tele.ChatSuperGroup}, "whatsapp", t0)
	}
	if n := len(q.taken); n != 10_000 {
		t.Fatalf("%d groups remembered, want all 10000", n)
	}
	q.take(&tele.Chat{ID: -1, Type: tele.ChatGroup}, "instagram", t0.Add(time.Duration(checks.DefaultReportRule().Window)))
	if n := len(q.taken); n != 1 {
		t.Errorf("%d groups remembered a window later, want 1", n)
	}
}
