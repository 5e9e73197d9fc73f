package analytics

import "math"

// Without processing times, the consumers' capacity is learned where they
// are seen saturated (learnCapacity): not before an overload's first
// snapshot, nor after a stall. The messages they hold tell it sooner (a
// broker's unacknowledged messages): by Little's law on the consumers
// themselves, the mean number held over the rate they are taken is the
// time each is held, saturated or not. Where each consumer works on one
// message at a time and holds only that one (a prefetch of 1), that time
// is the processing time, and the consumers' capacity is their number
// over it. Where a consumer holds more than it works on (a prefetch above
// 1: messages wait in its own buffer), a message is held longer than it
// is processed; where it works on several at once, each is processed in
// the time held but several in that time: either way their number over
// the time held is less than their capacity, and the rate they take
// messages is never more than it, so the larger of the two is a lower
// bound of the capacity, and the expected wait from it an upper bound.
// It serves only while no capacity has been learned, and not during a
// stall, whose windows say nothing of the consumers' speed.

// heldHorizon is the time constant, in seconds, of the sums the time held
// is read from: twelve polls of 5 s. The messages held are counted at the
// polls only, a few at a time (2.4 on average for three consumers at 80 %
// of their capacity), and that sampling noise must average out; a
// consumer coming back after a hang is then seen in a minute, not in
// half of one (docs/analytics.md).
const heldHorizon = 60.0

// heldMin is how many messages taken the sums must count before the time
// held is read from them.
const heldMin = 20.0

// held is what the messages held by the consumers say of their capacity.
type held struct {
	prev            float64 // messages held at the previous snapshot (NaN: unknown)
	area, out, span float64 // decaying sums of messages held x seconds, messages taken, seconds
}

// add takes a window of window seconds ending at a snapshot that found
// now messages held and out taken since the previous one.
func (h *held) add(now, out, window float64) {
	prev := h.prev
	h.prev = now
	if window <= 0 || math.IsNaN(now) || math.IsNaN(prev) || math.IsNaN(out) {
		return
	}
	d := math.Exp(-window / heldHorizon)
	h.area = d*h.area + window*(prev+now)/2
	h.out = d*h.out + out
	h.span = d*h.span + window
}

// restart forgets the sums (the consumers changed: a stall ended).
func (h *held) restart() { h.area, h.out, h.span = 0, 0, 0 }

// capacity returns the lower bound of the capacity of workers consumers
// in messages a second (see above), or 0 when it cannot be read: the
// consumers' number or the messages held unknown, too few messages taken.
func (h *held) capacity(workers float64) float64 {
	if math.IsNaN(workers) || workers <= 0 || h.out < heldMin || h.area <= 0 || h.span <= 0 {
		return 0
	}
	rate, mean := h.out/h.span, h.area/h.span
	return rate * workers / min(mean, workers)
}
