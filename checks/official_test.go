package checks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// metastatusShell is what metastatus.com answers, with 200, for any path it
// has no file for: the shell of its single-page app.
const metastatusShell = `
<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Meta Status</title></head>
<body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>
<script src="/static/js/main.6f1c2a.js"></script></body></html>`

const metastatusFixtures = "testdata/metastatus"

const testUserAgent = "outagebot-test/1"

// metastatusRequest is one request the fake site received.
type metastatusRequest struct {
	Path, UserAgent string
}

// metastatusSite mimics metastatus.com: /data/orgs.json is answered by orgs,
// /data/outages/{org}.json by the fixture outages-{org}.json when there is
// one, and every other path by the HTML shell with 200.
type metastatusSite struct {
	*httptest.Server
	mu       sync.Mutex
	requests []metastatusRequest
}

func newMetastatusSite(t *testing.T, orgs, outages http.HandlerFunc) *metastatusSite {
	t.Helper()
	if outages == nil {
		outages = serveOutageFixture
	}
	site := &metastatusSite{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /data/orgs.json", orgs)
	mux.HandleFunc("GET /data/outages/{file}", outages)
	mux.HandleFunc("/", serveShell)
	site.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site.mu.Lock()
		site.requests = append(site.requests, metastatusRequest{r.URL.Path, r.UserAgent()})
		site.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(site.Close)
	return site
}

// received returns the requests so far, sorted by path: outages are fetched
// concurrently.
func (s *metastatusSite) received() []metastatusRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.SortedFunc(slices.Values(s.requests), func(a, b metastatusRequest) int {
		return strings.Compare(a.Path, b.Path)
	})
}

func serveShell(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, metastatusShell)
}

