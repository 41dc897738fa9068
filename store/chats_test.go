package store

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)

// wantSubscriptions fails the test unless chatID is subscribed to exactly
// services, as seen from both directions of the index.
func wantSubscriptions(t *testing.T, db *DB, chatID int64, services ...string) {
	t.Helper()
	got, err := db.Subscriptions(chatID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(services, got); diff != "" {
		t.Errorf("Subscriptions(%d) mismatch (-want +got):\n%s", chatID, diff)
	}
	for _, s := range []string{"facebook", "instagram", "messenger", "threads", "whatsapp"} {
		subscribers, err := db.Subscribers(s)
		if err != nil {
			t.Fatal(err)
		}
		if listed, want := slices.Contains(subscribers, chatID), slices.Contains(services, s); listed != want {
			t.Errorf("chat %d in Subscribers(%q) = %v, want %v", chatID, s, listed, want)
		}
	}
}

func TestSubscribe(t *testing.T) {
	tests := []struct {
		name      string
		before    []string // already subscribed
		services  []string
		wantAdded []string
		wantAfter []string
	}{
		{"new chat", nil, []string{"whatsapp", "instagram"}, []string{"whatsapp", "instagram"}, []string{"instagram", "whatsapp"}},
		{"duplicates in input", nil, []string{"threads", "threads", "facebook", "threads"}, []string{"threads", "facebook"}, []string{"facebook", "threads"}},
		{"some already subscribed", []string{"whatsapp"}, []string{"messenger", "whatsapp"}, []string{"messenger"}, []string{"messenger", "whatsapp"}},
		{"all already subscribed", []string{"whatsapp"}, []string{"whatsapp"}, nil, []string{"whatsapp"}},
		{"nothing", []string{"whatsapp"}, nil, nil, []string{"whatsapp"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			chat := Chat{ID: 42, Type: "private", Added: t0}
			if _, err := db.Subscribe(chat, tc.before); err != nil {
				t.Fatal(err)
			}
			added, err := db.Subscribe(chat, tc.services)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantAdded, added); diff != "" {
				t.Errorf("added mismatch (-want +got):\n%s", diff)
			}
			wantSubscriptions(t, db, chat.ID, tc.wantAfter...)
		})
	}
}

