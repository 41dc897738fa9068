package handlers_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/handlers"
)

// countedReport is one report the fake counted.
type countedReport struct {
	Service, Kind string
	User          int64
}

// fakeReports is a Reports that counts like the store: one report per user
// and service per period, each in a bucket of its own on top of the history
// a test sets.
type fakeReports struct {
	mu      sync.Mutex
	last    map[countedReport]time.Time // by service and user, without kind: last counted report
	history map[string][]checks.ReportBucket
	counted []countedReport
	err     error // when set, every method fails with it
}

func newFakeReports() *fakeReports {
	return &fakeReports{last: make(map[countedReport]time.Time), history: make(map[string][]checks.ReportBucket)}
}

func (f *fakeReports) AddReport(service, kind, _ string, userID int64, at time.Time, perUser time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	key := countedReport{Service: service, User: userID}
	if last, ok := f.last[key]; ok && at.Sub(last) < perUser {
		return false, nil
	}
	f.last[key] = at
	f.counted = append(f.counted, countedReport{service, kind, userID})
	f.history[service] = append(f.history[service],
		checks.ReportBucket{Start: at.Truncate(checks.ReportBucketSize), Count: 1, Kinds: map[string]int{kind: 1}})
	return true, nil
}

func (f *fakeReports) ReportBuckets(service string, from, to time.Time) ([]checks.ReportBucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []checks.ReportBucket
	for _, b := range f.history[service] {
		if !b.Start.Before(from) && b.Start.Before(to) {
			out = append(out, b)
		}
	}
	return out, nil
}

// reports returns what was counted, nil for nothing.
func (f *fakeReports) reports() []countedReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]countedReport(nil), f.counted...)
}

