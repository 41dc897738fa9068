package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/outagebot/outagebot/store"
)

// runBackup is `outagebot backup FILE`: it writes a consistent snapshot of
// the database to FILE, created with mode 0600 and replaced atomically. A
// running bot holds the database's lock, so its snapshot comes from the
// bot's /backup (at -from, else at OUTAGEBOT_LISTEN) with
// OUTAGEBOT_ADMIN_TOKEN. When no bot answers there, or no address or token
// is set, the database file is read directly. FILE may not be the live
// database: replacing it would leave the bot writing to a deleted file.
func runBackup(ctx context.Context, inv invocation) int {
	s, file := inv.s, inv.args[0]
	var tokenErr error
	if s.from != "" && s.adminToken == "" {
		tokenErr = errors.New("-from needs OUTAGEBOT_ADMIN_TOKEN, the token the running bot was given")
	}
	if code := problems(inv.stderr, checkFrom(s.from), checkListen(s.listen), tokenErr, checkDestination(file, s.db)); code != exitOK {
		return code
	}
	var n int64
	err := writeAtomically(file, func(w io.Writer) (err error) {
		n, err = snapshot(ctx, s, w, inv.stderr)
		return err
	})
	if errors.Is(err, store.ErrLocked) {
		err = fmt.Errorf("%w: start it with OUTAGEBOT_LISTEN and OUTAGEBOT_ADMIN_TOKEN and run this with the same two", err)
	}
	if err != nil {
		fmt.Fprintf(inv.stderr, "outagebot backup: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(inv.stdout, "wrote %d bytes to %s\n", n, file)
	return exitOK
}

// checkDestination reports why file cannot be written with a backup of the
// database at db: it is that database, by name or as the same file under
// another name (a link), or it is a database that a running bot holds open
// (one started with another OUTAGEBOT_DB).
func checkDestination(file, db string) error {
	refuse := func(why string) error {
		return fmt.Errorf("refusing to write over %s: %s; name another file", file, why)
	}
	if absFile, err := filepath.Abs(file); err == nil {
		if absDB, err := filepath.Abs(db); err == nil && absFile == absDB {
			return refuse("it is the live database (OUTAGEBOT_DB / -db)")
		}
	}
	dst, err := os.Stat(file)
	if err != nil {
		return nil // nothing there to lose
	}
	if src, err := os.Stat(db); err == nil && os.SameFile(src, dst) {
		return refuse(fmt.Sprintf("it is the same file as %s, the live database (OUTAGEBOT_DB / -db)", db))
	}
	if store.InUse(file) {
		return refuse("it is a database that a running process holds open, the OUTAGEBOT_DB of a running bot")
	}
	return nil
}

// snapshot writes the database to w, from the running bot when one answers.
func snapshot(ctx context.Context, s settings, w, stderr io.Writer) (int64, error) {
	if from := cmp.Or(s.from, listenURL(s.listen)); from != "" && s.adminToken != "" {
		n, err := fetchBackup(ctx, from, s.adminToken, w)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return n, err
		}
		fmt.Fprintf(stderr, "outagebot backup: no outagebot answers at %s; reading %s directly\n", from, s.db)
	}
	return store.BackupFile(s.db, w, store.Options{})
}

// listenURL is the base URL at which this machine reaches a server
// listening on addr (OUTAGEBOT_LISTEN). An address that binds every
// interface, like ":9090", is reached at the loopback.
func listenURL(addr string) string {
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr // let the request say what is wrong with it
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// fetchBackup copies the running bot's /backup at base to w.
func fetchBackup(ctx context.Context, base, token string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+pathBackup, nil)
	if err != nil {
		return 0, fmt.Errorf("fetch backup: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := localClient().Do(req)
	if err != nil {
		return 0, fmt.Errorf("fetch backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // the status says enough without it
		return 0, fmt.Errorf("fetch backup from %s: %s: %s", base, resp.Status, strings.TrimSpace(string(msg)))
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		// The bot cuts the transfer short when its snapshot fails.
		return n, fmt.Errorf("fetch backup from %s: after %d bytes: %w", base, n, err)
	}
	return n, nil
}

// localClient is the client of one request to the bot on this machine: no
// connection is kept for later, and no proxy stands between the two.
func localClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

// writeAtomically writes path through write into a temporary file beside
// it, created with mode 0600, and renames it over path once all of it is
// written and synced: path either keeps its old content or gets all of the
// new one.
func writeAtomically(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create a file beside %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
