package modules

import (
	"path"
	"slices"
	"strings"
)

// secretParameters are CONFIG parameters whose values are never exported.
var secretParameters = []string{"requirepass", "masterauth", "masteruser", "tls-key-file-pass", "tls-client-key-file-pass"}

// IsSecretParameter reports whether a CONFIG parameter, or a glob that may
// match one, names a secret.
func IsSecretParameter(param string) bool {
	if strings.Contains(strings.ToLower(param), "pass") {
		return true
	}
	if !strings.ContainsAny(param, `*?[\`) {
		// A name, as each CONFIG GET answer gives: a plain compare, where
		// path.Match made 2% of a probe's CPU.
		return slices.Contains(secretParameters, param)
	}
	for _, s := range secretParameters {
		if ok, _ := path.Match(param, s); ok {
			return true
		}
	}
	return false
}
