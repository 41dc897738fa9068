package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale"
)

// maxInlineResults is Telegram's limit on the results of one answer to an
// inline query.
const maxInlineResults = 50

// maxInlineSets bounds the result sets kept for a round: one per language.
const maxInlineSets = 64

// defaultInterval is the interval of the default schedule, "@every 30s".
const defaultInterval = 30 * time.Second

// minInlineCache is the shortest time Telegram is asked to keep an answer.
// When a round is late, the last one's answers are still the truth for a
// few seconds more, and a surge of queries keeps costing next to nothing.
const minInlineCache = 5 * time.Second

// allResultID and noneResultID are the ids of the results "every service"
// and "no service matches"; a service's result is svcResultPrefix + its id.
const (
	allResultID     = "all"
	noneResultID    = "none"
	svcResultPrefix = "svc_"
)

// inlineSet is what inline mode offers in one language as of one round:
// every result encoded once, for all the queries of the round.
type inlineSet struct {
	all      []byte   // the result "every service", as JSON
	services [][]byte // one result per service, in catalog order
	// allWords are the words that ask for "every service": "all" and the
	// words of that result's title, lower-case.
	allWords []string
	// everything answers an empty query: all, then every service; none
	// answers a query that matches nothing. Both are JSON arrays.
	everything, none []byte
}

// inlineAnswer is the body of answerInlineQuery, its results encoded
// already.
type inlineAnswer struct {
	QueryID    string          `json:"inline_query_id"`
	Results    json.RawMessage `json:"results"`
	CacheTime  int             `json:"cache_time"`
	IsPersonal bool            `json:"is_personal"`
}

// inline answers an inline query, "@bot whatsapp" typed in any chat: one
// result per matching service, and one for every service, each posting the
// status as of the last round into that chat, in the language of whoever
// typed it. The results are made once per round and language (see
// perRound), and answers are not personal, so that Telegram can give the
// same answer to everyone who types the same words until the next round is
// due: a surge of queries during an outage costs almost nothing.
func (h *handler) inline(c tele.Context) error {
	q := c.Query()
	lang := ""
	if q.Sender != nil {
		lang = q.Sender.LanguageCode
	}
	p := h.Text.For(lang)
	r, err := h.lastRound()
	if err != nil {
		return err
	}
	set, err := h.inlineSets.get(r.id, p.Tag(), func() (*inlineSet, error) {
		return h.inlineSet(p, r, c.Bot().Me)
	})
	if err != nil {
		return err
	}
	_, err = c.Bot().Raw("answerInlineQuery", inlineAnswer{
		QueryID: q.ID, Results: set.results(h.inlineMatches(q.Text, set.allWords)), CacheTime: h.inlineCacheTime(r),
	})
	if err != nil {
		return fmt.Errorf("answer an inline query: %w", err)
	}
	return nil
}

// inlineSet makes the results of p's language as of the round r. Each
// result's message carries a button that opens the bot (me) with a deep
// link that subscribes to what the result is about.
func (h *handler) inlineSet(p *locale.Printer, r round, me *tele.User) (*inlineSet, error) {
	start := time.Now()
	alerts := func(subject string) *tele.ReplyMarkup {
		payload := startSubscribe + subject
		if me == nil || me.Username == "" || !validPayload(payload) {
			return nil
		}
		return &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{{
			{Text: p.InlineAlerts(), URL: "https://t.me/" + me.Username + "?start=" + payload},
		}}}
	}
	all := p.InlineAll(r.statuses, r.at)
	s := &inlineSet{allWords: append(strings.Fields(strings.ToLower(all.Title)), "all")}
	var err error
	if s.all, err = article(allResultID, all, alerts("all")); err != nil {
		return nil, err
	}
	none, err := article(noneResultID, p.InlineNoMatch(r.statuses, r.at), alerts("all"))
	if err != nil {
		return nil, err
	}
	for _, id := range h.Catalog.IDs() {
		a, err := article(serviceResultID(id, len(s.services)), p.InlineService(id, r.statuses, r.at), alerts(id))
		if err != nil {
			return nil, err
		}
		s.services = append(s.services, a)
	}
	every := make([]int, len(s.services))
	for i := range every {
		every[i] = i
	}
	s.everything = s.join(true, every)
	s.none = jsonArray([][]byte{none})
	h.Log.Debug("rendered the inline results", "lang", p.Tag(), "results", len(s.services)+1, "took", time.Since(start))
	return s, nil
}

