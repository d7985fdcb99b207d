// Package modules holds the exporter's configuration: named auths, named
// modules, their strict loading and validation, and a holder that swaps a
// freshly loaded config in atomically on reload.
package modules

import (
	"crypto/tls"
	"regexp"
	"time"
)

// Config is the whole redis_probe.yml.
type Config struct {
	Auths   map[string]*Auth   `yaml:"auths,omitempty"`
	Modules map[string]*Module `yaml:"modules"`

	warnings []string
}

// Warnings are what the load found risky but valid, one line each, for the
// log at every load.
func (c *Config) Warnings() []string { return c.warnings }

// Auth is a named set of credentials. It is referenced by modules and by the
// auth= URL parameter, so that secrets never travel in URLs or labels.
type Auth struct {
	Username       string         `yaml:"username,omitempty"`
	Password       Secret         `yaml:"password,omitempty"`
	PasswordFile   string         `yaml:"password_file,omitempty"`
	TLS            *TLS           `yaml:"tls,omitempty"`
	AllowedTargets AllowedTargets `yaml:"allowed_targets,omitempty"`

	tlsConfig    *tls.Config  // built from TLS at load
	tlsCA        *caPool      // the CA file, when certificates are verified against it
	passwordFile *watchedFile // PasswordFile, re-read when it changes
}

// TLS configures the client side of a TLS connection to Redis. It is used for
// rediss:// targets, and for every target when Enabled is true.
type TLS struct {
	Enabled            bool   `yaml:"enabled,omitempty"`
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// Module is a named way of probing: its deadline, its default auth, which
// metric families it returns and which targets it may reach.
type Module struct {
	Timeout        Duration        `yaml:"timeout"`
	Auth           string          `yaml:"auth,omitempty"`
	Collectors     map[string]bool `yaml:"collectors,omitempty"` // on or off, over each collector's default
	Metrics        MetricFilter    `yaml:"metrics,omitempty"`
	AllowedTargets AllowedTargets  `yaml:"allowed_targets,omitempty"`
	Limits         Limits          `yaml:"limits,omitempty"`
	Retries        Retries         `yaml:"retries,omitempty"`

	// ConfigParameters are CONFIG GET parameters (globs allowed) the config
	// collector exports beyond its own list; secrets are never exported.
	ConfigParameters []string `yaml:"config_parameters,omitempty"`
	// ClientSeries caps the per-client series of the clients collector;
	// 0 (the default) gives aggregates only.
	ClientSeries int `yaml:"client_series,omitempty"`

	// Expect is what a healthy target looks like; nil asserts nothing.
	Expect *Expect `yaml:"expect,omitempty"`

	// RefreshInterval is how long the answers that rarely change (CONFIG
	// GET, MODULE LIST) are reused, per target, auth and module, before
	// they are asked again: DefaultRefreshInterval when not set, 0 asks on
	// every probe.
	RefreshInterval *Interval `yaml:"refresh_interval,omitempty"`

	// Keys and Scripts turn business keys into metrics, after the fixed
	// commands, within the probe's deadline.
	Keys    []KeyRule    `yaml:"keys,omitempty"`
	Scripts []ScriptRule `yaml:"scripts,omitempty"`
	// SkipRulesAfter: when the probe's first round trip took longer than
	// this, Redis is taken as loaded and rules due to run are skipped
	// (their last result is served, with its age); 0 never skips. Rules
	// are skipped while Redis loads its dataset too.
	SkipRulesAfter Interval `yaml:"skip_rules_after,omitempty"`

	collectorOn map[string]bool // the catalogue's defaults, by collector
	plan        any             // the catalogue's Compile of the module
}

// MetricFilter keeps the metric families whose names fully match one of
// Include (all when empty) and none of Exclude.
type MetricFilter struct {
	Include []Regexp `yaml:"include,omitempty"`
	Exclude []Regexp `yaml:"exclude,omitempty"`
}

// Keeps reports whether the family name passes the filter.
func (f MetricFilter) Keeps(name string) bool {
	if len(f.Include) > 0 && !anyMatch(f.Include, name) {
		return false
	}
	return !anyMatch(f.Exclude, name)
}

func anyMatch(res []Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// DefaultTimeout is a module's deadline when its config sets none.
const DefaultTimeout = 5 * time.Second

// DefaultRefreshInterval is how long a module reuses answers that rarely
// change when its config does not say.
const DefaultRefreshInterval = time.Minute

// Refresh is the module's refresh_interval.
func (m *Module) Refresh() time.Duration {
	if m.RefreshInterval == nil {
		return DefaultRefreshInterval
	}
	return time.Duration(*m.RefreshInterval)
}

// Duration is a time.Duration written as "5s" in YAML.
type Duration time.Duration

// Regexp is a regular expression anchored at both ends; YAML keeps the
// expression as written.
type Regexp struct {
	*regexp.Regexp
	source string
}

// Secret is a string that never leaves the process: it marshals as <secret>.
type Secret string

// Masked is what a Secret marshals to.
const Masked = "<secret>"
