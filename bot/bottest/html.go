package bottest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseHTML checks text the way Telegram's HTML parse mode does (the rules
// and error wording follow TDLib's parser) and returns it as clients show
// it: tags removed, entities decoded. Unlike Telegram it also rejects a bare
// "&", which the Bot API documentation forbids but Telegram tolerates,
// because in our messages it always means a string was not escaped.
// Error texts keep Telegram's capitalisation: clients may match on them.
func parseHTML(text string) (string, error) {
	var (
		out  strings.Builder
		open []string // tags not closed yet, innermost last
		err  error
	)
	for i := 0; i < len(text); {
		switch text[i] {
		case '&':
			r, n := decodeEntity(text[i:])
			if n == 0 {
				return "", unescapedAmpersand(i)
			}
			out.WriteRune(r)
			i += n
		case '<':
			if strings.HasPrefix(text[i:], "</") {
				open, i, err = endTag(text, i, open)
			} else {
				open, i, err = startTag(text, i, open)
			}
			if err != nil {
				return "", err
			}
		default:
			out.WriteByte(text[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("Can't find end tag corresponding to start tag %q", open[len(open)-1])
	}
	return out.String(), nil
}

// supportedTag reports whether Telegram's HTML parse mode knows the tag.
func supportedTag(name string) bool {
	switch name {
	case "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
		"a", "code", "pre", "blockquote", "span", "tg-spoiler", "tg-emoji", "tg-time":
		return true
	}
	return false
}

// startTag parses the tag starting at text[begin] == '<' and returns the
// open tags with it pushed and the index after it.
func startTag(text string, begin int, open []string) ([]string, int, error) {
	i := begin + 1
	for i < len(text) && !isSpace(text[i]) && text[i] != '>' {
		i++
	}
	if i == len(text) {
		return nil, 0, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
	}
	name := strings.ToLower(text[begin+1 : i])
	if !supportedTag(name) {
		return nil, 0, fmt.Errorf("Unsupported start tag %q at byte offset %d", name, begin)
	}
	attrs, i, err := attributes(text, i, name, begin)
	if err != nil {
		return nil, 0, err
	}
	if name == "span" && attrs["class"] != "tg-spoiler" {
		return nil, 0, fmt.Errorf(`Tag "span" must have class "tg-spoiler" at byte offset %d`, begin)
	}
	return append(open, name), i, nil
}

// attributes parses the attributes of a start tag from text[i] up to and
// including its '>', returning them and the index after the tag.
func attributes(text string, i int, tag string, begin int) (map[string]string, int, error) {
	unclosed := fmt.Errorf("Unclosed start tag at byte offset %d", begin)
	attrs := make(map[string]string)
	for {
		i = skipSpaces(text, i)
		if i == len(text) {
			return nil, 0, unclosed
		}
		if text[i] == '>' {
			return attrs, i + 1, nil
		}
		start := i
		for i < len(text) && isAttributeNameChar(text[i]) {
			i++
		}
		if start == i {
			return nil, 0, fmt.Errorf("Empty attribute name in the tag %q at byte offset %d", tag, begin)
		}
		name := strings.ToLower(text[start:i])
		i = skipSpaces(text, i)
		if i == len(text) {
			return nil, 0, unclosed
		}
		if text[i] != '=' {
			attrs[name] = "" // a bare attribute, such as blockquote's expandable
			continue
		}
		i = skipSpaces(text, i+1)
		if i == len(text) {
			return nil, 0, unclosed
		}
		var raw string
		if quote := text[i]; quote == '"' || quote == '\'' {
			end := strings.IndexByte(text[i+1:], quote)
			if end < 0 {
				return nil, 0, unclosed
			}
			start, raw = i+1, text[i+1:i+1+end]
			i += end + 2
		} else {
			start = i
			for i < len(text) && !isSpace(text[i]) && text[i] != '>' {
				i++
			}
			raw = text[start:i]
		}
		value, err := unescape(raw, start)
		if err != nil {
			return nil, 0, err
		}
		attrs[name] = value
	}
}

// endTag parses the end tag starting at text[begin:] == "</" and returns the
// open tags with the matching one popped and the index after it. Like
// Telegram it accepts "</>" for the innermost open tag.
func endTag(text string, begin int, open []string) ([]string, int, error) {
	i := begin + 2
	for i < len(text) && !isSpace(text[i]) && text[i] != '>' {
		i++
	}
	name := strings.ToLower(text[begin+2 : i])
	i = skipSpaces(text, i)
	if i == len(text) || text[i] != '>' {
		return nil, 0, fmt.Errorf("Can't find end of tag at byte offset %d", begin)
	}
	if len(open) == 0 {
		return nil, 0, fmt.Errorf("Unexpected end tag at byte offset %d", begin)
	}
	if last := open[len(open)-1]; name != "" && name != last {
		return nil, 0, fmt.Errorf(`Unmatched end tag at byte offset %d, expected "</%s>", found "</%s>"`, begin, last, name)
	}
	return open[:len(open)-1], i + 1, nil
}

// unescape decodes the entities of an attribute value starting at byte
// offset base of the message.
func unescape(s string, base int) (string, error) {
	var out strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '&' {
			out.WriteByte(s[i])
			i++
			continue
		}
		r, n := decodeEntity(s[i:])
		if n == 0 {
			return "", unescapedAmpersand(base + i)
		}
		out.WriteRune(r)
		i += n
	}
	return out.String(), nil
}

// decodeEntity decodes the entity at the start of s (s[0] == '&'): one of
// &lt; &gt; &amp; &quot; or a numeric one. n is the entity's length, 0 when
// s does not start with a supported entity.
func decodeEntity(s string) (r rune, n int) {
	end := strings.IndexByte(s, ';')
	if end < 2 {
		return 0, 0
	}
	switch name := s[1:end]; name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	default:
		digits, ok := strings.CutPrefix(name, "#")
		if !ok {
			return 0, 0
		}
		base := 10
		if hex, ok := strings.CutPrefix(strings.ToLower(digits), "x"); ok {
			digits, base = hex, 16
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil || v == 0 || !utf8.ValidRune(rune(v)) {
			return 0, 0
		}
		return rune(v), end + 1
	}
}

func unescapedAmpersand(offset int) error {
	return fmt.Errorf(`Character "&" at byte offset %d must be escaped as "&amp;"`, offset)
}

func skipSpaces(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func isAttributeNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