func TestSubscribeMergesChatRecord(t *testing.T) {
	tests := []struct {
		name string
		old  Chat
		chat Chat
		want Chat
	}{
		{
			name: "new record",
			chat: Chat{ID: -5, Type: "group", Title: "Family", Added: t0},
			want: Chat{ID: -5, Type: "group", Title: "Family", Added: t0},
		},
		{
			name: "keeps added and lang",
			old:  Chat{ID: -5, Type: "group", Title: "Family", Lang: "de", Added: t0},
			chat: Chat{ID: -5, Type: "group", Title: "Family & friends"},
			want: Chat{ID: -5, Type: "group", Title: "Family & friends", Lang: "de", Added: t0},
		},
		{
			name: "new lang wins, first added stays",
			old:  Chat{ID: -5, Type: "group", Title: "Family", Lang: "de", Added: t0},
			chat: Chat{ID: -5, Type: "group", Lang: "it", Added: t0.Add(time.Hour)},
			want: Chat{ID: -5, Type: "group", Title: "Family", Lang: "it", Added: t0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			if tc.old.ID != 0 {
				if err := db.SaveChat(tc.old); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Subscribe(tc.chat, []string{"whatsapp"}); err != nil {
				t.Fatal(err)
			}
			got, ok, err := db.Chat(tc.chat.ID)
			if err != nil || !ok {
				t.Fatalf("Chat(%d) = _, %v, %v", tc.chat.ID, ok, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("chat record mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubscribeRejectsEmptyService(t *testing.T) {
	db, _ := openTest(t)
	if _, err := db.Subscribe(Chat{ID: 42}, []string{"whatsapp", ""}); err == nil {
		t.Fatal("Subscribe to an empty service id succeeded")
	}
	// The failed call must not have half-applied.
	wantSubscriptions(t, db, 42)
}

func TestUnsubscribe(t *testing.T) {
	tests := []struct {
		name        string
		services    []string
		wantRemoved []string
		wantAfter   []string
	}{
		{"one", []string{"instagram"}, []string{"instagram"}, []string{"threads", "whatsapp"}},
		{"not subscribed and duplicates", []string{"facebook", "whatsapp", "whatsapp"}, []string{"whatsapp"}, []string{"instagram", "threads"}},
		{"all", []string{"threads", "whatsapp", "instagram"}, []string{"threads", "whatsapp", "instagram"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			if _, err := db.Subscribe(Chat{ID: 42, Type: "private"}, []string{"whatsapp", "instagram", "threads"}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Subscribe(Chat{ID: 43, Type: "private"}, []string{"whatsapp"}); err != nil {
				t.Fatal(err)
			}
			removed, err := db.Unsubscribe(42, tc.services)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantRemoved, removed); diff != "" {
				t.Errorf("removed mismatch (-want +got):\n%s", diff)
			}
			wantSubscriptions(t, db, 42, tc.wantAfter...)
			wantSubscriptions(t, db, 43, "whatsapp")
			if _, ok, err := db.Chat(42); err != nil || !ok {
				t.Errorf("Chat(42) after Unsubscribe = _, %v, %v; the record must stay", ok, err)
			}
		})
	}
}

func TestUnknownChat(t *testing.T) {
	db, _ := openTest(t)
	subs, err := db.Subscriptions(7)
	if err != nil || len(subs) != 0 {
		t.Errorf("Subscriptions(unknown) = %v, %v; want none, nil", subs, err)
	}
	ids, err := db.Subscribers("whatsapp")
	if err != nil || len(ids) != 0 {
		t.Errorf("Subscribers(nobody's) = %v, %v; want none, nil", ids, err)
	}
	if _, ok, err := db.Chat(7); ok || err != nil {
		t.Errorf("Chat(unknown) = _, %v, %v; want false, nil", ok, err)
	}
}

func TestSubscribersAscending(t *testing.T) {
	db, _ := openTest(t)
	for _, id := range []int64{7, -1001234567890, 3, -42, 1 << 40} {
		if _, err := db.Subscribe(Chat{ID: id}, []string{"whatsapp"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Subscribers("whatsapp")
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{-1001234567890, -42, 3, 7, 1 << 40}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Subscribers mismatch (-want +got):\n%s", diff)
	}
}

func TestSubscribeConcurrently(t *testing.T) {
	db, _ := openTest(t)
	const chats = 64
	var wg sync.WaitGroup
	for id := range int64(chats) {
		wg.Go(func() {
			if _, err := db.Subscribe(Chat{ID: id + 1, Type: "private"}, []string{"whatsapp", "threads"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	want := make([]int64, chats)
	for i := range want {
		want[i] = int64(i + 1)
	}
	for _, s := range []string{"whatsapp", "threads"} {
		got, err := db.Subscribers(s)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Subscribers(%q) mismatch (-want +got):\n%s", s, diff)
		}
	}
}

func TestSaveChatReplaces(t *testing.T) {
	db, path := openTest(t)
	if _, err := db.Subscribe(Chat{ID: 42, Type: "private", Lang: "de", Added: t0}, []string{"whatsapp"}); err != nil {
		t.Fatal(err)
	}
	want := Chat{ID: 42, Type: "private", Lang: "pt-br"}
	if err := db.SaveChat(want); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	got, ok, err := db.Chat(42)
	if err != nil || !ok {
		t.Fatalf("Chat(42) = _, %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chat record mismatch (-want +got):\n%s", diff)
	}
	wantSubscriptions(t, db, 42, "whatsapp")
}

// seedMarks queues marks for chatID the way Commit does.
func seedMarks(t *testing.T, db *DB, chatID int64, marks ...Mark) {
	t.Helper()
	if err := db.bolt.Update(func(tx *bbolt.Tx) error {
		for _, m := range marks {
			if err := mark(bucket(tx, bucketOutbox), chatID, m); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// outboxOf returns the marks pending for chatID, nil when it has no entry.
func outboxOf(t *testing.T, db *DB, chatID int64) []Mark {
	t.Helper()
	all, err := db.Outbox(nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		if d.ChatID == chatID {
			return d.Marks
		}
	}
	return nil
}

func TestDeleteChat(t *testing.T) {
	db, _ := openTest(t)
	for _, id := range []int64{-5, 42} {
		if _, err := db.Subscribe(Chat{ID: id, Added: t0}, []string{"whatsapp", "instagram"}); err != nil {
			t.Fatal(err)
		}
		seedMarks(t, db, id, Mark{Incident: 1, Version: 2})
	}
	if err := db.DeleteChat(-5); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.Chat(-5); ok || err != nil {
		t.Errorf("Chat(-5) after DeleteChat = _, %v, %v; want false, nil", ok, err)
	}
	wantSubscriptions(t, db, -5)
	if got := outboxOf(t, db, -5); got != nil {
		t.Errorf("outbox of deleted chat = %v, want none", got)
	}

	if _, ok, err := db.Chat(42); !ok || err != nil {
		t.Errorf("Chat(42) = _, %v, %v; another chat's record must stay", ok, err)
	}
	wantSubscriptions(t, db, 42, "instagram", "whatsapp")
	if diff := cmp.Diff([]Mark{{Incident: 1, Version: 2}}, outboxOf(t, db, 42)); diff != "" {
		t.Errorf("outbox of chat 42 mismatch (-want +got):\n%s", diff)
	}

	if err := db.DeleteChat(-5); err != nil {
		t.Errorf("DeleteChat of an absent chat: %v", err)
	}
}

func TestMigrateChat(t *testing.T) {
	const from, to = -4321, -1004321
	tests := []struct {
		name      string
		toChat    *Chat
		toSubs    []string
		toMarks   []Mark
		wantChat  Chat
		wantSubs  []string
		wantMarks []Mark
	}{
		{
			name:      "new id unknown",
			wantChat:  Chat{ID: to, Type: "supergroup", Title: "Ops", Lang: "de", Added: t0},
			wantSubs:  []string{"instagram", "whatsapp"},
			wantMarks: []Mark{{Incident: 1, Version: 2}, {Incident: 2, Version: 1}},
		},
		{
			name:      "merged with new id",
			toChat:    &Chat{ID: to, Type: "supergroup", Title: "Ops team", Added: t0.Add(time.Minute)},
			toSubs:    []string{"facebook", "instagram"},
			toMarks:   []Mark{{Incident: 1, Version: 3}, {Incident: 3, Version: 1}},
			wantChat:  Chat{ID: to, Type: "supergroup", Title: "Ops", Lang: "de", Added: t0},
			wantSubs:  []string{"facebook", "instagram", "whatsapp"},
			wantMarks: []Mark{{Incident: 1, Version: 3}, {Incident: 3, Version: 1}, {Incident: 2, Version: 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, path := openTest(t)
			if _, err := db.Subscribe(Chat{ID: from, Type: "group", Title: "Ops", Lang: "de", Added: t0}, []string{"whatsapp", "instagram"}); err != nil {
				t.Fatal(err)
			}
			seedMarks(t, db, from, Mark{Incident: 1, Version: 2}, Mark{Incident: 2, Version: 1})
			if tc.toChat != nil {
				if _, err := db.Subscribe(*tc.toChat, tc.toSubs); err != nil {
					t.Fatal(err)
				}
			}
			seedMarks(t, db, to, tc.toMarks...)

			if err := db.MigrateChat(from, to); err != nil {
				t.Fatal(err)
			}
			db = reopen(t, db, path)

			got, ok, err := db.Chat(to)
			if err != nil || !ok {
				t.Fatalf("Chat(%d) = _, %v, %v", to, ok, err)
			}
			if diff := cmp.Diff(tc.wantChat, got); diff != "" {
				t.Errorf("migrated chat record mismatch (-want +got):\n%s", diff)
			}
			wantSubscriptions(t, db, to, tc.wantSubs...)
			if diff := cmp.Diff(tc.wantMarks, outboxOf(t, db, to)); diff != "" {
				t.Errorf("migrated outbox mismatch (-want +got):\n%s", diff)
			}

			if _, ok, err := db.Chat(from); ok || err != nil {
				t.Errorf("Chat(%d) after migration = _, %v, %v; want false, nil", from, ok, err)
			}
			wantSubscriptions(t, db, from)
			if got := outboxOf(t, db, from); got != nil {
				t.Errorf("outbox of the old id = %v, want none", got)
			}
		})
	}
}

func TestMigrateChatToItselfKeepsEverything(t *testing.T) {
	db, _ := openTest(t)
	if _, err := db.Subscribe(Chat{ID: -9, Type: "group"}, []string{"threads"}); err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateChat(-9, -9); err != nil {
		t.Fatal(err)
	}
	wantSubscriptions(t, db, -9, "threads")
}
