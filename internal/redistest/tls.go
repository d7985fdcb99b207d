package redistest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TLSFiles are PEM files made by MakeCerts: a CA, a server certificate for
// localhost and 127.0.0.1, and a client certificate, both signed by the CA.
// Keys are unencrypted EC P-256 (PKCS#8).
type TLSFiles struct {
	Dir        string
	CACert     string
	ServerCert string
	ServerKey  string
	ClientCert string
	ClientKey  string
}

// MakeCerts creates a CA, a server certificate (CN localhost, SANs
// DNS:localhost and IP:127.0.0.1, usable for serverAuth and clientAuth so
// that a TLS replica can present it) and a client certificate (CN
// redistest-client, clientAuth), valid for 30 days, with openssl in a temp
// dir.
func MakeCerts(t testing.TB) *TLSFiles {
	t.Helper()
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	f := &TLSFiles{
		Dir:        dir,
		CACert:     p("ca.crt"),
		ServerCert: p("server.crt"),
		ServerKey:  p("server.key"),
		ClientCert: p("client.crt"),
		ClientKey:  p("client.key"),
	}
	write := func(name, text string) {
		if err := os.WriteFile(p(name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Our own config, so that the system's openssl.cnf does not matter.
	write("req.cnf", `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`)
	write("server.ext", `basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`)
	write("client.ext", `basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`)
	openssl := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "OPENSSL_CONF="+p("req.cnf"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v (make test installs it): %v\n%s", args, err, out)
		}
	}
	genkey := func(out string) {
		t.Helper()
		openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", out)
	}
	genkey(p("ca.key"))
	openssl("req", "-x509", "-new", "-config", p("req.cnf"), "-extensions", "ca",
		"-key", p("ca.key"), "-subj", "/CN=redistest CA", "-days", "30", "-sha256", "-out", f.CACert)
	for _, leaf := range []struct{ name, cn, cert, key string }{
		{"server", "localhost", f.ServerCert, f.ServerKey},
		{"client", "redistest-client", f.ClientCert, f.ClientKey},
	} {
		genkey(leaf.key)
		csr := p(leaf.name + ".csr")
		openssl("req", "-new", "-config", p("req.cnf"), "-key", leaf.key, "-subj", "/CN="+leaf.cn, "-out", csr)
		openssl("x509", "-req", "-in", csr, "-CA", f.CACert, "-CAkey", p("ca.key"),
			"-CAserial", p("ca.srl"), "-CAcreateserial", "-days", "30", "-sha256",
			"-extfile", p(leaf.name+".ext"), "-out", leaf.cert)
	}

	// Check what Go clients will check, to fail here rather than later.
	pool := f.CAPool(t)
	for _, c := range []struct {
		cert, key, host string
		usage           x509.ExtKeyUsage
	}{
		{f.ServerCert, f.ServerKey, "localhost", x509.ExtKeyUsageServerAuth},
		{f.ServerCert, f.ServerKey, "127.0.0.1", x509.ExtKeyUsageServerAuth},
		{f.ClientCert, f.ClientKey, "", x509.ExtKeyUsageClientAuth},
	} {
		pair, err := tls.LoadX509KeyPair(c.cert, c.key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{DNSName: c.host, Roots: pool, KeyUsages: []x509.ExtKeyUsage{c.usage}}); err != nil {
			t.Fatalf("verifying %s: %v", c.cert, err)
		}
	}
	return f
}

// CAPool is a cert pool holding the CA.
func (f *TLSFiles) CAPool(t testing.TB) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", f.CACert)
	}
	return pool
}

// ClientConfig is a TLS client config trusting the CA, presenting the
// client certificate when withClientCert. ServerName is left empty: dialing
// 127.0.0.1 verifies the IP SAN, "localhost" the DNS SAN.
func (f *TLSFiles) ClientConfig(t testing.TB, withClientCert bool) *tls.Config {
	t.Helper()
	cfg := &tls.Config{RootCAs: f.CAPool(t), MinVersion: tls.VersionTLS12}
	if withClientCert {
		pair, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// StartTLSRedis starts a TLS-only redis-server (no plaintext port) on a
// free loopback port with the server certificate from files, requiring
// clients to present a certificate signed by the CA when
// requireClientCert, plus the extra config directives in args, and waits
// until it answers PING over TLS. Port and Addr are the TLS port's; use
// TLSClient, not Client, to talk to it. It is stopped when the test ends.
func StartTLSRedis(t testing.TB, files *TLSFiles, requireClientCert bool, args ...string) *Server {
	t.Helper()
	auth := "no"
	if requireClientCert {
		auth = "yes"
	}
	cfg := files.ClientConfig(t, true)
	return launch(t, launchSpec{
		bin:     "redis-server",
		logName: "redis.log",
		port:    FreePort,
		args: func(s *Server) []string {
			all := append(redisBaseArgs(s),
				"--port", "0",
				"--tls-port", strconv.Itoa(s.Port),
				"--tls-cert-file", files.ServerCert,
				"--tls-key-file", files.ServerKey,
				"--tls-ca-cert-file", files.CACert,
				"--tls-auth-clients", auth,
			)
			return append(all, args...)
		},
		dial: func(addr string) (net.Conn, error) {
			return tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, cfg)
		},
	})
}

// TLSClient is a new client to a TLS server started by StartTLSRedis,
// trusting files' CA and presenting its client certificate, closed when the
// test ends.
func (s *Server) TLSClient(t testing.TB, files *TLSFiles) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr: s.Addr(), Protocol: 2, DisableIdentity: true,
		TLSConfig: files.ClientConfig(t, true),
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
