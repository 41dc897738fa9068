package locale

import (
	"embed"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"

	"github.com/outagebot/outagebot/checks"
)

// catalogs holds one message file per language, named by its IETF tag
// (pt-BR.yaml). English, the source every translation is made from, has
// every message; the others must have exactly the same ones.
//
//go:embed catalog/*.yaml
var catalogs embed.FS

// Locales holds every language outagebot speaks, and picks the one that
// fits a chat best. It is safe for concurrent use.
type Locales struct {
	printers []*Printer          // English first, then by tag
	exact    map[string]*Printer // by lower-case tag, the usual question
	matcher  language.Matcher    // over the tags of printers, in order
}

// New loads every embedded catalog; its Printers name services from cat and
// show times in loc (nil means UTC). It fails when a catalog does not have
// exactly the messages of the English one.
func New(cat *checks.Catalog, loc *time.Location) (*Locales, error) {
	if loc == nil {
		loc = time.UTC
	}
	bundle := i18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	paths, err := fs.Glob(catalogs, "catalog/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list catalogs: %w", err)
	}
	files := make(map[language.Tag]map[string]*i18n.Message, len(paths))
	for _, path := range paths {
		f, err := bundle.LoadMessageFileFS(catalogs, path)
		if err != nil {
			return nil, fmt.Errorf("load catalog %s: %w", path, err)
		}
		msgs := make(map[string]*i18n.Message, len(f.Messages))
		for _, m := range f.Messages {
			msgs[m.ID] = m
		}
		files[f.Tag] = msgs
	}
	// English is the reference catalog and the language shown when nothing
	// better matches.
	ref, ok := files[language.English]
	if !ok {
		return nil, fmt.Errorf("load catalogs: no English catalog")
	}
	tags := make([]language.Tag, 0, len(files))
	for tag := range files {
		if tag != language.English {
			tags = append(tags, tag)
		}
	}
	slices.SortFunc(tags, func(a, b language.Tag) int { return strings.Compare(a.String(), b.String()) })
	tags = slices.Insert(tags, 0, language.English)

	l := &Locales{exact: make(map[string]*Printer, len(tags)), matcher: language.NewMatcher(tags)}
	for _, tag := range tags {
		if err := sameIDs(ref, files[tag]); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", tag, err)
		}
		t, err := fillTexts(files[tag], i18n.NewLocalizer(bundle, tag.String()))
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", tag, err)
		}
		p := &Printer{cat: cat, loc: loc, t: t, tag: tag, rtl: rightToLeft(tag)}
		l.printers = append(l.printers, p)
		l.exact[strings.ToLower(tag.String())] = p
	}
	return l, nil
}

// sameIDs reports the messages that one catalog has and the other lacks.
func sameIDs(ref, msgs map[string]*i18n.Message) error {
	var missing, extra []string
	for id := range ref {
		if _, ok := msgs[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range msgs {
		if _, ok := ref[id]; !ok {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra) == 0 {
		return nil
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return fmt.Errorf("messages missing: %v; messages English does not have: %v", missing, extra)
}

// fillTexts builds the texts of one catalog: every field takes the message
// named after it, a map field every message named Field.key. Every message
// must fill a field, so that a misspelt id is an error and not a text that
// silently never shows.
func fillTexts(msgs map[string]*i18n.Message, loc *i18n.Localizer) (texts, error) {
	var t texts
	used := make(map[string]bool, len(msgs))
	v := reflect.ValueOf(&t).Elem()
	for i := range v.NumField() {
		name, field := v.Type().Field(i).Name, v.Field(i)
		switch field.Interface().(type) {
		case string:
			m, err := single(msgs, name)
			if err != nil {
				return t, err
			}
			field.SetString(m)
			used[name] = true
		case plural:
			m, ok := msgs[name]
			if !ok || m.Other == "" {
				return t, fmt.Errorf("message %s: want a plural text with at least the form other", name)
			}
			field.Set(reflect.ValueOf(plural{id: name, l: loc}))
			used[name] = true
		case map[string]string:
			entries := make(map[string]string)
			for id := range msgs {
				key, ok := strings.CutPrefix(id, name+".")
				if !ok {
					continue
				}
				m, err := single(msgs, id)
				if err != nil {
					return t, err
				}
				entries[key] = m
				used[id] = true
			}
			field.Set(reflect.ValueOf(entries))
		default:
			return t, fmt.Errorf("texts.%s: no catalog message fits a %s", name, field.Type())
		}
	}
	for id := range msgs {
		if !used[id] {
			return t, fmt.Errorf("message %s is no text outagebot shows", id)
		}
	}
	return t, nil
}

// single returns the one form of a message that does not depend on a count.
func single(msgs map[string]*i18n.Message, id string) (string, error) {
	m, ok := msgs[id]
	switch {
	case !ok:
		return "", fmt.Errorf("message %s is missing", id)
	case m.Zero+m.One+m.Two+m.Few+m.Many != "":
		return "", fmt.Errorf("message %s: want one text, not plural forms", id)
	case m.Other == "":
		return "", fmt.Errorf("message %s is empty", id)
	}
	return m.Other, nil
}

// rightToLeft reports whether the language is written in a right-to-left
// script.
func rightToLeft(tag language.Tag) bool {
	script, _ := tag.Script()
	switch script.String() {
	case "Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg":
		return true
	}
	return false
}

// For returns the Printer of the language that best fits lang, an IETF tag
// such as a Telegram user's language_code ("pt-br", "it", "ar-EG"), or of
// English when none does.
func (l *Locales) For(lang string) *Printer {
	if p, ok := l.exact[strings.ToLower(lang)]; ok {
		return p
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return l.printers[0]
	}
	if _, i, conf := l.matcher.Match(tag); conf != language.No {
		return l.printers[i]
	}
	return l.printers[0]
}

// Tags returns the tag of every language, English first, then in tag
// order: the choices a chat has.
func (l *Locales) Tags() []string {
	tags := make([]string, len(l.printers))
	for i, p := range l.printers {
		tags[i] = p.Tag()
	}
	return tags
}

// Notification is Printer.Notification in the language that best fits lang.
func (l *Locales) Notification(lang string, incs []checks.Incident, now time.Time) string {
	return l.For(lang).Notification(incs, now)
}

// BackAfter is Printer.BackAfter in the language that best fits lang.
func (l *Locales) BackAfter(lang string, inc checks.Incident) string {
	return l.For(lang).BackAfter(inc)
}
