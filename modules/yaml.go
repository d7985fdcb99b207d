package modules

import (
	"fmt"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// typeError reports a bad value at a node. yaml.v3 collects TypeErrors and
// goes on decoding, so one load reports every bad value it finds.
func typeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}

// UnmarshalYAML parses a Go duration such as "5s" or "1m30s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return typeError(n, "invalid duration %q: want a positive duration such as 5s", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as Go does, "5s".
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Interval is a duration that may be zero, which turns off what it times:
// "1m", "0s".
type Interval time.Duration

// UnmarshalYAML reads "1m" or "0s" (a negative or bare number is refused).
func (d *Interval) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 || s == "0" {
		return typeError(n, "invalid duration %q: want 0s or a positive duration such as 1m", s)
	}
	*d = Interval(v)
	return nil
}

// MarshalYAML writes the interval as Go does, "1m0s".
func (d Interval) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML compiles the expression anchored at both ends, so that
// "redis_db_.*" must match a whole family name.
func (r *Regexp) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	re, err := regexp.Compile("^(?:" + s + ")$")
	if err != nil {
		return typeError(n, "invalid regex %q: %v", s, err)
	}
	*r = Regexp{Regexp: re, source: s}
	return nil
}

// MarshalYAML writes the expression as the config gave it.
func (r Regexp) MarshalYAML() (any, error) { return r.source, nil }

// MarshalYAML hides the secret; an empty one stays empty so that /config
// shows whether a password is set.
func (s Secret) MarshalYAML() (any, error) {
	if s == "" {
		return "", nil
	}
	return Masked, nil
}

// String hides the secret from fmt and loggers too.
func (s Secret) String() string { return Masked }
