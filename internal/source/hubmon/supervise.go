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
	// Forget is how long an endpoint that List no longer returns (a
	// hub's socket file removed) stays watched for liveness, its hub lost,
	// before it is forgotten. Default 24 h.
	Forget time.Duration
	// Skipped, if set, says how many files List skipped (Discovery.Skipped).
	Skipped func() int
	// Now reads the clock for Forget; default time.Now.
	Now func() time.Time

	mu      sync.Mutex
	running map[model.Endpoint]*watch
	wg      sync.WaitGroup

	reach       sync.Once // Hopeless's one look
	unreachable string
}

type watch struct {
	cancel context.CancelFunc // nil while gone
	stats  *Stats
	gone   time.Time // when List stopped returning it; zero while listed
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
	logged := "" // the listing error logged last: each is logged once
	for {
		if eps, err := s.List(); err != nil {
			if err.Error() != logged {
				logged = err.Error()
				s.Options.withDefaults().Logger.Warn("cannot list hub endpoints", "err", err)
			}
		} else {
			logged = ""
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

// set starts watchers for eps and stops those of the others, which stay
// for liveness until Forget has passed.
func (s *Supervisor) set(ctx context.Context, eps []model.Endpoint, deliver func(model.Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.running = make(map[model.Endpoint]*watch)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	forget := s.Forget
	if forget <= 0 {
		forget = 24 * time.Hour
	}
	want := make(map[model.Endpoint]bool, len(eps))
	for _, ep := range eps {
		want[ep] = true
		w, ok := s.running[ep]
		if ok && w.cancel != nil {
			continue
		}
		if !ok {
			w = &watch{stats: new(Stats)}
			s.running[ep] = w
		}
		wctx, cancel := context.WithCancel(ctx)
		w.cancel, w.gone = cancel, time.Time{}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			Watch(wctx, ep, s.Options, w.stats, deliver)
		}()
	}
	for ep, w := range s.running {
		switch {
		case want[ep]:
		case ctx.Err() != nil:
			if w.cancel != nil {
				w.cancel()
			}
			delete(s.running, ep)
		case w.cancel != nil:
			w.cancel()
			w.cancel, w.gone = nil, now()
		case now().Sub(w.gone) >= forget:
			delete(s.running, ep)
		}
	}
}

// SkippedFiles says how many files discovery skipped (0 without).
func (s *Supervisor) SkippedFiles() int {
	if s.Skipped == nil {
		return 0
	}
	return s.Skipped()
}

// Watched returns the endpoints watched now with their counters, sorted by
// service: those whose socket went away too, until they are forgotten.
func (s *Supervisor) Watched() []model.Watched {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]model.Watched, 0, len(s.running))
	for ep, w := range s.running {
		out = append(out, model.Watched{Endpoint: ep, Sessions: w.stats.Sessions.Load(), Oversize: w.stats.Oversize.Load(), Refused: w.stats.Refused.Load(), LastError: w.stats.LastError()})
	}
	slices.SortFunc(out, func(a, b model.Watched) int {
		return cmp.Or(strings.Compare(a.Endpoint.Service, b.Endpoint.Service), strings.Compare(a.Endpoint.Addr, b.Endpoint.Addr))
	})
	return out
}
