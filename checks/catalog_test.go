package checks

import "testing"

func TestCatalogLookup(t *testing.T) {
	c := NewCatalog([]Service{
		{ID: "whatsapp", Name: "WhatsApp", Aliases: []string{"wa"}},
		{ID: "instagram", Name: "Instagram", Aliases: []string{"ig", "insta"}},
	})
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"whatsapp", "whatsapp", true},
		{" WA ", "whatsapp", true},
		{"Insta", "instagram", true},
		{"telegram", "", false},
	} {
		s, ok := c.Lookup(tc.in)
		if ok != tc.ok || s.ID != tc.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.in, s.ID, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"whatsap", "whatsapp", true},
		{"instagarm", "instagram", true},
		{"linkedin", "", false},
	} {
		got, ok := c.Nearest(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("Nearest(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
