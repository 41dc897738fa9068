package ops

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"

	"github.com/outagebot/outagebot/checks"
)

// parseFeed parses body with gofeed, as a reader would, and checks what
// RFC 4287 requires of a feed and its entries that a lenient parser lets
// pass: one id (an absolute IRI), title and updated (RFC 3339) each, an
// author, entry ids unique.
func parseFeed(t *testing.T, body []byte) *atom.Feed {
	t.Helper()
	universal, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not a feed: %v\n%s", err, body)
	}
	if universal.FeedType != "atom" || universal.FeedVersion != "1.0" {
		t.Fatalf("detected as %s %s, want atom 1.0", universal.FeedType, universal.FeedVersion)
	}
	f, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not Atom: %v\n%s", err, body)
	}
	absolute := func(what, id string) {
		if u, err := url.Parse(id); err != nil || u.Scheme == "" {
			t.Errorf("%s id %q is not an absolute IRI", what, id)
		}
	}
	absolute("feed", f.ID)
	if f.Title == "" || f.UpdatedParsed == nil {
		t.Errorf("feed title %q, updated %q: both are required", f.Title, f.Updated)
	}
	if len(f.Authors) == 0 || f.Authors[0].Name == "" {
		t.Error("the feed has no author, and its entries have none either")
	}
	seen := map[string]bool{}
	for _, e := range f.Entries {
		absolute("entry", e.ID)
		if seen[e.ID] {
			t.Errorf("entry id %s is not unique", e.ID)
		}
		seen[e.ID] = true
		if e.Title == "" || e.UpdatedParsed == nil || e.PublishedParsed == nil {
			t.Errorf("entry %s: title %q, updated %q, published %q: all are required", e.ID, e.Title, e.Updated, e.Published)
		}
		if e.Content == nil || e.Content.Type != "html" || e.Content.Value == "" {
			t.Errorf("entry %s has no HTML content: %+v", e.ID, e.Content)
		}
	}
	return f
}

// feedEntry is what the tests check of an entry.
type feedEntry struct {
	Title      string
	Published  time.Time
	Updated    time.Time
	Categories []string // term=label
	Content    []string // the text of each line, markup dropped
}

var tagRx = regexp.MustCompile(`<[^>]*>`)

func entriesOf(f *atom.Feed) []feedEntry {
	var out []feedEntry
	for _, e := range f.Entries {
		fe := feedEntry{Title: e.Title, Published: *e.PublishedParsed, Updated: *e.UpdatedParsed}
		for _, c := range e.Categories {
			fe.Categories = append(fe.Categories, c.Term+"="+c.Label)
		}
		for _, line := range strings.Split(strings.NewReplacer("<br>", "\n", "</p>", "\n").Replace(e.Content.Value), "\n") {
			if line = strings.TrimSpace(tagRx.ReplaceAllString(line, "")); line != "" {
				fe.Content = append(fe.Content, line)
			}
		}
		out = append(out, fe)
	}
	return out
}

const feedType = "application/atom+xml; charset=utf-8"

