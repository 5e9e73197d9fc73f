package analytics

import (
	"math"
	"slices"
)

// addIn adds the arrivals of the latest window. When they and those of
// the window before both differ from what the median of the older windows
// makes expected, in the same direction and by more than chance allows
// (three standard deviations of a Poisson count, and three messages), the
// load changed: only the latest window is kept, for the one before it
// most likely straddles the change (a load changes between polls).
func (q *queue) addIn(n, window float64) {
	rate := n / window
	if q.nIn >= 3 {
		m, prev := median(q.ins[:q.nIn-1]), q.ins[q.nIn-1]
		off := func(r float64) float64 {
			e := m * window
			if d := (r - m) * window; math.Abs(d) > 3*math.Sqrt(e)+3 {
				return math.Copysign(1, d)
			}
			return 0
		}
		if d := off(rate); d != 0 && d == off(prev) {
			q.nIn = 0
		}
	}
	if q.nIn == inWindows {
		copy(q.ins[:], q.ins[1:])
		q.nIn--
	}
	q.ins[q.nIn] = rate
	q.nIn++
}

// arrivalRate is the arrival rate the drain time takes: the median of the
// last windows'.
func (q *queue) arrivalRate() float64 { return median(q.ins[:q.nIn]) }

// median returns the median of xs: of an even number, the mean of the
// middle two.
func median(xs []float64) float64 {
	var sorted [inWindows]float64
	n := copy(sorted[:], xs)
	slices.Sort(sorted[:n])
	if n%2 == 0 {
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return sorted[n/2]
}
