// Package localetest checks rendered messages in tests: that their HTML is
// what Telegram parses the way it was meant.
package localetest

import (
	"fmt"
	"regexp"
	"strings"
)

// entityRx matches every entity Telegram accepts in HTML parse mode.
var entityRx = regexp.MustCompile(`^&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);`)

// CheckHTML returns an error unless s uses only the tags outagebot writes
// (b, i, code), balanced and without attributes, has no raw '<' or '>' in its
// text, and starts an entity Telegram knows at every '&'. Data that reached a
// message unescaped fails one of these.
func CheckHTML(s string) error {
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return fmt.Errorf("offset %d: unterminated tag", i)
			}
			tag := s[i+1 : i+end]
			name, closing := strings.CutPrefix(tag, "/")
			switch name {
			case "b", "i", "code":
			default:
				return fmt.Errorf("offset %d: unexpected tag <%s>", i, tag)
			}
			if closing {
				if len(open) == 0 || open[len(open)-1] != name {
					return fmt.Errorf("offset %d: </%s> closes nothing open (open: %v)", i, name, open)
				}
				open = open[:len(open)-1]
			} else {
				open = append(open, name)
			}
			i += end + 1
		case '>':
			return fmt.Errorf("offset %d: raw '>'", i)
		case '&':
			m := entityRx.FindString(s[i:])
			if m == "" {
				return fmt.Errorf("offset %d: raw '&' or unknown entity", i)
			}
			i += len(m)
		default:
			i++
		}
	}
	if len(open) > 0 {
		return fmt.Errorf("unclosed tags %v", open)
	}
	return nil
}