func TestFeed(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	w.history(t)
	resp, body := w.document(t, "/feed.atom", feedType)
	f := parseFeed(t, body)

	self := w.srv.URL + "/feed.atom"
	if f.ID != self {
		t.Errorf("feed id %q, want %q", f.ID, self)
	}
	var links []string
	for _, l := range f.Links {
		links = append(links, l.Rel+" "+l.Type+" "+l.Href)
	}
	if diff := cmp.Diff([]string{"self application/atom+xml " + self}, links); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	if f.Title != "Outages of WhatsApp, Instagram, Facebook, Messenger and Threads" || f.Language != "en" {
		t.Errorf("title %q in %q", f.Title, f.Language)
	}
	if f.Generator == nil || f.Generator.Value != "outagebot" || f.Generator.URI != projectURL {
		t.Errorf("generator %+v", f.Generator)
	}
	if want := w.ago(10 * time.Minute); !f.UpdatedParsed.Equal(want) {
		t.Errorf("feed updated %v, want %v: the latest entry's", f.UpdatedParsed, want)
	}
	if got, want := resp.Header.Get("Last-Modified"), w.ago(10*time.Minute).Format(http.TimeFormat); got != want {
		t.Errorf("Last-Modified %q, want %q", got, want)
	}

	want := []feedEntry{
		{
			Title:      "🟠 Instagram is degraded",
			Published:  w.ago(10 * time.Minute),
			Updated:    w.ago(10 * time.Minute),
			Categories: []string{"instagram=Instagram"},
			Content: []string{
				"🟠 Instagram: degraded since Mar 5, 11:50 UTC",
				"• Meta says: Partial outage",
				"• 240 people reported problems in 15 min (usually 3); most: login, 76 %",
			},
		},
		{
			Title:      "⚠️ Meta-wide outage: Facebook and Messenger",
			Published:  w.ago(30 * time.Minute),
			Updated:    w.ago(29 * time.Minute),
			Categories: []string{"facebook=Facebook", "messenger=Messenger"},
			Content: []string{
				"🔴 Facebook: down since Mar 5, 11:30 UTC",
				"• web: server error (HTTP 503)",
				"🔴 Messenger: down since Mar 5, 11:31 UTC",
				"• web: server error (HTTP 503)",
			},
		},
		{
			Title:      "✅ WhatsApp is back",
			Published:  w.ago(3 * time.Hour),
			Updated:    w.ago(2*time.Hour + 40*time.Minute),
			Categories: []string{"whatsapp=WhatsApp"},
			Content: []string{
				"✅ WhatsApp is back",
				"was down for 20 min, back since Mar 5, 09:20 UTC",
				"• dns: DNS server failure (SERVFAIL from 1.1.1.1:53)",
			},
		},
	}
	if diff := cmp.Diff(want, entriesOf(f)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if n := strings.Count(f.Entries[1].Content.Value, `<p dir="auto">`); n != 2 {
		t.Errorf("the Meta-wide entry has %d paragraphs, want one per incident:\n%s", n, f.Entries[1].Content.Value)
	}
}

func TestFeedEntriesUpdateInPlace(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	w.history(t)
	_, before := w.get(t, "/feed.atom", nil)
	ids := func(f *atom.Feed) map[string]string { // id -> title
		m := map[string]string{}
		for _, e := range f.Entries {
			m[e.ID] = e.Title
		}
		return m
	}
	old := ids(parseFeed(t, before))

	// Messenger recovers: the Meta-wide entry is the same one, updated,
	// and now the latest.
	w.commit(t, nil, checks.Transition{Service: "messenger", From: checks.Down, To: checks.Operational, At: w.ago(time.Minute)})
	_, after := w.get(t, "/feed.atom", nil)
	f := parseFeed(t, after)
	if diff := cmp.Diff(len(old), len(f.Entries)); diff != "" {
		t.Errorf("entries (-before +after):\n%s", diff)
	}
	first := f.Entries[0]
	if _, ok := old[first.ID]; !ok {
		t.Fatalf("the updated entry has a new id %s; before: %v", first.ID, old)
	}
	if old[first.ID] != "⚠️ Meta-wide outage: Facebook and Messenger" || first.Title != "🔴 Facebook is down" {
		t.Errorf("entry %s: title %q, then %q", first.ID, old[first.ID], first.Title)
	}
	if !first.UpdatedParsed.Equal(w.ago(time.Minute)) || !f.UpdatedParsed.Equal(w.ago(time.Minute)) {
		t.Errorf("entry updated %v, feed updated %v; want both %v", first.UpdatedParsed, f.UpdatedParsed, w.ago(time.Minute))
	}
	if !first.PublishedParsed.Equal(w.ago(30 * time.Minute)) {
		t.Errorf("entry published %v, want %v: the start does not move", first.PublishedParsed, w.ago(30*time.Minute))
	}

	// A new outage of WhatsApp is a new entry, apart from the old one.
	w.commit(t, nil, checks.Transition{Service: "whatsapp", From: checks.Operational, To: checks.Down, At: w.ago(0)})
	_, body := w.get(t, "/feed.atom", nil)
	f = parseFeed(t, body)
	if len(f.Entries) != 4 || f.Entries[0].Title != "🔴 WhatsApp is down" {
		t.Fatalf("after a new outage: %v", ids(f))
	}
	if _, ok := old[f.Entries[0].ID]; ok {
		t.Errorf("a new incident took the id %s of an old entry", f.Entries[0].ID)
	}
}

func TestFeedKeepsTheLatestEntries(t *testing.T) {
	w := newPublicWorld(t, "en", 3)
	// Threads flaps five times; Instagram failed once, long ago, and is
	// down since before the flapping began.
	w.commit(t, nil, checks.Transition{Service: "instagram", To: checks.Down, At: w.ago(48 * time.Hour)})
	w.commit(t, nil, checks.Transition{Service: "instagram", To: checks.Operational, At: w.ago(47 * time.Hour)})
	w.commit(t, nil, checks.Transition{Service: "instagram", To: checks.Down, At: w.ago(10 * time.Hour)})
	for i := range 5 {
		start := w.ago(time.Duration(5-i) * time.Hour)
		w.commit(t, nil, checks.Transition{Service: "threads", To: checks.Degraded, At: start})
		w.commit(t, nil, checks.Transition{Service: "threads", To: checks.Operational, At: start.Add(time.Minute)})
	}
	// Instagram's open incident changes last.
	w.commit(t, nil, checks.Transition{Service: "instagram", To: checks.Degraded, At: w.ago(time.Minute)})
	_, body := w.get(t, "/feed.atom", nil)
	var got []string
	for _, e := range parseFeed(t, body).Entries {
		got = append(got, e.Title+" "+e.UpdatedParsed.Format(time.Kitchen))
	}
	want := []string{"🟠 Instagram is degraded 11:59AM", "✅ Threads is back 11:01AM", "✅ Threads is back 10:01AM"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestFeedConditionalGet(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	w.history(t)
	resp, body := w.get(t, "/feed.atom", nil)
	etag, modified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) || modified == "" {
		t.Fatalf("ETag %q, Last-Modified %q: want a strong ETag and a date", etag, modified)
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=30" {
		t.Errorf("Cache-Control %q", got)
	}

	// Time passing changes nothing: an open incident's entry says since
	// when, not for how long.
	w.clk.Add(17 * time.Minute)
	resp, again := w.get(t, "/feed.atom", nil)
	if resp.Header.Get("ETag") != etag || !bytes.Equal(body, again) {
		t.Errorf("the feed changed with time alone: ETag %s, then %s", etag, resp.Header.Get("ETag"))
	}
	for name, h := range map[string]http.Header{
		"If-None-Match":       {"If-None-Match": {etag}},
		"If-None-Match, list": {"If-None-Match": {`"0123", ` + etag}},
		"If-Modified-Since":   {"If-Modified-Since": {modified}},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := w.get(t, "/feed.atom", h)
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("status %d with %d bytes, want 304 and none", resp.StatusCode, len(body))
			}
		})
	}

	w.commit(t, nil, checks.Transition{Service: "instagram", From: checks.Degraded, To: checks.Down, At: w.clk.Now()})
	for name, h := range map[string]http.Header{
		"If-None-Match":     {"If-None-Match": {etag}},
		"If-Modified-Since": {"If-Modified-Since": {modified}},
	} {
		t.Run("after a change, "+name, func(t *testing.T) {
			resp, body := w.get(t, "/feed.atom", h)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag {
				t.Fatalf("status %d, ETag %s: want 200 and a new ETag", resp.StatusCode, resp.Header.Get("ETag"))
			}
			if f := parseFeed(t, body); f.Entries[0].Title != "🔴 Instagram is down" {
				t.Errorf("first entry %q", f.Entries[0].Title)
			}
		})
	}
}

