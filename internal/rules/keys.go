package rules

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// Key rules run after the fixed commands: a pattern rule walks SCAN, and
// each batch of keys is measured in pipelined round trips (TYPE first where
// the measure depends on it). No command writes, blocks or costs O(N) on a
// big key: sizes come from STRLEN, LLEN, SCARD, ZCARD, HLEN, XLEN and
// PFCOUNT, never from reading a whole value. A stream rule reads XINFO
// STREAM (O(1): its length, counts and IDs, and its first and last entry)
// and XINFO GROUPS.
//
// keyRule is a module's key rule with its families made.
type keyRule struct {
	*modules.KeyRule
	f          *exposition.Family
	static     []string              // values of the static labels, by sorted name
	groupNames []string              // named groups of key_labels, in order
	stream     [3]*exposition.Family // per consumer group: StreamSuffix
	info       [2]*exposition.Family // per stream: StreamInfoSuffix
}

func compileKey(k *modules.KeyRule) *keyRule {
	r := &keyRule{KeyRule: k}
	labels := slices.Sorted(maps.Keys(k.Labels))
	static := slices.Clone(labels)
	for _, name := range labels {
		r.static = append(r.static, k.Labels[name])
	}
	if k.KeyLabels != nil {
		for _, g := range k.KeyLabels.SubexpNames()[1:] {
			if g != "" {
				r.groupNames = append(r.groupNames, g)
			}
		}
		labels = append(labels, r.groupNames...)
	}
	if k.PerKey() {
		labels = append(labels, "key")
	}
	help := k.Help
	switch {
	case help != "":
	case k.Aggregate == "topk":
		help = fmt.Sprintf("Key rule: the %s of the %d keys of the largest %s matching %s.", k.Measure, k.K, k.Measure, keySource(k))
	default:
		help = fmt.Sprintf("Key rule: the %s of keys matching %s.", k.Measure, keySource(k))
	}
	if k.Measure == "stream" {
		r.f = exposition.New(k.Metric, help+" (stream length)", ruleType(k.Type), labels...)
		groupLabels := append(slices.Clone(static), "key", "group")
		r.stream = [3]*exposition.Family{
			exposition.New(k.Metric+modules.StreamSuffix[0], "Entries of the stream not yet delivered to the consumer group.", dto.MetricType_GAUGE, groupLabels...),
			exposition.New(k.Metric+modules.StreamSuffix[1], "Entries delivered to the consumer group but not yet acknowledged.", dto.MetricType_GAUGE, groupLabels...),
			exposition.New(k.Metric+modules.StreamSuffix[2], "Consumers in the consumer group.", dto.MetricType_GAUGE, groupLabels...),
		}
		r.info = [2]*exposition.Family{
			exposition.New(k.Metric+modules.StreamInfoSuffix[0], "Entries ever added to the stream, deleted and trimmed ones included (XINFO STREAM entries-added, Redis 7.0+).", dto.MetricType_GAUGE, labels...),
			exposition.New(k.Metric+modules.StreamInfoSuffix[1], "Seconds since the time in the ID of the newest entry added to the stream (its last-generated-id); absent for an empty stream.", dto.MetricType_GAUGE, labels...),
		}
	} else {
		r.f = exposition.New(k.Metric, help, ruleType(k.Type), labels...)
	}
	return r
}

func keySource(k *modules.KeyRule) string {
	if k.Pattern != "" {
		return "the pattern " + k.Pattern
	}
	return strings.Join(k.Keys, ", ")
}

func ruleType(t string) dto.MetricType {
	if t == "counter" {
		return dto.MetricType_COUNTER
	}
	return dto.MetricType_GAUGE
}

// aggregate is one label set's combined measure.
type aggregate struct {
	labels []string
	value  float64
	n      int
}

// tally gathers one rule run's series; they are emitted only when the rule
// succeeds, so that a failed rule reports nothing but its status.
type tally struct {
	r       *keyRule
	labels  map[string][]string // each measured key's label values
	groups  map[string]*aggregate
	order   []string
	extra   []extraPoint // a stream's per-group series
	foreign int          // keys another Cluster node serves, skipped
}

type extraPoint struct {
	f      *exposition.Family
	v      float64
	labels []string
}

