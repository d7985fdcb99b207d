// Package conn keeps Redis clients for probes: one per target and auth, reused
// across probes so that a probe does not pay for a new connection and AUTH
// each time, bounded in number and closed when idle or on reload.
package conn

import (
	"context"
	"crypto/tls"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/redis-probe/redis_probe_exporter/internal/target"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// Pool holds the clients. Its zero value is not usable; call NewPool.
type Pool struct {
	maxClients  int
	idleTimeout time.Duration

	mu      sync.Mutex
	clients map[string]*entry
	done    chan struct{}
}

type entry struct {
	client   *redis.Client
	auth     *modules.Auth // the credentials it was made with
	refs     int           // probes using the client now
	lastUsed time.Time
	dropped  bool // out of the map; the last release closes it
}

// quiet drops go-redis's own log lines ("failed to dial …"): every failure
// they report reaches the probe's log as the probe's error.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quiet{}) }

// NewPool keeps at most maxClients clients and closes each one unused for
// idleTimeout.
func NewPool(maxClients int, idleTimeout time.Duration) *Pool {
	p := &Pool{maxClients: maxClients, idleTimeout: idleTimeout, clients: map[string]*entry{}, done: make(chan struct{})}
	go p.reap()
	return p
}

// Get returns the client for target t with the named auth (nil for none),
// and a release function the probe calls when done with it.
func (p *Pool) Get(t target.Target, authName string, auth *modules.Auth) (*redis.Client, func()) {
	key := t.String() + "\x00" + authName
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.clients[key]
	if e != nil && e.auth != auth {
		// The auth was reloaded: a client made with the old credentials,
		// perhaps by a probe that straddled the reload, must not serve.
		p.dropLocked(key, e)
		e = nil
	}
	if e == nil {
		if len(p.clients) >= p.maxClients {
			p.dropOldestLocked()
		}
		e = &entry{client: redis.NewClient(options(t, auth)), auth: auth}
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
func (p *Pool) dropLocked(key string, e *entry) {
	delete(p.clients, key)
	e.dropped = true
	if e.refs == 0 {
		_ = e.client.Close()
	}
}

func (p *Pool) dropOldestLocked() {
	var oldest string
	for k, e := range p.clients {
		if oldest == "" || e.lastUsed.Before(p.clients[oldest].lastUsed) {
			oldest = k
		}
	}
	if oldest != "" {
		p.dropLocked(oldest, p.clients[oldest])
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

// options builds a client that sends only what a probe needs: no CLIENT
// SETINFO, no RESP3 HELLO, no retried commands or dials, and deadlines taken
// from the probe's context.
func options(t target.Target, auth *modules.Auth) *redis.Options {
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
		MaxIdleConns:          2,
		ConnMaxIdleTime:       time.Minute,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	}
	useTLS := t.TLS
	if auth != nil {
		o.Username = auth.Username
		o.Password = string(auth.Password)
		if auth.TLS != nil && auth.TLS.Enabled {
			useTLS = true
		}
	}
	if useTLS {
		switch {
		case auth != nil && auth.TLSConfig() != nil:
			o.TLSConfig = auth.TLSConfig().Clone()
		default:
			o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if o.TLSConfig.ServerName == "" && t.Network == "tcp" {
			o.TLSConfig.ServerName = t.Host
		}
	}
	return o
}
