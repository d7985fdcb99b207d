package modules

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// KeyRule turns business keys into a metric: which keys (a SCAN pattern, a
// key or a list of keys in one db), what to measure on each, and how to
// combine them.
type KeyRule struct {
	Metric    string            `yaml:"metric"`
	Help      string            `yaml:"help,omitempty"`
	Type      string            `yaml:"type,omitempty"` // gauge (default) | counter
	Pattern   string            `yaml:"pattern,omitempty"`
	Key       string            `yaml:"key,omitempty"`
	Keys      []string          `yaml:"keys,omitempty"`
	DB        int               `yaml:"db,omitempty"`
	Aggregate string            `yaml:"aggregate,omitempty"` // none (default) | count | sum | min | max | topk
	K         int               `yaml:"k,omitempty"`         // with aggregate topk: how many keys, 1 to MaxTopK
	KeyLabels *Pattern          `yaml:"key_labels,omitempty"`
	Measure   string            `yaml:"measure,omitempty"` // value (default) | length | ttl | memory | exists | idle | stream
	Missing   string            `yaml:"missing,omitempty"` // zero (default) | omit: see MissingZero
	Field     string            `yaml:"field,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
	MaxKeys   int               `yaml:"max_keys,omitempty"`
	ScanCount int               `yaml:"scan_count,omitempty"`
	// RefreshInterval: between refreshes the rule's last result is served
	// with its age; 0 (the default) runs the rule on every probe.
	RefreshInterval Interval `yaml:"refresh_interval,omitempty"`
	// RunOn: the role of the nodes the rule runs on, so that a fleet of
	// masters and replicas counts each key once: any (default) | master |
	// replica.
	RunOn string `yaml:"run_on,omitempty"`
}

// ScriptRule runs a read-only Lua script (EVALSHA_RO, EVAL_RO) and exports
// what it returns: a number, or a flat array of label value and number pairs.
type ScriptRule struct {
	Metric     string            `yaml:"metric"`
	Help       string            `yaml:"help,omitempty"`
	Type       string            `yaml:"type,omitempty"`
	Script     string            `yaml:"script,omitempty"`
	ScriptFile string            `yaml:"script_file,omitempty"`
	Keys       []string          `yaml:"keys,omitempty"`
	Args       []string          `yaml:"args,omitempty"`
	DB         int               `yaml:"db,omitempty"`
	Label      string            `yaml:"label,omitempty"` // the label of each pair's first element
	Labels     map[string]string `yaml:"labels,omitempty"`
	// RefreshInterval and RunOn as for key rules.
	RefreshInterval Interval `yaml:"refresh_interval,omitempty"`
	RunOn           string   `yaml:"run_on,omitempty"`

	sha string // of the script, for EVALSHA_RO
}

// SHA1 is the script's digest, which EVALSHA_RO names it by.
func (s *ScriptRule) SHA1() string { return s.sha }

// Pattern is a regular expression kept as written (not anchored).
type Pattern struct{ Regexp }

// The values of a key rule's missing. With MissingZero a listed key that
// does not exist has measure length 0 (the measures value, ttl, memory,
// idle and stream give no series for it, exists gives 0), and an aggregate
// count or sum over no key, without key_labels, is 0. With MissingOmit a
// key that does not exist gives no series and enters no aggregate, and an
// aggregate over no key gives no series. MissingOmit does not go with
// measure exists, whose 0 says that the key is missing.
const (
	MissingZero = "zero"
	MissingOmit = "omit"
)

// Defaults and bounds for key rules.
const (
	DefaultMaxKeys   = 1000
	DefaultScanCount = 1000
	MaxTopK          = 100 // the largest k of aggregate topk
)

// The measures a key rule can take, and the series names a stream rule adds
// to its metric name: per consumer group (StreamSuffix) and per stream
// (StreamInfoSuffix, from XINFO STREAM).
var (
	measures         = []string{"value", "length", "ttl", "memory", "exists", "idle", "stream"}
	aggregates       = []string{"none", "count", "sum", "min", "max", "topk"}
	StreamSuffix     = []string{"_group_lag", "_group_pending_messages", "_group_consumers"}
	StreamInfoSuffix = []string{"_entries_added", "_last_entry_age_seconds"}
	metricNameRE     = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE      = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// RuleMetrics lists the family names a key rule emits.
func (k *KeyRule) RuleMetrics() []string {
	if k.Measure != "stream" {
		return []string{k.Metric}
	}
	names := []string{k.Metric}
	for _, s := range StreamSuffix {
		names = append(names, k.Metric+s)
	}
	for _, s := range StreamInfoSuffix {
		names = append(names, k.Metric+s)
	}
	return names
}

// PerKey tells whether the rule gives a series per key, labelled key:
// aggregate none, or topk (the k keys of the largest measure).
func (k *KeyRule) PerKey() bool {
	return k.Aggregate == "none" || k.Aggregate == "topk"
}

// validateRules checks a module's key and script rules and fills in their
// defaults. reserved tells the names the exporter emits itself; add reports
// an error at a field path.
func (m *Module) validateRules(p string, reserved func(string) bool, add func(path, format string, args ...any)) {
	taken := map[string]string{} // metric name -> the rule path that has it
	claim := func(rp string, names ...string) {
		for _, n := range names {
			switch {
			case !metricNameRE.MatchString(n):
				add(rp+".metric", "%q is not a valid metric name", n)
			case reserved(n):
				add(rp+".metric", "%q is a metric the exporter already exports", n)
			case taken[n] != "":
				add(rp+".metric", "%q is also the metric of %s", n, taken[n])
			default:
				taken[n] = rp
			}
		}
	}
	for i := range m.Keys {
		k, rp := &m.Keys[i], fmt.Sprintf("%s.keys[%d]", p, i)
		k.validate(rp, add)
		validateRunOn(&k.RunOn, rp, add)
		claim(rp, append(k.RuleMetrics(), counterNames(k.Metric, k.Type)...)...)
	}
	for i := range m.Scripts {
		s, rp := &m.Scripts[i], fmt.Sprintf("%s.scripts[%d]", p, i)
		s.validate(rp, add)
		validateRunOn(&s.RunOn, rp, add)
		claim(rp, append([]string{s.Metric}, counterNames(s.Metric, s.Type)...)...)
	}
}

// validateRunOn defaults a rule's run_on to any and checks its value.
func validateRunOn(runOn *string, rp string, add func(path, format string, args ...any)) {
	defaults(runOn, "any")
	oneOf(add, rp+".run_on", *runOn, "any", "master", "replica")
}

// counterNames are the other names a counter's family has in OpenMetrics,
// where a counter x_total is family x with samples x_total and x_created:
// a rule may take none of them from the exporter's families or another
// rule's.
func counterNames(name, typ string) []string {
	if typ != "counter" {
		return nil
	}
	if base, ok := strings.CutSuffix(name, "_total"); ok {
		return []string{base, base + "_created"}
	}
	return []string{name + "_total", name + "_created"}
}

func (k *KeyRule) validate(rp string, add func(path, format string, args ...any)) {
	set := 0
	for _, b := range []bool{k.Pattern != "", k.Key != "", len(k.Keys) > 0} {
		if b {
			set++
		}
	}
	if set != 1 {
		add(rp, "set exactly one of pattern, key and keys")
	}
	if k.Pattern != "" {
		if _, err := path.Match(k.Pattern, ""); err != nil {
			add(rp+".pattern", "invalid glob %q: %v", k.Pattern, err)
		}
	}
	if k.Key != "" {
		k.Keys, k.Key = []string{k.Key}, ""
	}
	defaults(&k.Type, "gauge")
	defaults(&k.Aggregate, "none")
	defaults(&k.Measure, "value")
	defaults(&k.Missing, MissingZero)
	if k.Type != "gauge" && k.Type != "counter" {
		add(rp+".type", "unknown type %q: gauge or counter", k.Type)
	}
	if !slices.Contains(aggregates, k.Aggregate) {
		add(rp+".aggregate", "unknown aggregate %q: one of %v", k.Aggregate, aggregates)
	}
	if !slices.Contains(measures, k.Measure) {
		add(rp+".measure", "unknown measure %q: one of %v", k.Measure, measures)
	}
	oneOf(add, rp+".missing", k.Missing, MissingZero, MissingOmit)
	if k.Missing == MissingOmit && k.Measure == "exists" {
		add(rp+".missing", "measure exists gives 0 for a missing key: missing must be zero (for no series when no key exists, take aggregate count)")
	}
	if k.Field != "" && k.Measure != "value" {
		add(rp+".field", "field goes with measure value")
	}
	if k.Measure == "stream" && k.Aggregate != "none" {
		add(rp+".aggregate", "a stream rule gives one series per key and group: aggregate must be none")
	}
	if k.Type == "counter" && (k.Aggregate == "min" || k.Aggregate == "max" || k.Aggregate == "topk") {
		add(rp+".type", "the %s of counters is no counter", k.Aggregate)
	}
	switch {
	case k.Aggregate == "topk" && k.K == 0:
		add(rp+".aggregate", "aggregate topk needs k, the number of keys to keep: 1 to %d", MaxTopK)
	case k.Aggregate == "topk" && (k.K < 1 || k.K > MaxTopK):
		add(rp+".k", "must be 1 to %d", MaxTopK)
	case k.Aggregate != "topk" && k.K != 0:
		add(rp+".k", "k goes with aggregate topk")
	}
	if k.DB < 0 {
		add(rp+".db", "must be 0 or more")
	}
	if k.MaxKeys == 0 {
		k.MaxKeys = DefaultMaxKeys
	}
	if k.ScanCount == 0 {
		k.ScanCount = DefaultScanCount
	}
	if k.MaxKeys < 0 || k.ScanCount < 0 {
		add(rp, "max_keys and scan_count must be positive")
	}
	names := map[string]bool{}
	if k.KeyLabels != nil {
		for _, g := range k.KeyLabels.SubexpNames()[1:] {
			if g == "" {
				continue
			}
			if !labelNameRE.MatchString(g) || strings.HasPrefix(g, "__") {
				add(rp+".key_labels", "group %q is not a valid label name", g)
			}
			if g == "key" && k.PerKey() || g == "group" && k.Measure == "stream" || names[g] {
				add(rp+".key_labels", "label %q is already set by the rule", g)
			}
			names[g] = true
		}
		if len(names) == 0 {
			add(rp+".key_labels", "has no named group (?P<name>…) to make a label of")
		}
	}
	if k.PerKey() {
		names["key"] = true
	}
	if k.Measure == "stream" {
		names["group"] = true
	}
	validateLabels(rp, k.Labels, names, add)
}

func (s *ScriptRule) validate(rp string, add func(path, format string, args ...any)) {
	if (s.Script == "") == (s.ScriptFile == "") {
		add(rp, "set exactly one of script and script_file")
	} else if s.ScriptFile != "" {
		data, err := os.ReadFile(s.ScriptFile)
		if err != nil {
			add(rp+".script_file", "%v", err)
		}
		s.Script = string(data)
	}
	sum := sha1.Sum([]byte(s.Script))
	s.sha = hex.EncodeToString(sum[:])
	defaults(&s.Type, "gauge")
	if s.Type != "gauge" && s.Type != "counter" {
		add(rp+".type", "unknown type %q: gauge or counter", s.Type)
	}
	if s.DB < 0 {
		add(rp+".db", "must be 0 or more")
	}
	names := map[string]bool{}
	if s.Label != "" {
		if !labelNameRE.MatchString(s.Label) || strings.HasPrefix(s.Label, "__") {
			add(rp+".label", "%q is not a valid label name", s.Label)
		}
		names[s.Label] = true
	}
	validateLabels(rp, s.Labels, names, add)
}

// validateLabels checks static labels against the names the rule's series
// already carry.
func validateLabels(rp string, labels map[string]string, taken map[string]bool, add func(path, format string, args ...any)) {
	for name := range labels {
		switch {
		case !labelNameRE.MatchString(name) || strings.HasPrefix(name, "__"):
			add(rp+".labels."+name, "%q is not a valid label name", name)
		case taken[name]:
			add(rp+".labels."+name, "label %q is already set by the rule", name)
		}
	}
}

func defaults(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// UnmarshalYAML compiles the expression as written.
func (p *Pattern) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return typeError(n, "invalid regex %q: %v", s, err)
	}
	*p = Pattern{Regexp{Regexp: re, source: s}}
	return nil
}
