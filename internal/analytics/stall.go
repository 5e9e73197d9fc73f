package analytics

import "math"

// A stall is a queue whose consumers are attached and take nothing: a
// hung database call, a deadlock, a consumer holding its prefetch for
// hours. Messages wait at every snapshot for at least a whole window and
// none is taken, for longer than the consumers' capacity explains (three
// mean times between departures at capacity: one worker spending 30 s on
// each message is slow, not stalled, until 90 s pass). During a stall the
// expected wait is no number made from a window before it: it is the time
// stalled so far plus the backlog over the last capacity known, and grows
// while the stall lasts; there is no drain time; and the capacity is
// learned again from the first windows served after it.

// stallMargin is how many mean times between departures at capacity a
// stall must last beyond the window.
const stallMargin = 3.0

// track follows how long messages have waited with none taken, from the
// snapshot o, window seconds after the previous one (0 on the first).
func (q *queue) track(o obs, window float64) {
	switch {
	case o.backlog <= 0:
		q.idleSince = math.NaN()
	case window == 0:
		// The first snapshot: its departures are not known (a polled
		// source counts from its second poll); waiting from now.
		q.idleSince = o.t
	case math.IsNaN(o.out):
		q.idleSince = math.NaN()
	case o.out > 0 || math.IsNaN(q.idleSince):
		// Taken from, or waiting from now on: a stall, if one, starts here.
		q.idleSince = o.t
	}
	was := q.stalled
	q.stalled = false
	if _, ok := q.stall(o.workers); ok {
		q.stalled = true
	} else if was && o.out > 0 {
		// Served again after a stall: the capacity before says nothing of
		// the consumers now.
		q.capacity, q.steadyCap, q.undo = 0, 0, false
		q.held.restart()
	}
}

// stall returns how long the queue has been stalled at its latest
// snapshot, with workers attached (NaN: unknown, taken as attached), and
// whether it is.
func (q *queue) stall(workers float64) (float64, bool) {
	if math.IsNaN(q.idleSince) || workers == 0 || q.n == 0 {
		return 0, false
	}
	idle := q.trend[q.n-1].t - q.idleSince
	if idle <= 0 || q.n < 2 || idle < q.trend[q.n-1].t-q.trend[q.n-2].t {
		return 0, false
	}
	if c := q.capacityTotal(workers); c > 0 && idle <= stallMargin/c {
		return 0, false
	}
	return idle, true
}

// capacityTotal is the messages a second the consumers serve at most, as
// far as known: from the processing times, else as learned, else the
// lower bound the messages they hold give; 0 when not known.
func (q *queue) capacityTotal(workers float64) float64 {
	if q.meanTime > 0 {
		w := q.workers
		if !q.saturated {
			w = 1
		}
		return w / q.meanTime
	}
	if c := q.capacityNow(q.steadyCap, workers); c > 0 {
		return c
	}
	return q.held.capacity(workers)
}
