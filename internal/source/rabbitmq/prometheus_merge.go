package rabbitmq

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"
)

// merge makes one list of queues of the nodes' answers (errs[i] not nil:
// node i did not answer), at most limit of them in the order of their
// vhost and name, and updates the state: each node's counters, and each
// queue's totals.
//
// A queue's lengths and consumers are those of the node that leads it
// (4.x says which), else of the first node in order that reports them.
// Its counters in and out add up, over the nodes, the increments of its
// series (decodeExposition): the counters of each channel (3.x) or of
// the queue (4.x) that the node keeps, each since the node's previous
// answer (a series that went backwards restarted at 0), so series that
// vanish (a channel closed) take nothing away, and totals never go back.
// A node that does not answer keeps its series: when it answers again,
// they add all they counted meanwhile.
func (st *prometheus) merge(exps []exposition, errs []error, limit int, at time.Time) answer {
	var a answer
	for _, q := range st.queues {
		q.prev, q.seen, q.lostCounts = q.acc, false, false
	}
	all := true
	for i, e := range exps {
		if errs[i] != nil {
			all = false
			continue
		}
		a.bad += e.bad
		a.over += e.over
		if a.badErr == nil {
			a.badErr = e.badErr
		}
		st.count(e)
	}
	if all {
		// Every node answered: the totals of queues no node reports
		// are forgotten.
		maps.DeleteFunc(st.queues, func(_ qkey, q *queueState) bool { return !q.seen })
	}
	sorted := make([]qkey, 0, len(st.queues))
	for k, q := range st.queues {
		if q.seen {
			sorted = append(sorted, k)
		}
	}
	slices.SortFunc(sorted, func(x, y qkey) int {
		return cmp.Or(cmp.Compare(x.vhost, y.vhost), cmp.Compare(x.name, y.name))
	})
	vhosts := map[string]bool{}
	for _, k := range sorted {
		q, from, ok := st.lengths(k, exps, errs)
		switch {
		case !ok:
			continue // counters only: a queue whose node is not heard, or deleted
		case len(a.queues) >= limit, !vhosts[k.vhost] && len(vhosts) >= MaxVHosts:
			a.over++
			continue
		}
		vhosts[k.vhost] = true
		qs := st.queues[k]
		t := qs.acc
		q.Stats = stats{Publish: &t.publish, Deliver: &t.deliver}
		switch {
		case qs.lostCounts:
			// A counter gone with what it counted since the previous
			// poll: the totals no longer place the ready messages. They
			// are as last reported until a report places them again.
			qs.anchor = anchor{}
		case isCount(q.Ready):
			// A whole number of messages, as rabbitmqctl list_queues says.
			r := math.Round(readyNow(&qs.anchor, *q.Ready, from.reported, st.prevAt, at, qs.prev, t))
			q.Ready = &r
		}
		a.queues = append(a.queues, q)
	}
	st.prevAt = at
	return a
}

// count adds the increments of a node's counters to the totals of their
// queues.
func (st *prometheus) count(e exposition) {
	for k, q := range e.queues {
		qs := st.queues[k]
		if qs == nil {
			qs = &queueState{}
			st.queues[k] = qs
		}
		qs.seen = true
		qs.lostCounts = qs.lostCounts || q.lostCounts
		qs.acc.publish += q.in
		qs.acc.deliver += q.out
		qs.acc.redeliver += q.redeliver
	}
}

// lengths returns a queue's entry with the lengths and consumers of the
// node that leads it, or of the first that reports them, that node's
// entry, and whether one does.
func (st *prometheus) lengths(k qkey, exps []exposition, errs []error) (queue, *nodeQueue, bool) {
	var from *nodeQueue
	typ := ""
	for i := range exps {
		if errs[i] != nil {
			continue
		}
		q := exps[i].queues[k]
		if q == nil {
			continue
		}
		typ = cmp.Or(typ, q.typ)
		if q.ready.ok && (from == nil || q.leader && !from.leader) {
			from = q
		}
	}
	if from == nil {
		return queue{}, nil, false
	}
	return queue{Name: k.name, VHost: k.vhost, Ready: from.ready.ptr(), Unacked: from.unacked.ptr(), Consumers: from.consumers.ptr(), Type: typ}, from, true
}