func TestReportByCommand(t *testing.T) {
	thanks := func(service, top string) string {
		s := "Thanks — counted. 1 person reported " + service + " problems in the last 15 min (usually 0)."
		if top != "" {
			s += " Most reports: " + top + ", 100 %."
		}
		return s
	}
	for _, tc := range []struct {
		text  string
		reply string
		want  []countedReport
	}{
		{"/report wa login", thanks("WhatsApp", "login"), []countedReport{{"whatsapp", "login", 43}}},
		{"/report Instagram", thanks("Instagram", ""), []countedReport{{"instagram", "", 43}}},
		{"/report WA MEDIA", thanks("WhatsApp", "media"), []countedReport{{"whatsapp", "media", 43}}},
		{"/report wa, web app", thanks("WhatsApp", "web"), []countedReport{{"whatsapp", "web", 43}}},
		{"/report evil", thanks("<b>&", ""), []countedReport{{"evil", "", 43}}},
		{"/report whatsap login", "❓ I don't know “whatsap”. Did you mean whatsapp?\n" +
			"Valid names: whatsapp (wa), instagram (ig, insta), threads, evil (x<y).", nil},
		{"/report all", "❓ I don't know “all”.\n" +
			"Valid names: whatsapp (wa), instagram (ig, insta), threads, evil (x<y).", nil},
		{"/report wa crash<", "❓ I don't know the problem “crash<”. I count login, messages, media, app and web, " +
			"e.g. /report whatsapp login.", nil},
	} {
		t.Run(tc.text, func(t *testing.T) {
			e := newEnv(t)
			if got := e.reply(aliceChat(), bob(), tc.text); got != tc.reply {
				t.Errorf("reply = %q, want %q", got, tc.reply)
			}
			if diff := cmp.Diff(tc.want, e.reports.reports()); diff != "" {
				t.Errorf("reports (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReportCountsOthersAndHistory(t *testing.T) {
	e := newEnv(t)
	// Tuesdays 16:00-17:00 of the three weeks before: 8 reports an hour, 2
	// per 15 minutes. Eleven people reported in the last ten minutes.
	for w := 1; w <= 3; w++ {
		e.reports.history["whatsapp"] = append(e.reports.history["whatsapp"],
			checks.ReportBucket{Start: testNow().Add(-time.Duration(w)*7*24*time.Hour - 16*time.Minute), Count: 8})
	}
	e.reports.history["whatsapp"] = append(e.reports.history["whatsapp"],
		checks.ReportBucket{Start: testNow().Add(-6 * time.Minute), Count: 11, Kinds: map[string]int{"login": 6, "messages": 2, "": 3}})

	got := e.reply(aliceChat(), alice(), "/report wa login")
	want := "Thanks — counted. 12 people reported WhatsApp problems in the last 15 min (usually 2). Most reports: login, 78 %."
	if got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
}

func TestReportTwice(t *testing.T) {
	e := newEnv(t)
	steps := []struct {
		from  bottest.User
		text  string
		reply string
	}{
		{alice(), "/report wa", "Thanks — counted. 1 person reported WhatsApp problems in the last 15 min (usually 0)."},
		{alice(), "/report whatsapp login", "You already reported WhatsApp in the last 30 min."},
		{bob(), "/report wa", "Thanks — counted. 2 people reported WhatsApp problems in the last 15 min (usually 0)."},
		{alice(), "/report ig", "Thanks — counted. 1 person reported Instagram problems in the last 15 min (usually 0)."},
	}
	for _, s := range steps {
		if got := e.reply(aliceChat(), s.from, s.text); got != s.reply {
			t.Errorf("%s by %s: reply = %q, want %q", s.text, s.from.FirstName, got, s.reply)
		}
	}
	want := []countedReport{{"whatsapp", "", 42}, {"whatsapp", "", 43}, {"instagram", "", 42}}
	if diff := cmp.Diff(want, e.reports.reports()); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

func TestReportInGroups(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(e *env) []bottest.Message
		want []countedReport
	}{
		{"member", func(e *env) []bottest.Message {
			e.srv.SetChatMember(group().ID, bob().ID, "member")
			return e.say(group(), bob(), "/report wa")
		}, []countedReport{{"whatsapp", "", 43}}},
		{"restricted member of a supergroup", func(e *env) []bottest.Message {
			e.srv.SetChatMember(supergroup().ID, bob().ID, "restricted")
			return e.say(supergroup(), bob(), "/report@outage_test_bot wa")
		}, []countedReport{{"whatsapp", "", 43}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			msgs := tc.send(e)
			if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Plain(), "Thanks — counted.") {
				t.Errorf("replies %+v, want thanks", msgs)
			}
			if diff := cmp.Diff(tc.want, e.reports.reports()); diff != "" {
				t.Errorf("reports (-want +got):\n%s", diff)
			}
			if calls := e.srv.Calls("getChatMember"); len(calls) != 0 {
				t.Errorf("asked getChatMember %d times; anyone may report", len(calls))
			}
		})
	}
}

// asChat is the answer to a /report about WhatsApp written on behalf of a
// chat.
const asChat = "🙋 A report sent on behalf of a group or channel can't be counted: I can't tell who sent it, " +
	"and one person could report once from every chat. Tap the button to report WhatsApp as yourself."

// TestReportOnBehalfOfAChat has one person report as three groups (as their
// anonymous admin) and as two channels (posting into a group): Telegram
// does not say who is behind such messages, so none counts, and each answer
// offers the button that names who presses it. Pressing it under all five
// answers counts the person once.
func TestReportOnBehalfOfAChat(t *testing.T) {
	e := newEnv(t)
	groups := []bottest.Chat{
		{ID: -1001, Type: "supergroup", Title: "One"},
		{ID: -1002, Type: "supergroup", Title: "Two"},
		{ID: -1003, Type: "supergroup", Title: "Three"},
	}
	channels := []bottest.Chat{
		{ID: -1004, Type: "channel", Title: "Four"},
		{ID: -1005, Type: "channel", Title: "Five"},
	}
	type answer struct {
		chat bottest.Chat
		id   int
	}
	var answers []answer
	for i, as := range append(slices.Clone(groups), channels...) {
		in := as
		if as.Type == "channel" {
			in = groups[i%len(groups)] // a channel posts into a group
		}
		msgs := e.sendAs(in, as, "/report wa login")
		if len(msgs) != 1 || msgs[0].Plain() != asChat {
			t.Fatalf("/report as %s: replies %+v, want %q", as.Title, msgs, asChat)
		}
		want := keyboard{{{"🙋 I'm affected: WhatsApp", "\faff|whatsapp"}}}
		if diff := cmp.Diff(want, keyboardOf(t, msgs[0])); diff != "" {
			t.Errorf("/report as %s: keyboard (-want +got):\n%s", as.Title, diff)
		}
		answers = append(answers, answer{in, msgs[0].ID})
	}
	if got := e.reports.reports(); got != nil {
		t.Fatalf("reports on behalf of chats counted: %+v", got)
	}
	for i, a := range answers {
		got := outcome(e.press(a.chat, alice(), a.id, "\faff|whatsapp").Param("text"))
		if want := map[bool]string{true: "counted", false: "already"}[i == 0]; got != want {
			t.Errorf("press %d: %q, want %q", i+1, got, want)
		}
	}
	if diff := cmp.Diff([]countedReport{{"whatsapp", "", alice().ID}}, e.reports.reports()); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

func TestReportWithoutSender(t *testing.T) {
	e := newEnv(t)
	before := len(e.srv.Messages())
	e.srv.PushUpdate(map[string]any{"message": map[string]any{
		"message_id": 501,
		"date":       testNow().Unix(),
		"chat":       group(),
		"text":       "/report wa",
	}})
	e.deliver()
	if msgs := e.srv.Messages()[before:]; len(msgs) != 0 {
		t.Errorf("replies %+v, want none", msgs)
	}
	if got := e.reports.reports(); got != nil {
		t.Errorf("reports %+v, want none", got)
	}
}

func TestReportKeyboard(t *testing.T) {
	e := newEnv(t)
	msgs := e.say(group(), alice(), "/report")
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	if got, want := msgs[0].Plain(), "🙋 Which service is giving you trouble? Tap it to report it. "+
		"To say what fails, send e.g. /report whatsapp login."; got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
	want := keyboard{
		{{"🙋 I'm affected: WhatsApp", "\faff|whatsapp"}},
		{{"🙋 I'm affected: Instagram", "\faff|instagram"}},
		{{"🙋 I'm affected: Threads", "\faff|threads"}},
		{{"🙋 I'm affected: <b>&", "\faff|evil"}},
	}
	if diff := cmp.Diff(want, keyboardOf(t, msgs[0])); diff != "" {
		t.Fatalf("keyboard (-want +got):\n%s", diff)
	}

	for _, step := range []struct {
		from   bottest.User
		data   string
		answer string
	}{
		{alice(), "\faff|whatsapp", "Thanks — counted. 1 person reported WhatsApp problems in the last 15 min (usually 0)."},
		{alice(), "\faff|whatsapp", "You already reported WhatsApp in the last 30 min."},
		{bob(), "\faff|whatsapp", "Thanks — counted. 2 people reported WhatsApp problems in the last 15 min (usually 0)."},
		{bob(), "\faff|evil", "Thanks — counted. 1 person reported <b>& problems in the last 15 min (usually 0)."},
	} {
		answer := e.press(group(), step.from, msgs[0].ID, step.data)
		if got := answer.Param("text"); got != step.answer {
			t.Errorf("%s presses %q: answer %q, want %q", step.from.FirstName, step.data, got, step.answer)
		}
		if got := answer.Param("show_alert"); got == "true" {
			t.Errorf("%s presses %q: shown as an alert", step.from.FirstName, step.data)
		}
	}
	want2 := []countedReport{{"whatsapp", "", 42}, {"whatsapp", "", 43}, {"evil", "", 43}}
	if diff := cmp.Diff(want2, e.reports.reports()); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
	if n := len(e.srv.Messages()); n != 1 {
		t.Errorf("%d messages sent, want 1: presses are answered, not replied to", n)
	}
}

func TestAffectedButton(t *testing.T) {
	text := testLocales(t).For("en")
	b, ok := handlers.AffectedButton(text, "whatsapp")
	if want := (tele.InlineButton{Text: "🙋 I'm affected: WhatsApp", Data: "\faff|whatsapp"}); !ok || b != want {
		t.Errorf("AffectedButton(whatsapp) = %+v, %v; want %+v, true", b, ok, want)
	}
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{strings.Repeat("x", 59), true}, // 64 bytes of data
		{strings.Repeat("x", 60), false},
	} {
		if _, ok := handlers.AffectedButton(text, tc.id); ok != tc.ok {
			t.Errorf("AffectedButton(%d-byte id) ok = %v, want %v", len(tc.id), ok, tc.ok)
		}
	}

	// The button under a message the handlers never sent, such as an alert,
	// is answered like theirs.
	e := newEnv(t)
	answer := e.press(aliceChat(), alice(), 777, b.Data)
	if got := answer.Param("text"); !strings.HasPrefix(got, "Thanks — counted.") {
		t.Errorf("answer %q, want thanks", got)
	}
	if diff := cmp.Diff([]countedReport{{"whatsapp", "", 42}}, e.reports.reports()); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

// keyboardOf is the inline keyboard under m, nil for none.
func keyboardOf(t *testing.T, m bottest.Message) keyboard {
	t.Helper()
	if len(m.ReplyMarkup) == 0 {
		return nil
	}
	return parseKeyboard(t, string(m.ReplyMarkup))
}

func TestAffectedButtonUnderStatus(t *testing.T) {
	for _, tc := range []struct {
		text string
		want keyboard
	}{
		// WhatsApp is down and <b>& degraded; Instagram works and Threads
		// was never checked.
		{"/status", keyboard{
			{{"🙋 I'm affected: WhatsApp", "\faff|whatsapp"}},
			{{"🙋 I'm affected: <b>&", "\faff|evil"}},
		}},
		{"/status ig", keyboard{{{"🙋 I'm affected: Instagram", "\faff|instagram"}}}},
		{"/status wa threads", keyboard{
			{{"🙋 I'm affected: WhatsApp", "\faff|whatsapp"}},
			{{"🙋 I'm affected: Threads", "\faff|threads"}},
		}},
		{"/status whatsup", nil},
	} {
		t.Run(tc.text, func(t *testing.T) {
			e := newEnv(t)
			msgs := e.say(group(), bob(), tc.text)
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			if diff := cmp.Diff(tc.want, keyboardOf(t, msgs[0])); diff != "" {
				t.Errorf("keyboard (-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		states map[string]checks.State
		want   keyboard
	}{
		{"nothing in trouble", map[string]checks.State{"whatsapp": checks.Operational, "instagram": checks.Unknown}, nil},
		{"suspected and recovering are trouble", map[string]checks.State{
			"whatsapp": checks.Recovering, "instagram": checks.Operational, "threads": checks.Suspected,
		}, keyboard{
			{{"🙋 I'm affected: WhatsApp", "\faff|whatsapp"}},
			{{"🙋 I'm affected: Threads", "\faff|threads"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWith(t, statusesFunc(func() (map[string]checks.Status, error) {
				st := make(map[string]checks.Status)
				for id, s := range tc.states {
					st[id] = checks.Status{Service: id, State: s}
				}
				return st, nil
			}))
			msgs := e.say(group(), bob(), "/status")
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			if diff := cmp.Diff(tc.want, keyboardOf(t, msgs[0])); diff != "" {
				t.Errorf("keyboard (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTamperedAffectedButton(t *testing.T) {
	for _, data := range []string{
		"\faff",
		"\faff|",
		"\faff|wa",
		"\faff|WhatsApp",
		"\faff|nosuch",
		"\faff|whatsapp|login",
	} {
		t.Run(data, func(t *testing.T) {
			e := newEnv(t)
			answer := e.press(aliceChat(), alice(), 777, data)
			if got, want := answer.Param("text"), "This button is out of date. Send /subscribe for a fresh list."; got != want {
				t.Errorf("answer %q, want %q", got, want)
			}
			if got := e.reports.reports(); got != nil {
				t.Errorf("reports %+v, want none", got)
			}
		})
	}
}

func TestReportStoreFailure(t *testing.T) {
	const secret = "bolt: write /var/lib/outagebot.db: <no space> & more"
	apology := "Something went wrong, please try again."
	t.Run("command", func(t *testing.T) {
		e := newEnv(t)
		e.reports.err = errors.New(secret)
		if got := e.reply(aliceChat(), alice(), "/report wa"); got != apology {
			t.Errorf("reply = %q, want %q", got, apology)
		}
		if !strings.Contains(e.log.String(), "no space") {
			t.Errorf("error not logged:\n%s", e.log)
		}
	})
	t.Run("button", func(t *testing.T) {
		e := newEnv(t)
		e.reports.err = errors.New(secret)
		answer := e.press(aliceChat(), alice(), 777, "\faff|whatsapp")
		if got := answer.Param("text"); got != apology {
			t.Errorf("answer %q, want %q", got, apology)
		}
		if got := answer.Param("show_alert"); got != "true" {
			t.Errorf("show_alert = %q, want true", got)
		}
		if !strings.Contains(e.log.String(), "no space") {
			t.Errorf("error not logged:\n%s", e.log)
		}
	})
}
