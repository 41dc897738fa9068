package localetest_test

import (
	"testing"

	"github.com/outagebot/outagebot/locale/localetest"
)

func TestCheckHTML(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"plain", true},
		{"<b>x</b> &lt;&amp;&gt;&quot;&#39;&#x1F;", true},
		{"<b><code>x</code></b>", true},
		{"", true},
		{"<b>x", false},
		{"<b>x</i>", false},
		{"x</b>", false},
		{"<script>", false},
		{`<b class="x">`, false},
		{"a < b", false},
		{"a > b", false},
		{"R&D", false},
		{"&nbsp;", false},
		{"<b", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if err := localetest.CheckHTML(tc.in); (err == nil) != tc.ok {
				t.Errorf("CheckHTML(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}
