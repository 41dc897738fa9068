package handlers_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/outagebot/outagebot/store"
)

// maxTelegramText is the longest message text Telegram delivers, in
// characters.
const maxTelegramText = 4096

// checkNoErrors fails when a handler logged an error: the fakes never fail,
// so an error means the bot sent something Telegram refuses (bad HTML, too
// long) or could not make sense of what it was given.
func (e *env) checkNoErrors() {
	e.t.Helper()
	if strings.Contains(e.log.String(), "level=ERROR") {
		e.t.Fatalf("handlers logged an error:\n%s", e.log)
	}
}

// FuzzCommand sends any text a person can type to the bot, from a user with
// any language setting. The bot must answer at most once, in well-formed HTML
// that Telegram accepts, and subscribe the chat to nothing but catalog
// services.
func FuzzCommand(f *testing.F) {
	langs := []string{"en", "de", "pt-br", "ar", "zz", ""}
	for i, text := range []string{
		"/subscribe wa, ig",
		"/subscribe  Insta,wa\nthreads",
		"/subscribe all",
		"/subscribe whatsap <i>x</i> &amp; x<y",
		"/unsubscribe WhatsApp, threads",
		"/unsubscribe",
		"/status",
		"/status wa evil telegram",
		"/status@outage_test_bot all",
		"/report wa login",
		"/report x<y <b>",
		"/report",
		"/start sub_whatsapp",
		"/start sub_<script>",
		"/list",
		"/services",
		"/help",
		"/nonsense",
		"hello",
		"/subscribe " + strings.Repeat("x", 3000),
		"/subscribe " + strings.Repeat("a ", 2000),
		"/status " + strings.Repeat("😀,", 1300),
		"/lang",
		"/settings",
		"/settings tz Europe/Rome",
		"/settings tz ../<b>&amp;",
		"/here",
	} {
		f.Add(text, langs[i%len(langs)])
	}
	f.Fuzz(func(t *testing.T, text, lang string) {
		// A language code is an IETF tag such as pt-BR, far shorter than 35.
		if !utf8.ValidString(text) || utf8.RuneCountInString(text) > maxTelegramText || len(lang) > 35 {
			t.Skip("not a message Telegram delivers")
		}
		from := alice()
		from.LanguageCode = lang
		e := newEnv(t)
		if msgs := e.say(aliceChat(), from, text); len(msgs) > 1 {
			t.Fatalf("%q: %d answers, want at most one: %+v", text, len(msgs), msgs)
		}
		e.checkNoErrors()
		ids := testCatalog().IDs()
		for _, s := range e.subs.of(aliceChat().ID) {
			if !slices.Contains(ids, s) {
				t.Fatalf("%q subscribed the chat to %q, which is not in the catalog", text, s)
			}
		}
	})
}

// FuzzCallbackData presses a button with any data under the bot's keyboard.
// Exactly the data the keyboards write may act, and then only on the service,
// language or setting it names; everything else is answered as a stale
// button.
// Every press is answered exactly once (press checks that).
func FuzzCallbackData(f *testing.F) {
	for _, data := range []string{
		"\ftog|whatsapp",
		"\ftog|threads",
		"\ftog|WhatsApp",
		"\ftog|wa",
		"\ftog| whatsapp",
		"\ftog|whatsapp\n",
		"\ftog|whatsapp|instagram",
		"\ftog|whatsapp|off",
		"\ftog|threads|on",
		"\ftog|threads|off",
		"\ftog|whatsapp|",
		"\ftog|",
		"\ftog",
		"\faff|instagram",
		"\faff|x<y",
		"\faff|evil",
		"\flang|fr",
		"\flang|pt-BR",
		"\flang|FR",
		"\flang|xx",
		"\fset|only_down",
		"\fset|quiet_23:00-08:00",
		"\fset|quiet_23:00-08:01",
		"\fset|recoveries_off ",
		"\fnope|threads",
		"\f|whatsapp",
		"tog|whatsapp",
		"whatsapp",
		"",
	} {
		f.Add(data)
	}
	ids := testCatalog().IDs()
	f.Fuzz(func(t *testing.T, data string) {
		// Telegram holds button data to 64 bytes; a forging client may send
		// more, but not unboundedly more.
		if !utf8.ValidString(data) || len(data) > 1024 {
			t.Skip("not data Telegram delivers")
		}
		e := newEnv(t)
		e.reply(aliceChat(), alice(), "/subscribe whatsapp")
		keyboard := e.say(aliceChat(), alice(), "/subscribe")
		if len(keyboard) != 1 {
			t.Fatalf("/subscribe: %d answers, want the keyboard", len(keyboard))
		}
		want := e.subs.of(aliceChat().ID)
		if rest, ok := strings.CutPrefix(data, "\ftog|"); ok {
			id, state, hasState := strings.Cut(rest, "|")
			follows := slices.Contains(want, id)
			if slices.Contains(ids, id) && (!hasState || state == "on" || state == "off") {
				want = slices.DeleteFunc(want, func(s string) bool { return s == id })
				if state == "on" || !hasState && !follows {
					want = append(want, id)
				}
			}
		}
		wantLang := e.subs.lang(aliceChat().ID)
		if tag, ok := strings.CutPrefix(data, "\flang|"); ok && slices.Contains(testLocales(t).Tags(), tag) {
			wantLang = tag
		}
		// What each settings button does to the default settings.
		wantSettings := map[string]store.Settings{
			"\fset|only_down":         {OnlyDown: true},
			"\fset|recoveries_off":    {NoRecoveries: true},
			"\fset|quiet_22:00-07:00": {QuietFrom: "22:00", QuietTo: "07:00"},
			"\fset|quiet_23:00-08:00": {QuietFrom: "23:00", QuietTo: "08:00"},
			"\fset|quiet_00:00-06:00": {QuietFrom: "00:00", QuietTo: "06:00"},
		}[data]
		var wantReports []countedReport
		if id, ok := strings.CutPrefix(data, "\faff|"); ok && slices.Contains(ids, id) {
			wantReports = []countedReport{{Service: id, User: alice().ID}}
		}

		e.press(aliceChat(), alice(), keyboard[0].ID, data)
		e.checkNoErrors()
		sorted := cmpopts.SortSlices(func(a, b string) bool { return a < b })
		if diff := cmp.Diff(want, e.subs.of(aliceChat().ID), sorted, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("press %q: subscriptions (-want +got):\n%s", data, diff)
		}
		if diff := cmp.Diff(wantReports, e.reports.reports()); diff != "" {
			t.Errorf("press %q: reports (-want +got):\n%s", data, diff)
		}
		if got := e.subs.lang(aliceChat().ID); got != wantLang {
			t.Errorf("press %q: chat language %q, want %q", data, got, wantLang)
		}
		if got := e.prefs.of(aliceChat().ID); got != wantSettings {
			t.Errorf("press %q: settings %+v, want %+v", data, got, wantSettings)
		}
	})
}
