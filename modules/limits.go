package modules

import (
	"strconv"
	"time"

	"github.com/alecthomas/units"
	"go.yaml.in/yaml/v3"
)

// Limits bound what one target may send a probe, so that a hostile or
// broken endpoint costs one failed probe and never the exporter's memory.
// A field left out takes its default; the defaults fit real Redis replies
// (CLIENT LIST of 10k clients, INFO ALL with thousands of commands) with a
// wide margin.
type Limits struct {
	MaxBulkBytes       Bytes `yaml:"max_bulk_bytes,omitempty"`       // one bulk string: INFO, CLIENT LIST, CLUSTER NODES
	MaxAggregateLength int64 `yaml:"max_aggregate_length,omitempty"` // elements of one array, set or map
	MaxLineBytes       Bytes `yaml:"max_line_bytes,omitempty"`       // one status, error or integer line
	MaxReplyBytes      Bytes `yaml:"max_reply_bytes,omitempty"`      // what one round trip may cost: bytes received, 32 per array element
}

// Default limits.
const (
	DefaultMaxBulkBytes       = 8 << 20
	DefaultMaxAggregateLength = 1 << 18
	DefaultMaxLineBytes       = 64 << 10
	DefaultMaxReplyBytes      = 16 << 20
)

func (l *Limits) setDefaults() {
	def := func(v *Bytes, d Bytes) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxBulkBytes, DefaultMaxBulkBytes)
	def(&l.MaxLineBytes, DefaultMaxLineBytes)
	def(&l.MaxReplyBytes, DefaultMaxReplyBytes)
	if l.MaxAggregateLength == 0 {
		l.MaxAggregateLength = DefaultMaxAggregateLength
	}
}

// Retries is how a probe retries a round trip that failed on the connection
// (reset, EOF, no answer within its share of the deadline): Attempts in all,
// the n-th retry after about BaseDelay·2ⁿ⁻¹ with jitter. A refused dial, a
// Redis error reply or a broken limit is never retried.
type Retries struct {
	Attempts  int      `yaml:"attempts,omitempty"`
	BaseDelay Duration `yaml:"base_delay,omitempty"`
}

// Default retries: one retry, 50 ms after the first failure.
const (
	DefaultAttempts  = 2
	DefaultBaseDelay = 50 * time.Millisecond
)

func (r *Retries) setDefaults() {
	if r.Attempts == 0 {
		r.Attempts = DefaultAttempts
	}
	if r.BaseDelay == 0 {
		r.BaseDelay = Duration(DefaultBaseDelay)
	}
}

// Bytes is a size, written in YAML as a number of bytes or with a unit:
// 512KiB, 16MiB.
type Bytes int64

// UnmarshalYAML reads 1048576, "1024KiB" or "1MiB"; 0 means the default,
// as for every other limit.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil && n.Kind == yaml.ScalarNode {
		if v < 0 {
			return typeError(n, "invalid size %d: want a positive number of bytes, or 0 for the default", v)
		}
		*b = Bytes(v)
		return nil
	}
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := units.ParseBase2Bytes(s)
	if err != nil || v < 0 {
		return typeError(n, "invalid size %q: want bytes such as 65536 or 64KiB", s)
	}
	*b = Bytes(v)
	return nil
}

// MarshalYAML writes the size as given in bytes with its largest exact unit.
func (b Bytes) MarshalYAML() (any, error) { return units.Base2Bytes(b).String(), nil }
