package prober

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

func TestProbeTLS(t *testing.T) {
	certs := redistest.MakeCerts(t)
	s := redistest.StartTLSRedis(t, certs, true, "--requirepass", "tls-pw", "--bind", "*") // 127.0.0.2 too
	admin := s.TLSClient(t, certs)
	ctx := context.Background()
	if err := admin.Do(ctx, "AUTH", "tls-pw").Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		admin.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
	}
	h := newTestHandler(t, fmt.Sprintf(`
auths:
  mtls:
    password: tls-pw
    tls:
      ca_file: %[1]s
      cert_file: %[2]s
      key_file: %[3]s
  always:
    password: tls-pw
    tls:
      enabled: true
      ca_file: %[1]s
      cert_file: %[2]s
      key_file: %[3]s
  nocert:
    password: tls-pw
    tls:
      ca_file: %[1]s
  wrongname:
    password: tls-pw
    tls:
      ca_file: %[1]s
      cert_file: %[2]s
      key_file: %[3]s
      server_name: not-the-server
modules:
  default:
    timeout: 2s
`, certs.CACert, certs.ClientCert, certs.ClientKey))
	for _, tc := range []struct {
		name, target, auth string
		success            bool
	}{
		{"rediss with client cert", "rediss://127.0.0.1:%d", "mtls", true},
		{"localhost name", "rediss://localhost:%d", "mtls", true},
		{"tls enabled for host:port", "127.0.0.1:%d", "always", true},
		{"plain text to a TLS port", "redis://127.0.0.1:%d", "mtls", false},
		{"no client certificate", "rediss://127.0.0.1:%d", "nocert", false},
		{"server name mismatch", "rediss://127.0.0.1:%d", "wrongname", false},
		{"IP address not in the certificate", "rediss://127.0.0.2:%d", "mtls", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serveProbe(h, url.Values{"target": {fmt.Sprintf(tc.target, s.Port)}, "auth": {tc.auth}, "debug": {"true"}})
			body := w.Body.String()
			wantSuccess := "probe_success 0"
			if tc.success {
				wantSuccess = "probe_success 1"
			}
			if !strings.Contains(body, "\n"+wantSuccess+"\n") {
				t.Errorf("want %s:\n%s", wantSuccess, body)
			}
			if tc.success && !strings.Contains(body, `redis_db_keys{db="db0"} 4`) {
				t.Errorf("no redis_db_keys 4:\n%s", body)
			}
			if strings.Contains(body, "tls-pw") {
				t.Error("the password reached the debug output")
			}
		})
	}
	// What Prometheus would read passes promtool.
	w := serveProbe(h, url.Values{"target": {fmt.Sprintf("rediss://127.0.0.1:%d", s.Port)}, "auth": {"mtls"}})
	promtoolCheck(t, w.Body.String())
}

// Certificate files rotated on disk take effect at the next connection,
// without a reload: a CA file that does not sign the server's certificate
// fails the probe until the right CA is written over it, and a client
// certificate the server does not trust fails it until the right one is.
func TestProbeTLSFilesRotate(t *testing.T) {
	certs, other := redistest.MakeCerts(t), redistest.MakeCerts(t)
	s := redistest.StartTLSRedis(t, certs, true)
	dir := t.TempDir()
	ca, cert, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	install := func(from *redistest.TLSFiles) {
		for dst, src := range map[string]string{ca: from.CACert, cert: from.ClientCert, key: from.ClientKey} {
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(other)
	h := newTestHandler(t, fmt.Sprintf("auths:\n  mtls:\n    tls:\n      ca_file: %s\n      cert_file: %s\n      key_file: %s\nmodules:\n  default:\n    timeout: 2s\n", ca, cert, key))
	probe := func() string {
		w := serveProbe(h, url.Values{"target": {fmt.Sprintf("rediss://127.0.0.1:%d", s.Port)}, "auth": {"mtls"}, "debug": {"true"}})
		return w.Body.String()
	}
	if body := probe(); !strings.Contains(body, "\nprobe_success 0\n") || !strings.Contains(body, "certificate signed by unknown authority") {
		t.Errorf("with another CA's files, want a failed probe naming the unknown authority:\n%s", body)
	}
	install(certs)
	if body := probe(); !strings.Contains(body, "\nprobe_success 1\n") {
		t.Errorf("after the files were rotated, want probe_success 1:\n%s", body)
	}
}