func TestFeedEmpty(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	resp, body := w.get(t, "/feed.atom", nil)
	f := parseFeed(t, body)
	if len(f.Entries) != 0 || !f.UpdatedParsed.Equal(time.Unix(0, 0)) {
		t.Errorf("%d entries, updated %v; want none, at the epoch", len(f.Entries), f.UpdatedParsed)
	}
	if got := resp.Header.Get("Last-Modified"); got != "" {
		t.Errorf("Last-Modified %q for a feed that never changed", got)
	}
}

func TestFeedInTheChannelLanguage(t *testing.T) {
	w := newPublicWorld(t, "it", 0)
	w.history(t)
	_, body := w.get(t, "/feed.atom", nil)
	f := parseFeed(t, body)
	if f.Language != "it" || f.Title != "Disservizi di WhatsApp, Instagram, Facebook, Messenger e Threads" {
		t.Errorf("title %q in %q", f.Title, f.Language)
	}
	if got := f.Entries[2].Title; got != "✅ WhatsApp funziona di nuovo" {
		t.Errorf("entry title %q", got)
	}
}

func TestFeedSelfLink(t *testing.T) {
	w := newPublicWorld(t, "en", 0)
	for _, tc := range []struct {
		name   string
		header http.Header
		want   string
	}{
		{"direct", nil, w.srv.URL + "/feed.atom"},
		{"behind a proxy", http.Header{"X-Forwarded-Proto": {"https"}}, "https://" + strings.TrimPrefix(w.srv.URL, "http://") + "/feed.atom"},
		{"forwarded proto not https", http.Header{"X-Forwarded-Proto": {"javascript"}}, w.srv.URL + "/feed.atom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, body := w.get(t, "/feed.atom", tc.header)
			f := parseFeed(t, body)
			if f.ID != tc.want || len(f.Links) != 1 || f.Links[0].Href != tc.want {
				t.Errorf("id %q, links %+v; want %q", f.ID, f.Links, tc.want)
			}
		})
	}
}

func TestEntryID(t *testing.T) {
	start := time.Date(2026, 3, 5, 11, 30, 0, 123, time.UTC)
	id := entryID(2, start)
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("entryID = %q, want a version 5 UUID URN", id)
	}
	if again := entryID(2, start.In(time.FixedZone("CET", 3600))); again != id {
		t.Errorf("the same moment in another zone gives %s, not %s", again, id)
	}
	for _, other := range []string{entryID(3, start), entryID(2, start.Add(time.Nanosecond))} {
		if other == id {
			t.Errorf("another incident has the id %s", id)
		}
	}
}
