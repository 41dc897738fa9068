package main

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
)

// inlineQueries is how many inline queries the burst sends at once.
const inlineQueries = 10_000

// inlineBurstQueries are what the burst's people type after the bot's
// name, in turn: every service, names, a question, a name the bot does not
// watch, and "all".
func inlineBurstQueries() []string {
	return []string{"", "wa", "whatsapp", "insta", "is facebook down", "telegram", "all"}
}

// BenchmarkInlineBurst sends 10,000 inline queries at once, from 10,000
// people whose Telegram speaks each of the bot's 12 languages in turn, to
// the command side wired as serve wires it (see BenchmarkLoad), within one
// round, and waits until every query is answered at the fake Bot API. One
// iteration is the measurement:
//
//	go test -run '^$' -bench InlineBurst -benchtime=1x .
//
// Metrics (the fake server's work, decoding and checking 10,000 answers, is
// on the same cores and in the same process):
//
//   - renders: inline result sets rendered during the burst (logged
//     "rendered the inline results"); one per language is the budget;
//   - allocs/query and B/query: heap allocations of the whole process
//     during the burst, per query;
//   - cpu-us/query: user and system CPU time of the process, per query;
//   - queries/s: queries answered per second of wall time.
func BenchmarkInlineBurst(b *testing.B) {
	var last inlineBurstResult
	for b.Loop() {
		last = runInlineBurst(b)
	}
	b.ReportMetric(float64(last.renders), "renders")
	b.ReportMetric(float64(last.mallocs)/inlineQueries, "allocs/query")
	b.ReportMetric(float64(last.bytes)/inlineQueries, "B/query")
	b.ReportMetric(float64(last.cpu.Microseconds())/inlineQueries, "cpu-us/query")
	b.ReportMetric(inlineQueries/last.wall.Seconds(), "queries/s")
	b.Logf("%d inline queries in %d languages: %d result sets rendered, %.0f allocations and %.0f B per query, %v CPU, %v wall",
		inlineQueries, last.langs, last.renders, float64(last.mallocs)/inlineQueries, float64(last.bytes)/inlineQueries,
		last.cpu.Round(time.Millisecond), last.wall.Round(time.Millisecond))
	if last.renders != int64(last.langs) {
		b.Errorf("%d result sets rendered for %d languages in one round, want one per language", last.renders, last.langs)
	}
}

// inlineBurstResult is what one burst of inline queries measured.
type inlineBurstResult struct {
	langs          int
	renders        int64
	mallocs, bytes uint64
	cpu, wall      time.Duration
}

func runInlineBurst(b *testing.B) inlineBurstResult {
	b.StopTimer()
	w := startLoadBot(b, 1e6)
	defer w.stop()
	langs := w.texts.Tags()
	queries := inlineBurstQueries()
	users := make([]bottest.User, inlineQueries)
	for i := range users {
		users[i] = bottest.User{ID: int64(loadUserBase + i), FirstName: "Asker", LanguageCode: langs[i%len(langs)]}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	renders := w.inline.Load()
	cpu0 := cpuTime(b)
	start := time.Now()
	b.StartTimer()
	for i, u := range users {
		w.tg.SendInlineQuery(u, "supergroup", queries[i%len(queries)])
	}
	answers, err := w.tg.WaitInlineAnswers(ctx, inlineQueries)
	b.StopTimer()
	if err != nil {
		b.Fatalf("inline queries not answered: %v\nlogs:\n%.4000s", err, w.logs)
	}
	r := inlineBurstResult{langs: len(langs), renders: w.inline.Load() - renders, cpu: cpuTime(b) - cpu0, wall: time.Since(start)}
	runtime.ReadMemStats(&after)
	r.mallocs, r.bytes = after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc
	if logs := w.logs.String(); logs != "" {
		b.Fatalf("the bot logged warnings or errors during the burst:\n%.4000s", logs)
	}
	checkInlineAnswers(b, w, answers)
	b.StartTimer()
	return r
}

// checkInlineAnswers holds every answer of a burst to what its asker must
// get: shared, kept by Telegram for a while, and for an empty query every
// service's status first, in the asker's language.
func checkInlineAnswers(tb testing.TB, w *loadBot, answers []bottest.InlineAnswer) {
	tb.Helper()
	for _, a := range answers {
		if a.IsPersonal || a.CacheTime < 5 || len(a.Results) == 0 {
			tb.Fatalf("answer to %q: personal %v, cache_time %d, %d results", a.Query, a.IsPersonal, a.CacheTime, len(a.Results))
		}
		if a.Query != "" {
			continue
		}
		want := w.texts.For(a.From.LanguageCode).InlineAll(nil, time.Now()).Title
		if got := a.Results[0].Title; got != want {
			tb.Fatalf("%s user asking for every service got %q first, want %q", a.From.LanguageCode, got, want)
		}
	}
}

// TestInlineQueriesReachTheBot asks the command side, wired as serve wires
// it, through the poller: Telegram sends inline queries only to a bot that
// asks for them.
func TestInlineQueriesReachTheBot(t *testing.T) {
	w := startLoadBot(t, 1e6)
	defer w.stop()
	for _, lang := range []string{"it", "en"} {
		w.tg.SendInlineQuery(bottest.User{ID: 7, FirstName: "Asker", LanguageCode: lang}, "sender", "")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	answers, err := w.tg.WaitInlineAnswers(ctx, 2)
	if err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, w.logs)
	}
	checkInlineAnswers(t, w, answers)
	if n := len(answers[0].Results); n != 1+len(w.catalog.IDs()) {
		t.Errorf("%d results for an empty query, want every service and all", n)
	}
}
