package checks

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// OfficialLevel is Meta's own word on a product, mapped to our scale.
type OfficialLevel int

// Official levels. The zero value is Unknown so that a status nobody filled
// in can never pass for good news.
const (
	OfficialUnknown OfficialLevel = iota // fetch failed, HTML shell, unknown wording
	OfficialOK                           // "No known issues", "Resolved"
	OfficialMinor                        // "Low disruptions", "Medium disruptions"
	OfficialMajor                        // "High disruption(s)", "Major outage"
)

// String returns "unknown", "ok", "minor" or "major".
func (l OfficialLevel) String() string {
	switch l {
	case OfficialUnknown:
		return "unknown"
	case OfficialOK:
		return "ok"
	case OfficialMinor:
		return "minor"
	case OfficialMajor:
		return "major"
	}
	return "OfficialLevel(" + strconv.Itoa(int(l)) + ")"
}

// severity orders levels from best to worst. Not knowing ranks above a clean
// bill of health, so that a wording we cannot read is never taken for "up",
// and below any definite problem, which it must not hide.
func (l OfficialLevel) severity() int {
	switch l {
	case OfficialOK:
		return 0
	case OfficialMinor:
		return 2
	case OfficialMajor:
		return 3
	}
	return 1
}

// ParseOfficialStatus maps Meta's free-text status to a level, ignoring case,
// spacing and plurals ("High disruption" is "High disruptions"). Text it does
// not know maps to OfficialUnknown, never to OK.
func ParseOfficialStatus(s string) OfficialLevel {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		// Meta writes both "High disruption" and "High disruptions".
		words[i] = strings.TrimSuffix(w, "s")
	}
	switch strings.Join(words, " ") {
	case "no known issue", "resolved":
		return OfficialOK
	case "low disruption", "medium disruption":
		return OfficialMinor
	case "high disruption", "major outage":
		return OfficialMajor
	}
	return OfficialUnknown
}

// OfficialStatus is what Meta says about one org (product) right now.
type OfficialStatus struct {
	Org    string        // e.g. "whatsapp-business-api"
	Name   string        // e.g. "WhatsApp Business API"
	Level  OfficialLevel // the worst over the org's services and open outages
	Text   string        // Meta's wording for that worst entry, e.g. "Major outage"
	Detail string        // latest open outage post description, trimmed to 200 chars, if any
	Since  time.Time     // time of that status/post, if given
	Err    string        // why Level is unknown, when it is (e.g. "HTML instead of JSON", "HTTP 503", "timeout")
	// Unlisted is set when orgs.json was read and does not list Org: the
	// configured id is wrong, or Meta retired the product. Level is then
	// unknown, and Err names the ids the page does list.
	Unlisted bool
}

// OfficialOptions configures an Official client. Zero fields take defaults.
type OfficialOptions struct {
	BaseURL    string       // default "https://metastatus.com"
	HTTPClient *http.Client // default: a client with a 10 s timeout
	MaxBytes   int64        // body limit, default 2 MiB
	UserAgent  string       // default the probes' User-Agent
	Logger     *slog.Logger // warns of orgs the page does not list; default discards
}

const (
	defaultOfficialBaseURL  = "https://metastatus.com"
	defaultOfficialTimeout  = 10 * time.Second
	defaultOfficialMaxBytes = 2 << 20
	// officialDetailMax bounds the outage description passed on to people.
	officialDetailMax = 200
)

// Official reads Meta's status page (metastatus.com), which covers business
// and developer products only. Its JSON is undocumented, so the client is
// lenient about fields and strict about getting JSON at all. It is safe for
// concurrent use.
type Official struct {
	base      string
	client    *http.Client
	maxBytes  int64
	userAgent string
	log       *slog.Logger

	mu     sync.Mutex
	warned map[string]bool // orgs already reported as unlisted
}

// NewOfficial returns a client for Meta's status page.
func NewOfficial(o OfficialOptions) *Official {
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultOfficialTimeout}
	}
	maxBytes := o.MaxBytes
	if maxBytes <= 0 {
		maxBytes = defaultOfficialMaxBytes
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Official{
		base:      strings.TrimRight(cmp.Or(o.BaseURL, defaultOfficialBaseURL), "/"),
		client:    client,
		maxBytes:  maxBytes,
		userAgent: cmp.Or(o.UserAgent, defaultUserAgent),
		log:       log,
		warned:    make(map[string]bool),
	}
}

