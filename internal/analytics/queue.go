package analytics

import (
	"math"
)

// The short-horizon figures follow a consumer within a period or two of a
// change, where the smoothed ones lag by about the smoothing constant:
// the expected wait of a message arriving now, and the drain time or
// growth rate from the backlog's own trend.

// trendPoints is how many recent snapshots the backlog's trend is fitted
// on (least squares): the current one and the two before, two publish
// periods.
const trendPoints = 3

// shortHorizon is the time constant, in seconds, of the light smoothing of
// the mean processing time and the number of busy workers: two publish
// periods.
const shortHorizon = 10.0

// capHorizon is the time constant, in seconds, of the smoothing of the
// capacity of the latest windows: mostly the latest window in which it
// could be seen, so that consumers that slow down or recover are noticed
// within a poll or two.
const capHorizon = 2.5

// inWindows is how many recent windows' arrival rates the drain time
// takes the median of: robust to a burst; a change of load is followed
// within two windows (queue.addIn).
const inWindows = 24

// drainHorizon is the time constant, in seconds, of the smoothing of the
// capacity that the drain time takes, unless the consumers change speed.
const drainHorizon = 30.0

// point is a backlog at a time, in seconds.
type point struct{ t, backlog float64 }

// queue is what the short-horizon figures keep of one consumer.
type queue struct {
	trend [trendPoints]point // the most recent last
	n     int                // points held
	// meanTime is the smoothed mean processing time in seconds, 0 until
	// the consumer finished a message.
	meanTime float64
	// workers is the estimated number of workers: the busy workers
	// (utilisation) while the backlog stayed non-empty, lightly smoothed;
	// 1 until the consumer was seen saturated.
	workers   float64
	saturated bool // workers has been measured
	// capacity is how many messages a second the consumers serve when
	// they never wait for work, per consumer attached when their number
	// is known (perWorker), lightly smoothed: learned in the windows where
	// the queue never emptied, and kept through quiet periods, for it
	// belongs to the consumers, not to the load. 0 until seen.
	capacity  float64
	perWorker bool
	// steadyCap is the same, smoothed over drainHorizon unless capacity
	// moves away from it by more than noise (the consumers changed speed):
	// the expected wait divides by it, and the drain time by it less the
	// arrival rate, often a small difference that the noise of one window
	// (a few slow messages in it) would swing.
	steadyCap float64
	// steadyN is how many windows steadyCap holds since it was last set.
	steadyN float64
	// prevWorkers is the consumers attached at the previous snapshot (NaN
	// when unknown).
	prevWorkers float64
	// ins are the arrival rates of the last windows, the latest last
	// (NaN: unknown), nIn how many are held.
	ins [inWindows]float64
	nIn int
	// idleSince is the time of the first of the latest snapshots that all
	// found messages waiting with none taken since (NaN: the latest found
	// none waiting, or some taken, or the departures are not known); a
	// stall is judged from it (stall).
	idleSince float64
	stalled   bool // the latest snapshot was judged a stall
	// held reads a lower bound of the capacity from the messages the
	// consumers hold, while none is learned (held.go).
	held held
	// before is the capacity before the latest window taught it per
	// consumer, undo whether that can still be taken back
	// (undoIfRecounted).
	before capState
	undo   bool
}

// obs is what one snapshot says of a consumer's queue.
type obs struct {
	t, backlog float64 // seconds; messages
	// in and out are the arrivals and departures since the previous
	// snapshot, over the window; workers the consumers attached; held the
	// messages they hold. NaN when unknown.
	in, out, workers, held float64
	times                  []float64
}

// observe adds a snapshot, window seconds after the previous one (0 on
// the first).
func (q *queue) observe(o obs, window float64) {
	prev, hadPrev := 0.0, q.n > 0
	if hadPrev {
		prev = q.trend[q.n-1].backlog
	}
	if q.n == trendPoints {
		copy(q.trend[:], q.trend[1:])
		q.n--
	}
	q.trend[q.n] = point{o.t, o.backlog}
	q.n++
	beta := 1.0
	if window > 0 {
		beta = 1 - math.Exp(-window/shortHorizon)
		q.addIn(o.in, window)
	}
	q.track(o, window)
	if o.backlog > 0 && o.held < o.workers {
		// Messages wait, so every consumer holds one at least: one that
		// reads fewer is between an acknowledgement and its next
		// delivery, a moment of a real broker's round trip.
		o.held = o.workers
	}
	prevHeld := q.held.prev
	if q.stalled {
		q.held.prev = o.held
	} else {
		q.held.add(o.held, o.out, window)
	}
	q.undoIfRecounted(o.workers)
	if window > 0 && hadPrev && o.out > 0 && o.backlog > 0 {
		switch {
		case prev >= o.out || farFromEmpty(prev, o.backlog, o.in):
			q.learnCapacity(o.out/window, o.workers, window)
		case grew(prev, o.backlog, o.in):
			// Only a drop beyond noise: windows picked because the queue
			// grew are the slow ones, and would pull the capacity down
			// (1-2 % in the simulation, 20 % on a real broker's single
			// such window). Less than a quarter of the capacity known is
			// consumers hanging, not slowing: a stall from the next poll,
			// judged by the capacity before.
			c := q.capacityTotal(o.workers)
			if r, ok := busyRate(o.out/window, o.workers, prevHeld, o.held); ok && (c == 0 || r >= c/4 && r < 0.7*c) {
				q.learnCapacity(r, o.workers, window)
			}
		}
	}
	q.prevWorkers = o.workers
	if len(o.times) == 0 {
		return
	}
	sum := 0.0
	for _, d := range o.times {
		sum += d
	}
	if mean := sum / float64(len(o.times)); q.meanTime == 0 {
		q.meanTime = mean
	} else {
		q.meanTime += beta * (mean - q.meanTime)
	}
	// With messages waiting at both ends of the window, every worker was
	// busy throughout: the busy workers are the workers.
	if window > 0 && hadPrev && prev > 0 && o.backlog > 0 {
		busy := max(sum/window, 1)
		if !q.saturated {
			q.workers, q.saturated = busy, true
		} else {
			q.workers += beta * (busy - q.workers)
		}
	}
}

