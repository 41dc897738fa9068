package ops

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/store"
)

const adminToken = "correct-horse-battery-staple"

// get fetches url with the Authorization header auth ("" for none).
func get(t *testing.T, url, auth string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func TestBackupHandlerAuth(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		name  string
		token string // configured
		auth  string // sent
		want  int
	}{
		{"no token configured", "", "Bearer ", http.StatusForbidden},
		{"no credentials", adminToken, "", http.StatusUnauthorized},
		{"wrong token", adminToken, "Bearer correct-horse-battery-stapl", http.StatusUnauthorized},
		{"token as basic auth", adminToken, "Basic " + adminToken, http.StatusUnauthorized},
		{"right token", adminToken, "Bearer " + adminToken, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(BackupHandler(db, tc.token, slog.New(slog.DiscardHandler)))
			defer ts.Close()
			resp, _, err := get(t, ts.URL, tc.auth)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestBackupHandlerServesSnapshot(t *testing.T) {
	db := openDB(t)
	if _, err := db.Subscribe(store.Chat{ID: 42, Type: "private"}, []string{"threads"}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(BackupHandler(db, adminToken, slog.New(slog.DiscardHandler)))
	defer ts.Close()
	resp, body, err := get(t, ts.URL, "Bearer "+adminToken)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("the backup is not a database: %v", err)
	}
	defer snap.Close()
	subs, err := snap.Subscriptions(42)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"threads"}, subs); diff != "" {
		t.Errorf("subscriptions in the backup (-want +got):\n%s", diff)
	}
}

// brokenSnapshot writes n bytes, then fails.
type brokenSnapshot struct{ n int }

func (b brokenSnapshot) Backup(w io.Writer) (int64, error) {
	var n int
	if b.n > 0 {
		var err error
		if n, err = w.Write(bytes.Repeat([]byte{0xb0}, b.n)); err != nil {
			return int64(n), err
		}
	}
	return int64(n), errors.New("read error on the DB file")
}

func TestBackupHandlerFailures(t *testing.T) {
	t.Run("before any byte", func(t *testing.T) {
		ts := httptest.NewServer(BackupHandler(brokenSnapshot{0}, adminToken, slog.New(slog.DiscardHandler)))
		defer ts.Close()
		resp, _, err := get(t, ts.URL, "Bearer "+adminToken)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("status %d, want 500", resp.StatusCode)
		}
	})
	t.Run("midway", func(t *testing.T) {
		// More than net/http buffers, so that the status line is out: the
		// only way left to say "failed" is to cut the transfer short.
		ts := httptest.NewServer(BackupHandler(brokenSnapshot{64 << 10}, adminToken, slog.New(slog.DiscardHandler)))
		defer ts.Close()
		_, _, err := get(t, ts.URL, "Bearer "+adminToken)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reading a backup that failed midway: err = %v, want %v", err, io.ErrUnexpectedEOF)
		}
	})
}
