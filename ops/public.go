package ops

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// PublicDB is what the public endpoints read of the database.
type PublicDB interface {
	Statuses() (map[string]checks.Status, error)
	// Vantage says whether this machine is offline.
	Vantage() (checks.Vantage, error)
	OpenIncident(service string) (checks.Incident, bool, error)
	// LatestOutages returns the services' n latest updated outages,
	// newest first, each as its incident updated last: one alone, or one
	// of a Meta-wide group.
	LatestOutages(services []string, n int) ([]checks.Incident, error)
	GroupIncidents(group uint64) ([]checks.Incident, error)
}

// FeedText writes the words of the feed in one language, as
// *locale.Printer does.
type FeedText interface {
	// Tag is the language's IETF tag, the feed's xml:lang.
	Tag() string
	// FeedTitle is the feed's title, plain text.
	FeedTitle() string
	// FeedEntry renders the incidents of one entry: a title in plain text
	// and HTML content whose lines end with "\n", both depending on the
	// incidents alone.
	FeedEntry(incs []checks.Incident) (title, content string)
}

// PublicOptions configure a Public.
type PublicOptions struct {
	DB PublicDB // required
	// Services are the watched services, in the order to show them;
	// required.
	Services []checks.Service
	Text     FeedText // required
	// Entries is the most entries the feed holds, the latest updated;
	// default 30.
	Entries int
	Now     func() time.Time // default time.Now
	Log     *slog.Logger     // default discards
}

// Public serves what anyone may read of the bot, with no token: the
// incidents as an Atom feed (FeedHandler) and the state of every service as
// JSON (StatusHandler). Neither says anything about chats or subscribers.
// Its methods are safe for concurrent use.
type Public struct {
	o PublicOptions
}

// NewPublic returns a Public.
func NewPublic(o PublicOptions) *Public {
	o.Entries = cmp.Or(o.Entries, 30)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Public{o: o}
}

// failed answers a request whose document could not be read from the
// database; the error goes to the log, not to the public.
func (p *Public) failed(w http.ResponseWriter, what string, err error) {
	p.o.Log.Error("cannot serve "+what, "err", err)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "cannot read the database", http.StatusInternalServerError)
}

// document is a rendered public document and what caches need to know of
// it.
type document struct {
	body        []byte
	contentType string
	// etag is the ETag header: a hash of the body, or of what it means
	// when parts of the body (a generation time) do not count, in which
	// case it is weak.
	etag     string
	modified time.Time     // Last-Modified; zero for none
	maxAge   time.Duration // how long caches may keep it unasked
}

// etagOf returns the ETag of what b holds: strong when b is the body
// itself, weak when it is only what the body means.
func etagOf(b []byte, weak bool) string {
	sum := sha256.Sum256(b)
	tag := `"` + hex.EncodeToString(sum[:16]) + `"`
	if weak {
		return "W/" + tag
	}
	return tag
}

// serve answers r with d, or with 304 Not Modified when the client's copy
// is still d (If-None-Match, If-Modified-Since): readers poll.
func (d document) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", d.contentType)
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(d.maxAge/time.Second)))
	h.Set("ETag", d.etag)
	http.ServeContent(w, r, "", d.modified, bytes.NewReader(d.body))
}
