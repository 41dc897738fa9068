package handlers_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

// fakeHistory is a History over incidents and samples a test sets, which
// answers like the store: incidents still open at since or later, samples
// within the range.
type fakeHistory struct {
	mu        sync.Mutex
	incidents []checks.Incident
	samples   map[string][]store.Sample
	err       error // when set, every method fails with it
	reads     int   // calls of Samples: one per chart drawn
}

func (f *fakeHistory) Incidents(service string, since time.Time) ([]checks.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []checks.Incident
	for _, inc := range f.incidents {
		if inc.Service == service && (!inc.Resolved() || !inc.End.Before(since)) {
			out = append(out, inc)
		}
	}
	return out, nil
}

func (f *fakeHistory) Samples(service string, from, to time.Time) ([]store.Sample, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	var out []store.Sample
	for _, s := range f.samples[service] {
		if !s.At.Before(from) && !s.At.After(to) {
			out = append(out, s)
		}
	}
	return out, nil
}

// drawn is how many charts were drawn so far.
func (f *fakeHistory) drawn() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// set replaces the history.
func (f *fakeHistory) set(incidents []checks.Incident, samples map[string][]store.Sample) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.incidents, f.samples = incidents, samples
}

// everyRound is a sample every 30 s over the d before testNow.
func everyRound(d time.Duration) []store.Sample {
	var out []store.Sample
	for at := testNow().Add(-d); at.Before(testNow()); at = at.Add(30 * time.Second) {
		out = append(out, store.Sample{At: at, Latency: 120 * time.Millisecond, OK: 3, Probes: 3})
	}
	return out
}

// photo returns the one photo the bot sent in answer to text, decoded, and
// its caption as the user sees it.
func (e *env) photo(chat bottest.Chat, from bottest.User, text string) (image.Image, string) {
	e.t.Helper()
	msgs := e.say(chat, from, text)
	if len(msgs) != 1 || msgs[0].Photo == nil {
		e.t.Fatalf("%q: got %+v, want one photo\nlog:\n%s", text, msgs, e.log)
	}
	img, err := png.Decode(bytes.NewReader(msgs[0].Photo))
	if err != nil {
		e.t.Fatalf("%q: the photo is no PNG: %v", text, err)
	}
	return img, msgs[0].Plain()
}

func TestHistoryChartAndCaption(t *testing.T) {
	e := newEnv(t)
	const week = 7 * 24 * time.Hour
	// A tenth of the week down, in one incident: 90 % uptime.
	e.history.set([]checks.Incident{
		{ID: 1, Service: "whatsapp", State: checks.Operational, Worst: checks.Down,
			Start: testNow().Add(-3 * 24 * time.Hour), End: testNow().Add(-3*24*time.Hour + week/10)},
		{ID: 2, Service: "instagram", State: checks.Down, Worst: checks.Down, Start: testNow().Add(-time.Hour)},
	}, map[string][]store.Sample{"whatsapp": everyRound(week)})

	img, caption := e.photo(aliceChat(), alice(), "/history wa 7d")
	if got := img.Bounds().Size(); got.X < 640 || got.Y < 360 {
		t.Errorf("chart of %v pixels, too small to read", got)
	}
	for _, want := range []string{
		"WhatsApp, last 7 days", "Uptime: 90.00 %", "1 incident", "Longest: 16 h 48 min",
		"Mean time to recover: 16 h 48 min", "🟥 down",
	} {
		if !strings.Contains(caption, want) {
			t.Errorf("caption lacks %q:\n%s", want, caption)
		}
	}
	if strings.Contains(caption, "Watched for") {
		t.Errorf("caption says only part of a fully watched week was watched:\n%s", caption)
	}
}

func TestHistoryDefaultsToADayInTheChatsLanguage(t *testing.T) {
	e := newEnv(t)
	_, caption := e.photo(giuliaChat(), giulia(), "/history@outage_test_bot Instagram")
	for _, want := range []string{"Instagram, ultime 24 ore", "Disponibilità: nessun dato", "Nessun disservizio"} {
		if !strings.Contains(caption, want) {
			t.Errorf("caption lacks %q:\n%s", want, caption)
		}
	}
}

func TestHistoryRequestsWithoutAChart(t *testing.T) {
	tests := []struct {
		name, text string
		err        error
		want       []string // in the one text reply
	}{
		{"no service", "/history", nil, []string{"/history whatsapp 7d", "24h, 7d and 30d"}},
		{"unknown service", "/history whatsap", nil, []string{"Did you mean whatsapp?"}},
		{"unknown window", "/history wa 1y", nil, []string{"I don't know the period “1y”", "24h, 7d and 30d"}},
		{"store failing", "/history wa", errors.New("disk on fire"), []string{"Something went wrong"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.history.err = tc.err
			msgs := e.say(aliceChat(), alice(), tc.text)
			if len(msgs) != 1 || msgs[0].Photo != nil {
				t.Fatalf("%q: got %+v, want one text reply", tc.text, msgs)
			}
			for _, want := range tc.want {
				if got := msgs[0].Plain(); !strings.Contains(got, want) {
					t.Errorf("%q answered %q, want it to contain %q", tc.text, got, want)
				}
			}
			if tc.err != nil && !strings.Contains(e.log.String(), tc.err.Error()) {
				t.Errorf("the failure is not logged:\n%s", e.log)
			}
		})
	}
}
