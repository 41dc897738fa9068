package store

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOutboxDeliveryOrder(t *testing.T) {
	db, _ := openTest(t)
	for _, id := range []int64{5, -1002, ChannelID, -7, 3, -1001234567890, 1 << 40} {
		seedMarks(t, db, id, Mark{Incident: 1, Version: 1})
	}
	want := []int64{ChannelID, -1001234567890, -1002, -7, 3, 5, 1 << 40}

	for _, limit := range []int{1, 2, 3, 100} {
		var (
			got   []int64
			after []byte
		)
		for range len(want) + 1 {
			page, err := db.Outbox(after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > limit {
				t.Fatalf("Outbox(_, %d) returned %d entries", limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, d := range page {
				got = append(got, d.ChatID)
			}
			after = page[len(page)-1].Key
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("chats paged with limit %d mismatch (-want +got):\n%s", limit, diff)
		}
	}

	if page, err := db.Outbox(nil, 0); err != nil || len(page) != 0 {
		t.Errorf("Outbox(nil, 0) = %v, %v; want nothing", page, err)
	}
	n, err := db.OutboxLen()
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("OutboxLen = %d, want %d", n, len(want))
	}
}

func TestMarkRaisesVersionInPlace(t *testing.T) {
	db, _ := openTest(t)
	seedMarks(t, db, 42,
		Mark{Incident: 1, Version: 1},
		Mark{Incident: 2, Version: 1},
		Mark{Incident: 1, Version: 3},
		Mark{Incident: 1, Version: 2}, // late and stale: must not lower the version
	)
	want := []Mark{{Incident: 1, Version: 3}, {Incident: 2, Version: 1}}
	if diff := cmp.Diff(want, outboxOf(t, db, 42)); diff != "" {
		t.Errorf("marks mismatch (-want +got):\n%s", diff)
	}
}

func TestAck(t *testing.T) {
	tests := []struct {
		name      string
		queued    []Mark
		delivered []Mark
		want      []Mark // nil: the entry is gone
	}{
		{
			name:      "everything delivered",
			queued:    []Mark{{Incident: 1, Version: 2}, {Incident: 2, Version: 1}},
			delivered: []Mark{{Incident: 1, Version: 2}, {Incident: 2, Version: 1}},
		},
		{
			name:      "newer version queued meanwhile stays",
			queued:    []Mark{{Incident: 1, Version: 3}},
			delivered: []Mark{{Incident: 1, Version: 2}},
			want:      []Mark{{Incident: 1, Version: 3}},
		},
		{
			name:      "other incident stays",
			queued:    []Mark{{Incident: 1, Version: 1}, {Incident: 2, Version: 4}},
			delivered: []Mark{{Incident: 1, Version: 1}},
			want:      []Mark{{Incident: 2, Version: 4}},
		},
		{
			name:      "delivered a later version than queued",
			queued:    []Mark{{Incident: 1, Version: 1}},
			delivered: []Mark{{Incident: 1, Version: 5}},
		},
		{
			name:      "nothing delivered",
			queued:    []Mark{{Incident: 1, Version: 1}},
			delivered: nil,
			want:      []Mark{{Incident: 1, Version: 1}},
		},
		{
			name:      "no entry",
			delivered: []Mark{{Incident: 1, Version: 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			seedMarks(t, db, 42, tc.queued...)
			seedMarks(t, db, 43, Mark{Incident: 1, Version: 1})
			if err := db.AckAll([]Delivery{{ChatID: 42, Marks: tc.delivered}}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, outboxOf(t, db, 42)); diff != "" {
				t.Errorf("marks left mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]Mark{{Incident: 1, Version: 1}}, outboxOf(t, db, 43)); diff != "" {
				t.Errorf("another chat's marks changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAckConcurrently(t *testing.T) {
	db, _ := openTest(t)
	const chats = 64
	for id := range int64(chats) {
		seedMarks(t, db, id-chats/2, Mark{Incident: 7, Version: 2})
	}
	var wg sync.WaitGroup
	for id := range int64(chats) {
		wg.Go(func() {
			if err := db.AckAll([]Delivery{{ChatID: id - chats/2, Marks: []Mark{{Incident: 7, Version: 2}}}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n, err := db.OutboxLen()
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("OutboxLen after acking every chat = %d, want 0", n)
	}
}

func TestAckAllManyChatsAtOnce(t *testing.T) {
	db, _ := openTest(t)
	seedMarks(t, db, 1, Mark{Incident: 1, Version: 1})
	seedMarks(t, db, -2, Mark{Incident: 1, Version: 2})
	seedMarks(t, db, 3, Mark{Incident: 1, Version: 1})
	err := db.AckAll([]Delivery{
		{ChatID: 1, Marks: []Mark{{Incident: 1, Version: 1}}},
		{ChatID: -2, Marks: []Mark{{Incident: 1, Version: 1}}}, // a newer version is queued
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		chat int64
		want []Mark
	}{
		{1, nil},
		{-2, []Mark{{Incident: 1, Version: 2}}},
		{3, []Mark{{Incident: 1, Version: 1}}},
	} {
		if diff := cmp.Diff(tc.want, outboxOf(t, db, tc.chat)); diff != "" {
			t.Errorf("chat %d marks (-want +got):\n%s", tc.chat, diff)
		}
	}
}

func TestChannelPost(t *testing.T) {
	db, path := openTest(t)
	if _, ok, err := db.ChannelPost(7); err != nil || ok {
		t.Fatalf("ChannelPost of an unposted incident = %v, %v; want not found", ok, err)
	}
	want := ChannelPost{MessageID: 12, Version: 3, Edited: time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC), Resolved: true}
	if err := db.SetChannelPost(7, want); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openAt(t, path)
	got, ok, err := db.ChannelPost(7)
	if err != nil || !ok {
		t.Fatalf("ChannelPost after reopening = %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("channel post (-want +got):\n%s", diff)
	}
}
