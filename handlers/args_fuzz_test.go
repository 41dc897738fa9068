package handlers

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/config"
)

// maxFuzzText bounds a fuzzed message: Telegram delivers at most 4096
// characters, which take at most 16 KiB of UTF-8.
const maxFuzzText = 16 << 10

// isArgSeparator says what args splits on.
func isArgSeparator(r rune) bool { return r == ',' || unicode.IsSpace(r) }

// FuzzArgs splits any text the way commands do and resolves the names it
// finds against the embedded catalog.
func FuzzArgs(f *testing.F) {
	for _, text := range []string{
		"/subscribe wa, ig",
		"/subscribe wa ig",
		"/subscribe  Insta,wa\nthreads",
		"/subscribe",
		"/unsubscribe all",
		"/status@outage_test_bot whatsapp",
		"/report wa login",
		"/start sub_whatsapp",
		"/subscribe ,,, \t\n",
		"/subscribe\u00a0wa\u2003ig\u3000threads",
		"/subscribe ALL, wa WA Whatsapp whatsap",
		"/subscribe <b>x</b> & x<y",
		"/subscribe \xff\xfe,\xc3",
	} {
		f.Add(text)
	}
	cat := checks.NewCatalog(config.Default().Services)
	h := &handler{Config: Config{Catalog: cat}}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > maxFuzzText {
			t.Skip("longer than Telegram delivers")
		}
		names := args(text)
		checkArgs(t, text, names)
		ids, unknown := h.resolve(names)
		checkResolved(t, cat, names, ids, unknown)
	})
}

// checkArgs holds names to what args promises for text: the words after the
// command, in order, whole, and nothing else.
func checkArgs(t *testing.T, text string, names []string) {
	t.Helper()
	i := strings.IndexFunc(text, unicode.IsSpace)
	if i < 0 {
		if names != nil {
			t.Fatalf("args(%q) = %q, want nil for a bare command", text, names)
		}
		return
	}
	rest := text[i:]
	for _, n := range names {
		rest = strings.TrimLeftFunc(rest, isArgSeparator)
		if n == "" || !strings.HasPrefix(rest, n) {
			t.Fatalf("args(%q) = %q: %q is not the next word of %q", text, names, n, rest)
		}
		rest = rest[len(n):]
		if r, _ := utf8.DecodeRuneInString(rest); rest != "" && !isArgSeparator(r) {
			t.Fatalf("args(%q) = %q: %q ends inside a word", text, names, n)
		}
	}
	if rest = strings.TrimLeftFunc(rest, isArgSeparator); rest != "" {
		t.Fatalf("args(%q) = %q: %q left over", text, names, rest)
	}
}

// checkResolved holds what resolve made of names to its promises: known ids
// once each, every name accounted for, unknown names once each ignoring case.
func checkResolved(t *testing.T, cat *checks.Catalog, names, ids, unknown []string) {
	t.Helper()
	all := cat.IDs()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !slices.Contains(all, id) || seen[id] {
			t.Fatalf("resolve(%q) = %q: %q is not in the catalog or repeated", names, ids, id)
		}
		seen[id] = true
	}
	given := make(map[string]bool, len(names))
	for _, n := range names {
		given[n] = true
	}
	folded := make(map[string]bool, len(unknown))
	for _, u := range unknown {
		k := strings.ToLower(u)
		if folded[k] || !given[u] {
			t.Fatalf("resolve(%q): unknown %q repeated or not given", names, u)
		}
		folded[k] = true
	}
	for _, n := range names {
		s, ok := cat.Lookup(n)
		switch {
		case strings.EqualFold(n, "all"):
			if len(ids) != len(all) {
				t.Fatalf("resolve(%q) = %q, want every id for %q", names, ids, n)
			}
		case ok:
			if !seen[s.ID] {
				t.Fatalf("resolve(%q) = %q, want %q for %q", names, ids, s.ID, n)
			}
		case !folded[strings.ToLower(n)]:
			t.Fatalf("resolve(%q): %q neither resolved nor unknown (%q)", names, n, unknown)
		}
	}
}
