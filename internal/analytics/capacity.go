package analytics

import "math"

// How the consumers' capacity is learned without processing times (a
// broker's queue, a stage behind counters): from the windows in which
// they never waited for work (observe), and the drops a growing queue
// shows. docs/analytics.md, "Capacity without processing times".

// learnCapacity takes the rate served over a window in which the queue
// never emptied (the messages waiting at its start outnumbered those
// served, or it stayed far from empty), so the consumers never waited
// for work and served at capacity; or a drop, the rate of a window in
// which it grew (busyRate). With the consumers' number known, and the
// same at both ends, it is learned per consumer.
func (q *queue) learnCapacity(served, workers, window float64) {
	beta := 1 - math.Exp(-window/capHorizon)
	per := !math.IsNaN(workers)
	if per {
		if workers != q.prevWorkers || workers <= 0 {
			return
		}
		served /= workers
		q.before, q.undo = capState{q.capacity, q.steadyCap, q.steadyN, q.perWorker}, true
	}
	if q.capacity == 0 || per != q.perWorker {
		q.capacity, q.steadyCap, q.perWorker, q.steadyN = served, served, per, 1
		return
	}
	q.capacity += beta * (served - q.capacity)
	// The mean of the windows since the speed last changed, until their
	// time passes drainHorizon.
	q.steadyN++
	q.steadyCap += max(1/q.steadyN, 1-math.Exp(-window/drainHorizon)) * (served - q.steadyCap)
	if math.Abs(q.capacity-q.steadyCap) > 0.3*q.steadyCap {
		// Not noise: the consumers changed speed.
		q.steadyCap, q.steadyN = served, 1
	}
}

// capState is the capacity as learned: what a window's learning is taken
// back to.
type capState struct {
	capacity, steadyCap, steadyN float64
	perWorker                    bool
}

// undoIfRecounted takes back what the previous window taught per
// consumer when their number changed at this snapshot. A broker counts
// the consumers on a timer of its own (5 s), so the window before the
// new count shows may have been served by them already: two consumers of
// four coming back were learned as two serving twice their speed, and
// the expected wait once four were counted was half the truth (a real
// broker, TestRabbitMQIncidentIntegration).
func (q *queue) undoIfRecounted(workers float64) {
	if q.undo && workers != q.prevWorkers && !math.IsNaN(workers) && !math.IsNaN(q.prevWorkers) {
		b := q.before
		q.capacity, q.steadyCap, q.steadyN, q.perWorker = b.capacity, b.steadyCap, b.steadyN, b.perWorker
	}
	q.undo = false
}

// farFromEmpty says whether a queue stayed far from empty through a
// window, from prev to now messages waiting with in arrivals in it: both
// beyond what chance moves (three standard deviations of a Poisson count
// of the arrivals, and three messages), so that to have emptied between
// them it would have had to fall that far and rise again. Messages
// waiting at its start need not outnumber those served in it: a queue
// that drains from 135 at 30 msg/s serves 150 in 5 s without emptying.
func farFromEmpty(prev, now, in float64) bool {
	return !math.IsNaN(in) && min(prev, now) >= 3*math.Sqrt(in)+3
}

// grew says whether a queue's backlog grew over a window, from prev to
// now with in arrivals in it, by more than chance allows (three standard
// deviations of a Poisson count of the arrivals, and three messages): the
// consumers served less than arrived, and were busy for most of it, even
// where the queue was empty at its start (a slowdown, a consumer lost).
func grew(prev, now, in float64) bool {
	return !math.IsNaN(in) && now-prev > 3*math.Sqrt(in)+3
}

// busyRate is the rate served over a window that began with the queue
// empty or nearly so, as if the consumers had been busy throughout, by
// Little's law on them: the rate over the mean of the messages they held
// at the window's ends, times the consumers (their idle time at the
// window's start taken out). Not known without the messages held: the
// rate served alone is then a lower bound that a burst in the window's
// middle would halve.
func busyRate(served, workers, heldStart, heldEnd float64) (float64, bool) {
	mean := (heldStart + heldEnd) / 2
	if math.IsNaN(mean) || math.IsNaN(workers) || mean <= 0 || workers <= 0 {
		return 0, false
	}
	return served * workers / min(mean, workers), true
}

// capacityNow is the consumers' capacity in messages a second, c as
// learned rescaled to the consumers attached now; 0 when not known.
func (q *queue) capacityNow(c, workers float64) float64 {
	if q.perWorker && !math.IsNaN(workers) {
		return c * workers
	}
	return c
}
