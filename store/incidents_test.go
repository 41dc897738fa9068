package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
)

var (
	servfail = []checks.Result{{Probe: "dns", Kind: "dns", Target: "whatsapp.com", Class: checks.ClassDNSServFail, Detail: "SERVFAIL from 1.1.1.1:53"}}
	http503  = []checks.Result{{Probe: "web", Kind: "http", Target: "https://www.whatsapp.com/", Class: checks.ClassHTTP5xx, Detail: "HTTP 503"}}
)

func TestCommitOpensIncidentAndQueuesEveryone(t *testing.T) {
	db, path := openTest(t)
	for id, services := range map[int64][]string{
		42:             {"whatsapp"},
		-1001234567890: {"whatsapp", "instagram"},
		7:              {"instagram"},
	} {
		if _, err := db.Subscribe(Chat{ID: id}, services); err != nil {
			t.Fatal(err)
		}
	}
	statuses := []checks.Status{
		{Service: "whatsapp", State: checks.Down, Announced: checks.Down, Since: t0, Evidence: servfail, LastCheck: t0},
		{Service: "instagram", State: checks.Operational, Announced: checks.Operational, Since: t0.Add(-time.Hour), LastCheck: t0},
	}
	transitions := []checks.Transition{{Service: "whatsapp", From: checks.Operational, To: checks.Down, At: t0, Evidence: servfail}}
	if err := db.Commit(statuses, transitions, true); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)

	gotStatuses, err := db.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	wantStatuses := map[string]checks.Status{"whatsapp": statuses[0], "instagram": statuses[1]}
	if diff := cmp.Diff(wantStatuses, gotStatuses); diff != "" {
		t.Errorf("Statuses mismatch (-want +got):\n%s", diff)
	}

	want := checks.Incident{ID: 1, Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: t0, Version: 1, Evidence: servfail, Updated: t0}
	got, ok, err := db.OpenIncident("whatsapp")
	if err != nil || !ok {
		t.Fatalf("OpenIncident(whatsapp) = _, %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OpenIncident mismatch (-want +got):\n%s", diff)
	}
	if got, ok, err := db.Incident(1); err != nil || !ok || !cmp.Equal(want, got) {
		t.Errorf("Incident(1) = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if _, ok, err := db.OpenIncident("instagram"); ok || err != nil {
		t.Errorf("OpenIncident(instagram) = _, %v, %v; want false, nil", ok, err)
	}

	deliveries, err := db.Outbox(nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	marks := []Mark{{Incident: 1, Version: 1}}
	wantDeliveries := []Delivery{
		{ChatID: ChannelID, Marks: marks},
		{ChatID: -1001234567890, Marks: marks},
		{ChatID: 42, Marks: marks},
	}
	if diff := cmp.Diff(wantDeliveries, deliveries, cmp.FilterPath(isKey, cmp.Ignore())); diff != "" {
		t.Errorf("Outbox mismatch (-want +got):\n%s", diff)
	}
}

// isKey matches Delivery.Key, which is opaque to callers.
func isKey(p cmp.Path) bool {
	return p.Last().String() == ".Key"
}

func TestCommitWithoutChannel(t *testing.T) {
	db, _ := openTest(t)
	if _, err := db.Subscribe(Chat{ID: 42}, []string{"whatsapp"}); err != nil {
		t.Fatal(err)
	}
	transitions := []checks.Transition{{Service: "whatsapp", From: checks.Operational, To: checks.Degraded, At: t0}}
	if err := db.Commit(nil, transitions, false); err != nil {
		t.Fatal(err)
	}
	deliveries, err := db.Outbox(nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []Delivery{{ChatID: 42, Marks: []Mark{{Incident: 1, Version: 1}}}}
	if diff := cmp.Diff(want, deliveries, cmp.FilterPath(isKey, cmp.Ignore())); diff != "" {
		t.Errorf("Outbox mismatch (-want +got):\n%s", diff)
	}
}

// TestIncidentLifecycle runs one service through an outage and the start of
// the next one; each step builds on the previous ones.
func TestIncidentLifecycle(t *testing.T) {
	db, path := openTest(t)
	if _, err := db.Subscribe(Chat{ID: 42}, []string{"whatsapp"}); err != nil {
		t.Fatal(err)
	}
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	steps := []struct {
		name      string
		t         checks.Transition
		want      checks.Incident
		wantOpen  bool
		wantMarks []Mark
	}{
		{
			name:      "degraded opens",
			t:         checks.Transition{Service: "whatsapp", From: checks.Operational, To: checks.Degraded, At: at(0), Evidence: http503},
			want:      checks.Incident{ID: 1, Service: "whatsapp", State: checks.Degraded, Worst: checks.Degraded, Start: at(0), Version: 1, Evidence: http503, Updated: at(0)},
			wantOpen:  true,
			wantMarks: []Mark{{Incident: 1, Version: 1}},
		},
		{
			name:      "down raises the version",
			t:         checks.Transition{Service: "whatsapp", From: checks.Degraded, To: checks.Down, At: at(5), Evidence: servfail},
			want:      checks.Incident{ID: 1, Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: at(0), Version: 2, Evidence: servfail, Updated: at(5)},
			wantOpen:  true,
			wantMarks: []Mark{{Incident: 1, Version: 2}},
		},
		{
			name:      "back to degraded keeps worst and evidence",
			t:         checks.Transition{Service: "whatsapp", From: checks.Down, To: checks.Degraded, At: at(20)},
			want:      checks.Incident{ID: 1, Service: "whatsapp", State: checks.Degraded, Worst: checks.Down, Start: at(0), Version: 3, Evidence: servfail, Updated: at(20)},
			wantOpen:  true,
			wantMarks: []Mark{{Incident: 1, Version: 3}},
		},
		{
			name:      "recovery resolves",
			t:         checks.Transition{Service: "whatsapp", From: checks.Degraded, To: checks.Operational, At: at(30)},
			want:      checks.Incident{ID: 1, Service: "whatsapp", State: checks.Operational, Worst: checks.Down, Start: at(0), End: at(30), Version: 4, Evidence: servfail, Updated: at(30)},
			wantMarks: []Mark{{Incident: 1, Version: 4}},
		},
		{
			name:      "next outage is a new incident",
			t:         checks.Transition{Service: "whatsapp", From: checks.Operational, To: checks.Down, At: at(90), Evidence: servfail},
			want:      checks.Incident{ID: 2, Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: at(90), Version: 1, Evidence: servfail, Updated: at(90)},
			wantOpen:  true,
			wantMarks: []Mark{{Incident: 1, Version: 4}, {Incident: 2, Version: 1}},
		},
	}
	for _, step := range steps {
		if err := db.Commit(nil, []checks.Transition{step.t}, false); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		db = reopen(t, db, path)
		t.Run(step.name, func(t *testing.T) {
			got, ok, err := db.Incident(step.want.ID)
			if err != nil || !ok {
				t.Fatalf("Incident(%d) = _, %v, %v", step.want.ID, ok, err)
			}
			if diff := cmp.Diff(step.want, got); diff != "" {
				t.Errorf("incident mismatch (-want +got):\n%s", diff)
			}
			open, isOpen, err := db.OpenIncident("whatsapp")
			if err != nil {
				t.Fatal(err)
			}
			if isOpen != step.wantOpen || isOpen && open.ID != step.want.ID {
				t.Errorf("OpenIncident = %d, %v; want %d, %v", open.ID, isOpen, step.want.ID, step.wantOpen)
			}
			if diff := cmp.Diff(step.wantMarks, outboxOf(t, db, 42)); diff != "" {
				t.Errorf("outbox of chat 42 mismatch (-want +got):\n%s", diff)
			}
		})
	}

	history := []struct {
		since time.Time
		want  []uint64
	}{
		{at(-60), []uint64{2, 1}},
		{at(30), []uint64{2, 1}},
		{at(31), []uint64{2}},
		{at(600), []uint64{2}},
	}
	for _, h := range history {
		t.Run("history since "+h.since.Format(time.Kitchen), func(t *testing.T) {
			incs, err := db.Incidents("whatsapp", h.since)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, inc := range incs {
				got = append(got, inc.ID)
			}
			if diff := cmp.Diff(h.want, got); diff != "" {
				t.Errorf("Incidents ids mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommitEdgeTransitions(t *testing.T) {
	tests := []struct {
		name      string
		before    []checks.Transition
		t         checks.Transition
		wantOpen  *checks.Incident
		wantMarks []Mark
	}{
		{
			name:      "recovery without an open incident records nothing",
			t:         checks.Transition{Service: "whatsapp", From: checks.Degraded, To: checks.Operational, At: t0},
			wantMarks: nil,
		},
		{
			name: "bad state without an open incident opens one",
			t:    checks.Transition{Service: "whatsapp", From: checks.Degraded, To: checks.Down, At: t0},
			wantOpen: &checks.Incident{
				ID: 1, Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: t0, Version: 1, Updated: t0,
			},
			wantMarks: []Mark{{Incident: 1, Version: 1}},
		},
		{
			name:   "from operational with an incident still open updates it",
			before: []checks.Transition{{Service: "whatsapp", From: checks.Operational, To: checks.Down, At: t0}},
			t:      checks.Transition{Service: "whatsapp", From: checks.Operational, To: checks.Degraded, At: t0.Add(time.Minute)},
			wantOpen: &checks.Incident{
				ID: 1, Service: "whatsapp", State: checks.Degraded, Worst: checks.Down, Start: t0, Version: 2, Updated: t0.Add(time.Minute),
			},
			wantMarks: []Mark{{Incident: 1, Version: 2}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			if _, err := db.Subscribe(Chat{ID: 42}, []string{"whatsapp"}); err != nil {
				t.Fatal(err)
			}
			if err := db.Commit(nil, append(tc.before, tc.t), false); err != nil {
				t.Fatal(err)
			}
			got, ok, err := db.OpenIncident("whatsapp")
			if err != nil {
				t.Fatal(err)
			}
			if ok != (tc.wantOpen != nil) {
				t.Fatalf("OpenIncident found = %v, want %v", ok, tc.wantOpen != nil)
			}
			if ok {
				if diff := cmp.Diff(*tc.wantOpen, got); diff != "" {
					t.Errorf("open incident mismatch (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tc.wantMarks, outboxOf(t, db, 42)); diff != "" {
				t.Errorf("outbox mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommitGroupsMetaWideOutage(t *testing.T) {
	db, path := openTest(t)
	down := func(service, with string) checks.Transition {
		return checks.Transition{Service: service, From: checks.Operational, To: checks.Down, At: t0,
			Evidence: servfail, Class: checks.ClassDNSServFail, GroupWith: with,
			Official: "WhatsApp Business API: Major outage", Reports: checks.ReportSignal{Count: 40, Spike: true}}
	}
	if err := db.Commit(nil, []checks.Transition{down("facebook", ""), down("instagram", "facebook")}, true); err != nil {
		t.Fatal(err)
	}
	// A later one joins the same group; one with no open lead stays alone.
	if err := db.Commit(nil, []checks.Transition{down("whatsapp", "instagram"), down("threads", "messenger")}, true); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	lead, ok, err := db.OpenIncident("facebook")
	if err != nil || !ok {
		t.Fatalf("facebook's incident: %v, %v", ok, err)
	}
	group, err := db.GroupIncidents(lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, inc := range group {
		if inc.Group != lead.ID {
			t.Errorf("incident of %s has group %d, want %d", inc.Service, inc.Group, lead.ID)
		}
		if inc.Official == "" || inc.Reports.Count != 40 {
			t.Errorf("incident of %s lost its evidence: %+v", inc.Service, inc)
		}
		got = append(got, inc.Service)
	}
	if diff := cmp.Diff([]string{"facebook", "instagram", "whatsapp"}, got); diff != "" {
		t.Errorf("group members (-want +got):\n%s", diff)
	}
	if alone, _, _ := db.OpenIncident("threads"); alone.Group != 0 {
		t.Errorf("threads joined group %d without a lead to join", alone.Group)
	}
}
