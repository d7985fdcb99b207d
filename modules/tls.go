package modules

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
)

// load builds the client TLS configuration. The files are read at load, so
// that a bad one fails the load, and read again at each handshake when they
// changed on disk (a rotated Kubernetes secret), without a reload.
func (t *TLS) load() (*tls.Config, error) {
	cfg := &tls.Config{
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // the operator's explicit choice
		MinVersion:         tls.VersionTLS12,
	}
	if t.CAFile != "" {
		ca := &caPool{file: watchedFile{path: t.CAFile}}
		if _, err := ca.get(); err != nil {
			return nil, err
		}
		if !t.InsecureSkipVerify {
			// Go verifies against a fixed RootCAs; to follow a rotated CA
			// file the exporter verifies the chain itself, as Go would.
			cfg.InsecureSkipVerify = true //nolint:gosec // verified in VerifyConnection
			cfg.VerifyConnection = ca.verify
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("cert_file and key_file go together")
	}
	if t.CertFile != "" {
		kp := &keyPair{cert: watchedFile{path: t.CertFile}, key: watchedFile{path: t.KeyFile}}
		if _, err := kp.get(); err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.get() }
	}
	return cfg, nil
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

// verify checks the server's chain and name against the current CA file,
// as crypto/tls does against RootCAs.
func (c *caPool) verify(cs tls.ConnectionState) error {
	roots, err := c.get()
	if err != nil {
		return err
	}
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, DNSName: cs.ServerName, Intermediates: x509.NewCertPool()}
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