func serveOutageFixture(w http.ResponseWriter, r *http.Request) {
	body, err := os.ReadFile(filepath.Join(metastatusFixtures, "outages-"+r.PathValue("file")))
	if err != nil {
		serveShell(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// serveFixture answers with a file of testdata/metastatus.
func serveFixture(t *testing.T, name string) http.HandlerFunc {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(metastatusFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return serveJSON(string(body))
}

func serveJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}
}

// hang answers nothing until the client gives up. Fetch returns only after
// its context is done, which makes the client drop the connection and so
// ends the request's context: the server's Close never waits on it.
func hang(_ http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestOfficialFetch(t *testing.T) {
	allOrgs := []string{"whatsapp-business-api", "graph-api", "facebook-login", "messenger", "ads-manager", "marketing-api", "fbs"}
	const (
		orgsPath = "/data/orgs.json"
		outages  = "/data/outages/"
	)
	tests := []struct {
		name  string
		orgs  http.HandlerFunc
		ask   []string
		want  []OfficialStatus
		paths []string // requested, sorted
	}{
		{
			name: "healthy",
			orgs: serveFixture(t, "orgs-healthy.json"),
			ask:  allOrgs,
			want: []OfficialStatus{
				{Org: "whatsapp-business-api", Name: "WhatsApp Business API", Level: OfficialOK, Text: "No known issues", Since: mustTime(t, "2024-03-01T09:00:00Z")},
				{Org: "graph-api", Name: "Graph API", Level: OfficialOK, Text: "No known issues", Since: mustTime(t, "2024-03-01T08:00:00Z")},
				{Org: "facebook-login", Name: "Facebook Login", Level: OfficialOK, Text: "No known issues", Since: mustTime(t, "2024-03-01T09:00:00Z")},
				{Org: "messenger", Name: "Messenger Platform", Level: OfficialOK, Text: "No known issues", Since: mustTime(t, "2024-03-01T08:00:00Z")},
				{Org: "ads-manager", Name: "Ads Manager", Level: OfficialOK, Text: "Resolved", Since: mustTime(t, "2024-02-28T17:45:00Z")},
				{Org: "marketing-api", Name: "Marketing API", Level: OfficialOK, Text: "No known issues", Since: mustTime(t, "2024-03-01T08:00:00Z")},
				{Org: "fbs", Name: "Meta Business Suite", Level: OfficialOK, Text: "no known issues"},
			},
			paths: []string{orgsPath},
		},
		{
			name: "incident",
			orgs: serveFixture(t, "orgs-incident.json"),
			ask:  append([]string{"instagram"}, append(allOrgs, "whatsapp-business-api")...),
			want: []OfficialStatus{
				{Org: "instagram", Unlisted: true,
					Err: "not listed; the page lists whatsapp-business-api, graph-api, facebook-login, messenger, ads-manager, marketing-api, fbs"},
				{
					Org: "whatsapp-business-api", Name: "WhatsApp Business API", Level: OfficialMajor, Text: "Major outage",
					Detail: "We are aware of an issue that prevents messages sent through the Cloud API from being delivered to WhatsApp users. " +
						"Webhooks for message status are delayed as well. Our engineers are working on a fix …",
					Since: mustTime(t, "2024-03-05T15:47:00Z"),
				},
				{Org: "graph-api", Name: "Graph API", Text: "Investigating weirdness", Since: mustTime(t, "2024-03-05T15:40:00Z"), Err: `unknown wording "Investigating weirdness"`},
				{Org: "facebook-login", Name: "Facebook Login", Level: OfficialMinor, Text: "Medium disruptions", Since: mustTime(t, "2024-03-05T15:34:00Z")},
				{
					Org: "messenger", Name: "Messenger Platform", Level: OfficialMajor, Text: "High disruption",
					Detail: "Most Send API calls fail with error code 2.", Since: mustTime(t, "2024-03-05T16:20:00Z"),
				},
				{Org: "ads-manager", Name: "Ads Manager", Level: OfficialOK, Text: "Resolved", Since: mustTime(t, "2024-03-05T14:00:00Z")},
				{Org: "marketing-api", Name: "Marketing API", Err: "no services listed"},
				{Org: "fbs", Name: "Meta Business Suite", Err: "no status given"},
				{
					Org: "whatsapp-business-api", Name: "WhatsApp Business API", Level: OfficialMajor, Text: "Major outage",
					Detail: "We are aware of an issue that prevents messages sent through the Cloud API from being delivered to WhatsApp users. " +
						"Webhooks for message status are delayed as well. Our engineers are working on a fix …",
					Since: mustTime(t, "2024-03-05T15:47:00Z"),
				},
			},
			paths: []string{
				orgsPath,
				outages + "facebook-login.json",
				outages + "fbs.json",
				outages + "graph-api.json",
				outages + "marketing-api.json",
				outages + "messenger.json",
				outages + "whatsapp-business-api.json",
			},
		},
		{
			name: "HTML shell",
			orgs: serveShell,
			ask:  []string{"whatsapp-business-api", "facebook-login"},
			want: []OfficialStatus{
				{Org: "whatsapp-business-api", Err: "HTML instead of JSON"},
				{Org: "facebook-login", Err: "HTML instead of JSON"},
			},
			paths: []string{orgsPath},
		},
		{
			name: "unavailable",
			orgs: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
			},
			ask:   []string{"whatsapp-business-api"},
			want:  []OfficialStatus{{Org: "whatsapp-business-api", Err: "HTTP 503"}},
			paths: []string{orgsPath},
		},
		{
			name:  "truncated JSON",
			orgs:  serveJSON(`[{"id": "whatsapp-business-api", "services": [`),
			ask:   []string{"whatsapp-business-api"},
			want:  []OfficialStatus{{Org: "whatsapp-business-api", Err: "invalid JSON: unexpected end of JSON input"}},
			paths: []string{orgsPath},
		},
		{
			name:  "object instead of list",
			orgs:  serveJSON(`{"orgs": []}`),
			ask:   []string{"whatsapp-business-api"},
			want:  []OfficialStatus{{Org: "whatsapp-business-api", Err: "unexpected JSON: object at top level"}},
			paths: []string{orgsPath},
		},
		{
			name:  "status of the wrong type",
			orgs:  serveJSON(`[{"id": "fbs", "services": [{"status": 3}]}]`),
			ask:   []string{"fbs"},
			want:  []OfficialStatus{{Org: "fbs", Err: "unexpected JSON: number at services.status"}},
			paths: []string{orgsPath},
		},
		{
			name:  "empty list",
			orgs:  serveJSON(`[]`),
			ask:   []string{"whatsapp-business-api"},
			want:  []OfficialStatus{{Org: "whatsapp-business-api", Err: "no orgs listed"}},
			paths: []string{orgsPath},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newMetastatusSite(t, tt.orgs, nil)
			o := NewOfficial(OfficialOptions{BaseURL: site.URL + "/", HTTPClient: site.Client(), UserAgent: testUserAgent})
			got := o.Fetch(t.Context(), tt.ask)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Fetch(%q) mismatch (-want +got):\n%s", tt.ask, diff)
			}
			var wantRequests []metastatusRequest
			for _, p := range tt.paths {
				wantRequests = append(wantRequests, metastatusRequest{p, testUserAgent})
			}
			if diff := cmp.Diff(wantRequests, site.received()); diff != "" {
				t.Errorf("requests mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOfficialWarnsOfUnlistedOrgs checks that an org id the status page
// does not list costs one warning per org, naming the ids it does list,
// however often it is fetched.
func TestOfficialWarnsOfUnlistedOrgs(t *testing.T) {
	site := newMetastatusSite(t, serveJSON(`[{"id": "graph-api", "services": [{"status": "No known issues"}]}, {"id": "ig-messenger"}]`), nil)
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	o := NewOfficial(OfficialOptions{BaseURL: site.URL, HTTPClient: site.Client(), Logger: log})
	for range 3 {
		got := o.Fetch(t.Context(), []string{"facebook-login", "graph-api", "instagram", "facebook-login"})
		var unlisted []string
		for _, st := range got {
			if st.Unlisted {
				unlisted = append(unlisted, st.Org)
			}
		}
		if diff := cmp.Diff([]string{"facebook-login", "instagram", "facebook-login"}, unlisted); diff != "" {
			t.Errorf("unlisted orgs (-want +got):\n%s", diff)
		}
	}
	const msg = `level=WARN msg="Meta's status page does not list this org: fix or remove it in the services' official: lists"`
	want := msg + " org=facebook-login listed=\"[graph-api ig-messenger]\"\n" +
		msg + " org=instagram listed=\"[graph-api ig-messenger]\"\n"
	if diff := cmp.Diff(want, logged.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestOfficialFetchHangingSite(t *testing.T) {
	t.Run("orgs.json hangs", func(t *testing.T) {
		site := newMetastatusSite(t, hang, nil)
		// The test server's client has no timeout of its own: only ctx can
		// end the fetch.
		o := NewOfficial(OfficialOptions{BaseURL: site.URL, HTTPClient: site.Client()})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		got := o.Fetch(ctx, []string{"whatsapp-business-api", "graph-api"})
		want := []OfficialStatus{
			{Org: "whatsapp-business-api", Err: "timeout"},
			{Org: "graph-api", Err: "timeout"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Fetch mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("outages hang", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		site := newMetastatusSite(t, serveFixture(t, "orgs-incident.json"), func(w http.ResponseWriter, r *http.Request) {
			// Give up as soon as the outages are asked for: what orgs.json
			// said must survive.
			cancel()
			hang(w, r)
		})
		o := NewOfficial(OfficialOptions{BaseURL: site.URL, HTTPClient: site.Client()})
		got := o.Fetch(ctx, []string{"whatsapp-business-api", "ads-manager"})
		want := []OfficialStatus{
			{Org: "whatsapp-business-api", Name: "WhatsApp Business API", Level: OfficialMajor, Text: "Major outage", Since: mustTime(t, "2024-03-05T15:47:00Z")},
			{Org: "ads-manager", Name: "Ads Manager", Level: OfficialOK, Text: "Resolved", Since: mustTime(t, "2024-03-05T14:00:00Z")},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Fetch mismatch (-want +got):\n%s", diff)
		}
	})
}

// countingTransport counts the response body bytes its user reads.
type countingTransport struct {
	next http.RoundTripper
	read atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = countingBody{resp.Body, &c.read}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func TestOfficialFetchBoundsTheBody(t *testing.T) {
	// A valid list just over 2 MiB whose last org is the one asked for: only a
	// client that reads past the limit sees it.
	var body bytes.Buffer
	body.WriteString("[")
	padding := strings.Repeat("x", 16<<10)
	for i := 0; body.Len() < 2<<20; i++ {
		fmt.Fprintf(&body, `{"id": "filler-%d", "name": %q, "services": [{"status": "No known issues"}]},`, i, padding)
	}
	body.WriteString(`{"id": "fbs", "name": "Meta Business Suite", "services": [{"status": "No known issues"}]}]`)
	site := newMetastatusSite(t, serveJSON(body.String()), nil)

	tests := []struct {
		name     string
		maxBytes int64
		limit    int64 // most body bytes the client may read
		want     OfficialStatus
	}{
		{
			name:  "default limit",
			limit: 2 << 20,
			want:  OfficialStatus{Org: "fbs", Err: "body larger than 2097152 bytes"},
		},
		{
			name:     "limit above the body",
			maxBytes: 3 << 20,
			limit:    3 << 20,
			want:     OfficialStatus{Org: "fbs", Name: "Meta Business Suite", Level: OfficialOK, Text: "No known issues"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			transport := &countingTransport{next: site.Client().Transport}
			o := NewOfficial(OfficialOptions{
				BaseURL:    site.URL,
				HTTPClient: &http.Client{Transport: transport},
				MaxBytes:   tt.maxBytes,
			})
			got := o.Fetch(t.Context(), []string{"fbs"})
			if diff := cmp.Diff([]OfficialStatus{tt.want}, got); diff != "" {
				t.Errorf("Fetch mismatch (-want +got):\n%s", diff)
			}
			if read := transport.read.Load(); read > tt.limit {
				t.Errorf("read %d body bytes, want at most %d", read, tt.limit)
			}
		})
	}
}

func TestParseOfficialStatus(t *testing.T) {
	tests := []struct {
		in   string
		want OfficialLevel
	}{
		{"No known issues", OfficialOK},
		{"No known issue", OfficialOK},
		{"no known issues", OfficialOK},
		{"  NO   KNOWN\tISSUES \n", OfficialOK},
		{"Resolved", OfficialOK},
		{"resolved ", OfficialOK},
		{"Low disruptions", OfficialMinor},
		{"Low disruption", OfficialMinor},
		{"Medium disruptions", OfficialMinor},
		{"medium  Disruption", OfficialMinor},
		{"High disruption", OfficialMajor},
		{"High disruptions", OfficialMajor},
		{"HIGH DISRUPTIONS", OfficialMajor},
		{"Major outage", OfficialMajor},
		{"Major outages", OfficialMajor},
		{" major\u00a0outage", OfficialMajor},
		{"", OfficialUnknown},
		{"Investigating weirdness", OfficialUnknown},
		{"Operational", OfficialUnknown},
		{"No known issues yet", OfficialUnknown},
		{"Known issues", OfficialUnknown},
		{"Major", OfficialUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ParseOfficialStatus(tt.in); got != tt.want {
				t.Errorf("ParseOfficialStatus(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestOfficialLevelString(t *testing.T) {
	tests := []struct {
		level OfficialLevel
		want  string
	}{
		{OfficialUnknown, "unknown"},
		{OfficialOK, "ok"},
		{OfficialMinor, "minor"},
		{OfficialMajor, "major"},
		{OfficialLevel(7), "OfficialLevel(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.level.String(); got != tt.want {
				t.Errorf("OfficialLevel(%d).String() = %q, want %q", int(tt.level), got, tt.want)
			}
		})
	}
}

func TestOfficialTime(t *testing.T) {
	tests := []struct {
		name, json string
		want       time.Time
	}{
		{"RFC 3339", `"2024-03-05T15:47:00Z"`, mustTime(t, "2024-03-05T15:47:00Z")},
		{"RFC 3339 with offset", `"2024-03-05T16:47:00+01:00"`, mustTime(t, "2024-03-05T15:47:00Z")},
		{"RFC 3339 with fraction", `"2024-03-05T15:47:00.250Z"`, mustTime(t, "2024-03-05T15:47:00.25Z")},
		{"Unix seconds", `1709653620`, mustTime(t, "2024-03-05T15:47:00Z")},
		{"Unix seconds with fraction", `1709653620.5`, mustTime(t, "2024-03-05T15:47:00.5Z")},
		{"Unix milliseconds", `1709653620000`, mustTime(t, "2024-03-05T15:47:00Z")},
		{"Unix seconds quoted", `"1709653620"`, mustTime(t, "2024-03-05T15:47:00Z")},
		{"null", `null`, time.Time{}},
		{"empty", `""`, time.Time{}},
		{"words", `"yesterday"`, time.Time{}},
		{"zero", `0`, time.Time{}},
		{"negative", `-5`, time.Time{}},
		{"boolean", `true`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct {
				Time officialTime `json:"time"`
			}
			if err := json.Unmarshal([]byte(`{"time": `+tt.json+`}`), &v); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !v.Time.Equal(tt.want) {
				t.Errorf("time %s = %v, want %v", tt.json, v.Time.Time, tt.want)
			}
		})
	}
}
