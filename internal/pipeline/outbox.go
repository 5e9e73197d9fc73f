package pipeline

import (
	"sync"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// outboxDepth is how many unprocessed messages of one endpoint the outbox
// holds: a writer held up for up to two publish periods (a broker's
// answer of ten thousand queues taken in, a collectd slow for a moment)
// loses nothing, while one stalled for good holds at most this many.
const outboxDepth = 3

// outbox sits between the source's goroutines and the single writer loop.
// It keeps the newest outboxDepth unprocessed messages of each endpoint,
// so memory stays bounded and the source never waits when the sink
// (collectd reading our stdout) is slow; messages pushed out before they
// were processed are counted as dropped.
type outbox struct {
	mu      sync.Mutex
	pending map[model.Endpoint][]model.Message // oldest first
	order   []model.Endpoint                   // first-come order of pending endpoints
	dropped map[model.Endpoint]int64
	ready   chan struct{} // holds a token while something is pending
}

func newOutbox() *outbox {
	return &outbox{
		pending: make(map[model.Endpoint][]model.Message),
		dropped: make(map[model.Endpoint]int64),
		ready:   make(chan struct{}, 1),
	}
}

// put stores m as the newest message of its endpoint. It never blocks.
func (o *outbox) put(m model.Message) {
	ep := m.Endpoint
	o.mu.Lock()
	q, ok := o.pending[ep]
	switch {
	case !ok:
		o.order = append(o.order, ep)
	case q[len(q)-1].Heartbeat:
		q = q[:len(q)-1] // a heartbeat replaced loses nothing
	case len(q) == outboxDepth:
		if !q[0].Heartbeat {
			o.dropped[ep]++
		}
		q = append(q[:0], q[1:]...)
	}
	o.pending[ep] = append(q, m)
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) signal() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

// take removes and returns the oldest pending message of each endpoint,
// oldest endpoint first: one update never holds two snapshots of one
// endpoint. Whatever remains signals ready again.
func (o *outbox) take() []model.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	ms := make([]model.Message, 0, len(o.order))
	rest := o.order[:0]
	for _, ep := range o.order {
		q := o.pending[ep]
		ms = append(ms, q[0])
		if len(q) == 1 {
			delete(o.pending, ep)
			continue
		}
		o.pending[ep] = q[1:]
		rest = append(rest, ep)
	}
	o.order = rest
	if len(rest) > 0 {
		o.signal()
	}
	return ms
}

// droppedCount returns how many messages of ep were pushed out before
// being processed.
func (o *outbox) droppedCount(ep model.Endpoint) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dropped[ep]
}

// forget drops the counts of endpoints no longer watched.
func (o *outbox) forget(keep map[model.Endpoint]bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for ep := range o.dropped {
		if !keep[ep] {
			delete(o.dropped, ep)
		}
	}
}
