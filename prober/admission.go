package prober

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// admission bounds the probes in flight: in all, and per target address
// (host:port, whatever the scheme or database), so that a flood of probes
// to one hung target waits on that target's slots and never holds the
// slots healthy targets need.
type admission struct {
	global    *semaphore.Weighted
	perTarget int64

	mu      sync.Mutex
	targets map[string]*targetSlots
}

type targetSlots struct {
	sem  *semaphore.Weighted
	refs int // requests holding or waiting for a slot
}

func newAdmission(global, perTarget int) *admission {
	return &admission{global: semaphore.NewWeighted(int64(global)), perTarget: int64(perTarget), targets: map[string]*targetSlots{}}
}

// acquire waits, until ctx ends, for a slot of target and then one of the
// global limit. It returns the release function, or which limit was full.
func (a *admission) acquire(ctx context.Context, target string) (release func(), full string) {
	a.mu.Lock()
	ts := a.targets[target]
	if ts == nil {
		ts = &targetSlots{sem: semaphore.NewWeighted(a.perTarget)}
		a.targets[target] = ts
	}
	ts.refs++
	a.mu.Unlock()
	done := func() {
		a.mu.Lock()
		if ts.refs--; ts.refs == 0 {
			delete(a.targets, target)
		}
		a.mu.Unlock()
	}
	if ts.sem.Acquire(ctx, 1) != nil {
		done()
		return nil, "target"
	}
	if a.global.Acquire(ctx, 1) != nil {
		ts.sem.Release(1)
		done()
		return nil, "global"
	}
	return func() {
		a.global.Release(1)
		ts.sem.Release(1)
		done()
	}, ""
}
