package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSetLang(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before *Chat // the record before, if any
		set    Chat
		want   Chat
	}{
		{
			name: "new chat",
			set:  Chat{ID: -5, Type: "group", Title: "Friends", Lang: "ar", Added: t0},
			want: Chat{ID: -5, Type: "group", Title: "Friends", Lang: "ar", Added: t0},
		},
		{
			name:   "changes the language, keeps the rest",
			before: &Chat{ID: 42, Type: "private", Lang: "de", Added: t0},
			set:    Chat{ID: 42, Lang: "ar", Added: t0.Add(time.Hour)},
			want:   Chat{ID: 42, Type: "private", Lang: "ar", Added: t0},
		},
		{
			name:   "a new title is taken",
			before: &Chat{ID: -5, Type: "group", Title: "Old", Added: t0},
			set:    Chat{ID: -5, Type: "group", Title: "New", Lang: "it"},
			want:   Chat{ID: -5, Type: "group", Title: "New", Lang: "it", Added: t0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			if tc.before != nil {
				if _, err := db.Subscribe(*tc.before, []string{"whatsapp"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.SetLang(tc.set); err != nil {
				t.Fatal(err)
			}
			got, ok, err := db.Chat(tc.set.ID)
			if err != nil || !ok {
				t.Fatalf("Chat(%d) = %v, %v", tc.set.ID, ok, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			if tc.before != nil {
				wantSubscriptions(t, db, tc.set.ID, "whatsapp")
			}
		})
	}
}

func TestSetLangNeedsALanguage(t *testing.T) {
	db, _ := openTest(t)
	if err := db.SetLang(Chat{ID: 42, Type: "private"}); err == nil {
		t.Error("SetLang without a language succeeded")
	}
	if _, ok, _ := db.Chat(42); ok {
		t.Error("SetLang without a language recorded the chat")
	}
}
