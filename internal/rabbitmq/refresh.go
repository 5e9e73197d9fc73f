package rabbitmq

import (
	"context"
	"sync"
	"time"
)

// A queue's lengths in rabbitmq_prometheus's answers are those the queue
// last reported, every collect_statistics_interval (5 s by default) on a
// timer of its own, while its counters of messages in and out are
// counted as messages pass: so the lengths are up to 5 s older than the
// counters, by an age that differs from queue to queue (measured on
// 3.10: 4.9 s for one queue, polled every 5 s, at every poll). The
// source finds when each queue last reported: its reductions counter
// changes at each report, and between polls the source reads the queue
// family alone every RefreshEvery. The lengths are then brought to the
// poll's moment with the messages in and out since that report (the
// counters' growth over the poll's window, as if even over it).

// RefreshEvery is how often the queues' lengths are read between polls
// to tell when each queue reported them, within 1.25 s: a quarter of the
// broker's default statistics interval.
const RefreshEvery = 1250 * time.Millisecond

// seen is what a node's requests tell of when a queue reported.
type seen struct {
	reductions float64
	// reported is the estimated moment of the queue's latest report;
	// zero while not known.
	reported time.Time
}

// refreshes tracks, per node, each queue's reports.
type refreshes struct {
	mu      sync.Mutex
	last    time.Time // the middle of the node's previous request
	byQueue map[qkey]seen
}

// observe takes the reductions of a node's answer at at (the middle of
// its request): a queue whose reductions changed since the previous
// request reported in between, estimated halfway.
func (r *refreshes) observe(e exposition, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := make(map[qkey]seen, len(e.queues))
	for k, q := range e.queues {
		if q.reductions == nil {
			continue
		}
		s, ok := r.byQueue[k]
		switch {
		case !ok:
			s = seen{}
		case s.reductions != *q.reductions && !r.last.IsZero():
			s.reported = r.last.Add(at.Sub(r.last) / 2)
		}
		s.reductions = *q.reductions
		next[k] = s
	}
	r.byQueue, r.last = next, at
}

// reported returns the estimated moment of a queue's latest report, or
// zero.
func (r *refreshes) reported(k qkey) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byQueue[k].reported
}

// refreshBetween reads the nodes' queue lengths every RefreshEvery until
// half a RefreshEvery before the next poll, due at next.
func (s *Source) refreshBetween(ctx context.Context, next time.Time) {
	for at := time.Now().Add(RefreshEvery); at.Before(next.Add(-RefreshEvery / 2)); at = at.Add(RefreshEvery) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(at)):
		}
		var wg sync.WaitGroup
		for _, n := range s.prom.nodes {
			wg.Go(func() {
				start := s.Now()
				e, err := s.getExposition(ctx, n, true)
				if err == nil {
					n.refresh.observe(e, start.Add(s.Now().Sub(start)/2))
				}
			})
		}
		wg.Wait()
	}
}

// bringForward returns a queue's ready messages brought from its latest
// report to now: plus the messages in, less those out, since then, as
// the growth of its totals from the previous poll (at prevAt) to now
// spreads over the window. Without a known report, or a previous poll,
// it returns ready.
func bringForward(ready float64, reported, prevAt, now time.Time, prev, cur totals) float64 {
	if reported.IsZero() || prevAt.IsZero() || !now.After(prevAt) || !reported.Before(now) {
		return ready
	}
	after := 1.0 // the share of the window after the report
	if reported.After(prevAt) {
		after = float64(now.Sub(reported)) / float64(now.Sub(prevAt))
	}
	in := (cur.publish - prev.publish) * after
	out := (cur.deliver - prev.deliver) * after
	return max(0, ready+in-out)
}
