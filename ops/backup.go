package ops

import (
	"crypto/subtle"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// Snapshotter writes a consistent copy of the database while it is in use.
type Snapshotter interface {
	Backup(w io.Writer) (int64, error)
}

// BackupHandler serves a snapshot of the database, which holds every chat's
// id, only to requests bearing token ("Authorization: Bearer <token>"). With
// an empty token it serves nobody. A snapshot that fails midway aborts the
// response, so that the client sees a truncated transfer, never a short
// file that looks whole.
func BackupHandler(db Snapshotter, token string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			http.Error(w, "backups over HTTP are off: start outagebot with OUTAGEBOT_ADMIN_TOKEN set", http.StatusForbidden)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			log.Warn("refused a backup request without the admin token", "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="outagebot"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="outagebot.db"`)
		w.Header().Set("Cache-Control", "no-store")
		n, err := db.Backup(w)
		switch {
		case err != nil && n == 0:
			log.Error("cannot back up the database", "err", err)
			http.Error(w, "backup failed", http.StatusInternalServerError)
		case err != nil:
			log.Error("backup failed midway; aborting the transfer", "err", err, "bytes", n)
			panic(http.ErrAbortHandler)
		default:
			log.Info("database backup served", "bytes", n, "remote", r.RemoteAddr)
		}
	})
}
