package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInUse(t *testing.T) {
	db, path := openTest(t)
	if !InUse(path) {
		t.Errorf("InUse(%s) = false while it is open", path)
	}
	// A hard link is the same file, locked alike.
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}
	if !InUse(link) {
		t.Errorf("InUse of a hard link to an open database = false")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if InUse(path) {
		t.Errorf("InUse(%s) = true once closed", path)
	}
	// Asking takes nothing away: the bot can open it again.
	reopened, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after InUse: %v", err)
	}
	reopened.Close()

	other := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(other, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{other, filepath.Join(t.TempDir(), "missing.db")} {
		if InUse(p) {
			t.Errorf("InUse(%s) = true", p)
		}
	}
}
