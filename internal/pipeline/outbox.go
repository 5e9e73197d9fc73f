package pipeline

import (
	"sync"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// outbox sits between the source's goroutines and the single writer loop.
// It keeps only the newest unprocessed message of each endpoint, so memory
// stays bounded and the source never waits when the sink (collectd reading
// our stdout) is slow; messages replaced before they were processed are
// counted as dropped.
type outbox struct {
	mu      sync.Mutex
	pending map[model.Endpoint]model.Message
	order   []model.Endpoint // first-come order of pending endpoints
	dropped map[model.Endpoint]int64
	ready   chan struct{} // holds a token while something is pending
}

func newOutbox() *outbox {
	return &outbox{
		pending: make(map[model.Endpoint]model.Message),
		dropped: make(map[model.Endpoint]int64),
		ready:   make(chan struct{}, 1),
	}
}

// put stores m as the newest message of its endpoint. It never blocks.
func (o *outbox) put(m model.Message) {
	ep := m.Endpoint
	o.mu.Lock()
	if prev, ok := o.pending[ep]; ok {
		if !prev.Heartbeat {
			o.dropped[ep]++ // a heartbeat replaced loses nothing
		}
	} else {
		o.order = append(o.order, ep)
	}
	o.pending[ep] = m
	o.mu.Unlock()
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

// take removes and returns everything pending, oldest endpoint first.
func (o *outbox) take() []model.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	ms := make([]model.Message, 0, len(o.order))
	for _, ep := range o.order {
		ms = append(ms, o.pending[ep])
		delete(o.pending, ep)
	}
	o.order = o.order[:0]
	return ms
}

// droppedCount returns how many messages of ep were replaced before being
// processed.
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