// Fetch gets orgs.json, and outages/{org}.json for the orgs asked for whose
// level is not OK, and returns one OfficialStatus per org in orgs (in that
// order). Every failure yields OfficialUnknown with Err set; Fetch itself
// never fails. ctx bounds the whole fetch.
//
// An org that orgs.json does not list is Unlisted, and logged at warn level
// the first time: a wrong id would otherwise stay "no information" forever
// without anyone noticing.
//
// The outages files only add to what orgs.json says: an outage can make a
// level worse and supplies Detail, but failing to fetch one leaves the level
// orgs.json gave.
func (o *Official) Fetch(ctx context.Context, orgs []string) []OfficialStatus {
	var listed []officialOrg
	err := o.getJSON(ctx, "/data/orgs.json", &listed)
	if err == nil && len(listed) == 0 {
		// A page that lists nothing is broken; it says nothing about ids.
		err = errors.New("no orgs listed")
	}
	if err != nil {
		reason := failureText(ctx, err)
		out := make([]OfficialStatus, len(orgs))
		for i, id := range orgs {
			out[i] = OfficialStatus{Org: id, Err: reason}
		}
		return out
	}
	byID := make(map[string]officialOrg, len(listed))
	for _, org := range listed {
		if _, dup := byID[org.ID]; !dup {
			byID[org.ID] = org
		}
	}

	// Each org is judged once even when asked for twice; the goroutines
	// write only through their own *OfficialStatus.
	judged := make(map[string]*OfficialStatus, len(orgs))
	var wg sync.WaitGroup
	for _, id := range orgs {
		if _, done := judged[id]; done {
			continue
		}
		org, ok := byID[id]
		if !ok {
			judged[id] = o.unlisted(id, listed)
			continue
		}
		st := &OfficialStatus{Org: id, Name: org.Name}
		judged[id] = st
		entries := serviceEntries(org.Services)
		st.judge(entries)
		if st.Level == OfficialOK {
			continue
		}
		wg.Go(func() {
			var outages []officialOutage
			if err := o.getJSON(ctx, "/data/outages/"+url.PathEscape(id)+".json", &outages); err != nil {
				return
			}
			more, detail := outageEntries(outages)
			st.judge(append(entries, more...))
			st.Detail = detail
		})
	}
	wg.Wait()

	out := make([]OfficialStatus, len(orgs))
	for i, id := range orgs {
		out[i] = *judged[id]
	}
	return out
}

// unlisted is the status of an org that orgs.json does not list. It warns
// of it, once per org, naming the ids the page does list, so that the
// operator can correct the configuration.
func (o *Official) unlisted(id string, listed []officialOrg) *OfficialStatus {
	ids := make([]string, len(listed))
	for i, org := range listed {
		ids[i] = org.ID
	}
	o.mu.Lock()
	first := !o.warned[id]
	o.warned[id] = true
	o.mu.Unlock()
	if first {
		o.log.Warn("Meta's status page does not list this org: fix or remove it in the services' official: lists",
			"org", id, "listed", ids)
	}
	return &OfficialStatus{Org: id, Unlisted: true, Err: clip("not listed; the page lists " + strings.Join(ids, ", "))}
}

// getJSON fetches base+path into v. Its errors are short reasons meant for
// OfficialStatus.Err.
func (o *Official) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.base+path, nil)
	if err != nil {
		return fmt.Errorf("invalid request: %w", err)
	}
	req.Header.Set("User-Agent", o.userAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := o.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, o.maxBytes))
	if err != nil {
		return err
	}
	// The site answers 200 with its HTML shell for any path, JSON paths
	// that are gone included.
	if start := bytes.TrimLeft(body, " \t\r\n"); len(start) > 0 && start[0] == '<' {
		return errors.New("HTML instead of JSON")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case int64(len(body)) >= o.maxBytes:
			// The limit cut the document short; that it no longer parses
			// says nothing about the site.
			return fmt.Errorf("body larger than %d bytes", o.maxBytes)
		case errors.As(err, &typeErr):
			return fmt.Errorf("unexpected JSON: %s at %s", typeErr.Value, cmp.Or(typeErr.Field, "top level"))
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// failureText says in a few words why a fetch failed, without the URL that
// transport errors carry.
func failureText(ctx context.Context, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return "canceled"
	case isTimeout(ctx, err):
		return "timeout"
	}
	return errText(err)
}

