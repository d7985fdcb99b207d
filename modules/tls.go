package modules

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
)

// load builds the client TLS configuration and the CA file's pool, nil
// when there is none. The files are read at load, so that a bad one fails
// the load, and read again at each handshake when they changed on disk (a
// rotated Kubernetes secret), without a reload.
func (t *TLS) load() (*tls.Config, *caPool, error) {
	cfg := &tls.Config{
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // the operator's explicit choice
		MinVersion:         tls.VersionTLS12,
	}
	var ca *caPool
	if t.CAFile != "" && !t.InsecureSkipVerify {
		ca = &caPool{file: watchedFile{path: t.CAFile}}
		if _, err := ca.get(); err != nil {
			return nil, nil, err
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, nil, errors.New("cert_file and key_file go together")
	}
	if t.CertFile != "" {
		kp := &keyPair{cert: watchedFile{path: t.CertFile}, key: watchedFile{path: t.KeyFile}}
		if _, err := kp.get(); err != nil {
			return nil, nil, err
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.get() }
	}
	return cfg, ca, nil
}

// TLSConfigFor is the client TLS configuration for a connection to host
// (empty for a unix socket), or nil when the auth has no tls section. The
// server's name is the auth's server_name, or host.
func (a *Auth) TLSConfigFor(host string) *tls.Config {
	if a.tlsConfig == nil {
		return nil
	}
	cfg := a.tlsConfig.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if a.tlsCA != nil {
		// Go verifies against a fixed RootCAs; to follow a rotated CA file
		// the exporter verifies the chain and the name itself, as Go would.
		name := cfg.ServerName
		cfg.InsecureSkipVerify = true //nolint:gosec // verified in VerifyConnection
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return a.tlsCA.verify(cs, name) }
	}
	return cfg
}

// caPool is the CA file's certificates, parsed again when the file changes.
type caPool struct {
	file watchedFile

	mu      sync.Mutex
	pool    *x509.CertPool
	version int
}

func (c *caPool) get() (*x509.CertPool, error) {
	pem, version, err := c.file.read()
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate found", c.file.path)
		}
		c.pool, c.version = pool, version
	}
	return c.pool, nil
}

// verify checks the server's chain against the current CA file, and its
// name against name, as crypto/tls does against RootCAs and ServerName
// (an IP address is checked against the certificate's IP addresses).
func (c *caPool) verify(cs tls.ConnectionState, name string) error {
	if name == "" {
		return errors.New("tls: no server name to verify the certificate against: set server_name")
	}
	roots, err := c.get()
	if err != nil {
		return err
	}
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, DNSName: name, Intermediates: x509.NewCertPool()}
	for _, cert := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(cert)
	}
	_, err = cs.PeerCertificates[0].Verify(opts)
	return err
}

// keyPair is the client certificate and key, parsed again when either
// file changes.
type keyPair struct {
	cert, key watchedFile

	mu       sync.Mutex
	pair     *tls.Certificate
	versions [2]int
}

func (k *keyPair) get() (*tls.Certificate, error) {
	certPEM, cv, err := k.cert.read()
	if err != nil {
		return nil, fmt.Errorf("cert_file: %w", err)
	}
	keyPEM, kv, err := k.key.read()
	if err != nil {
		return nil, fmt.Errorf("key_file: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if [2]int{cv, kv} != k.versions {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		k.pair, k.versions = &pair, [2]int{cv, kv}
	}
	return k.pair, nil
}
