package ops

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/outagebot/outagebot/checks"
)

// publicMaxAge is how long caches may keep a public document without asking
// again: about a probe round (30 s by default), since states change at most
// once a round. Readers that poll more often revalidate cheaply.
const publicMaxAge = 30 * time.Second

// FeedHandler serves the incidents as an Atom feed (RFC 4287): one entry per
// incident, or per Meta-wide outage of several services, updated in place
// as it evolves (same id, later updated), the Entries latest updated first.
// The feed is the same whatever the time of the request, until an incident
// changes: an ETag (a hash of the feed) and Last-Modified (the latest
// entry's update) let readers poll with conditional requests that cost a
// 304 and no body. Its id and self link are the URL it was fetched at.
func (p *Public) FeedHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := p.feed(selfURL(r))
		if err != nil {
			p.failed(w, "the feed", err)
			return
		}
		d.serve(w, r)
	})
}

// selfURL is the absolute URL of a request as its client sent it. Behind a
// reverse proxy it takes the Host the proxy passes on and, when the proxy
// terminated TLS, the scheme from X-Forwarded-Proto.
func selfURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path}).String()
}

// entry is the incidents a feed entry shows: a Meta-wide group, or one
// incident alone.
type entry struct {
	key  uint64 // the group's id, or the incident's
	incs []checks.Incident
	// published is when the first incident began, updated when the last
	// change to any of them happened.
	published, updated time.Time
}

func newEntry(incs []checks.Incident) entry {
	e := entry{key: cmp.Or(incs[0].Group, incs[0].ID), incs: incs, published: incs[0].Start}
	for _, inc := range incs {
		if inc.Start.Before(e.published) {
			e.published = inc.Start
		}
		if inc.Updated.After(e.updated) {
			e.updated = inc.Updated
		}
	}
	return e
}

// entries returns the entries of the feed, the latest updated first.
func (p *Public) entries() ([]entry, error) {
	ids := make([]string, len(p.o.Services))
	for i, s := range p.o.Services {
		ids[i] = s.ID
	}
	outages, err := p.o.DB.LatestOutages(ids, p.o.Entries)
	if err != nil {
		return nil, err
	}
	out := make([]entry, len(outages))
	for i, inc := range outages {
		incs := []checks.Incident{inc}
		if inc.Group != 0 {
			group, err := p.o.DB.GroupIncidents(inc.Group)
			if err != nil {
				return nil, err
			}
			if len(group) > 0 {
				incs = group
			}
		}
		out[i] = newEntry(incs)
	}
	// The incident of a service no longer watched can make a Meta-wide
	// outage later than the order the database found it in.
	slices.SortStableFunc(out, func(a, b entry) int { return b.updated.Compare(a.updated) })
	return out, nil
}

