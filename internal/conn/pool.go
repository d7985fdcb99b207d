// Package conn keeps Redis clients for probes: one per target and auth, reused
// across probes so that a probe does not pay for a new connection and AUTH
// each time, bounded in number and closed when idle or on reload.
package conn

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/redis-probe/redis_probe_exporter/internal/target"
)

// Pool holds the clients. Its zero value is not usable; call NewPool.
type Pool struct {
	maxClients  int
	idleTimeout time.Duration
	maxLifetime time.Duration

	mu      sync.Mutex
	clients map[key]*entry
	done    chan struct{}
}

// key names a client: a target, the auth's name, and how its connections
// are guarded (modules may set their own limits and attempts).
type key struct {
	target, auth string
	limits       Limits
	attempts     int
}

// Auth is how a client's connections authenticate and encrypt.
type Auth struct {
	// Key is the identity of the auth the client is made with, compared
	// with ==: a client made with another key is replaced, so that one
	// made with reloaded-away credentials never serves. The caller's
	// pointer to its auth does (nil for none).
	Key any
	// Credentials, if set, gives the username and password at each new
	// connection, so that rotated credentials are used without a reload.
	Credentials func() (username, password string, err error)
	// TLS, if set, is the client TLS configuration; nil means plain TCP,
	// or a default TLS configuration for a rediss:// target.
	TLS *tls.Config
}

type entry struct {
	client   *redis.Client
	auth     any // the Key of the auth it was made with
	refs     int // probes using the client now
	lastUsed time.Time
	dropped  bool // out of the map; the last release closes it
}

// quiet drops go-redis's own log lines ("failed to dial …"): every failure
// they report reaches the probe's log as the probe's error.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quiet{}) }

// NewPool keeps at most maxClients clients, closes each one unused for
// idleTimeout, and replaces each connection older than maxLifetime, so that
// a DNS change (the failover of a managed primary endpoint) is followed.
func NewPool(maxClients int, idleTimeout, maxLifetime time.Duration) *Pool {
	p := &Pool{maxClients: maxClients, idleTimeout: idleTimeout, maxLifetime: maxLifetime, clients: map[key]*entry{}, done: make(chan struct{})}
	go p.reap()
	return p
}

// Get returns the client for target t with the named auth,
// whose connections refuse replies past limits and give a round trip after
// idling 1/attempts of its time to start answering (see Guard), and a
// release function the probe calls when done with it.
func (p *Pool) Get(t target.Target, authName string, auth Auth, limits Limits, attempts int) (*redis.Client, func()) {
	limits = limits.WithDefaults()
	key := key{t.String(), authName, limits, attempts}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.clients[key]
	if e != nil && e.auth != auth.Key {
		// The auth was reloaded: a client made with the old credentials,
		// perhaps by a probe that straddled the reload, must not serve.
		p.dropLocked(key, e)
		e = nil
	}
	if e == nil {
		if len(p.clients) >= p.maxClients {
			p.dropOldestLocked()
		}
		e = &entry{client: redis.NewClient(p.options(t, auth, key)), auth: auth.Key}
		p.clients[key] = e
	}
	e.refs++
	e.lastUsed = time.Now()
	return e.client, func() { p.release(e) }
}

func (p *Pool) release(e *entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.refs--
	e.lastUsed = time.Now()
	if e.dropped && e.refs == 0 {
		_ = e.client.Close()
	}
}

// dropLocked takes the entry out of the map and closes it now, or when its
// last probe releases it.
func (p *Pool) dropLocked(key key, e *entry) {
	delete(p.clients, key)
	e.dropped = true
	if e.refs == 0 {
		_ = e.client.Close()
	}
}

func (p *Pool) dropOldestLocked() {
	var oldest *entry
	var oldestKey key
	for k, e := range p.clients {
		if oldest == nil || e.lastUsed.Before(oldest.lastUsed) {
			oldest, oldestKey = e, k
		}
	}
	if oldest != nil {
		p.dropLocked(oldestKey, oldest)
	}
}

// Reset closes every client, for a config reload: auths may have changed.
func (p *Pool) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.clients {
		p.dropLocked(k, e)
	}
}

// Close stops the pool and closes its clients.
func (p *Pool) Close() {
	close(p.done)
	p.Reset()
}

// Len is the number of clients held.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}

func (p *Pool) reap() {
	tick := time.NewTicker(p.idleTimeout / 2)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case now := <-tick.C:
			p.mu.Lock()
			for k, e := range p.clients {
				if e.refs == 0 && now.Sub(e.lastUsed) > p.idleTimeout {
					p.dropLocked(k, e)
				}
			}
			p.mu.Unlock()
		}
	}
}

// Buffer sizes of a pooled connection. go-redis's defaults (32 KiB each,
// 128 KiB for a separate pipeline pool) cost an idle target 100-450 KiB. A
// probe's request is a few hundred bytes, and a bulk reply larger than the
// read buffer (INFO) is read straight into its own slice, so 4 KiB cost no
// measurable CPU (BenchmarkProbe, 16 KiB against 4 KiB) and save 12 KiB
// per target held.
const (
	readBufferSize  = 4 << 10
	writeBufferSize = 4 << 10
)

// options builds a client that sends only what a probe needs: no CLIENT
// SETINFO, no RESP3 HELLO, no retried commands or dials, deadlines taken
// from the probe's context, one idle connection kept, small buffers, and
// every connection guarded by limits. Credentials are asked of the auth at
// each new connection, so a rotated password_file is used without a
// reload.
func (p *Pool) options(t target.Target, auth Auth, k key) *redis.Options {
	o := &redis.Options{
		Network:               t.Network,
		Addr:                  t.Addr(),
		DB:                    t.DB,
		Protocol:              2,
		DisableIdentity:       true,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialerRetries:         1, // a down target fails at once, not after 5 dials 100 ms apart
		PoolSize:              4,
		MaxIdleConns:          1,
		ConnMaxIdleTime:       time.Minute,
		ConnMaxLifetime:       p.maxLifetime,
		ReadBufferSize:        readBufferSize,
		WriteBufferSize:       writeBufferSize,
		PipelinePoolSize:      -1, // pipelines share the main pool and its small buffers
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	}
	if creds := auth.Credentials; creds != nil {
		o.CredentialsProviderContext = func(context.Context) (string, string, error) { return creds() }
	}
	tlsConfig := auth.TLS
	if tlsConfig == nil && t.TLS {
		host := ""
		if t.Network == "tcp" {
			host = t.Host
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	}
	o.Dialer = dialer(tlsConfig, k.limits, k.attempts)
	return o
}

// dialer connects within the probe's context, TLS handshake included, and
// guards what the connection reads.
func dialer(tlsConfig *tls.Config, limits Limits, attempts int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tlsConfig != nil {
			tc := tls.Client(c, tlsConfig)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
				return nil, err
			}
			c = tc
		}
		return Guard(c, limits, attempts), nil
	}
}
