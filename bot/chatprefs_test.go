package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

func TestSenderFollowsEachChatsAlertSettings(t *testing.T) {
	const (
		chat    = 5 // has the settings of the case
		control = 6 // has the defaults
	)
	for _, tc := range []struct {
		name     string
		settings store.Settings
		states   []checks.State // announced one after the other, from operational
		want     []string       // what chat receives
	}{
		{"defaults", store.Settings{},
			[]checks.State{checks.Degraded, checks.Down, checks.Operational},
			[]string{"whatsapp:degraded", "whatsapp:down", "whatsapp:operational"}},
		{"only down: degraded then down", store.Settings{OnlyDown: true},
			[]checks.State{checks.Degraded, checks.Down, checks.Operational},
			[]string{"whatsapp:down", "whatsapp:operational"}},
		{"only down: never worse than degraded", store.Settings{OnlyDown: true},
			[]checks.State{checks.Degraded, checks.Operational},
			nil},
		{"only down: down, then a step back to degraded", store.Settings{OnlyDown: true},
			[]checks.State{checks.Down, checks.Degraded, checks.Operational},
			[]string{"whatsapp:down", "whatsapp:degraded", "whatsapp:operational"}},
		{"no recoveries", store.Settings{NoRecoveries: true},
			[]checks.State{checks.Down, checks.Operational},
			[]string{"whatsapp:down"}},
		{"only down and no recoveries", store.Settings{OnlyDown: true, NoRecoveries: true},
			[]checks.State{checks.Degraded, checks.Down, checks.Operational},
			[]string{"whatsapp:down"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "", chat, control)
			if err := f.db.SetSettings(chat, tc.settings); err != nil {
				t.Fatal(err)
			}
			f.start(t)
			from := checks.Operational
			var controlWant []string
			for _, to := range tc.states {
				f.commit(t, from, to)
				// What the chat is not told is acknowledged all the same:
				// nothing stays queued.
				f.waitOutbox(t, 0)
				from = to
				controlWant = append(controlWant, "whatsapp:"+string(to))
			}
			for _, c := range []struct {
				id   int64
				want []string
			}{{chat, tc.want}, {control, controlWant}} {
				var got []string
				for _, m := range f.srv.MessagesTo(c.id) {
					got = append(got, strings.TrimSpace(m.Text))
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("chat %d received (-want +got):\n%s", c.id, diff)
				}
			}
		})
	}
}

func TestSenderQuietHoursAreSilent(t *testing.T) {
	// 23:30 UTC is 08:30 in Tokyo.
	now := time.Date(2025, 1, 10, 23, 30, 0, 0, time.UTC)
	chats := map[int64]store.Settings{
		5: {QuietFrom: "22:00", QuietTo: "07:00"},
		6: {QuietFrom: "22:00", QuietTo: "07:00", TimeZone: "Asia/Tokyo"},
		7: {QuietFrom: "08:00", QuietTo: "09:00", TimeZone: "Asia/Tokyo"},
		8: {},
	}
	f := newFixture(t, "", 5, 6, 7, 8)
	o := f.sender.o
	o.Now = func() time.Time { return now }
	f.sender = NewSender(f.sender.client, f.db, plainRenderer{}, o)
	for id, st := range chats {
		if err := f.db.SetSettings(id, st); err != nil {
			t.Fatal(err)
		}
	}
	f.start(t)
	f.commit(t, checks.Operational, checks.Down)
	f.waitOutbox(t, 0)
	got := map[int64]bool{}
	for _, m := range f.srv.Messages() {
		got[m.ChatID] = m.DisableNotification
	}
	want := map[int64]bool{5: true, 6: false, 7: true, 8: false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("disable_notification by chat (-want +got):\n%s", diff)
	}
}

// threads returns the forum topic of every message into a chat.
func threads(msgs []bottest.Message) []int {
	var out []int
	for _, m := range msgs {
		out = append(out, m.ThreadID)
	}
	return out
}

func TestSenderPostsIntoTheChosenTopic(t *testing.T) {
	const forum, plain = -100100, -100200
	f := newFixture(t, "", forum, plain)
	if err := f.db.SetSettings(forum, store.Settings{TopicID: 7}); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	f.commit(t, checks.Operational, checks.Down)
	f.waitOutbox(t, 0)
	if diff := cmp.Diff([]int{7}, threads(f.srv.MessagesTo(forum))); diff != "" {
		t.Errorf("topics of the forum's alerts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0}, threads(f.srv.MessagesTo(plain))); diff != "" {
		t.Errorf("topics of the other group's alerts (-want +got):\n%s", diff)
	}

	// An admin deletes the topic: the next alert goes to General, which
	// from then on is where the alerts go.
	f.srv.Fail("sendMessage", bottest.Fault{Code: 400, Description: "Bad Request: message thread not found", ChatID: forum})
	f.commit(t, checks.Down, checks.Operational)
	f.waitOutbox(t, 0)
	if diff := cmp.Diff([]int{7, 0}, threads(f.srv.MessagesTo(forum))); diff != "" {
		t.Errorf("topics of the forum's alerts after the topic went (-want +got):\n%s", diff)
	}
	if got := f.srv.MessagesTo(forum)[1].Text; got != "whatsapp:operational\n" {
		t.Errorf("alert after the topic went = %q, want the recovery", got)
	}
	if st, err := f.db.Settings(forum); err != nil || st.TopicID != 0 {
		t.Errorf("settings after the topic went = %+v, %v; want no topic", st, err)
	}
	if !strings.Contains(f.logs.String(), "General topic") {
		t.Errorf("the log does not say the alerts moved to General:\n%s", f.logs)
	}
}

func TestWanted(t *testing.T) {
	open := func(state, worst checks.State) checks.Incident {
		return checks.Incident{State: state, Worst: worst}
	}
	resolved := func(worst checks.State) checks.Incident {
		return checks.Incident{State: checks.Operational, Worst: worst, End: time.Unix(1, 0)}
	}
	for _, tc := range []struct {
		name string
		st   store.Settings
		inc  checks.Incident
		want bool
	}{
		{"defaults, degraded", store.Settings{}, open(checks.Degraded, checks.Degraded), true},
		{"defaults, recovery", store.Settings{}, resolved(checks.Degraded), true},
		{"only down, degraded", store.Settings{OnlyDown: true}, open(checks.Degraded, checks.Degraded), false},
		{"only down, down", store.Settings{OnlyDown: true}, open(checks.Down, checks.Down), true},
		{"only down, back to degraded", store.Settings{OnlyDown: true}, open(checks.Degraded, checks.Down), true},
		{"only down, end of a degradation", store.Settings{OnlyDown: true}, resolved(checks.Degraded), false},
		{"only down, end of an outage", store.Settings{OnlyDown: true}, resolved(checks.Down), true},
		{"no recoveries, down", store.Settings{NoRecoveries: true}, open(checks.Down, checks.Down), true},
		{"no recoveries, end of an outage", store.Settings{NoRecoveries: true}, resolved(checks.Down), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wanted(tc.st, tc.inc); got != tc.want {
				t.Errorf("wanted(%+v, %+v) = %v, want %v", tc.st, tc.inc, got, tc.want)
			}
		})
	}
}