// serviceResultID is the id of the result of the service id, the i-th of
// the catalog: its id when Telegram takes it (1 to 64 bytes), else its place.
func serviceResultID(id string, i int) string {
	if len(svcResultPrefix+id) <= 64 {
		return svcResultPrefix + id
	}
	return svcResultPrefix + "#" + strconv.Itoa(i)
}

// article encodes an inline result as an InlineQueryResultArticle whose
// message is in HTML, without link previews.
func article(id string, r locale.InlineResult, markup *tele.ReplyMarkup) ([]byte, error) {
	a := tele.ArticleResult{
		ResultBase: tele.ResultBase{
			ID:   id,
			Type: "article",
			Content: &tele.InputTextMessageContent{
				Text: r.Text, ParseMode: tele.ModeHTML, PreviewOptions: &tele.PreviewOptions{Disabled: true},
			},
			ReplyMarkup: markup,
		},
		Title:       r.Title,
		Description: r.Description,
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode the inline result %s: %w", id, err)
	}
	return b, nil
}

// results is the JSON array of the results a query asks for, as
// inlineMatches says: every result for an empty query (services nil); the
// one that says nothing matches when it asks for nothing; otherwise
// "every service" if all is set, then the services at the indexes given.
func (s *inlineSet) results(all bool, services []int) []byte {
	switch {
	case all && services == nil:
		return s.everything
	case !all && len(services) == 0:
		return s.none
	}
	return s.join(all, services)
}

// join is the JSON array of "every service" if all is set, then of the
// services at the indexes given, up to maxInlineResults.
func (s *inlineSet) join(all bool, services []int) []byte {
	parts := make([][]byte, 0, min(1+len(services), maxInlineResults))
	if all {
		parts = append(parts, s.all)
	}
	for _, i := range services {
		if len(parts) == maxInlineResults {
			break
		}
		parts = append(parts, s.services[i])
	}
	return jsonArray(parts)
}

// jsonArray joins encoded values into a JSON array.
func jsonArray(parts [][]byte) []byte {
	return append(append([]byte{'['}, bytes.Join(parts, []byte{','})...), ']')
}

// minTypoWord is the length from which a word that begins no name is taken
// for a misspelt one: shorter words are too near too many names ("is" is
// one letter from "ig").
const minTypoWord = 4

// inlineMatches says which results the query asks for: an empty query asks
// for every service (all set, services nil); otherwise a service matches
// when a word of the query begins a word of its id, name or aliases,
// ignoring case, and "every service" when a word begins one of allWords.
// Words that match nothing ("is", "down") are ignored. When no word
// matches, the longer ones are taken for misspelt names, as commands take
// them ("instagarm").
func (h *handler) inlineMatches(query string, allWords []string) (all bool, services []int) {
	words := strings.FieldsFunc(strings.ToLower(query), separator)
	if len(words) == 0 {
		return true, nil
	}
	services = []int{}
	for i, names := range h.serviceWords {
		if beginsAny(words, names) {
			services = append(services, i)
		}
	}
	if all = beginsAny(words, allWords); all || len(services) > 0 {
		return all, services
	}
	near := make(map[string]bool)
	for _, w := range words {
		if utf8.RuneCountInString(w) < minTypoWord {
			continue
		}
		if id, ok := h.Catalog.Nearest(w); ok {
			near[id] = true
		}
	}
	for i, id := range h.Catalog.IDs() {
		if near[id] {
			services = append(services, i)
		}
	}
	return false, services
}

// beginsAny reports whether one of words begins one of names.
func beginsAny(words, names []string) bool {
	for _, w := range words {
		for _, n := range names {
			if strings.HasPrefix(n, w) {
				return true
			}
		}
	}
	return false
}

// serviceWords are the lower-case words of each service's id, name and
// aliases, in catalog order: what inline queries are matched against.
func serviceWords(cat *checks.Catalog) [][]string {
	words := make([][]string, len(cat.Services()))
	for i, s := range cat.Services() {
		for _, name := range append([]string{s.ID, s.Name}, s.Aliases...) {
			words[i] = append(words[i], strings.FieldsFunc(strings.ToLower(name), separator)...)
		}
	}
	return words
}

// inlineCacheTime is how long Telegram may keep an answer made as of the
// round r, in seconds: until the next round is due, but at least
// minInlineCache (a round may be late) and at most one interval. Before the
// first round, minInlineCache.
func (h *handler) inlineCacheTime(r round) int {
	left := minInlineCache
	if r.id != "" {
		left = r.at.Add(h.Interval).Sub(h.Now())
	}
	left = min(max(left, minInlineCache), h.Interval)
	return max(int(left/time.Second), 1)
}
