package hubmon

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Supervisor keeps one Watch running per endpoint of a changing set: the
// moksha source of the pipeline.
type Supervisor struct {
	// Options are passed to every Watch.
	Options Options
	// List returns the endpoints to watch. It is called at the start and
	// then every Rescan (default 10 s).
	List   func() ([]model.Endpoint, error)
	Rescan time.Duration

	mu      sync.Mutex
	running map[model.Endpoint]*watch
	wg      sync.WaitGroup
}

type watch struct {
	cancel context.CancelFunc
	stats  *Stats
}

// Static returns a List function for a fixed set of endpoints.
func Static(eps []model.Endpoint) func() ([]model.Endpoint, error) {
	return func() ([]model.Endpoint, error) { return eps, nil }
}

// Run keeps the watched set equal to what List returns, until ctx ends;
// then it stops every watcher and waits for them. Endpoints that appear are
// watched, those that disappear are stopped. A List error keeps the current
// set. deliver gets every message of every endpoint; it is called from one
// goroutine per endpoint and must return quickly.
func (s *Supervisor) Run(ctx context.Context, deliver func(model.Message)) {
	defer s.wg.Wait()
	rescan := s.Rescan
	if rescan <= 0 {
		rescan = 10 * time.Second
	}
	t := time.NewTicker(rescan)
	defer t.Stop()
	for {
		if eps, err := s.List(); err != nil {
			s.Options.withDefaults().Logger.Warn("cannot list hub endpoints", "err", err)
		} else {
			s.set(ctx, eps, deliver)
		}
		select {
		case <-ctx.Done():
			s.set(ctx, nil, deliver)
			return
		case <-t.C:
		}
	}
}

// set starts and stops watchers so that exactly eps are watched.
func (s *Supervisor) set(ctx context.Context, eps []model.Endpoint, deliver func(model.Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.running = make(map[model.Endpoint]*watch)
	}
	want := make(map[model.Endpoint]bool, len(eps))
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
			Watch(wctx, ep, s.Options, w.stats, deliver)
		}()
	}
	for ep, w := range s.running {
		if !want[ep] {
			w.cancel()
			delete(s.running, ep)
		}
	}
}

// Watched returns the endpoints watched now with their counters, sorted by
// service.
func (s *Supervisor) Watched() []model.Watched {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]model.Watched, 0, len(s.running))
	for ep, w := range s.running {
		out = append(out, model.Watched{Endpoint: ep, Sessions: w.stats.Sessions.Load(), Oversize: w.stats.Oversize.Load(), Refused: w.stats.Refused.Load()})
	}
	slices.SortFunc(out, func(a, b model.Watched) int {
		return cmp.Or(strings.Compare(a.Endpoint.Service, b.Endpoint.Service), strings.Compare(a.Endpoint.Addr, b.Endpoint.Addr))
	})
	return out
}
