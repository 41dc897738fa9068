package handlers

import "testing"

// TestPrimaryLanguage pins what a report keeps of its sender's language:
// the canonical primary subtag, or nothing.
func TestPrimaryLanguage(t *testing.T) {
	for code, want := range map[string]string{
		"it": "it", "pt-br": "pt", "EN-us": "en", "ar-EG": "ar", "zh-Hant": "zh", "iw": "he",
		"": "", "und": "", "xx": "", "not a language": "", "12": "",
	} {
		if got := primaryLanguage(code); got != want {
			t.Errorf("primaryLanguage(%q) = %q, want %q", code, got, want)
		}
	}
}
