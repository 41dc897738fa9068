package bottest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSendInlineQueryIsDelivered(t *testing.T) {
	s := newServer(t)
	clk := withClock(s)
	giulia := User{ID: 44, FirstName: "Giulia", LanguageCode: "it"}
	id := s.SendInlineQuery(giulia, "group", "whats")
	s.SendInlineQuery(User{ID: 45, FirstName: "Bo"}, "", "")
	var got []struct {
		UpdateID    int              `json:"update_id"`
		InlineQuery *wireInlineQuery `json:"inline_query"`
	}
	call(t, s, "getUpdates", `{"allowed_updates":["message","inline_query"]}`).decode(t, &got)
	want := []wireInlineQuery{
		{ID: id, From: giulia, Query: "whats", ChatType: "group"},
		{ID: "2", From: User{ID: 45, FirstName: "Bo"}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d updates, want %d", len(got), len(want))
	}
	for i, u := range got {
		if u.InlineQuery == nil {
			t.Fatalf("update %d has no inline_query", u.UpdateID)
		}
		if diff := cmp.Diff(want[i], *u.InlineQuery); diff != "" {
			t.Errorf("inline query %d (-want +got):\n%s", i, diff)
		}
	}

	clk.Advance(1)
	call(t, s, "answerInlineQuery", `{"inline_query_id":"`+id+`","results":[],"cache_time":30,"is_personal":false}`).decode(t, new(bool))
	answers, err := s.WaitInlineAnswers(bounded(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	wantAnswer := []InlineAnswer{{QueryID: id, Query: "whats", From: giulia, Results: []InlineResult{}, CacheTime: 30, At: clk.Now()}}
	if diff := cmp.Diff(wantAnswer, answers); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

func TestInlineQueriesOnlyWhenAllowed(t *testing.T) {
	s := newServer(t)
	s.SendInlineQuery(User{ID: 1}, "sender", "wa")
	// A bot that never asked for inline queries does not get them, as
	// with Telegram's allowed_updates.
	if got := updateIDs(t, s, `{"allowed_updates":["message","callback_query"]}`); len(got) != 0 {
		t.Errorf("updates %v delivered to a bot that did not ask for inline queries", got)
	}
	if got := updateIDs(t, s, `{"allowed_updates":["inline_query"]}`); !cmp.Equal(got, []int{1}) {
		t.Errorf("updates %v, want [1]", got)
	}
}

// article is a valid result with id, changed by edit.
func article(id string, edit func(map[string]any)) map[string]any {
	a := map[string]any{
		"type": "article", "id": id, "title": "🔴 WhatsApp: down", "description": "since 16:02",
		"input_message_content": map[string]any{"message_text": "🔴 <b>WhatsApp is down</b>", "parse_mode": "HTML"},
		"reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{
			{{"text": "🔔 Get alerts", "url": "https://t.me/outage_test_bot?start=sub_whatsapp"}},
		}},
	}
	if edit != nil {
		edit(a)
	}
	return a
}

func answerBody(t *testing.T, id string, results any, extra string) string {
	t.Helper()
	raw, err := json.Marshal(results)
	if err != nil {
		t.Fatal(err)
	}
	return `{"inline_query_id":"` + id + `","results":` + string(raw) + extra + `}`
}

func TestAnswerInlineQueryChecks(t *testing.T) {
	many := make([]map[string]any, 51)
	for i := range many {
		many[i] = article(fmt.Sprint(i), nil)
	}
	content := func(text, mode string) func(map[string]any) {
		return func(a map[string]any) {
			a["input_message_content"] = map[string]any{"message_text": text, "parse_mode": mode}
		}
	}
	for _, tc := range []struct {
		name    string
		results any
		extra   string
		want    string // the error description, "" for success
	}{
		{"valid", []any{article("wa", nil), article("all", nil)}, `,"cache_time":"25","is_personal":"false"`, ""},
		{"fifty results", many[:50], "", ""},
		{"no results", nil, "", `Bad Request: parameter "results" is required`},
		{"results not an array", map[string]any{"id": "x"}, "", "Bad Request: can't parse results JSON object"},
		{"51 results", many, "", "Bad Request: RESULTS_TOO_MUCH"},
		{"duplicate ids", []any{article("wa", nil), article("wa", nil)}, "", "Bad Request: RESULT_ID_DUPLICATE"},
		{"empty id", []any{article("", nil)}, "", "Bad Request: RESULT_ID_INVALID"},
		{"id of 65 bytes", []any{article(strings.Repeat("é", 32)+"x", nil)}, "", "Bad Request: RESULT_ID_INVALID"},
		{"id of 64 bytes", []any{article(strings.Repeat("é", 32), nil)}, "", ""},
		{"photo", []any{article("p", func(a map[string]any) { a["type"] = "photo" })}, "", "Bad Request: RESULT_TYPE_INVALID"},
		{"no title", []any{article("wa", func(a map[string]any) { delete(a, "title") })}, "", "Bad Request: ARTICLE_TITLE_EMPTY"},
		{"no message", []any{article("wa", func(a map[string]any) { delete(a, "input_message_content") })}, "", "Bad Request: MESSAGE_EMPTY"},
		{"empty message", []any{article("wa", content(" <b></b>", "HTML"))}, "", "Bad Request: message text is empty"},
		{"message of 4096", []any{article("wa", content("<b>"+strings.Repeat("&amp;", 4096)+"</b>", "HTML"))}, "", ""},
		{"message of 4097", []any{article("wa", content(strings.Repeat("x", 4097), ""))}, "", "Bad Request: message is too long"},
		{"unescaped data", []any{article("wa", content("<b>x<y</b>", "HTML"))}, "", `Bad Request: can't parse entities: Unsupported start tag "y</b" at byte offset 4`},
		{"bare ampersand", []any{article("wa", content("A & B", "HTML"))}, "", `Bad Request: can't parse entities: Character "&" at byte offset 2 must be escaped as "&amp;"`},
		{"unclosed tag", []any{article("wa", content("<b>WhatsApp", "HTML"))}, "", `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{"button without text", []any{article("wa", func(a map[string]any) {
			a["reply_markup"] = map[string]any{"inline_keyboard": [][]map[string]any{{{"url": "https://t.me/x"}}}}
		})}, "", "Bad Request: BUTTON_TEXT_INVALID"},
		{"button to nowhere", []any{article("wa", func(a map[string]any) {
			a["reply_markup"] = map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "url": "t.me/x"}}}}
		})}, "", "Bad Request: BUTTON_URL_INVALID"},
		{"cache_time not a number", []any{}, `,"cache_time":true`, "Bad Request: invalid cache_time specified"},
		{"negative cache_time", []any{}, `,"cache_time":-1`, "Bad Request: invalid cache_time specified"},
		{"is_personal not a boolean", []any{}, `,"is_personal":1`, "Bad Request: invalid is_personal specified"},
		{"next_offset of 65 bytes", []any{}, `,"next_offset":"` + strings.Repeat("x", 65) + `"`, "Bad Request: NEXT_OFFSET_INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			id := s.SendInlineQuery(User{ID: 1}, "sender", "wa")
			r := call(t, s, "answerInlineQuery", answerBody(t, id, tc.results, tc.extra))
			if r.Description != tc.want {
				t.Errorf("answer = %d %q, want %q", r.Status, r.Description, tc.want)
			}
			if answered := len(s.InlineAnswers()); answered != 0 == (tc.want != "") {
				t.Errorf("%d answers recorded", answered)
			}
		})
	}
}

func TestAnswerInlineQueryRecordsResults(t *testing.T) {
	s := newServer(t)
	id := s.SendInlineQuery(User{ID: 1}, "sender", "wa")
	all := article("all", func(a map[string]any) {
		delete(a, "reply_markup")
		delete(a, "description")
		a["title"] = "All services"
		a["input_message_content"] = map[string]any{"message_text": "<b>Status</b> &lt;now&gt;", "parse_mode": "HTML"}
	})
	call(t, s, "answerInlineQuery", answerBody(t, id, []any{article("wa", nil), all}, "")).decode(t, new(bool))
	got := s.InlineAnswers()
	want := []InlineAnswer{{QueryID: id, Query: "wa", From: User{ID: 1}, CacheTime: 300, Results: []InlineResult{
		{ID: "wa", Type: "article", Title: "🔴 WhatsApp: down", Description: "since 16:02",
			Text: "🔴 <b>WhatsApp is down</b>", ParseMode: "HTML",
			ReplyMarkup: json.RawMessage(`{"inline_keyboard":[[{"text":"🔔 Get alerts","url":"https://t.me/outage_test_bot?start=sub_whatsapp"}]]}`)},
		{ID: "all", Type: "article", Title: "All services", Text: "<b>Status</b> &lt;now&gt;", ParseMode: "HTML"},
	}}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(InlineAnswer{}, "At")); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if plain := got[0].Results[1].Plain(); plain != "Status <now>" {
		t.Errorf("Plain() = %q, want %q", plain, "Status <now>")
	}
}

func TestAnswerInlineQueryOnce(t *testing.T) {
	s := newServer(t)
	id := s.SendInlineQuery(User{ID: 1}, "sender", "wa")
	body := answerBody(t, id, []any{}, "")
	stale := "Bad Request: query is too old and response timeout expired or query ID is invalid"
	for i, want := range []string{"", stale} {
		if r := call(t, s, "answerInlineQuery", body); r.Description != want {
			t.Errorf("answer %d = %d %q, want %q", i+1, r.Status, r.Description, want)
		}
	}
	if r := call(t, s, "answerInlineQuery", answerBody(t, "999", []any{}, "")); r.Description != stale {
		t.Errorf("answer to an unknown query = %d %q, want %q", r.Status, r.Description, stale)
	}
	// An invalid answer leaves the query open: the corrected one is taken.
	id = s.SendInlineQuery(User{ID: 1}, "sender", "ig")
	if r := call(t, s, "answerInlineQuery", answerBody(t, id, []any{article("", nil)}, "")); r.OK {
		t.Fatal("an answer with an empty result id was accepted")
	}
	if r := call(t, s, "answerInlineQuery", answerBody(t, id, []any{article("ig", nil)}, "")); !r.OK {
		t.Errorf("the corrected answer = %d %q, want it accepted", r.Status, r.Description)
	}
	if n := len(s.InlineAnswers()); n != 2 {
		t.Errorf("%d answers recorded, want 2", n)
	}
}