// officialOrg, officialService, officialOutage and officialPost are the parts
// of the status page's JSON that matter here. Other fields are ignored and
// missing ones stay empty.
type officialOrg struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Services []officialService `json:"services"`
}

type officialService struct {
	Status string       `json:"status"`
	Time   officialTime `json:"time"`
}

type officialOutage struct {
	Status string         `json:"status"`
	Posts  []officialPost `json:"posts"`
}

type officialPost struct {
	Status      string       `json:"status"`
	Description string       `json:"description"`
	Time        officialTime `json:"time"`
}

// officialTime reads a time given as RFC 3339 text or as a Unix number, in
// seconds or, when too large to be seconds, milliseconds; either may be
// quoted. A time it cannot read stays zero rather than failing the whole
// document: the statuses matter more than their times.
type officialTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *officialTime) UnmarshalJSON(b []byte) error {
	s := string(b)
	if unquoted, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(unquoted)
	}
	if at, err := time.Parse(time.RFC3339, s); err == nil {
		t.Time = at
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) || n <= 0 {
		return nil
	}
	// 1e11 seconds is the year 5138; a number that large is milliseconds.
	if n >= 1e11 {
		t.Time = time.UnixMilli(int64(n)).UTC()
		return nil
	}
	sec, frac := math.Modf(n)
	t.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

// officialEntry is one thing Meta says about an org: a service's status or an
// open outage's.
type officialEntry struct {
	level OfficialLevel
	text  string
	at    time.Time
}

func newOfficialEntry(text string, at time.Time) officialEntry {
	text = strings.TrimSpace(text)
	return officialEntry{level: ParseOfficialStatus(text), text: text, at: at}
}

// worseThan reports whether e should stand for the org rather than w.
func (e officialEntry) worseThan(w officialEntry) bool {
	if a, b := e.level.severity(), w.level.severity(); a != b {
		return a > b
	}
	// Among equals the longest-standing one says since when the org has been
	// in that state.
	return !e.at.IsZero() && (w.at.IsZero() || e.at.Before(w.at))
}

func serviceEntries(services []officialService) []officialEntry {
	entries := make([]officialEntry, len(services))
	for i, s := range services {
		entries[i] = newOfficialEntry(s.Status, s.Time.Time)
	}
	return entries
}

// outageEntries turns open outages into entries, each with the outage's
// status (or its latest post's, when the outage has none) and the time of its
// latest post. detail is the latest post description among the outages that
// are not resolved.
func outageEntries(outages []officialOutage) (entries []officialEntry, detail string) {
	var newest *officialPost
	for _, o := range outages {
		latest := latestPost(o.Posts)
		var entry officialEntry
		if latest != nil {
			entry = newOfficialEntry(cmp.Or(strings.TrimSpace(o.Status), latest.Status), latest.Time.Time)
		} else {
			entry = newOfficialEntry(o.Status, time.Time{})
		}
		entries = append(entries, entry)
		if entry.level == OfficialOK {
			continue
		}
		for i := range o.Posts {
			p := &o.Posts[i]
			if strings.TrimSpace(p.Description) != "" && (newest == nil || p.Time.After(newest.Time.Time)) {
				newest = p
			}
		}
	}
	if newest != nil {
		detail = trimRunes(strings.Join(strings.Fields(newest.Description), " "), officialDetailMax)
	}
	return entries, detail
}

// latestPost returns the post with the latest time; among posts with equal
// (or no) times the first, since status pages list the newest first.
func latestPost(posts []officialPost) *officialPost {
	var latest *officialPost
	for i := range posts {
		if latest == nil || posts[i].Time.After(latest.Time.Time) {
			latest = &posts[i]
		}
	}
	return latest
}

// judge sets the level, wording, time and error from the worst entry.
func (s *OfficialStatus) judge(entries []officialEntry) {
	if len(entries) == 0 {
		s.Level, s.Text, s.Since, s.Err = OfficialUnknown, "", time.Time{}, "no services listed"
		return
	}
	worst := entries[0]
	for _, e := range entries[1:] {
		if e.worseThan(worst) {
			worst = e
		}
	}
	s.Level, s.Text, s.Since, s.Err = worst.level, worst.text, worst.at, ""
	if worst.level == OfficialUnknown {
		s.Err = "no status given"
		if worst.text != "" {
			s.Err = clip(fmt.Sprintf("unknown wording %q", worst.text))
		}
	}
}

// trimRunes shortens s to at most n runes, marking the cut with an ellipsis.
func trimRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}
