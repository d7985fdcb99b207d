package modules

import (
	"fmt"
	"strings"
)

// Credentials returns the username and password AUTH sends: password_file
// is read again when it changed since the last call.
func (a *Auth) Credentials() (username, password string, err error) {
	if a.passwordFile == nil {
		return a.Username, string(a.Password), nil
	}
	data, _, err := a.passwordFile.read()
	if err != nil {
		return "", "", fmt.Errorf("password_file: %w", err)
	}
	return a.Username, strings.TrimRight(string(data), "\r\n"), nil
}

// Secrets are the auth's strings that must never appear in any output: the
// username and the password, the current one when it comes from
// password_file. (A TLS key never leaves the exporter, even in a handshake.)
func (a *Auth) Secrets() []string {
	var s []string
	if a.Username != "" {
		s = append(s, a.Username)
	}
	if a.Password != "" {
		s = append(s, string(a.Password))
	}
	if _, p, err := a.Credentials(); err == nil && p != "" && p != string(a.Password) {
		s = append(s, p)
	}
	return s
}
