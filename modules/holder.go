package modules

import (
	"errors"
	"io/fs"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// Holder serves the current config to concurrent probes and swaps in a new
// one only once it has loaded and validated in full.
type Holder struct {
	file     string
	optional bool // a missing file means the embedded default
	cur      atomic.Pointer[Config]
	embedded atomic.Bool
}

// NewHolder loads file. When optional is true and the file does not exist,
// the holder serves the embedded default until a reload finds the file.
func NewHolder(file string, optional bool) (*Holder, error) {
	h := &Holder{file: file, optional: optional}
	return h, h.Reload()
}

// Reload reads the file again; on error the current config stays in place.
func (h *Holder) Reload() error {
	c, err := Load(h.file)
	embedded := false
	if err != nil && h.optional && errors.Is(err, fs.ErrNotExist) {
		c, err, embedded = Default(), nil, true
	}
	if err != nil {
		return err
	}
	h.cur.Store(c)
	h.embedded.Store(embedded)
	return nil
}

// Config is the config in force.
func (h *Holder) Config() *Config { return h.cur.Load() }

// Embedded reports whether the config in force is the embedded default.
func (h *Holder) Embedded() bool { return h.embedded.Load() }

// File is the config file's path.
func (h *Holder) File() string { return h.file }

// Marshal writes the config as YAML with every secret shown as <secret>.
func (c *Config) Marshal() ([]byte, error) { return yaml.Marshal(c) }

