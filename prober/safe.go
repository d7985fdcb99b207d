package prober

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-kit/log"

	"github.com/redis-probe/redis_probe_exporter/modules"
)

// maxTextBytes caps any text that came from a target or a user (an error,
// a Redis reply, a query value) before it is logged, shown or kept.
const maxTextBytes = 512

// minSecretPrefix is the shortest start of a secret that is masked on its
// own: Redis cuts the arguments it echoes in an error ("unknown command
// 'AUTH', with args beginning with: …") at 128 bytes, which can leave the
// start of a password.
const minSecretPrefix = 4

// safeText is s capped at maxTextBytes, valid UTF-8, with every secret, and
// the longest start of it that s holds, replaced by <secret>. Secrets are
// replaced before capping, so that a cut never leaves half a password.
func safeText(s string, secrets []string) string {
	for _, sec := range secrets {
		for n := len(sec); n >= min(len(sec), minSecretPrefix) && n > 0; n-- {
			if strings.Contains(s, sec[:n]) {
				s = strings.ReplaceAll(s, sec[:n], modules.Masked)
				break
			}
		}
	}
	if len(s) > maxTextBytes {
		cut := maxTextBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "… (" + strconv.Itoa(len(s)-cut) + " bytes cut)"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// quoted is a value the user sent, capped and quoted for an error message.
func quoted(s string) string { return strconv.Quote(safeText(s, nil)) }

// safeLogger passes every value that is text (errors, strings, anything
// printed with %v) through safeText, so that nothing a target sends can
// grow a log line without bound or carry the auth's secrets.
func safeLogger(next log.Logger, secrets []string) log.Logger {
	return log.LoggerFunc(func(kv ...any) error {
		for i := 1; i < len(kv); i += 2 {
			switch v := kv[i].(type) {
			case bool, int, int64, uint64, float64, log.Valuer:
			case string:
				kv[i] = safeText(v, secrets)
			default:
				kv[i] = safeText(fmt.Sprint(v), secrets)
			}
		}
		return next.Log(kv...)
	})
}
