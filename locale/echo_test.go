package locale

import (
	"strings"
	"testing"
	"unicode"
)

// echoes are the replies that repeat what a user typed, each rendering
// typed in p.
func echoes() map[string]func(p *Printer, typed string) string {
	return map[string]func(p *Printer, typed string) string{
		"unknown name": func(p *Printer, typed string) string {
			return p.Subscribed(Change{Unknown: []string{typed}})
		},
		"status of an unknown name": func(p *Printer, typed string) string {
			return p.Status(nil, []string{typed}, nil, testNow())
		},
		"unknown report kind": func(p *Printer, typed string) string {
			return p.ReportUnknownKind("whatsapp", typed)
		},
		"unknown history window": func(p *Printer, typed string) string {
			return p.HistoryBadWindow(typed)
		},
		"unknown zone": func(p *Printer, typed string) string { return p.ZoneUnknown(typed) },
	}
}

// TestEchoedArgumentsAreClean types names laced with bidirectional controls
// and control characters and expects, in every language, the very reply
// the clean name gets: an override cannot turn an echoed name around, an
// isolate cannot leak out of it, a newline cannot start a fake line.
func TestEchoedArgumentsAreClean(t *testing.T) {
	tests := []struct{ hostile, clean string }{
		{"\u202ewhatsapp", "whatsapp"},           // right-to-left override
		{"what\u202dsapp\u202c", "whatsapp"},     // left-to-right override, pop
		{"\u2067zone\u2069\u2069", "zone"},       // isolates, one unmatched
		{"\u200fa\u200eb\u061cc", "abc"},         // marks
		{"x\u202ay\u202bz", "xyz"},               // embeddings
		{"nul\x00bell\x07del\x7f", "nulbelldel"}, // C0 and DEL
		{"c1\u0085\u009bcsi", "c1 csi"},          // C1: next line, CSI
		{"line\nbreak\r\ttab", "line break  tab"},
		{"para\u2029line\u2028", "para line "},
		{"\ufeffbom\u206eshape", "bomshape"},
		{"ok\u200c\u200djoiners", "ok\u200c\u200djoiners"}, // kept: scripts need them
	}
	l := testLocalesUTC(t)
	for name, render := range echoes() {
		for _, tag := range l.Tags() {
			p := l.For(tag)
			for _, tc := range tests {
				got, want := render(p, tc.hostile), render(p, tc.clean)
				if got != want {
					t.Errorf("%s in %s, typed %q:\n got %q\nwant %q", name, tag, tc.hostile, got, want)
				}
			}
		}
	}
}

// FuzzClean holds clean to its promise for any text: nothing it takes out
// is left, and everything else is kept in order.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "whatsapp", "\u202e\u2066a\u2069\x00\n", "\xff\xfe", "ok\u200d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := clean(s)
		if strings.ContainsFunc(got, unwanted) {
			t.Fatalf("clean(%q) = %q still has unwanted characters", s, got)
		}
		var kept []rune
		for _, r := range s {
			if !unwanted(r) || unicode.IsSpace(r) {
				kept = append(kept, r)
			}
		}
		if n := len([]rune(got)); n != len(kept) {
			t.Fatalf("clean(%q) = %q: %d runes, want the %d that are not unwanted or are spaces", s, got, n, len(kept))
		}
	})
}
