package store_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/outagebot/outagebot/store"
)

func ExampleDB_Subscribe() {
	dir, err := os.MkdirTemp("", "outagebot")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(filepath.Join(dir, "outagebot.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	added, err := db.Subscribe(store.Chat{ID: 42, Type: "private"}, []string{"whatsapp", "threads", "whatsapp"})
	fmt.Println(added, err)
	added, err = db.Subscribe(store.Chat{ID: 42}, []string{"threads", "instagram"})
	fmt.Println(added, err)
	subs, err := db.Subscriptions(42)
	fmt.Println(subs, err)
	// Output:
	// [whatsapp threads] <nil>
	// [instagram] <nil>
	// [instagram threads whatsapp] <nil>
}