// The Atom feed, as encoding/xml writes it.
type (
	atomFeed struct {
		XMLName   xml.Name      `xml:"http://www.w3.org/2005/Atom feed"`
		Lang      string        `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		ID        string        `xml:"id"`
		Title     atomText      `xml:"title"`
		Updated   string        `xml:"updated"`
		Link      atomLink      `xml:"link"`
		Author    atomPerson    `xml:"author"`
		Generator atomGenerator `xml:"generator"`
		Entries   []atomEntry   `xml:"entry"`
	}
	atomText struct {
		Type string `xml:"type,attr"`
		Text string `xml:",chardata"`
	}
	atomLink struct {
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
		Href string `xml:"href,attr"`
	}
	atomPerson struct {
		Name string `xml:"name"`
	}
	atomGenerator struct {
		URI  string `xml:"uri,attr"`
		Name string `xml:",chardata"`
	}
	atomEntry struct {
		ID         string         `xml:"id"`
		Title      atomText       `xml:"title"`
		Published  string         `xml:"published"`
		Updated    string         `xml:"updated"`
		Categories []atomCategory `xml:"category"`
		Content    atomText       `xml:"content"`
	}
	atomCategory struct {
		Term  string `xml:"term,attr"`
		Label string `xml:"label,attr"`
	}
)

// projectURL is where outagebot comes from, the feed's generator.
const projectURL = "https://github.com/outagebot/outagebot"

// feed renders the Atom feed whose id and self link is self.
func (p *Public) feed(self string) (document, error) {
	entries, err := p.entries()
	if err != nil {
		return document{}, fmt.Errorf("read the incidents of the feed: %w", err)
	}
	// With no entry the feed never changed: it says so with the Unix
	// epoch, which Last-Modified leaves out.
	updated := time.Unix(0, 0)
	if len(entries) > 0 {
		updated = entries[0].updated
	}
	f := atomFeed{
		Lang:      p.o.Text.Tag(),
		ID:        self,
		Title:     atomText{Type: "text", Text: p.o.Text.FeedTitle()},
		Updated:   atomTime(updated),
		Link:      atomLink{Rel: "self", Type: "application/atom+xml", Href: self},
		Author:    atomPerson{Name: "outagebot"},
		Generator: atomGenerator{URI: projectURL, Name: "outagebot"},
		Entries:   make([]atomEntry, len(entries)),
	}
	for i, e := range entries {
		title, content := p.o.Text.FeedEntry(e.incs)
		f.Entries[i] = atomEntry{
			ID:         entryID(e.key, e.published),
			Title:      atomText{Type: "text", Text: title},
			Published:  atomTime(e.published),
			Updated:    atomTime(e.updated),
			Categories: p.categories(e.incs),
			Content:    atomText{Type: "html", Text: contentHTML(content)},
		}
	}
	body, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return document{}, fmt.Errorf("write the feed: %w", err)
	}
	body = append([]byte(xml.Header), append(body, '\n')...)
	return document{
		body:        body,
		contentType: "application/atom+xml; charset=utf-8",
		etag:        etagOf(body, false),
		modified:    updated,
		maxAge:      publicMaxAge,
	}, nil
}

// atomTime writes a moment as RFC 3339 in UTC, to the second.
func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// categories are the services of an entry's incidents, by id, labelled with
// their names, so that a reader or a bot can pick the services it follows.
func (p *Public) categories(incs []checks.Incident) []atomCategory {
	var cats []atomCategory
	for _, inc := range incs {
		if slices.ContainsFunc(cats, func(c atomCategory) bool { return c.Term == inc.Service }) {
			continue
		}
		label := inc.Service
		if i := slices.IndexFunc(p.o.Services, func(s checks.Service) bool { return s.ID == inc.Service }); i >= 0 {
			label = p.o.Services[i].Name
		}
		cats = append(cats, atomCategory{Term: inc.Service, Label: label})
	}
	return cats
}

// contentHTML turns FeedEntry's content, lines with a blank line between
// two incidents, into HTML paragraphs. Each takes its direction from its
// first letter, as a Telegram message does, so that Arabic and Persian read
// right to left.
func contentHTML(content string) string {
	var b strings.Builder
	for par := range strings.SplitSeq(content, "\n\n") {
		b.WriteString(`<p dir="auto">`)
		b.WriteString(strings.ReplaceAll(par, "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}

// entryNamespace is the UUID namespace of the entries' ids: random, fixed
// for ever, since changing it would show every entry anew.
var entryNamespace = uuid.UUID{0x6f, 0x2b, 0x8e, 0x51, 0xc3, 0x0d, 0x4a, 0x7e, 0x9b, 0x12, 0x5e, 0xa4, 0x33, 0xd0, 0x7c, 0x19}

// entryID is the id of the entry with the given key and publication time, a
// name-based UUID (version 5, RFC 9562). The start time keeps ids apart
// across databases, which all number their incidents from 1; neither
// changes while an incident evolves, so the entry keeps its id.
func entryID(key uint64, published time.Time) string {
	name := fmt.Sprintf("incident/%d/%s", key, published.UTC().Format(time.RFC3339Nano))
	return uuid.NewSHA1(entryNamespace, []byte(name)).URN()
}
