package rabbitmq

import (
	"time"
)

// A queue's lengths in rabbitmq_prometheus's answers are those the queue
// last reported, every collect_statistics_interval (5 s by default) on a
// timer of its own, while its counters of messages in and out count as
// messages pass: so the lengths are up to 5 s older than the counters
// (measured on 3.10: 4.9 s, at every poll, for a queue polled every
// 5 s). The source brings them to the poll's moment with the counters.
//
// A queue's ready messages change only as messages come in, go out for
// the first time, or leave or come back otherwise (expire, are purged,
// dead-lettered in or out, requeued; a channel that closed took along
// what it counted since the previous poll, and then V is learned anew,
// prometheus_merge.go):
//
//	ready(t) = V + N(t),  N = in - first
//
// where in and first (deliveries and gets, less redeliveries) are the
// counters' totals and V changes only with the rarer events. So the
// ready messages now are V + N(now), and V is learned from the reports.
// A report of r since the previous poll (the queue's reductions counter
// changes at each report) was made at a moment of the window: at most a
// statistics interval ago, so V is about r - N at the middle of that
// (N interpolated between the polls), within the change of N over it:
// exactly, when N did not move (no message passed, or as many went out
// as came in). Each report's estimate is weighed against the one before
// by how far each can be off (a Kalman filter of one value). And since
// N can only have been between N before less the first deliveries and N
// before plus the messages in, V lies between r less the latter and r
// less the former: a report outside that moves V there at once. A queue
// through which nothing passed for a statistics interval has reported
// after its last message (its timer runs from its first message after a
// quiet spell), so its lengths are as they are now, and V exact.

// statisticsInterval is how often a queue through which messages pass
// reports its lengths: RabbitMQ's default collect_statistics_interval.
const statisticsInterval = 5 * time.Second

// net is N: the messages in less those delivered for the first time.
func (t totals) net() float64 { return t.publish - (t.deliver - t.redeliver) }

// anchor is a queue's estimate of V, with its variance, once a report
// has placed it.
type anchor struct {
	v, variance float64
	known       bool
	// quietFrom is the first poll since which no message passed.
	quietFrom time.Time
}

// drift is how much V's variance grows at each report (messages²): the
// rarer events move it.
const drift = 1.0

// readyNow returns a queue's ready messages at now, from ready as last
// reported, and updates its anchor a: reported tells the queue reported
// since the previous poll, at prevAt, when its totals were prev; cur are
// its totals now. Until a report has placed the anchor, it returns ready.
func readyNow(a *anchor, ready float64, reported bool, prevAt, now time.Time, prev, cur totals) float64 {
	if cur != prev || a.quietFrom.IsZero() {
		a.quietFrom = now
	}
	switch {
	case !now.Add(-statisticsInterval).Before(a.quietFrom):
		// Nothing passed for a statistics interval: the queue reported
		// after the last message, so its report is as it is now.
		a.v, a.variance, a.known = ready-cur.net(), 0, true
	case reported && !prevAt.IsZero() && now.After(prevAt):
		window := now.Sub(prevAt)
		f := max(0, float64(window-statisticsInterval)/float64(window))
		nFrom := prev.net() + f*(cur.net()-prev.net())
		guess := ready - (nFrom+cur.net())/2
		spread := cur.net() - nFrom
		in, first := cur.publish-prev.publish, (cur.deliver-cur.redeliver)-(prev.deliver-prev.redeliver)
		// How far N at the report's moment can be from the middle: the
		// net change over the window (uniform), and the messages that
		// came and went within it, a walk pinned at both ends (its
		// variance at a uniform moment is a sixth of its steps): a
		// window through which many passed tells V little even when as
		// many came as went. Counts are whole.
		variance := spread*spread/12 + (1-f)*(in+first)/6 + 0.25
		if !a.known {
			a.v, a.variance, a.known = guess, variance, true
		} else {
			a.variance += drift
			k := a.variance / (a.variance + variance)
			a.v += k * (guess - a.v)
			a.variance *= 1 - k
		}
		a.v = min(ready-(prev.net()-first), max(ready-(prev.net()+in), a.v))
	}
	if !a.known {
		return ready
	}
	return max(0, a.v+cur.net())
}
