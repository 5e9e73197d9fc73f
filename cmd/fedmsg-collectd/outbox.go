package main

import (
	"sync"

	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
)

// outbox sits between the watchers and the single stdout writer. It keeps
// only the newest undelivered snapshot of each endpoint, so memory stays
// bounded and watchers never wait when collectd is slow to read our stdout;
// snapshots replaced before they were written are counted as dropped.
type outbox struct {
	mu      sync.Mutex
	pending map[hubmon.Endpoint]hubmon.Snapshot
	order   []hubmon.Endpoint // first-come order of pending endpoints
	dropped map[hubmon.Endpoint]int64
	ready   chan struct{} // holds a token while something is pending
}

func newOutbox() *outbox {
	return &outbox{
		pending: make(map[hubmon.Endpoint]hubmon.Snapshot),
		dropped: make(map[hubmon.Endpoint]int64),
		ready:   make(chan struct{}, 1),
	}
}

// put stores s as the newest snapshot of ep. It never blocks.
func (o *outbox) put(ep hubmon.Endpoint, s hubmon.Snapshot) {
	o.mu.Lock()
	if _, ok := o.pending[ep]; ok {
		o.dropped[ep]++
	} else {
		o.order = append(o.order, ep)
	}
	o.pending[ep] = s
	o.mu.Unlock()
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

type item struct {
	ep   hubmon.Endpoint
	snap hubmon.Snapshot
}

// take removes and returns everything pending, oldest endpoint first.
func (o *outbox) take() []item {
	o.mu.Lock()
	defer o.mu.Unlock()
	items := make([]item, 0, len(o.order))
	for _, ep := range o.order {
		items = append(items, item{ep, o.pending[ep]})
		delete(o.pending, ep)
	}
	o.order = o.order[:0]
	return items
}

// droppedCount returns how many snapshots of ep were replaced before being
// written.
func (o *outbox) droppedCount(ep hubmon.Endpoint) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dropped[ep]
}
