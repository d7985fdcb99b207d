package modules

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// AllowedTargets lists the targets a module or an auth may reach. Each entry
// is a host glob ("*.cache.internal", where "*" stays within one label of
// the name), an IP or a CIDR ("10.0.0.0/8", "fd00::/8", "[fd00::/8]:6379"),
// or a unix socket path glob ("/run/redis/*.sock"), with an optional ":port"
// (an IPv6 address or prefix takes one as "[…]:port"). Empty allows every
// target. Host names are matched as written, never resolved: a CIDR entry
// only admits IP-literal targets, and a host glob only names.
type AllowedTargets []targetPattern

type targetPattern struct {
	source string
	prefix netip.Prefix // set for IP and CIDR entries
	glob   string       // set for host and socket path globs
	port   int          // 0: any port
}

// Allows reports whether the target at host and port (0 and a path for unix
// sockets) is allowed. An empty list allows everything.
func (a AllowedTargets) Allows(host string, port int) bool {
	if len(a) == 0 {
		return true
	}
	if strings.Contains(host, "%") {
		return false // an IPv6 zone: never allowed, so no zone text can pose as a name
	}
	addr, ipErr := netip.ParseAddr(host)
	socket := strings.HasPrefix(host, "/")
	if !socket {
		host = strings.TrimSuffix(strings.ToLower(host), ".")
	}
	for _, p := range a {
		switch {
		case p.port != 0 && p.port != port:
		case p.prefix.IsValid():
			if ipErr == nil && p.prefix.Contains(addr.Unmap()) {
				return true
			}
		case ipErr == nil: // an IP literal matches IPs and CIDRs only
		case socket:
			if ok, _ := path.Match(p.glob, host); ok && strings.HasPrefix(p.glob, "/") {
				return true
			}
		case matchHost(p.glob, host):
			return true
		}
	}
	return false
}

// matchHost matches a host name against a glob label by label, so that "*"
// never crosses a dot: "*.cache.internal" admits "a.cache.internal" but not
// "a.cache.internal.evil.example" nor "a.b.cache.internal".
func matchHost(glob, host string) bool {
	gl, hl := strings.Split(glob, "."), strings.Split(host, ".")
	if len(gl) != len(hl) {
		return false
	}
	for i := range gl {
		if ok, _ := path.Match(gl[i], hl[i]); !ok {
			return false
		}
	}
	return true
}

// UnmarshalYAML parses every entry, naming the line of a bad one.
func (a *AllowedTargets) UnmarshalYAML(n *yaml.Node) error {
	var raw []string
	if err := n.Decode(&raw); err != nil {
		return err
	}
	var errs []string
	out := make(AllowedTargets, 0, len(raw))
	for i, s := range raw {
		p, err := parseTargetPattern(s)
		if err != nil {
			errs = append(errs, fmt.Sprintf("line %d: allowed target %q: %v", n.Content[i].Line, s, err))
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*a = out
	return nil
}

// MarshalYAML writes the entries as the config gave them.
func (a AllowedTargets) MarshalYAML() (any, error) {
	out := make([]string, len(a))
	for i, p := range a {
		out[i] = p.source
	}
	return out, nil
}

func parseTargetPattern(s string) (targetPattern, error) {
	p := targetPattern{source: s}
	host := strings.ToLower(strings.TrimSpace(s))
	if host == "" {
		return p, fmt.Errorf("empty entry")
	}
	if strings.HasPrefix(host, "/") {
		p.glob = s
		_, err := path.Match(p.glob, "")
		return p, err
	}
	// Split an optional port: "[v6]:port", "[v6/len]:port" or "host:port".
	if strings.HasPrefix(host, "[") {
		end := strings.Index(host, "]")
		if end < 0 {
			return p, fmt.Errorf("missing ]")
		}
		rest := host[end+1:]
		host = host[1:end]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return p, fmt.Errorf("unexpected %q after ]", rest)
			}
			port, err := parsePort(rest[1:])
			if err != nil {
				return p, err
			}
			p.port = port
		}
	} else if strings.Count(host, ":") == 1 {
		h, portText, _ := strings.Cut(host, ":")
		port, err := parsePort(portText)
		if err != nil {
			return p, err
		}
		host, p.port = h, port
	}
	if strings.Contains(host, "/") {
		prefix, err := netip.ParsePrefix(host)
		if err != nil {
			return p, fmt.Errorf("invalid CIDR: %v", err)
		}
		p.prefix = prefix.Masked()
		return p, nil
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		p.prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		return p, nil
	}
	if strings.ContainsAny(host, " \t") {
		return p, fmt.Errorf("host contains white space")
	}
	if _, err := path.Match(host, ""); err != nil {
		return p, fmt.Errorf("invalid glob: %v", err)
	}
	if strings.Trim(host, "0123456789.*?[]-") == "" {
		return p, fmt.Errorf("an IP glob matches names too: write a CIDR such as 10.0.0.0/24")
	}
	p.glob = strings.TrimSuffix(host, ".")
	return p, nil
}

func parsePort(s string) (int, error) {
	port, err := strconv.Atoi(s)
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return port, nil
}
