package modules

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultModule is the module a probe uses when it names none.
const DefaultModule = "default"

//go:embed default.yml
var defaultYAML []byte

// Parse decodes data strictly, validates it against the catalogue and, once
// it is valid, compiles its modules. Every error names the file, the line
// and the field, on one line.
func (cat Catalogue) Parse(data []byte, file string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, locate(file, nil, err)
	}
	lines := indexLines(&root)
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, locate(file, lines, err)
	}
	c.resolvePaths(filepath.Dir(file))
	if errs := c.validate(cat); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = fmt.Sprintf("%s:%d: %s: %s", file, lines.line(e.path), e.path, e.msg)
		}
		return nil, errors.New(strings.Join(msgs, "; "))
	}
	cat.compile(c)
	return c, nil
}

type fieldError struct{ path, msg string }

func (c *Config) validate(cat Catalogue) []fieldError {
	var errs []fieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, fieldError{path, fmt.Sprintf(format, args...)})
	}
	if len(c.Modules) == 0 {
		add("modules", "at least one module is required")
	}
	for _, name := range sortedKeys(c.Auths) {
		a, p := c.Auths[name], "auths."+name
		if a == nil {
			add(p, "empty auth")
			continue
		}
		if a.Password != "" && a.PasswordFile != "" {
			add(p+".password_file", "set password or password_file, not both")
		} else if a.PasswordFile != "" {
			a.passwordFile = &watchedFile{path: a.PasswordFile}
			if _, _, err := a.passwordFile.read(); err != nil {
				add(p+".password_file", "%v", err)
			}
		}
		if (a.Username != "" || a.Password != "" || a.PasswordFile != "") && len(a.AllowedTargets) == 0 {
			c.warnings = append(c.warnings, fmt.Sprintf("%s: credentials without allowed_targets: whoever can reach /probe can send them to any host with auth=%s", p, name))
		}
		if a.TLS != nil {
			cfg, ca, err := a.TLS.load()
			if err != nil {
				add(p+".tls", "%v", err)
			}
			a.tlsConfig, a.tlsCA = cfg, ca
		}
	}
	for _, name := range sortedKeys(c.Modules) {
		m, p := c.Modules[name], "modules."+name
		if m == nil {
			m = &Module{}
			c.Modules[name] = m
		}
		if m.Timeout == 0 {
			m.Timeout = Duration(DefaultTimeout)
		}
		m.Limits.setDefaults()
		m.Retries.setDefaults()
		if m.Limits.MaxAggregateLength < 0 {
			add(p+".limits.max_aggregate_length", "must be positive")
		}
		if m.Retries.Attempts < 0 || m.Retries.Attempts > 10 {
			add(p+".retries.attempts", "must be between 1 and 10")
		}
		if m.Auth != "" && c.Auths[m.Auth] == nil {
			add(p+".auth", "unknown auth %q", m.Auth)
		}
		m.collectorOn = cat.Collectors
		for _, name := range sortedKeys(m.Collectors) {
			if _, ok := cat.Collectors[name]; !ok {
				add(p+".collectors."+name, "unknown collector %q: known are %s", name, strings.Join(cat.CollectorNames(), ", "))
			}
		}
		for i, param := range m.ConfigParameters {
			if IsSecretParameter(param) {
				add(fmt.Sprintf("%s.config_parameters[%d]", p, i), "%q is a secret and is never exported", param)
			}
		}
		if m.ClientSeries < 0 {
			add(p+".client_series", "must be 0 or more")
		}
		if m.Expect != nil {
			m.Expect.validate(p+".expect", add)
		}
		m.validateRules(p, cat.reserved, add)
	}
	return errs
}

// oneOf checks that v, at path, is unset or one of allowed.
func oneOf(add func(path, format string, args ...any), path, v string, allowed ...string) {
	if v != "" && !slices.Contains(allowed, v) {
		add(path, "unknown value %q: one of %v", v, allowed)
	}
}

// locate rewrites yaml.v3's errors ("line 5: field x not found in type …")
// into "file:5: modules.m.x: field x not found in type …", joined on one line.
func locate(file string, lines lineIndex, err error) error {
	msgs := []string{oneLine(err)}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for i, e := range msgs {
		m := lineRE.FindStringSubmatch(e)
		if m == nil {
			msgs[i] = file + ": " + e
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if p := lines.path(n); p != "" {
			msgs[i] = fmt.Sprintf("%s:%d: %s: %s", file, n, p, m[2])
		} else {
			msgs[i] = fmt.Sprintf("%s:%d: %s", file, n, m[2])
		}
	}
	return errors.New(strings.Join(msgs, "; "))
}

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "yaml: ")), " ")
}

// lineIndex maps dotted field paths ("modules.lean.timeout") to the line of
// their key in the file.
type lineIndex map[string]int

func indexLines(root *yaml.Node) lineIndex {
	idx := lineIndex{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				idx[p] = n.Content[i].Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				idx[p] = c.Line
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return idx
}

// line is the line of path, or of its nearest ancestor present in the file.
func (idx lineIndex) line(path string) int {
	for path != "" {
		if n, ok := idx[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 1
}

// path is the deepest field whose key sits on line n.
func (idx lineIndex) path(n int) string {
	best := ""
	for p, l := range idx {
		if l == n && len(p) > len(best) {
			best = p
		}
	}
	return best
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
