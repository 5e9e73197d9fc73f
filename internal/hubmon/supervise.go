package hubmon

import (
	"context"
	"sync"
	"time"
)

// Supervisor keeps one Watch running per endpoint of a changing set.
type Supervisor struct {
	// Options are passed to every Watch.
	Options Options
	// Deliver receives every snapshot with its endpoint. It is called from
	// one goroutine per endpoint and must return quickly.
	Deliver func(Endpoint, Snapshot)

	mu      sync.Mutex
	running map[Endpoint]*watch
	wg      sync.WaitGroup
}

type watch struct {
	cancel context.CancelFunc
	stats  *Stats
}

// Run keeps the watched set equal to what list returns, calling it once at
// the start and then every rescan, until ctx ends; then it stops every
// watcher and waits for them. Endpoints that appear are watched, those that
// disappear are stopped. A list error keeps the current set.
func (s *Supervisor) Run(ctx context.Context, rescan time.Duration, list func() ([]Endpoint, error)) {
	defer s.wg.Wait()
	t := time.NewTicker(rescan)
	defer t.Stop()
	for {
		if eps, err := list(); err != nil {
			s.Options.withDefaults().Logger.Warn("cannot list hub endpoints", "err", err)
		} else {
			s.set(ctx, eps)
		}
		select {
		case <-ctx.Done():
			s.set(ctx, nil)
			return
		case <-t.C:
		}
	}
}

// set starts and stops watchers so that exactly eps are watched.
func (s *Supervisor) set(ctx context.Context, eps []Endpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.running = make(map[Endpoint]*watch)
	}
	want := make(map[Endpoint]bool, len(eps))
	for _, ep := range eps {
		want[ep] = true
		if _, ok := s.running[ep]; ok {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		w := &watch{cancel: cancel, stats: new(Stats)}
		s.running[ep] = w
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			Watch(wctx, ep, s.Options, w.stats, func(snap Snapshot) { s.Deliver(ep, snap) })
		}()
	}
	for ep, w := range s.running {
		if !want[ep] {
			w.cancel()
			delete(s.running, ep)
		}
	}
}

// Endpoints returns the endpoints watched now with their counters.
func (s *Supervisor) Endpoints() map[Endpoint]*Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[Endpoint]*Stats, len(s.running))
	for ep, w := range s.running {
		m[ep] = w.stats
	}
	return m
}
