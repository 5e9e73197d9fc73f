package rabbitmq

import (
	"context"
	"maps"
	"slices"
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

// statisticsInterval is how often a queue with messages passing reports
// its lengths: RabbitMQ's default collect_statistics_interval. A queue
// starts its timer at its first message after a quiet spell, so the
// report after a message comes within this.
const statisticsInterval = 5 * time.Second

// history is the queues' totals at the last polls, back over a
// statisticsInterval and a RefreshEvery.
type history []polled

// polled is the queues' totals at a poll.
type polled struct {
	at  time.Time
	acc map[qkey]totals
}

// add keeps the totals of a poll at at, and forgets those no longer
// needed: the newest one older than the span, and those after it.
func (h *history) add(at time.Time, acc map[qkey]totals) {
	*h = append(*h, polled{at, maps.Clone(acc)})
	span := at.Add(-statisticsInterval - RefreshEvery)
	keep := 0
	for i, p := range *h {
		if !p.at.After(span) {
			keep = i
		}
	}
	*h = slices.Delete(*h, 0, keep)
}

// bringForward returns a queue's ready messages brought from its latest
// report (at reported, zero when not known) to now, when its totals are
// cur: plus the messages in, less those out, since then. The totals at
// the report are interpolated between the polls around it, as if
// messages passed evenly between them; a report before the oldest poll
// kept takes that poll's totals (no message passed between them, or a
// report would have followed). A queue through which no message passed
// since before a statisticsInterval and a RefreshEvery ago has reported
// since its last message: its ready messages are those reported.
func (h history) bringForward(k qkey, ready float64, reported, now time.Time, cur totals) float64 {
	if reported.IsZero() || len(h) == 0 || !reported.Before(now) {
		return ready
	}
	quietSince := now.Add(-statisticsInterval - RefreshEvery)
	for i := len(h) - 1; i >= 0; i-- {
		if !h[i].at.After(quietSince) {
			if h[i].acc[k] == cur {
				return ready
			}
			break
		}
	}
	then := h[0].acc[k]
	for i, p := range h {
		if p.at.After(reported) {
			break
		}
		next, nextAt := cur, now
		if i+1 < len(h) {
			next, nextAt = h[i+1].acc[k], h[i+1].at
		}
		f := float64(reported.Sub(p.at)) / float64(nextAt.Sub(p.at))
		f = min(1, max(0, f))
		then = totals{p.acc[k].publish + f*(next.publish-p.acc[k].publish), p.acc[k].deliver + f*(next.deliver-p.acc[k].deliver)}
	}
	return max(0, ready+(cur.publish-then.publish)-(cur.deliver-then.deliver))
}
