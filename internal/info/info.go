// Package info parses the text that Redis's INFO command returns.
package info

import (
	"slices"
	"strings"
)

// Field is one "key:value" line of INFO, with the section it sits in
// ("server", "keyspace", … lower-cased).
type Field struct {
	Section, Key, Value string
}

// Parse splits INFO text into its fields, in order. Values share memory with
// text, so parsing allocates only the slice.
func Parse(text string) []Field {
	return AppendFields(nil, text)
}

// AppendFields appends the fields of INFO text to dst, as Parse returns
// them, growing it at most once.
func AppendFields(dst []Field, text string) []Field {
	dst = slices.Grow(dst, strings.Count(text, "\n")+1)
	section := ""
	for text != "" {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "":
		case line[0] == '#':
			section = strings.ToLower(strings.TrimSpace(line[1:]))
		default:
			if k, v, ok := strings.Cut(line, ":"); ok {
				dst = append(dst, Field{section, k, v})
			}
		}
	}
	return dst
}

// Get returns the value of key, and whether INFO had it.
func Get(fields []Field, key string) (string, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Pairs calls fn for each "k=v" pair of a value such as
// "keys=2,expires=1,avg_ttl=99490" or "ip=10.0.0.2,port=6379,state=online".
func Pairs(value string, fn func(k, v string)) {
	for value != "" {
		var pair string
		pair, value, _ = strings.Cut(value, ",")
		if k, v, ok := strings.Cut(pair, "="); ok {
			fn(k, v)
		}
	}
}
