package modules

import "testing"

// Secret parameters are recognised by name, as CONFIG GET answers, and by
// any glob a module's config_parameters could use to reach one.
func TestIsSecretParameter(t *testing.T) {
	for param, want := range map[string]bool{
		"requirepass":              true,
		"masterauth":               true,
		"masteruser":               true,
		"tls-client-key-file-pass": true,
		"REQUIREPASS":              true, // says pass
		"maxmemory":                false,
		"hz":                       false,
		"*":                        true,
		"master*":                  true,
		"m?steruser":               true,
		"[mr]*":                    true,
		`\masterauth`:              true, // an escaped literal
		"repl-*":                   false,
		"tls-*":                    true,
		"max*":                     false,
	} {
		if got := IsSecretParameter(param); got != want {
			t.Errorf("IsSecretParameter(%q) = %v, want %v", param, got, want)
		}
	}
}
