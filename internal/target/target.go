// Package target parses the target= parameter of a probe: host:port, host,
// redis://host:port[/db], rediss://host:port[/db] (valkey:// and valkeys://
// alike) and unix:///path.
package target

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultPort is Redis's port, used when a target names none.
const DefaultPort = 6379

// Target is where a probe connects.
type Target struct {
	Network string // "tcp" or "unix"
	Host    string // host name or IP; the socket path for unix
	Port    int    // 0 for unix
	DB      int
	TLS     bool // rediss://
}

// Addr is the dial address: host:port, or the socket path.
func (t Target) Addr() string {
	if t.Network == "unix" {
		return t.Host
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
}

// String is a canonical form, used to share connections between probes.
func (t Target) String() string {
	scheme := "redis"
	switch {
	case t.Network == "unix":
		return "unix://" + t.Host + "?db=" + strconv.Itoa(t.DB)
	case t.TLS:
		scheme = "rediss"
	}
	return scheme + "://" + t.Addr() + "/" + strconv.Itoa(t.DB)
}

// MaxLength bounds a target: host names are at most 253 bytes, socket
// paths 108.
const MaxLength = 1024

// ErrCredentials is returned for a target that carries a user or password.
var ErrCredentials = errors.New("target must not carry credentials: name an entry of the config's auths: with auth= instead")

// Parse reads a target parameter.
func Parse(s string) (Target, error) {
	if s == "" {
		return Target{}, errors.New("missing target parameter")
	}
	if strings.Contains(s, "@") { // before any parsing, so no error repeats the secret
		return Target{}, ErrCredentials
	}
	if len(s) > MaxLength {
		return Target{}, fmt.Errorf("target is %d bytes long: at most %d", len(s), MaxLength)
	}
	if !utf8.ValidString(s) {
		return Target{}, errors.New("target is not valid UTF-8")
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return Target{}, fmt.Errorf("target has a control character at byte %d", i)
	}
	if !strings.Contains(s, "://") {
		return parseHostPort(s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, fmt.Errorf("invalid target URL: %w", errors.Unwrap(err))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Target{}, errors.New("target URL must not have a query or fragment")
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" || u.Path == "" {
			return Target{}, errors.New("unix target must be unix:///absolute/path")
		}
		if path.Clean(u.Path) != u.Path {
			return Target{}, errors.New("unix target path must be clean: no .., //, or trailing /")
		}
		return Target{Network: "unix", Host: u.Path}, nil
	case "redis", "rediss", "valkey", "valkeys": // Valkey's own names for the same protocol
	default:
		return Target{}, fmt.Errorf("unsupported target scheme %q: use redis, rediss, valkey, valkeys or unix", u.Scheme)
	}
	t, err := parseHostPort(u.Host)
	if err != nil {
		return Target{}, err
	}
	t.TLS = u.Scheme == "rediss" || u.Scheme == "valkeys"
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			return Target{}, fmt.Errorf("invalid database %q in target: want a number", db)
		}
		t.DB = n
	}
	return t, nil
}

func parseHostPort(s string) (Target, error) {
	host, port := s, DefaultPort
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("invalid port %q in target", p)
		}
		host, port = h, n
	} else if strings.Count(s, ":") == 1 || strings.HasPrefix(s, "[") {
		return Target{}, fmt.Errorf("invalid target %q: want host:port", s)
	}
	if host == "" {
		return Target{}, errors.New("target has an empty host")
	}
	if strings.ContainsAny(host, "/ \t?#%") {
		return Target{}, fmt.Errorf("invalid host %q in target", host)
	}
	return Target{Network: "tcp", Host: host, Port: port}, nil
}
