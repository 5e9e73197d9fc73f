package rabbitmq

import (
	"fmt"

	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// decoding is one answer being decoded.
type decoding struct {
	c     *seriesCache
	e     *exposition
	level int
	heard bool
	at    []*nodeQueue // by queue index: its entry in e.queues
	qs    []nodeQueue
}

// nodeQueue returns the answer's entry of a queue.
func (d *decoding) nodeQueue(i int32) *nodeQueue {
	for int(i) >= len(d.at) {
		d.at = append(d.at, nil)
	}
	if d.at[i] == nil {
		if len(d.qs) == cap(d.qs) {
			// A new block: the entries already handed out stay put.
			d.qs = make([]nodeQueue, 0, max(64, len(d.c.queues)-len(d.e.queues)))
		}
		d.qs = append(d.qs, nodeQueue{})
		q := &d.qs[len(d.qs)-1]
		cq := &d.c.queues[i]
		d.e.queues[cq.key] = q
		d.at[i] = q
		cq.seen = d.c.answer
	}
	return d.at[i]
}

// apply adds a series of the answer to the exposition.
func (d *decoding) apply(i int32) {
	s := &d.c.series[i]
	switch {
	case s.flags&skipped != 0:
		return
	case s.kind == kindBuild:
		d.c.major = int(s.typ)
		return
	case s.flags&bad != 0:
		d.e.skip(fmt.Errorf("a sample without a queue and vhost of at most %d bytes", maxName))
		return
	}
	q := d.nodeQueue(s.queue)
	if s.kind == kindInfo {
		q.typ, q.leader = queueTypes[s.typ], s.flags&leader != 0
		return
	}
	if !isCount(&s.v) {
		d.e.skip(fmt.Errorf("%s of queue %.80q: %v is not a count", kindName(int(s.kind)), d.c.queues[s.queue].key.name, s.v))
		return
	}
	switch s.kind {
	case kindReady:
		q.ready = opt{s.v, true}
	case kindUnacked:
		q.unacked = opt{s.v, true}
	case kindConsumers:
		q.consumers = opt{s.v, true}
	case kindReductions:
		cq := &d.c.queues[s.queue]
		q.reported = cq.hasReductions && cq.reductions != s.v
		cq.reductions, cq.hasReductions = s.v, true
	default:
		s.flags |= countNow
		if (int(s.kind)-kindIn)/3 != d.level {
			return // another level's, or a node's first answer: a baseline
		}
		delta := 0.0
		switch {
		case s.flags&hasLast != 0:
			delta = httppoll.Delta(s.v, s.last)
		case d.heard:
			delta = s.v
		}
		switch (int(s.kind) - kindIn) % 3 {
		case 0:
			q.in += delta
		case 1:
			q.out += delta
		case 2:
			q.redeliver += delta
		}
	}
}
