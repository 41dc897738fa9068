package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a configuration error pinned to a place in the file. main exits 2
// on it.
type Error struct {
	File string // as given to Parse or Load; empty from Validate
	Line int    // 1-based; 0 when the key is not in the file (a default is at fault)
	Key  string // path of the key, e.g. services[1].probes[0].kind; empty for syntax errors
	Msg  string
}

// Error formats the error as "FILE:LINE: KEY: MSG", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinErrors orders errs as they appear in the file, those without a line
// last, and joins them; a single error is returned as itself.
func joinErrors(errs []*Error) error {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Compare(sortLine(a.Line), sortLine(b.Line))
	})
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

func sortLine(line int) int {
	if line == 0 {
		return math.MaxInt
	}
	return line
}

// yaml.v3 reports positions only inside message text, as "line N: ...",
// sometimes behind a "yaml: " prefix.
var linePrefix = regexp.MustCompile(`(?s)^(?:yaml: )?line (\d+): (.*)$`)

// decodeErrors turns what yaml.v3 returned while reading file into *Error
// values that name the offending key, using root to find it by line.
func decodeErrors(file string, root *yaml.Node, err error) error {
	msgs := []string{err.Error()}
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	}
	errs := make([]*Error, len(msgs))
	for i, m := range msgs {
		errs[i] = decodeError(file, root, m)
	}
	return joinErrors(errs)
}

func decodeError(file string, root *yaml.Node, msg string) *Error {
	e := &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	m := linePrefix.FindStringSubmatch(msg)
	if m == nil {
		return e
	}
	e.Line, _ = strconv.Atoi(m[1]) // the pattern admits digits only
	config := reflect.TypeFor[Config]()
	if f := unknownField.FindStringSubmatch(m[2]); f != nil {
		// The key's path says which key; the message need not repeat it.
		e.Key = keyAt(root, e.Line, f[1])
		e.Msg = "unknown key" + wantKeys(config, f[2])
		return e
	}
	e.Msg = YAMLMessage(m[2], config)
	e.Key = keyAt(root, e.Line, "")
	if f := cannotUnmarshal.FindStringSubmatch(m[2]); f != nil && (f[1] == "!!seq" || f[1] == "!!map") {
		// A block list or mapping starts on the line after its key, and
		// the first key on that line is inside it: the key whose value it
		// is, the outermost, is at fault.
		e.Key = cmp.Or(collectionAt(root, e.Line), e.Key)
	}
	return e
}

// collectionAt returns the path of the outermost list or mapping that
// starts on line and is the value of a key or a list item.
func collectionAt(root *yaml.Node, line int) string {
	var path string
	walk(root, "", func(p string, _, v *yaml.Node) bool {
		if v.Line == line && (v.Kind == yaml.SequenceNode || v.Kind == yaml.MappingNode) {
			path = p
			return false
		}
		return true
	})
	return path
}

// keyAt returns the path of the first mapping key on line, the one called
// name unless name is empty; failing that (for an empty name), the path of
// the first list item starting on line.
func keyAt(root *yaml.Node, line int, name string) string {
	var key, item string
	walk(root, "", func(path string, k, v *yaml.Node) bool {
		switch {
		case k != nil && k.Line == line && (name == "" || k.Value == name):
			key = path
			return false
		case k == nil && v.Line == line && item == "" && name == "" && !strings.HasPrefix(path, "["):
			// Items of a list at the top have no key: the document
			// as a whole is at fault there.
			item = path
		}
		return true
	})
	return cmp.Or(key, item)
}

// lineOf returns the line of the key at path, or of its closest ancestor
// present in the file when the key itself is not (a required key left out);
// 0 when nothing on the path is in the file.
func lineOf(root *yaml.Node, path string) int {
	line := 0
	walk(root, "", func(p string, k, v *yaml.Node) bool {
		if p == path || isAncestor(p, path) {
			line = v.Line
			if k != nil {
				line = k.Line
			}
		}
		return p != path
	})
	return line
}

// isAncestor reports whether path a leads to path b, as services[1] leads to
// services[1].probes but not to services[10].
func isAncestor(a, b string) bool {
	rest, ok := strings.CutPrefix(b, a)
	return ok && (strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "["))
}

// walk calls visit for every mapping entry (k is its key) and list item (k is
// nil) under n, in file order, with its path; visit returns false to stop.
// Aliases are not followed: their lines belong to the anchor.
func walk(n *yaml.Node, path string, visit func(path string, k, v *yaml.Node) bool) bool {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if !walk(c, path, visit) {
				return false
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if !visit(p, k, v) || !walk(v, p, visit) {
				return false
			}
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if !visit(p, nil, v) || !walk(v, p, visit) {
				return false
			}
		}
	}
	return true
}
