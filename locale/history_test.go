package locale

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/outagebot/outagebot/history"
	"github.com/outagebot/outagebot/locale/localetest"
)

// tagRx matches an HTML tag of a checked message.
var tagRx = regexp.MustCompile(`</?[a-z]+>`)

// shown is msg as Telegram shows it, once CheckHTML passes it.
func shown(msg string) (string, error) {
	if err := localetest.CheckHTML(msg); err != nil {
		return "", err
	}
	return html.UnescapeString(tagRx.ReplaceAllString(msg, "")), nil
}

// maxCaption is Telegram's limit for a photo's caption, in characters after
// entity parsing.
const maxCaption = 1024

// historyStats are the stats of a bad month, every line of the caption
// shown.
func historyStats() history.Stats {
	return history.Stats{
		Watched: 29 * 24 * time.Hour, Up: 28 * 24 * time.Hour,
		Incidents: 12, Recovered: 11, Longest: 26*time.Hour + 14*time.Minute, MTTR: 47 * time.Minute,
	}
}

// renderHistory renders every /history text of p, for renderAll.
func renderHistory(p *Printer) []rendering {
	month := history.Windows()[2]
	return []rendering{
		{"HistoryCaption", p.HistoryCaption("evil", month, historyStats()), true},
		{"HistoryCaption one", p.HistoryCaption("whatsapp", history.Windows()[0], history.Stats{
			Watched: 24 * time.Hour, Up: 23 * time.Hour, Incidents: 1, Longest: time.Hour}), true},
		{"HistoryCaption two", p.HistoryCaption("whatsapp", history.Windows()[1], history.Stats{
			Watched: 24 * time.Hour, Up: 23 * time.Hour, Incidents: 2, Recovered: 2, Longest: time.Hour, MTTR: time.Hour}), true},
		{"HistoryCaption no data", p.HistoryCaption("whatsapp", month, history.Stats{}), true},
		{"HistoryUsage", p.HistoryUsage(), true},
		{"HistoryBadWindow", p.HistoryBadWindow("<1y>"), true},
		{"HistoryUnknownService", p.HistoryUnknownService("whatsap"), true},
	}
}

func TestHistoryCaption(t *testing.T) {
	l := testLocalesUTC(t)
	week := history.Windows()[1]
	tests := []struct {
		lang  string
		stats history.Stats
		want  string // as Telegram shows it
	}{
		{"en", history.Stats{Watched: 7 * 24 * time.Hour, Up: 7*24*time.Hour - 90*time.Minute, Incidents: 2, Recovered: 1,
			Longest: time.Hour, MTTR: 30 * time.Minute},
			"📈 WhatsApp, last 7 days\nUptime: 99.10 %\n2 incidents\nLongest: 1 h\nMean time to recover: 30 min\n" +
				"🟩 operational · 🟧 degraded · 🟥 down · ⬜ no data. The line is the median response time of the checks, in ms."},
		{"en", history.Stats{Watched: 2 * time.Hour, Up: 2 * time.Hour},
			"📈 WhatsApp, last 7 days\nUptime: 100.00 %\nNo incidents\nWatched for 2 h of this period.\n" +
				"🟩 operational · 🟧 degraded · 🟥 down · ⬜ no data. The line is the median response time of the checks, in ms."},
		{"de", history.Stats{Watched: 7 * 24 * time.Hour, Up: 7*24*time.Hour - time.Second, Incidents: 1, Longest: time.Second},
			"📈 WhatsApp, letzte 7 Tage\nVerfügbarkeit: 99,99 %\n1 Störung\nLängste: 1 Sek.\n" +
				"🟩 in Betrieb · 🟧 eingeschränkt · 🟥 ausgefallen · ⬜ keine Daten. Die Linie ist der Median der Antwortzeit der Prüfungen, in ms."},
	}
	for _, tc := range tests {
		t.Run(tc.lang, func(t *testing.T) {
			got := l.For(tc.lang).HistoryCaption("whatsapp", week, tc.stats)
			plain, err := shown(got)
			if err != nil {
				t.Fatalf("%v in %q", err, got)
			}
			if plain != tc.want {
				t.Errorf("caption\n got %q\nwant %q", plain, tc.want)
			}
		})
	}
}

func TestPercentIsCutNotRounded(t *testing.T) {
	p := testLocalesUTC(t).For("en")
	tests := []struct {
		share float64
		want  string
	}{
		{1, "100.00"},
		{0.99999, "99.99"},
		{0.9905, "99.05"},
		{0.5, "50.00"},
		{0.00009, "0.00"},
	}
	for _, tc := range tests {
		if got := p.percent(tc.share); got != tc.want {
			t.Errorf("percent(%v) = %q, want %q", tc.share, got, tc.want)
		}
	}
}

func TestHistoryCaptionFitsEveryLanguage(t *testing.T) {
	l := testLocalesUTC(t)
	for _, tag := range l.Tags() {
		t.Run(tag, func(t *testing.T) {
			got := l.For(tag).HistoryCaption("evil", history.Windows()[2], historyStats())
			plain, err := shown(got)
			if err != nil {
				t.Fatalf("%v in %q", err, got)
			}
			if n := utf8.RuneCountInString(plain); n > maxCaption {
				t.Errorf("caption of %d characters, more than a photo takes: %q", n, plain)
			}
			if !strings.Contains(plain, "<b>&") {
				t.Errorf("caption does not name the service as it is called: %q", plain)
			}
		})
	}
}