// expectedWait returns how long a message arriving now waits for a
// worker: the backlog over the service capacity, from the processing
// times (workers over the mean processing time) or, without them, as
// learned; 0 when the backlog is empty; not valid while the capacity is
// not known, or with no consumer attached.
func (q *queue) expectedWait(backlog, workers float64) (float64, bool) {
	if stalled, ok := q.stall(workers); ok {
		// The time stalled so far, and then the backlog at the last
		// capacity known.
		if c := q.capacityTotal(workers); c > 0 {
			return stalled + backlog/c, true
		}
		return stalled, true
	}
	switch {
	case backlog == 0:
		return 0, true
	case q.meanTime > 0:
		w := q.workers
		if !q.saturated {
			w = 1
		}
		return backlog * q.meanTime / w, true
	}
	if c := q.capacityNow(q.steadyCap, workers); c > 0 {
		return backlog / c, true
	}
	if c := q.held.capacity(workers); c > 0 {
		return backlog / c, true
	}
	return 0, false
}

// slope returns the backlog's trend in messages per second (least squares
// over the points held) and the rate of change of the last step, or false
// with fewer than two points.
func (q *queue) slope() (perSecond, lastStep float64, ok bool) {
	if q.n < 2 {
		return 0, 0, false
	}
	ps := q.trend[:q.n]
	var mt, mb float64
	for _, p := range ps {
		mt += p.t
		mb += p.backlog
	}
	mt /= float64(len(ps))
	mb /= float64(len(ps))
	var num, den float64
	for _, p := range ps {
		num += (p.t - mt) * (p.backlog - mb)
		den += (p.t - mt) * (p.t - mt)
	}
	if den == 0 {
		return 0, 0, false
	}
	last, prev := ps[len(ps)-1], ps[len(ps)-2]
	if last.t <= prev.t {
		return 0, 0, false
	}
	return num / den, (last.backlog - prev.backlog) / (last.t - prev.t), true
}

// drainOrGrowth returns the drain time (seconds) while the backlog
// shrinks, or the growth rate (messages per second) while it grows: the
// trend and the last step must agree, in direction and within a factor of
// four in rate, so neither is given on the turn (where the trend is near
// nothing and the drain time would be days).
//
// Without processing times and with the capacity known (learned, or from
// the messages held: then at most that, and the trend's where shorter), a
// shrinking backlog (on the last step) drains at the capacity less the
// arrival rate (the median of the last windows'): given from the first step down, so a
// burst that empties within a few snapshots has its drain time too.
func (q *queue) drainOrGrowth(backlog, workers float64) (drain, growth float64, isDrain, isGrowth bool) {
	if _, stalled := q.stall(workers); stalled {
		return 0, 0, false, false
	}
	s, step, ok := q.slope()
	if ok && step < 0 && backlog > 0 && q.meanTime == 0 && q.nIn > 0 {
		learned := q.capacityNow(q.steadyCap, workers)
		if r := learned - q.arrivalRate(); learned > 0 && r > 0 {
			return backlog / r, 0, true, false
		}
		if r := q.held.capacity(workers) - q.arrivalRate(); learned == 0 && r > 0 && s < 0 {
			// A lower bound of the capacity: an upper bound of the drain
			// time, long where the capacity is near the arrivals (a small
			// difference); not on a turn (the trend still up), and the
			// backlog's own trend where it says less.
			d := backlog / r
			if s < 0 && s <= step/4 {
				d = min(d, backlog/-s)
			}
			return d, 0, true, false
		}
	}
	switch {
	case !ok:
	case s < 0 && step < 0 && backlog > 0 && s <= step/4:
		return backlog / -s, 0, true, false
	case s > 0 && step > 0 && s >= step/4:
		return 0, s, false, true
	}
	return 0, 0, false, false
}
