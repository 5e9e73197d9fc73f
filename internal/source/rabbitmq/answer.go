package rabbitmq

// answer is what a poll kept of the broker's list of queues: the
// management API's answer, or the Prometheus nodes' merged (the one form
// that snapshots.go turns into snapshots).
type answer struct {
	queues []queue
	// over counts the selected queues past the cap, left out; bad the
	// entries that are not a queue, left out, badErr the first of them.
	over, bad int
	badErr    error
}

// setLengths points each queue at its entry in live, the answer to the
// request of lengths now. An entry of live that is not a queue, or whose
// queue is not in a, is left unused: its queue keeps the lengths of the
// statistics, and the entry was counted if bad in a too.
func (a *answer) setLengths(live answer) {
	type key struct{ vhost, name string }
	byName := make(map[key]*queue, len(live.queues))
	for i := range live.queues {
		q := &live.queues[i]
		byName[key{q.VHost, q.Name}] = q
	}
	for i := range a.queues {
		q := &a.queues[i]
		q.live = byName[key{q.VHost, q.Name}]
	}
}

// withheld tells an answer of queues none of which has statistics, some
// with lengths now: a broker whose management plugin collects no
// statistics.
func (a *answer) withheld() bool {
	live := false
	for _, q := range a.queues {
		if q.Ready != nil {
			return false
		}
		live = live || q.live != nil && q.live.Ready != nil
	}
	return live
}

// selected says whether a queue of this name is watched: --rabbitmq-queues
// and --rabbitmq-queues-exclude.
func (s *Source) selected(name string) bool {
	return (s.Queues == nil || s.Queues.MatchString(name)) && (s.Exclude == nil || !s.Exclude.MatchString(name))
}
