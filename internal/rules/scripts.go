package rules

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/go-kit/log"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// scriptRule is a module's script rule with its family made.
type scriptRule struct {
	*modules.ScriptRule
	f      *exposition.Family
	static []string // values of the static labels, by sorted name
}

func compileScript(s *modules.ScriptRule) *scriptRule {
	r := &scriptRule{ScriptRule: s}
	labels := slices.Sorted(maps.Keys(s.Labels))
	for _, name := range labels {
		r.static = append(r.static, s.Labels[name])
	}
	if s.Label != "" {
		labels = append(labels, s.Label)
	}
	help := s.Help
	if help == "" {
		help = "Script rule: what its read-only script returns."
	}
	r.f = exposition.New(s.Metric, help, ruleType(s.Type), labels...)
	return r
}

// runScript runs the script with EVALSHA_RO, and with EVAL_RO when Redis
// does not have it cached yet: read-only either way, so a script that tries
// to write fails instead.
func (x *runner) runScript(r *scriptRule, e sink, logger log.Logger) bool {
	args := []any{r.SHA1(), len(r.Keys)}
	for _, k := range r.Keys {
		args = append(args, k)
	}
	for _, a := range r.Args {
		args = append(args, a)
	}
	out, err := x.exec(r.DB, [][]any{append([]any{"EVALSHA_RO"}, args...)})
	if err == nil && out[0].Err() != nil && strings.HasPrefix(out[0].Err().Error(), "NOSCRIPT") {
		args[0] = r.Script
		out, err = x.exec(r.DB, [][]any{append([]any{"EVAL_RO"}, args...)})
	}
	if err == nil {
		err = r.emit(out[0].Val(), out[0].Err(), e)
	}
	if err != nil {
		logger.Log("msg", "Script rule failed", "rule", r.Metric, "err", err)
	}
	e.Emit(x.status.success, boolValue(err == nil), r.Metric)
	return err == nil
}

// emit reads a number, or a flat array of label value and number pairs.
func (r *scriptRule) emit(v any, err error, e sink) error {
	if err != nil {
		return err
	}
	if list, ok := v.([]any); ok {
		if r.Label == "" || len(list)%2 != 0 {
			return fmt.Errorf("script returned %d elements: an array needs label: set and label, number pairs", len(list))
		}
		values := make([]float64, len(list)/2)
		seen := map[string]bool{}
		for i := range values {
			n, err := scriptNumber(list[2*i+1])
			if err != nil {
				return err
			}
			label := strings.ToValidUTF8(fmt.Sprint(list[2*i]), "\uFFFD")
			if seen[label] {
				return fmt.Errorf("script returned the label %q twice", truncate(label, 40))
			}
			seen[label] = true
			values[i] = n
		}
		for i, n := range values {
			e.Emit(r.f, n, append(slices.Clone(r.static), fmt.Sprint(list[2*i]))...)
		}
		return nil
	}
	if r.Label != "" {
		return fmt.Errorf("script returned %v, not label, number pairs", v)
	}
	n, err := scriptNumber(v)
	if err != nil {
		return err
	}
	e.Emit(r.f, n, r.static...)
	return nil
}

// scriptNumber reads an integer, or a string holding a number (Lua numbers
// that are not integers must be returned as strings).
func scriptNumber(v any) (float64, error) {
	switch n := v.(type) {
	case int64:
		return float64(n), nil
	case string:
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return 0, fmt.Errorf("script returned %q, not a number", truncate(n, 40))
		}
		return f, nil
	}
	return 0, fmt.Errorf("script returned %v, not a number", v)
}
