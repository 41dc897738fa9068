package checks

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// metastatusTransport answers, in process, /data/orgs.json with orgs and
// every outages file with outages.
type metastatusTransport struct {
	orgs, outages []byte
}

func (m metastatusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body := m.outages
	if req.URL.Path == "/data/orgs.json" {
		body = m.orgs
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(body)),
		Request:    req,
	}, nil
}

// FuzzOfficial feeds Official.Fetch any orgs.json and outages file. It must
// never panic, and what it reports must keep its promises: one status per
// org asked for, in order; a known level exactly when there is no error;
// errors and details short enough to show people.
func FuzzOfficial(f *testing.F) {
	for _, pair := range [][2]string{
		{"orgs-healthy.json", ""},
		{"orgs-incident.json", "outages-whatsapp-business-api.json"},
		{"orgs-incident.json", "outages-messenger.json"},
	} {
		orgs, err := os.ReadFile(metastatusFixtures + "/" + pair[0])
		if err != nil {
			f.Fatal(err)
		}
		var outages []byte
		if pair[1] != "" {
			if outages, err = os.ReadFile(metastatusFixtures + "/" + pair[1]); err != nil {
				f.Fatal(err)
			}
		}
		f.Add(orgs, outages)
	}
	for _, pair := range [][2]string{
		{`[{"id":"messenger","name":"Messenger","services":[{"status":"High disruption","time":"1709653620000"}]}]`,
			`[{"status":"","posts":[{"status":"Major outage","description":"  We are\n investigating. ","time":1709653620.5}]}]`},
		{`[{"id":"messenger","services":[]}]`, `[]`},
		{`[{"id":"messenger","services":[{"status":"Sunny"}]}]`, `[{"posts":[]}]`},
		{`[{"id":"messenger","services":[{"status":"Major outage","time":-1}]}]`, metastatusShell},
		{`{"id":"messenger"}`, ``},
		{`[{"id":1}]`, `[{"status":2}]`},
		{`[{"id":"messenger","services":[{"status":"Low disruptions","time":1e400}]}]`, `null`},
		{metastatusShell, ``},
	} {
		f.Add([]byte(pair[0]), []byte(pair[1]))
	}
	asked := []string{"whatsapp-business-api", "messenger", "graph-api", "messenger", "absent"}
	f.Fuzz(func(t *testing.T, orgs, outages []byte) {
		o := NewOfficial(OfficialOptions{
			BaseURL:    "http://metastatus.test",
			HTTPClient: &http.Client{Transport: metastatusTransport{orgs, outages}},
			MaxBytes:   64 << 10,
		})
		got := o.Fetch(context.Background(), asked)
		if len(got) != len(asked) {
			t.Fatalf("Fetch returned %d statuses for %d orgs", len(got), len(asked))
		}
		for i, st := range got {
			if st.Org != asked[i] {
				t.Fatalf("status %d is for %q, want %q", i, st.Org, asked[i])
			}
			if st.Level < OfficialUnknown || st.Level > OfficialMajor {
				t.Fatalf("%s: level %v out of range", st.Org, st.Level)
			}
			if (st.Level == OfficialUnknown) != (st.Err != "") {
				t.Fatalf("%s: level %v with error %q: want an error exactly when unknown", st.Org, st.Level, st.Err)
			}
			if len(st.Err) > detailMax+len("…") {
				t.Fatalf("%s: error of %d bytes: %q", st.Org, len(st.Err), st.Err)
			}
			if n := utf8.RuneCountInString(st.Detail); n > officialDetailMax || st.Detail != strings.TrimSpace(st.Detail) {
				t.Fatalf("%s: detail of %d runes, or untrimmed: %q", st.Org, n, st.Detail)
			}
			if st.Level != OfficialUnknown && ParseOfficialStatus(st.Text) != st.Level {
				t.Fatalf("%s: level %v, but its wording %q reads %v", st.Org, st.Level, st.Text, ParseOfficialStatus(st.Text))
			}
		}
	})
}