// add combines a key's measure into its label set.
func (t *tally) add(labels []string, v float64) {
	key := strings.Join(labels, "\x00")
	a := t.groups[key]
	if a == nil {
		a = &aggregate{labels: labels, value: v}
		t.groups[key] = a
		t.order = append(t.order, key)
	}
	switch t.r.Aggregate {
	case "count":
		a.value = float64(a.n + 1)
	case "sum":
		if a.n > 0 {
			a.value += v
		}
	case "min":
		a.value = math.Min(a.value, v)
	case "max":
		a.value = math.Max(a.value, v)
	case "topk":
		if v > a.value || math.IsNaN(a.value) {
			a.value = v // keys whose labels clean to one set: the largest
		}
		if len(t.order) > 2*t.r.K {
			t.keepTop() // holds at most 2k label sets, whatever max_keys
		}
	default:
		a.value = v
	}
	a.n++
}

// keepTop keeps the k label sets of the largest values, in that order:
// ties (and NaN, the smallest) go by key name, so that the same keys
// give the same series.
func (t *tally) keepTop() {
	slices.SortFunc(t.order, func(a, b string) int {
		ga, gb := t.groups[a], t.groups[b]
		if c := cmp.Compare(gb.value, ga.value); c != 0 {
			return c
		}
		if c := cmp.Compare(ga.labels[len(ga.labels)-1], gb.labels[len(gb.labels)-1]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if len(t.order) > t.r.K {
		for _, k := range t.order[t.r.K:] {
			delete(t.groups, k)
		}
		t.order = slices.Clip(t.order[:t.r.K])
	}
}

func (t *tally) emit(e sink) {
	if t.r.Aggregate == "topk" {
		t.keepTop()
	}
	if len(t.order) == 0 && (t.r.Aggregate == "count" || t.r.Aggregate == "sum") && len(t.r.groupNames) == 0 && t.r.Missing != modules.MissingOmit {
		e.Emit(t.r.f, 0, t.r.static...) // nothing matched: 0, not a missing series (missing: omit: no series)
	}
	for _, k := range t.order {
		e.Emit(t.r.f, t.groups[k].value, t.groups[k].labels...)
	}
	for _, p := range t.extra {
		e.Emit(p.f, p.v, p.labels...)
	}
}

// runKey measures the rule and emits its series and status. It reports
// whether the result is whole: the rule succeeded and the deadline did not
// cut it short (max_keys may have), so that it may be kept.
func (x *runner) runKey(r *keyRule, e sink, logger log.Logger) bool {
	t := &tally{r: r, labels: map[string][]string{}, groups: map[string]*aggregate{}}
	matched, truncated := 0, false
	measure := func(keys []string) error {
		var ok []string
		for _, k := range keys {
			if matched == r.MaxKeys {
				truncated = true
				break
			}
			if labels := r.labelsFor(k); labels != nil {
				t.labels[k] = labels
				ok = append(ok, k)
				matched++
			}
		}
		if len(ok) == 0 {
			return nil
		}
		return x.measure(r, ok, t)
	}
	var err error
	if r.Pattern != "" {
		err = x.scan(r, measure, &truncated)
	} else {
		err = measure(r.Keys)
	}
	cut := errors.Is(err, errDeadline) || errors.Is(err, context.DeadlineExceeded)
	if cut {
		truncated, err = true, nil
		logger.Log("msg", "Key rule cut short by the probe deadline", "rule", r.Metric, "keys", matched)
	}
	if err != nil {
		logger.Log("msg", "Key rule failed", "rule", r.Metric, "err", err)
	} else {
		t.emit(e)
	}
	e.Emit(x.status.success, boolValue(err == nil), r.Metric)
	e.Emit(x.status.keys, float64(matched-t.foreign), r.Metric)
	e.Emit(x.status.truncated, boolValue(truncated), r.Metric)
	if x.cluster {
		e.Emit(x.status.foreign, float64(t.foreign), r.Metric)
	}
	return err == nil && !cut
}

// Bounds of a SCAN walk against a target that may never end it: a key
// name longer than maxKeyBytes is skipped, and the walk stops after
// scanLimit·max_keys keys, each counting as truncated.
const (
	maxKeyBytes = 1024
	scanLimit   = 10
)

// scan walks SCAN MATCH until the cursor completes, max_keys matched keys
// are measured, scanLimit·max_keys keys were returned, or the deadline
// comes. SCAN may return a key twice; each is measured once.
func (x *runner) scan(r *keyRule, measure func([]string) error, truncated *bool) error {
	seen := map[string]bool{}
	skipped := false // a key longer than maxKeyBytes
	cursor := "0"
	for {
		out, err := x.exec(r.DB, [][]any{{"SCAN", cursor, "MATCH", r.Pattern, "COUNT", r.ScanCount}})
		if err != nil {
			return err
		}
		reply, err := out[0].Slice()
		if err != nil {
			return fmt.Errorf("SCAN: %w", err)
		}
		if len(reply) != 2 {
			return fmt.Errorf("SCAN: a reply of %d elements, want 2", len(reply))
		}
		cursor = fmt.Sprint(reply[0])
		var fresh []string
		keys, _ := reply[1].([]any)
		for _, k := range keys {
			s, _ := k.(string)
			switch {
			case len(s) > maxKeyBytes:
				skipped = true
			case !seen[s]:
				seen[s] = true
				fresh = append(fresh, s)
			}
		}
		if err := measure(fresh); err != nil {
			return err
		}
		if len(seen) >= scanLimit*r.MaxKeys {
			*truncated = true
		}
		if *truncated || cursor == "0" {
			*truncated = *truncated || skipped
			return nil
		}
	}
}

// labelsFor is the label values of key's series: the static labels, the
// key_labels groups and, without aggregation or with topk, the key. It is
// nil for a key that key_labels does not match.
func (r *keyRule) labelsFor(key string) []string {
	labels := append(make([]string, 0, len(r.static)+len(r.groupNames)+1), r.static...)
	if r.KeyLabels != nil {
		m := r.KeyLabels.FindStringSubmatch(key)
		if m == nil {
			return nil
		}
		for i, g := range r.KeyLabels.SubexpNames() {
			if i > 0 && g != "" {
				labels = append(labels, m[i])
			}
		}
	}
	if r.PerKey() {
		labels = append(labels, key)
	}
	for i, v := range labels {
		// Clean here, before tally merges label sets: keys that differ only
		// in invalid bytes would otherwise become two identical series.
		labels[i] = strings.ToValidUTF8(v, "\uFFFD")
	}
	return labels
}

// measure takes the rule's measure of each key and adds it.
func (x *runner) measure(r *keyRule, keys []string, t *tally) error {
	if r.Aggregate == "count" && r.Pattern != "" {
		for _, k := range keys {
			t.add(t.labels[k], 1) // SCAN found it: it exists
		}
		return nil
	}
	if r.Aggregate != "count" && (r.Measure == "length" || r.Measure == "stream") {
		return x.byType(r, keys, t)
	}
	cmds := make([][]any, len(keys))
	for i, k := range keys {
		cmds[i] = simpleMeasure(r, k)
	}
	out, err := x.exec(r.DB, cmds)
	if err != nil {
		return err
	}
	for i, k := range keys {
		if x.foreignKey(out[i].Err()) {
			t.foreign++
			continue
		}
		if r.Aggregate == "count" {
			if n, err := out[i].Int64(); err != nil {
				return fmt.Errorf("%s: EXISTS: %w", k, err)
			} else if n > 0 {
				t.add(t.labels[k], 1)
			}
			continue
		}
		v, present, err := readMeasure(r, out[i])
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if present {
			t.add(t.labels[k], v)
		}
	}
	return nil
}

// simpleMeasure is the one command that measures key, for the measures that
// need no TYPE first.
func simpleMeasure(r *keyRule, key string) []any {
	if r.Aggregate == "count" {
		return []any{"EXISTS", key}
	}
	switch r.Measure {
	case "ttl":
		return []any{"PTTL", key}
	case "memory":
		return []any{"MEMORY", "USAGE", key}
	case "exists":
		return []any{"EXISTS", key}
	case "idle":
		return []any{"OBJECT", "IDLETIME", key}
	}
	if r.Field != "" {
		return []any{"HGET", key, r.Field}
	}
	return []any{"GET", key}
}

// readMeasure reads a simpleMeasure reply: the value, and whether the key
// has one (a missing key has no value, ttl, memory or idle time).
func readMeasure(r *keyRule, c *redis.Cmd) (float64, bool, error) {
	v, err := c.Result()
	if errors.Is(err, redis.Nil) {
		return 0, r.Measure == "exists", nil
	}
	if err != nil {
		return 0, false, err
	}
	switch r.Measure {
	case "ttl":
		ms, _ := v.(int64)
		return float64(ms) / 1e3, ms >= 0, nil // -1: no expiry, -2: no key
	case "memory", "idle", "exists":
		n, _ := v.(int64)
		return float64(n), r.Measure != "exists" || n >= 0, nil
	}
	s := fmt.Sprint(v)
	f, perr := strconv.ParseFloat(s, 64)
	if perr != nil {
		return 0, false, fmt.Errorf("value %q is not a number", truncate(s, 40))
	}
	return f, true, nil
}

// byType measures lengths and streams: TYPE first, then the command that
// fits each key's type, then PFCOUNT for the strings that are HyperLogLogs.
func (x *runner) byType(r *keyRule, keys []string, t *tally) error {
	types := make([][]any, len(keys))
	for i, k := range keys {
		types[i] = []any{"TYPE", k}
	}
	out, err := x.exec(r.DB, types)
	if err != nil {
		return err
	}
	var cmds [][]any
	var idx []int        // cmds[j] measures keys[idx[j]]
	var withRange []bool // cmds[j] is a STRLEN followed by its GETRANGE
	var streams []string // measured one per round trip: see measureStream
	for i, k := range keys {
		if x.foreignKey(out[i].Err()) {
			t.foreign++
			continue
		}
		typ, err := out[i].Text()
		if err != nil {
			return fmt.Errorf("%s: TYPE: %w", k, err)
		}
		var cmd [][]any
		switch {
		case typ == "none":
			if r.Measure == "length" && r.Missing != modules.MissingOmit {
				t.add(t.labels[k], 0) // as Redis answers for a missing key
			}
		case r.Measure == "stream":
			if typ != "stream" {
				return fmt.Errorf("%s is a %s, not a stream", k, typ)
			}
			streams = append(streams, k)
		default:
			cmd = [][]any{lengthCommand(typ, k)}
			if typ == "string" {
				cmd = append(cmd, []any{"GETRANGE", k, 0, 4}) // "HYLL" and 0 or 1 start a HyperLogLog
			}
		}
		for n := range cmd {
			idx = append(idx, i)
			withRange = append(withRange, typ == "string" && n == 0)
		}
		cmds = append(cmds, cmd...)
	}
	for _, k := range streams {
		if err := x.measureStream(r, k, t); err != nil {
			return err
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	out, err = x.exec(r.DB, cmds)
	if err != nil {
		return err
	}
	var hll []string
	var hllLen []float64
	for j := 0; j < len(cmds); j++ {
		k := keys[idx[j]]
		n, err := out[j].Int64()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", k, cmds[j][0], err)
		}
		if withRange[j] {
			j++
			if header, _ := out[j].Text(); n >= 16 && isHLLHeader(header) {
				hll, hllLen = append(hll, k), append(hllLen, float64(n))
				continue
			}
		}
		t.add(t.labels[k], float64(n))
	}
	return x.countHLL(r, hll, hllLen, t)
}

// isHLLHeader tells whether a string starts as a HyperLogLog does: "HYLL"
// and its encoding, 0 (dense) or 1 (sparse).
func isHLLHeader(h string) bool {
	return len(h) == 5 && h[:4] == "HYLL" && (h[4] == 0 || h[4] == 1)
}

var lengthCommands = map[string]string{"string": "STRLEN", "list": "LLEN", "set": "SCARD", "zset": "ZCARD", "hash": "HLEN", "stream": "XLEN"}

func lengthCommand(typ, key string) []any {
	cmd := lengthCommands[typ]
	if cmd == "" {
		cmd = "STRLEN" // an unknown (module) type: its error reply fails the rule
	}
	return []any{cmd, key}
}

// countHLL takes PFCOUNT of the strings that look like HyperLogLogs; one
// that Redis does not take for one keeps its STRLEN, strlen[i].
func (x *runner) countHLL(r *keyRule, keys []string, strlen []float64, t *tally) error {
	if len(keys) == 0 {
		return nil
	}
	cmds := make([][]any, len(keys))
	for i, k := range keys {
		cmds[i] = []any{"PFCOUNT", k}
	}
	out, err := x.exec(r.DB, cmds)
	if err != nil {
		return err
	}
	for i, k := range keys {
		n, err := out[i].Int64()
		switch {
		case err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE"):
			t.add(t.labels[k], strlen[i])
		case err != nil:
			return fmt.Errorf("%s: PFCOUNT: %w", k, err)
		default:
			t.add(t.labels[k], float64(n))
		}
	}
	return nil
}

// measureStream measures one stream in a round trip of its own: XINFO
// STREAM answers the first and last entries whole, so a batch of streams
// with large entries could break the module's max_reply_bytes, which
// bounds a round trip; alone, a stream breaks it only if its own two
// entries do.
func (x *runner) measureStream(r *keyRule, k string, t *tally) error {
	out, err := x.exec(r.DB, [][]any{{"XINFO", "STREAM", k}, {"XINFO", "GROUPS", k}})
	if err != nil {
		return err
	}
	n, err := streamInfo(r, k, out[0], time.Now(), t)
	if err != nil {
		return fmt.Errorf("%s: XINFO STREAM: %w", k, err)
	}
	if err := streamGroups(r, k, out[1], t); err != nil {
		return fmt.Errorf("%s: XINFO GROUPS: %w", k, err)
	}
	t.add(t.labels[k], n)
	return nil
}

// streamInfo reads XINFO STREAM: it returns the stream's length and adds
// its entries-added (Redis 7.0+) and, unless the stream is empty, the age
// of its last-generated-id at now: the millisecond time of the ID of the
// newest entry added, deleted or not.
func streamInfo(r *keyRule, key string, c *redis.Cmd, now time.Time, t *tally) (float64, error) {
	v, err := c.Result()
	if err != nil {
		return 0, err
	}
	reply, ok := v.([]any) // a flat array of names and values
	if !ok {
		return 0, fmt.Errorf("unexpected reply %T", v)
	}
	fields := map[string]any{}
	for i := 0; i+1 < len(reply); i += 2 {
		fields[fmt.Sprint(reply[i])] = reply[i+1]
	}
	length, ok := fields["length"].(int64)
	if !ok {
		return 0, errors.New("no length in the reply")
	}
	labels := t.labels[key]
	if n, ok := fields["entries-added"].(int64); ok {
		t.extra = append(t.extra, extraPoint{r.info[0], float64(n), labels})
	}
	if id, ok := fields["last-generated-id"].(string); ok && length > 0 {
		ms, _, _ := strings.Cut(id, "-")
		n, err := strconv.ParseUint(ms, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("last-generated-id %q: %w", truncate(id, 45), err)
		}
		age := float64(now.UnixMicro())/1e6 - float64(n)/1e3
		t.extra = append(t.extra, extraPoint{r.info[1], age, labels})
	}
	return float64(length), nil
}

// streamGroups reads XINFO GROUPS: per group its lag (Redis 7+),
// pending entries and consumers.
func streamGroups(r *keyRule, key string, c *redis.Cmd, t *tally) error {
	groups, err := c.Slice()
	if err != nil {
		return err
	}
	for _, g := range groups {
		fs, ok := g.([]any)
		if !ok {
			return fmt.Errorf("unexpected group %v", g)
		}
		var name string
		values := map[string]int64{}
		for i := 0; i+1 < len(fs); i += 2 {
			switch k := fmt.Sprint(fs[i]); k {
			case "name":
				name = fmt.Sprint(fs[i+1])
			case "lag", "pending", "consumers":
				if n, ok := fs[i+1].(int64); ok {
					values[k] = n
				}
			}
		}
		labels := append(slices.Clone(r.static), key, name)
		if lag, ok := values["lag"]; ok {
			t.extra = append(t.extra, extraPoint{r.stream[0], float64(lag), labels})
		}
		t.extra = append(t.extra,
			extraPoint{r.stream[1], float64(values["pending"]), labels},
			extraPoint{r.stream[2], float64(values["consumers"]), labels})
	}
	return nil
}
