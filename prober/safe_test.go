package prober

import (
	"strings"
	"testing"
)

func TestSafeText(t *testing.T) {
	secrets := []string{"exporter", "Zq8vN3xT7pLm2KwRfeq81LmxQz0Tq4aB"}
	for _, tc := range []struct{ in, want string }{
		{"ERR invalid password", "ERR invalid password"},
		{"WRONGPASS for exporter", "WRONGPASS for <secret>"},
		{"unknown command 'AUTH', with args beginning with: 'exporter' 'Zq8vN3xT7pLm2KwRfeq81LmxQz0Tq4aB' ", "unknown command 'AUTH', with args beginning with: '<secret>' '<secret>' "},
		// Redis cut the echoed arguments: the start of the password is masked too.
		{"with args beginning with: 'exporter' 'Zq8vN3xT7pLm2KwR' ", "with args beginning with: '<secret>' '<secret>' "},
		{"a\xffb", "a\uFFFDb"},
	} {
		if got := safeText(tc.in, secrets); got != tc.want {
			t.Errorf("safeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := safeText(strings.Repeat("é", 1000), nil)
	if len(long) > maxTextBytes+32 || !strings.HasSuffix(long, " bytes cut)") || !strings.HasPrefix(long, "éé") {
		t.Errorf("a 2000-byte text became %d bytes: %q…", len(long), long[:20])
	}
}
