package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// Messages of yaml.v3's decoder that speak of Go types, without their
// "line N: " prefix.
var (
	unknownField    = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	alreadySet      = regexp.MustCompile(`^field (\S+) already set in type \S+$`)
	cannotUnmarshal = regexp.MustCompile("^cannot unmarshal (!\\S*)(?: `(.*)`)? into (\\S+)$")
)

// YAMLMessage rewrites one message of yaml.v3's decoder (without its
// "line N: " prefix) in the words of the YAML file instead of Go's: people
// write keys, lists and numbers, not structs. For example
//
//	field schedul not found in type replay.traceFile
//	cannot unmarshal !!seq into checks.Thresholds
//
// become
//
//	unknown key "schedul" (want one of name, start, end, …)
//	want a mapping (key: value), got a list
//
// into is the type the document was decoded into, in which the types the
// message names are looked up. Other messages are returned as they are.
func YAMLMessage(msg string, into reflect.Type) string {
	if f := unknownField.FindStringSubmatch(msg); f != nil {
		return fmt.Sprintf("unknown key %q", f[1]) + wantKeys(into, f[2])
	}
	if f := alreadySet.FindStringSubmatch(msg); f != nil {
		return fmt.Sprintf("key %q is set more than once", f[1])
	}
	if f := cannotUnmarshal.FindStringSubmatch(msg); f != nil {
		return fmt.Sprintf("want %s, got %s", goWords(into, f[3]), yamlWords(f[1], f[2]))
	}
	return msg
}

// wantKeys is " (want one of k1, k2, …)" for the struct type that yaml.v3
// calls typeName, or "" when it is not found under into.
func wantKeys(into reflect.Type, typeName string) string {
	t := findType(into, typeName, map[reflect.Type]bool{})
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	keys := yamlKeys(t)
	if len(keys) == 0 {
		return ""
	}
	return " (want one of " + strings.Join(keys, ", ") + ")"
}

// yamlKeys are the keys of struct type t in YAML, those of its inlined
// fields in their place.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case opts == "inline" && f.Type.Kind() == reflect.Struct:
			keys = append(keys, yamlKeys(f.Type)...)
		case name != "" && name != "-":
			keys = append(keys, name)
		}
	}
	return keys
}

// findType returns the type called name (as reflect prints it) among t and
// the types t is made of, or nil.
func findType(t reflect.Type, name string, seen map[reflect.Type]bool) reflect.Type {
	if t == nil || seen[t] {
		return nil
	}
	seen[t] = true
	if t.String() == name {
		return t
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Pointer:
		return findType(t.Elem(), name, seen)
	case reflect.Map:
		if found := findType(t.Key(), name, seen); found != nil {
			return found
		}
		return findType(t.Elem(), name, seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if found := findType(t.Field(i).Type, name, seen); found != nil {
				return found
			}
		}
	}
	return nil
}

// goWords says what YAML a Go type takes.
func goWords(into reflect.Type, typeName string) string {
	kind := reflect.Invalid
	if t := findType(into, typeName, map[reflect.Type]bool{}); t != nil {
		kind = t.Kind()
	}
	switch {
	case kind == reflect.Struct || kind == reflect.Map || strings.HasPrefix(typeName, "map["):
		return "a mapping (key: value)"
	case kind == reflect.Slice || kind == reflect.Array || strings.HasPrefix(typeName, "["):
		return "a list"
	case kind >= reflect.Int && kind <= reflect.Int64:
		return "a whole number"
	case kind >= reflect.Uint && kind <= reflect.Uintptr:
		return "a whole number, 0 or more"
	case kind == reflect.Float32 || kind == reflect.Float64:
		return "a number"
	case kind == reflect.Bool:
		return "true or false"
	case kind == reflect.String:
		return "text"
	}
	return "another kind of value"
}

// yamlWords says what a YAML node of the given tag and (shortened) value is.
func yamlWords(tag, value string) string {
	switch tag {
	case "!!map":
		return "a mapping"
	case "!!seq":
		return "a list"
	case "!!null":
		return "nothing"
	case "!!str":
		return "the text " + strconv.Quote(value)
	case "!!int", "!!float":
		return "the number " + value
	case "!!bool":
		return value
	case "!!timestamp":
		return "the time " + value
	}
	if value != "" {
		return tag + " " + value
	}
	return tag
}
