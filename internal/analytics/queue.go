package analytics

import "math"

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
}

// observe adds the snapshot's backlog at time t (seconds) and what its
// processing times say, over window seconds since the previous snapshot
// (0 on the first).
func (q *queue) observe(t, backlog float64, times []float64, window float64) {
	prev, hadPrev := 0.0, q.n > 0
	if hadPrev {
		prev = q.trend[q.n-1].backlog
	}
	if q.n == trendPoints {
		copy(q.trend[:], q.trend[1:])
		q.n--
	}
	q.trend[q.n] = point{t, backlog}
	q.n++
	if len(times) == 0 {
		return
	}
	sum := 0.0
	for _, d := range times {
		sum += d
	}
	beta := 1.0
	if window > 0 {
		beta = 1 - math.Exp(-window/shortHorizon)
	}
	if mean := sum / float64(len(times)); q.meanTime == 0 {
		q.meanTime = mean
	} else {
		q.meanTime += beta * (mean - q.meanTime)
	}
	// With messages waiting at both ends of the window, every worker was
	// busy throughout: the busy workers are the workers.
	if window > 0 && hadPrev && prev > 0 && backlog > 0 {
		busy := max(sum/window, 1)
		if !q.saturated {
			q.workers, q.saturated = busy, true
		} else {
			q.workers += beta * (busy - q.workers)
		}
	}
}

// expectedWait returns how long a message arriving now waits for a
// worker: the backlog over the service capacity (workers over the mean
// processing time); 0 when the backlog is empty; not valid while no
// processing time is known.
func (q *queue) expectedWait(backlog float64) (float64, bool) {
	switch {
	case backlog == 0:
		return 0, true
	case q.meanTime == 0:
		return 0, false
	}
	workers := q.workers
	if !q.saturated {
		workers = 1
	}
	return backlog * q.meanTime / workers, true
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
func (q *queue) drainOrGrowth(backlog float64) (drain, growth float64, isDrain, isGrowth bool) {
	s, step, ok := q.slope()
	switch {
	case !ok:
	case s < 0 && step < 0 && backlog > 0 && s <= step/4:
		return backlog / -s, 0, true, false
	case s > 0 && step > 0 && s >= step/4:
		return 0, s, false, true
	}
	return 0, 0, false, false
}
