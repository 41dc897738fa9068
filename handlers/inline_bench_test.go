package handlers_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/handlers"
)

// answered is a transport that answers every Bot API call with success
// without a network, counting the calls: what the bot does for an inline
// query, measured apart from the HTTP round trip and from Telegram.
type answered struct{ calls atomic.Int64 }

func (a *answered) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	a.calls.Add(1)
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"ok":true,"result":true}`)),
		Request:    req,
	}, nil
}

// BenchmarkInlineQuery handles inline queries from people in every
// language the bot speaks, within one round: the handler's work per query
// (matching, picking the results made for the round, encoding the answer)
// with the HTTP call answered in-process.
//
//	go test -run '^$' -bench InlineQuery -benchmem ./handlers/
//
// renders is how many result sets were made in all, one per language being
// the budget however many queries come.
func BenchmarkInlineQuery(b *testing.B) {
	transport := &answered{}
	bot, err := tele.NewBot(tele.Settings{
		URL: "http://bot.api.invalid", Token: token, Offline: true, Synchronous: true,
		Client: &http.Client{Transport: transport},
	})
	if err != nil {
		b.Fatal(err)
	}
	bot.Me = &tele.User{ID: 1000, IsBot: true, Username: "outage_test_bot"}
	var renders atomic.Int64
	texts := testLocales(b)
	handlers.Register(bot, handlers.Config{
		Subs: newFakeSubs(), Chats: newFakeSubs(), States: newLiveStatuses(),
		Catalog: testCatalog(), Text: texts, Now: testNow,
		Log: slog.New(renderCounter{slog.DiscardHandler, &renders}),
	})
	langs := texts.Tags()
	queries := []string{"", "wa", "whatsapp", "insta", "is threads down", "telegram", "all"}
	updates := make([]tele.Update, len(langs)*len(queries))
	for i := range updates {
		updates[i] = tele.Update{ID: i, Query: &tele.Query{
			ID: "q", Text: queries[i%len(queries)], Sender: &tele.User{ID: 42, LanguageCode: langs[i%len(langs)]},
		}}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bot.ProcessUpdate(updates[i%len(updates)])
		i++
	}
	b.ReportMetric(float64(renders.Load()), "renders")
	if n := transport.calls.Load(); n != int64(i) {
		b.Errorf("%d answers to %d queries", n, i)
	}
	if n := renders.Load(); n != int64(len(langs)) {
		b.Errorf("%d result sets made for %d languages in one round, want one per language", n, len(langs))
	}
}
