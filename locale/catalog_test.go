package locale

import (
	"io/fs"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"go.yaml.in/yaml/v3"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale/localetest"
)

// promised are the languages the bot promises to speak, as Tags lists them.
func promised() []string {
	return []string{"en", "ar", "de", "es", "fa", "fr", "hi", "id", "it", "pt-BR", "ru", "tr"}
}

// placeholderRx matches a {placeholder} left in a text.
var placeholderRx = regexp.MustCompile(`\{[a-z]+\}`)

// isolates are the characters that wrap values in right-to-left texts.
const isolates = fsi + pdi

// parseCatalogs reads every catalog file with go-i18n alone, independently
// of New, keyed by file name.
func parseCatalogs(t *testing.T) map[string]map[string]*i18n.Message {
	t.Helper()
	paths, err := fs.Glob(catalogs, "catalog/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]map[string]*i18n.Message)
	for _, path := range paths {
		buf, err := fs.ReadFile(catalogs, path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := i18n.ParseMessageFileBytes(buf, path, map[string]i18n.UnmarshalFunc{"yaml": yaml.Unmarshal})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		msgs := make(map[string]*i18n.Message)
		for _, m := range f.Messages {
			msgs[m.ID] = m
		}
		out[strings.TrimSuffix(strings.TrimPrefix(path, "catalog/"), ".yaml")] = msgs
	}
	return out
}

func TestEveryLanguageHasEveryMessage(t *testing.T) {
	files := parseCatalogs(t)
	if diff := cmp.Diff(slices.Sorted(slices.Values(promised())), slices.Sorted(maps.Keys(files))); diff != "" {
		t.Fatalf("catalog files (-want +got):\n%s", diff)
	}
	want := slices.Sorted(maps.Keys(files["en"]))
	for lang, msgs := range files {
		t.Run(lang, func(t *testing.T) {
			if diff := cmp.Diff(want, slices.Sorted(maps.Keys(msgs))); diff != "" {
				t.Errorf("message ids differ from English (-en +%s):\n%s", lang, diff)
			}
		})
	}
}

// placeholders returns the set of {placeholders} in texts.
func placeholders(texts ...string) []string {
	set := map[string]bool{}
	for _, s := range texts {
		for _, p := range placeholderRx.FindAllString(s, -1) {
			set[p] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// forms returns the texts of a message, one per plural form it has.
func forms(m *i18n.Message) []string {
	var out []string
	for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func TestTranslationsKeepPlaceholders(t *testing.T) {
	files := parseCatalogs(t)
	en := files["en"]
	for lang, msgs := range files {
		t.Run(lang, func(t *testing.T) {
			for id, m := range msgs {
				ref, ok := en[id]
				if !ok {
					continue // TestEveryLanguageHasEveryMessage reports it
				}
				want := placeholders(forms(ref)...)
				// A plural form may leave out the count ("ساعة واحدة"),
				// but together the forms must say everything English says,
				// and no form may invent a placeholder.
				if got := placeholders(forms(m)...); !slices.Equal(got, want) {
					t.Errorf("%s: placeholders %v, English has %v", id, got, want)
				}
				for _, f := range forms(m) {
					for _, p := range placeholders(f) {
						if !slices.Contains(want, p) {
							t.Errorf("%s: form %q has %s, which English does not have", id, f, p)
						}
					}
				}
			}
		})
	}
}

func TestPluralFormsAreComplete(t *testing.T) {
	l := testLocalesUTC(t)
	counts := []int{1_000_000, 2_000_000, 1_234_567}
	// CLDR integer rules look at n mod 10, mod 100 and mod 1,000,000.
	for n := range 201 {
		counts = append(counts, n)
	}
	for _, tag := range l.Tags() {
		t.Run(tag, func(t *testing.T) {
			v := reflect.ValueOf(l.For(tag).t)
			for i := range v.NumField() {
				p, ok := v.Field(i).Interface().(plural)
				if !ok {
					continue
				}
				for _, n := range counts {
					// go-i18n reports the form a count needs and the
					// catalog lacks, after falling back to "other".
					if _, err := p.l.Localize(&i18n.LocalizeConfig{
						MessageID: p.id, PluralCount: n, TemplateParser: template.IdentityParser{},
					}); err != nil {
						t.Errorf("%s for %d: %v", p.id, n, err)
						break
					}
				}
			}
		})
	}
}

// rendering is the output of one Printer method.
type rendering struct {
	name string
	text string
	html bool // a message text; otherwise plain (a label or a callback answer)
}

// renderAll calls every method of p with sample data: escaped names, every
// state and class, incidents open, resolved and Meta-wide.
func renderAll(p *Printer) []rendering {
	now := testNow()
	evidence := []checks.Result{
		{Probe: "web", Class: checks.ClassHTTP5xx, Detail: "HTTP 503"},
		{Probe: "dns<", Class: checks.ClassDNSServFail},
	}
	reports := checks.ReportSignal{Count: 21, Baseline: 2.6, Spike: true, Top: "login", TopShare: 0.764,
		Window: checks.Duration(15 * time.Minute)}
	statuses := map[string]checks.Status{
		"whatsapp":  {State: checks.Down, Since: ago(14 * time.Minute), LastCheck: ago(10 * time.Second), Evidence: evidence, Official: "Major outage", Reports: reports},
		"instagram": {State: checks.Operational, Since: ago(27 * time.Hour), LastCheck: ago(10 * time.Second)},
		"evil":      {State: checks.Unknown, Since: ago(2*time.Hour + 14*time.Minute)},
	}
	out := []rendering{
		{"Welcome", p.Welcome(), true},
		{"GroupWelcome", p.GroupWelcome(), true},
		{"Help", p.Help(), true},
		{"NotAdmin", p.NotAdmin(), true},
		{"NotAdminAlert", p.NotAdminAlert(), false},
		{"Apology", p.Apology(), true},
		{"ApologyAlert", p.ApologyAlert(), false},
		{"Subscribed one", p.Subscribed(Change{Done: []string{"whatsapp"}, Already: []string{"evil"}, Unknown: []string{"whatsap", "<x>"}}), true},
		{"Subscribed two", p.Subscribed(Change{Done: []string{"whatsapp", "evil"}, Already: []string{"whatsapp", "instagram"}}), true},
		{"Subscribed three", p.Subscribed(Change{Done: []string{"whatsapp", "instagram", "evil"}}), true},
		{"Unsubscribed one", p.Unsubscribed(Change{Done: []string{"instagram"}, Already: []string{"whatsapp"}}), true},
		{"Unsubscribed three", p.Unsubscribed(Change{Done: []string{"whatsapp", "instagram", "evil"}, Already: []string{"whatsapp", "instagram", "evil"}}), true},
		{"List", p.List([]string{"whatsapp", "evil"}), true},
		{"ListEmpty", p.List(nil), true},
		{"Choose", p.Choose(), true},
		{"ButtonOn", p.Button("evil", true), false},
		{"ButtonOff", p.Button("whatsapp", false), false},
		{"NowFollowed", p.Toggled("evil", true), false},
		{"Unfollowed", p.Toggled("whatsapp", false), false},
		{"ButtonStale", p.ButtonStale(), false},
		{"LangChoose", p.LangChoose(), true},
		{"LangButton", p.LangButton(false), false},
		{"LangButton current", p.LangButton(true), false},
		{"LangSet", p.LangSet(), false},
		{"LangNotAdmin", p.LangNotAdmin(), true},
		{"LangNotAdminAlert", p.LangNotAdminAlert(), false},
		{"LanguageName", p.LanguageName(), false},
		{"ReportChoose", p.ReportChoose(), true},
		{"ReportUnknownService", p.ReportUnknownService("whatsap"), true},
		{"ReportUnknownKind", p.ReportUnknownKind("whatsapp", "<crash>"), true},
		{"ReportCounted", p.ReportCounted("evil", reports, 15*time.Minute), true},
		{"ReportCounted one", p.ReportCounted("whatsapp", checks.ReportSignal{Count: 1}, time.Hour), true},
		{"ReportCountedAlert", p.ReportCountedAlert("evil", reports, 15*time.Minute), false},
		{"ReportAlready", p.ReportAlready("evil", 30*time.Minute), true},
		{"ReportAlreadyAlert", p.ReportAlreadyAlert("whatsapp", 2*time.Hour), false},
		{"ReportGroupFull", p.ReportGroupFull("evil", 15*time.Minute), true},
		{"ReportGroupFullAlert", p.ReportGroupFullAlert("whatsapp", 2*time.Hour), false},
		{"ReportAsChat", p.ReportAsChat("evil"), true},
		{"Throttled", p.Throttled(), true},
		{"ThrottledAlert", p.ThrottledAlert(), false},
		{"AffectedButton", p.AffectedButton("evil"), false},
		{"Services", p.Services(statuses), true},
		{"StatusAll", p.StatusAll(statuses, now), true},
		{"Status", p.Status([]string{"whatsapp", "instagram", "evil", "threads"}, []string{"thread"}, statuses, now), true},
		{"Notification resolved", p.Notification([]checks.Incident{
			{Service: "whatsapp", State: checks.Operational, Worst: checks.Down, Start: ago(28 * time.Hour), End: ago(time.Hour)},
			{Service: "evil", State: checks.Operational, Worst: checks.Degraded, Start: ago(3 * time.Minute), End: ago(time.Minute)},
		}, now), true},
		{"BackAfter", p.BackAfter(checks.Incident{Service: "evil", Start: ago(2*time.Hour + 14*time.Minute), End: now}), true},
		{"SettingsMenu defaults", p.SettingsMenu(Settings{}), true},
		{"SettingsMenu forum", p.SettingsMenu(Settings{OnlyDown: true, NoRecoveries: true, QuietFrom: "22:00", QuietTo: "07:00", TimeZone: "Asia/Kolkata", Forum: true}), true},
		{"SettingsMenu topic", p.SettingsMenu(Settings{Forum: true, TopicID: 7, TimeZone: "<Mars>"}), true},
		{"SettingsSaved", p.SettingsSaved(), false},
		{"SettingsNotAdmin", p.SettingsNotAdmin(), true},
		{"SettingsNotAdminAlert", p.SettingsNotAdminAlert(), false},
		{"QuietButton", p.QuietButton("22:00", "07:30", true), false},
		{"ZoneSet", p.ZoneSet("America/Argentina/Buenos_Aires"), true},
		{"ZoneUnknown", p.ZoneUnknown("<Mars & Venus>"), true},
		{"ZoneNearest", p.ZoneNearest("europe/rome", "Europe/Rome"), true},
		{"Here", p.Here(false), true},
		{"Here General", p.Here(true), true},
		{"HereNoTopics", p.HereNoTopics(), true},
		{"StartLinks", p.StartLinks("https://t.me/outage_bot?start=sub_evil", "https://t.me/outage_bot?startgroup=start", "evil"), true},
		{"ChannelStatus", p.ChannelStatus(map[string]checks.Status{
			"whatsapp":  {State: checks.Recovering, Announced: checks.Down, BadSince: ago(14 * time.Minute)},
			"instagram": {State: checks.Operational, Announced: checks.Operational},
			"evil":      {State: checks.Degraded, Announced: checks.Degraded, BadSince: ago(27 * time.Hour)},
		}), true},
	}
	out = append(out, renderHistory(p)...)
	out = append(out, renderInline(p, statuses, now)...)
	for _, c := range []string{ChoiceAll, ChoiceOnlyDown, ChoiceRecoveriesOn, ChoiceRecoveriesOff, ChoiceQuietOff} {
		out = append(out, rendering{"SettingsButton " + c, p.SettingsButton(c, false), false})
	}
	for _, s := range []checks.State{checks.Down, checks.Degraded, checks.Suspected, checks.Recovering, checks.Unknown, checks.Operational} {
		out = append(out, rendering{"Notification " + string(s), p.Notification([]checks.Incident{
			{Service: "whatsapp", State: s, Worst: checks.Down, Start: ago(17 * time.Hour), Group: 7, Evidence: evidence, Official: "Major outage", Reports: reports},
			{Service: "evil", State: s, Worst: checks.Down, Start: ago(45 * time.Second), Group: 7},
		}, now), true})
	}
	var classes []checks.Result
	for c := range p.t.Classes {
		classes = append(classes, checks.Result{Probe: "p", Class: checks.Class(c)})
	}
	out = append(out, rendering{"Notification classes", p.Notification([]checks.Incident{
		{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(time.Minute), Evidence: classes},
	}, now), true})
	out = append(out, rendering{"FeedTitle", p.FeedTitle(), false})
	for _, e := range []struct {
		name string
		incs []checks.Incident
	}{
		{"open", []checks.Incident{{Service: "evil", State: checks.Degraded, Worst: checks.Degraded, Start: ago(time.Hour), Evidence: evidence, Official: "Major outage", Reports: reports}}},
		{"Meta-wide", []checks.Incident{
			{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(time.Hour), Group: 7, Evidence: evidence},
			{Service: "evil", State: checks.Operational, Worst: checks.Down, Start: ago(time.Hour), End: ago(time.Minute), Group: 7},
			{Service: "instagram", State: checks.Degraded, Worst: checks.Degraded, Start: ago(time.Minute), Group: 7},
		}},
		{"back one", []checks.Incident{{Service: "evil", State: checks.Operational, Worst: checks.Degraded, Start: ago(time.Hour), End: ago(time.Minute)}}},
		{"back three", []checks.Incident{
			{Service: "whatsapp", State: checks.Operational, Worst: checks.Down, Start: ago(time.Hour), End: ago(time.Minute), Group: 7},
			{Service: "evil", State: checks.Operational, Worst: checks.Down, Start: ago(time.Hour), End: ago(time.Minute), Group: 7},
			{Service: "instagram", State: checks.Operational, Worst: checks.Degraded, Start: ago(time.Minute), End: now, Group: 7},
		}},
	} {
		title, content := p.FeedEntry(e.incs)
		out = append(out, rendering{"FeedEntry title " + e.name, title, false}, rendering{"FeedEntry " + e.name, content, true})
	}
	for _, c := range []string{"start", "status", "history", "report", "services", "subscribe", "unsubscribe", "list", "lang", "settings", "help"} {
		out = append(out, rendering{"Command " + c, p.CommandDescription(c), false})
	}
	return out
}

func TestEveryTextRendersInEveryLanguage(t *testing.T) {
	l := testLocalesUTC(t)
	if diff := cmp.Diff(promised(), l.Tags()); diff != "" {
		t.Fatalf("Tags (-want +got):\n%s", diff)
	}
	for _, tag := range l.Tags() {
		t.Run(tag, func(t *testing.T) {
			p := l.For(tag)
			if p.Tag() != tag {
				t.Fatalf("For(%q) speaks %s", tag, p.Tag())
			}
			for _, r := range renderAll(p) {
				if strings.TrimSpace(r.text) == "" {
					t.Errorf("%s: empty", r.name)
					continue
				}
				if left := placeholderRx.FindString(r.text); left != "" {
					t.Errorf("%s: %s left unfilled in %q", r.name, left, r.text)
				}
				if !r.html {
					continue
				}
				if err := localetest.CheckHTML(r.text); err != nil {
					t.Errorf("%s: %v in %q", r.name, err, r.text)
				}
				if n := utf16Len(r.text); n > MaxMessage {
					t.Errorf("%s: %d UTF-16 units, more than a message holds", r.name, n)
				}
			}
		})
	}
}

func TestShortTextsFitTelegram(t *testing.T) {
	l := testLocalesUTC(t)
	for _, tag := range l.Tags() {
		t.Run(tag, func(t *testing.T) {
			p := l.For(tag)
			for _, r := range renderAll(p) {
				n := utf8.RuneCountInString(r.text)
				switch {
				case strings.HasPrefix(r.name, "Command "):
					// setMyCommands takes 3 to 256 characters.
					if n < 3 || n > 256 {
						t.Errorf("%s: %d characters: %q", r.name, n, r.text)
					}
				case !r.html && n > 200:
					// Callback answers hold at most 200 characters.
					t.Errorf("%s: %d characters, too long for a callback answer: %q", r.name, n, r.text)
				}
			}
		})
	}
}

func TestRightToLeftValuesAreIsolated(t *testing.T) {
	l := testLocalesUTC(t)
	incs := []checks.Incident{{Service: "whatsapp", State: checks.Down, Worst: checks.Down, Start: ago(2*time.Hour + 14*time.Minute),
		Evidence: []checks.Result{{Probe: "web", Class: checks.ClassHTTP5xx, Detail: "HTTP 503"}}}}
	for _, tc := range []struct {
		lang string
		want []string // in the notification
	}{
		{"ar", []string{"<b>\u200f" + fsi + "WhatsApp" + pdi + " متوقفة</b>", fsi + "14:02 UTC" + pdi, "ساعتين و" + fsi + "14" + pdi + " دقيقة", fsi + "web" + pdi, fsi + "HTTP 503" + pdi}},
		{"fa", []string{fsi + "WhatsApp" + pdi + " قطع است", fsi + "14:02 UTC" + pdi, fsi + "2" + pdi + " ساعت و " + fsi + "14" + pdi + " دقیقه"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			got := l.For(tc.lang).Notification(incs, testNow())
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("notification lacks %q:\n%q", w, got)
				}
			}
			// A list isolates each name, never the whole: the connective
			// between them must stay in the right-to-left flow.
			list := l.For(tc.lang).List([]string{"whatsapp", "instagram"})
			if !strings.Contains(list, "<b>"+fsi+"WhatsApp"+pdi+"</b>") || !strings.Contains(list, "<b>"+fsi+"Instagram"+pdi+"</b>") {
				t.Errorf("list does not isolate each name: %q", list)
			}
		})
	}
	for _, tag := range l.Tags() {
		if p := l.For(tag); !p.rtl {
			t.Run(tag+" has none", func(t *testing.T) {
				for _, r := range renderAll(p) {
					if strings.ContainsAny(r.text, isolates) {
						t.Errorf("%s: isolate in a left-to-right language: %q", r.name, r.text)
					}
				}
			})
		}
	}
}

func TestPluralForms(t *testing.T) {
	l := testLocalesUTC(t)
	ru, ar := l.For("ru"), l.For("ar")
	iso := func(s string) string { return fsi + s + pdi }
	for _, tc := range []struct {
		name, got, want string
	}{
		{"ru 1 day", ru.duration(24 * time.Hour), "1 день"},
		{"ru 2 days", ru.duration(2 * 24 * time.Hour), "2 дня"},
		{"ru 5 days", ru.duration(5 * 24 * time.Hour), "5 дней"},
		{"ru 21 days", ru.duration(21 * 24 * time.Hour), "21 день"},
		{"ru 1 person", ru.ReportCountedAlert("whatsapp", checks.ReportSignal{Count: 1}, time.Minute), "Спасибо, учтено. 1 человек сообщил о проблемах с WhatsApp за последние 1 мин (обычно 0)."},
		{"ru 2 people", ru.ReportCountedAlert("whatsapp", checks.ReportSignal{Count: 2}, time.Minute), "Спасибо, учтено. 2 человека сообщили о проблемах с WhatsApp за последние 1 мин (обычно 0)."},
		{"ru 5 people", ru.ReportCountedAlert("whatsapp", checks.ReportSignal{Count: 5}, time.Minute), "Спасибо, учтено. 5 человек сообщили о проблемах с WhatsApp за последние 1 мин (обычно 0)."},
		{"ru 21 people", ru.ReportCountedAlert("whatsapp", checks.ReportSignal{Count: 21}, time.Minute), "Спасибо, учтено. 21 человек сообщил о проблемах с WhatsApp за последние 1 мин (обычно 0)."},
		{"ar 1 minute", ar.duration(time.Minute), "دقيقة واحدة"},
		{"ar 2 minutes", ar.duration(2 * time.Minute), "دقيقتين"},
		{"ar 5 minutes", ar.duration(5 * time.Minute), iso("5") + " دقائق"},
		{"ar 21 minutes", ar.duration(21 * time.Minute), iso("21") + " دقيقة"},
		{"ar 1 person", ar.ReportCountedAlert("whatsapp", checks.ReportSignal{Count: 1}, 2*time.Hour), "شكرًا، تم احتساب بلاغك. أبلغ شخص واحد عن مشكلات في " + iso("WhatsApp") + " خلال آخر ساعتين (عادةً " + iso("0") + ")."},
		{"ar 2 people", ar.ReportCountedAlert("whatsapp", checks.ReportSignal{Count: 2}, 2*time.Hour), "شكرًا، تم احتساب بلاغك. أبلغ شخصان عن مشكلات في " + iso("WhatsApp") + " خلال آخر ساعتين (عادةً " + iso("0") + ")."},
		{"ar 5 people", ar.ReportCountedAlert("whatsapp", checks.ReportSignal{Count: 5}, 2*time.Hour), "شكرًا، تم احتساب بلاغك. أبلغ " + iso("5") + " أشخاص عن مشكلات في " + iso("WhatsApp") + " خلال آخر ساعتين (عادةً " + iso("0") + ")."},
		{"ar 21 people", ar.ReportCountedAlert("whatsapp", checks.ReportSignal{Count: 21}, 2*time.Hour), "شكرًا، تم احتساب بلاغك. أبلغ " + iso("21") + " شخصًا عن مشكلات في " + iso("WhatsApp") + " خلال آخر ساعتين (عادةً " + iso("0") + ")."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got  %q\nwant %q", tc.got, tc.want)
			}
		})
	}
}

func TestLocalizedDurationsAndTimes(t *testing.T) {
	l := testLocalesUTC(t)
	d := 2*time.Hour + 14*time.Minute
	for _, tc := range []struct {
		lang, duration, day, earlier string
	}{
		{"en", "2 h 14 min", "1 d 3 h", "Mar 3, 23:16 UTC"},
		{"it", "2 ore 14 min", "1 giorno 3 ore", "3/3, 23:16 UTC"},
		{"de", "2 Std. 14 Min.", "1 Tag 3 Std.", "3.3., 23:16 UTC"},
		{"ru", "2 ч 14 мин", "1 день 3 ч", "03.03, 23:16 UTC"},
		{"id", "2 jam 14 mnt", "1 hari 3 jam", "3/3 23.16 UTC"},
		{"hi", "2 घंटे 14 मिनट", "1 दिन 3 घंटे", "3/3, 23:16 UTC"},
		{"tr", "2 sa 14 dk", "1 gün 3 sa", "03.03 23:16 UTC"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			p := l.For(tc.lang)
			if got := p.duration(d); got != tc.duration {
				t.Errorf("duration(%v) = %q, want %q", d, got, tc.duration)
			}
			if got := p.duration(27 * time.Hour); got != tc.day {
				t.Errorf("duration(27h) = %q, want %q", got, tc.day)
			}
			if got := p.clock(ago(17*time.Hour), testNow()); got != tc.earlier {
				t.Errorf("clock of yesterday = %q, want %q", got, tc.earlier)
			}
		})
	}
}

func TestFor(t *testing.T) {
	l := testLocalesUTC(t)
	for _, tc := range []struct{ in, want string }{
		{"en", "en"},
		{"it", "it"},
		{"pt-br", "pt-BR"},
		{"pt-BR", "pt-BR"},
		{"pt", "pt-BR"},
		{"ar-EG", "ar"},
		{"fa-IR", "fa"},
		{"es-419", "es"},
		{"en-GB", "en"},
		{"de-CH", "de"},
		{"zh-hans", "en"},
		{"", "en"},
		{"not a tag", "en"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := l.For(tc.in).Tag(); got != tc.want {
				t.Errorf("For(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
	if got := l.For("pt-BR").Code(); got != "pt" {
		t.Errorf("Code of pt-BR = %q, want the ISO 639-1 code pt", got)
	}
}

func TestLangButton(t *testing.T) {
	p := testLocalesUTC(t).For("it")
	if got, want := p.LangButton(false), "Italiano"; got != want {
		t.Errorf("LangButton(false) = %q, want %q", got, want)
	}
	if got, want := p.LangButton(true), "✅ Italiano"; got != want {
		t.Errorf("LangButton(true) = %q, want %q", got, want)
	}
}

func TestLocalesRenderInTheirLanguage(t *testing.T) {
	l := testLocalesUTC(t)
	inc := checks.Incident{Service: "whatsapp", State: checks.Operational, Worst: checks.Down, Start: ago(time.Hour), End: ago(46 * time.Minute)}
	for _, tc := range []struct{ lang, notification, backAfter string }{
		{"en", "✅ <b>WhatsApp is back</b>\nwas down for 14 min, back since 15:30 UTC", "✅ <b>WhatsApp is back</b> after 14 min"},
		{"it", "✅ <b>WhatsApp funziona di nuovo</b>\nnon ha funzionato per 14 min, di nuovo attivo dalle 15:30 UTC", "✅ <b>WhatsApp funziona di nuovo</b> dopo 14 min"},
		{"xx", "✅ <b>WhatsApp is back</b>\nwas down for 14 min, back since 15:30 UTC", "✅ <b>WhatsApp is back</b> after 14 min"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			if got := l.Notification(tc.lang, []checks.Incident{inc}, testNow()); got != tc.notification {
				t.Errorf("Notification = %q, want %q", got, tc.notification)
			}
			if got := l.BackAfter(tc.lang, inc); got != tc.backAfter {
				t.Errorf("BackAfter = %q, want %q", got, tc.backAfter)
			}
		})
	}
}

func TestCatalogErrors(t *testing.T) {
	en := parseCatalogs(t)["en"]
	without := func(id string) map[string]*i18n.Message {
		m := maps.Clone(en)
		delete(m, id)
		return m
	}
	with := func(id string, msg *i18n.Message) map[string]*i18n.Message {
		m := maps.Clone(en)
		m[id] = msg
		return m
	}
	loc := i18n.NewLocalizer(i18n.NewBundle(testLocalesUTC(t).For("en").tag))
	for _, tc := range []struct {
		name string
		msgs map[string]*i18n.Message
		want string
	}{
		{"text missing", without("Welcome"), "message Welcome is missing"},
		{"plural missing", without("Subscribed"), "message Subscribed: want a plural text"},
		{"misspelt id", with("Welcom", &i18n.Message{ID: "Welcom", Other: "Hi"}), "message Welcom is no text"},
		{"plural for a text", with("Welcome", &i18n.Message{ID: "Welcome", One: "Hi", Other: "Hi all"}), "message Welcome: want one text"},
		{"empty text", with("Help", &i18n.Message{ID: "Help"}), "message Help is empty"},
		{"plural without other", with("Days", &i18n.Message{ID: "Days", One: "{n} d"}), "message Days: want a plural text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fillTexts(tc.msgs, loc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("fillTexts = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := fillTexts(en, loc); err != nil {
		t.Errorf("fillTexts(English) = %v", err)
	}
	if err := sameIDs(en, without("Help")); err == nil || !strings.Contains(err.Error(), "missing: [Help]") {
		t.Errorf("sameIDs without Help = %v, want Help missing", err)
	}
	if err := sameIDs(without("Help"), en); err == nil || !strings.Contains(err.Error(), "does not have: [Help]") {
		t.Errorf("sameIDs with an extra Help = %v, want Help extra", err)
	}
}
