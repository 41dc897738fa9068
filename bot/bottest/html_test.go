package bottest

import "testing"

func TestParseHTML(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "plain", in: "WhatsApp is down", want: "WhatsApp is down"},
		{name: "nested tags", in: "<b>bold <i>both</i></b> &amp; <u>u</u>", want: "bold both & u"},
		{name: "entities", in: "&lt;tag&gt; &quot;q&quot; &#65;&#x42;&#X43;", want: `<tag> "q" ABC`},
		{name: "link with escaped query", in: `<a href="https://x.com/?a=1&amp;b=2">link</a>`, want: "link"},
		{name: "single-quoted and bare attributes", in: `<a href='tg://user?id=1'>u</a> <blockquote expandable>q</blockquote>`, want: "u q"},
		{name: "unquoted attribute", in: `<a href=https://x.com>x</a>`, want: "x"},
		{name: "spoiler span", in: `<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>`, want: "st"},
		{name: "code block", in: `<pre><code class="language-go">a := 1 &gt; 0</code></pre>`, want: "a := 1 > 0"},
		{name: "upper-case tags", in: "<B>x</B>", want: "x"},
		{name: "short end tag", in: "<b>x</>", want: "x"},
		{name: "bare greater-than", in: "a > b", want: "a > b"},
		{name: "multibyte text", in: "Привет, <b>мир</b> 🌍", want: "Привет, мир 🌍"},
		{name: "space inside end tag", in: "<b>x</b >", want: "x"},

		{name: "bare less-than", in: "1 < 2", wantErr: `Unsupported start tag "" at byte offset 2`},
		{name: "bare ampersand", in: "AT&T", wantErr: `Character "&" at byte offset 2 must be escaped as "&amp;"`},
		{name: "unknown entity", in: "&nbsp;", wantErr: `Character "&" at byte offset 0 must be escaped as "&amp;"`},
		{name: "entity without semicolon", in: "&amp x", wantErr: `Character "&" at byte offset 0 must be escaped as "&amp;"`},
		{name: "null character entity", in: "&#0;", wantErr: `Character "&" at byte offset 0 must be escaped as "&amp;"`},
		{name: "entity beyond Unicode", in: "&#x110000;", wantErr: `Character "&" at byte offset 0 must be escaped as "&amp;"`},
		{name: "ampersand in attribute", in: `<a href="?a=1&b=2">x</a>`, wantErr: `Character "&" at byte offset 13 must be escaped as "&amp;"`},
		{name: "unknown tag", in: "x <br/>", wantErr: `Unsupported start tag "br/" at byte offset 2`},
		{name: "unclosed tag", in: "<b>x", wantErr: `Can't find end tag corresponding to start tag "b"`},
		{name: "unexpected end tag", in: "x</b>", wantErr: "Unexpected end tag at byte offset 1"},
		{name: "crossed tags", in: "<b><i>x</b></i>", wantErr: `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{name: "start tag cut off", in: "x <b", wantErr: "Unclosed start tag at byte offset 2"},
		{name: "attribute quote not closed", in: `<a href="x>y</a>`, wantErr: "Unclosed start tag at byte offset 0"},
		{name: "end tag cut off", in: "<b>x</b", wantErr: "Can't find end of tag at byte offset 4"},
		{name: "empty attribute name", in: `<a ="x">y</a>`, wantErr: `Empty attribute name in the tag "a" at byte offset 0`},
		{name: "span without spoiler class", in: `<span class="x">y</span>`, wantErr: `Tag "span" must have class "tg-spoiler" at byte offset 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHTML(tt.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if got != tt.want || gotErr != tt.wantErr {
				t.Errorf("parseHTML(%q) = %q, %q; want %q, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
			}
		})
	}
}
