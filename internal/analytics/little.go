package analytics

import (
	"math"
	"sort"
)

// little keeps a consumer's cumulative departures and arrivals, for the
// mean wait of the messages that left the queue over the trailing window.
// Messages leave in the order they came (FIFO), so the n-th to leave is
// the n-th to arrive: its wait is the time between the arrivals curve and
// the departures curve reaching n, the horizontal distance between them.
// Averaged over the departures of a window it is Little's law in its
// time-varying form, which in a steady state gives the backlog over the
// arrival rate, and through a burst or an overload follows what departing
// messages waited. Arrivals are counted as departures plus the backlog, so
// they agree with the backlog whatever the arrival counts say.
type little struct {
	window float64 // seconds
	pts    []cum   // oldest first
}

// cum is the state of the curves at a snapshot: its time, the departures
// so far and the arrivals so far (never decreasing).
type cum struct{ t, dep, arr float64 }

// maxCum bounds the points kept: close ones are merged, and when even
// the history of the messages still to leave is longer, its oldest part
// is thinned.
const maxCum = 24

// add records a snapshot at time t (seconds) with its backlog and the
// departures since the previous snapshot.
func (l *little) add(t, backlog, out float64) {
	c := cum{t: t, arr: backlog}
	if n := len(l.pts); n > 0 {
		last := l.pts[n-1]
		c.dep = last.dep + out
		c.arr = max(c.dep+backlog, last.arr)
		// Two points closer than a 16th of the window: the newer one
		// replaces the one between them.
		if n > 1 && t-l.pts[n-2].t < l.window/16 {
			l.pts[n-1] = c
			l.trim()
			return
		}
	}
	// Grown as needed, not to maxCum at once: at one snapshot every 5 s a
	// steady queue keeps about 14 points of a 60-s window.
	l.pts = append(l.pts, c)
	l.trim()
}

// restart begins the curves again at a snapshot at time t with its
// backlog: what came before is not known to join it.
func (l *little) restart(t, backlog float64) {
	l.pts = l.pts[:0]
	l.add(t, backlog, 0)
}

// trim drops the points no longer needed: before the window, and before
// the arrival of the oldest message that left in it.
func (l *little) trim() {
	now := l.pts[len(l.pts)-1]
	n0 := l.depAt(now.t - l.window)
	keep := 0
	for i, p := range l.pts {
		if p.t <= now.t-l.window && p.arr <= n0 {
			keep = i
		}
	}
	l.pts = append(l.pts[:0], l.pts[keep:]...)
	for len(l.pts) > maxCum {
		i := l.leastNeeded()
		l.pts = append(l.pts[:i], l.pts[i+1:]...)
	}
}

// leastNeeded returns the inner point whose removal changes the curves
// least: the smallest area between them with and without it (the
// difference of each curve from the line through its neighbours, times
// the time they span), so that a long quiet or steady stretch is
// thinned before the edges of a burst or a stall.
func (l *little) leastNeeded() int {
	best, least := 1, math.Inf(1)
	for i := 1; i < len(l.pts)-1; i++ {
		a, p, b := l.pts[i-1], l.pts[i], l.pts[i+1]
		f := (p.t - a.t) / (b.t - a.t)
		off := math.Abs(p.arr-(a.arr+f*(b.arr-a.arr))) + math.Abs(p.dep-(a.dep+f*(b.dep-a.dep)))
		if area := off * (b.t - a.t); area < least {
			best, least = i, area
		}
	}
	return best
}

// oldest returns the age, at the latest point, of the oldest message
// waiting: the time since the arrivals curve reached the first message
// not yet departed (first in, first out), read between the points; 0
// when none waits. Not valid while that message arrived before the
// curves began (the first snapshot's backlog, of unknown arrival).
func (l *little) oldest() (float64, bool) {
	if len(l.pts) == 0 {
		return 0, false
	}
	now := l.pts[len(l.pts)-1]
	if now.arr <= now.dep {
		return 0, true
	}
	head := min(now.dep+1, now.arr)
	k := sort.Search(len(l.pts), func(i int) bool { return l.pts[i].arr >= head })
	if k == 0 {
		return 0, false
	}
	a, b := l.pts[k-1], l.pts[k]
	at := a.t + (b.t-a.t)*(head-a.arr)/(b.arr-a.arr)
	return now.t - at, true
}

// depAt returns the departures so far at time t, interpolated.
func (l *little) depAt(t float64) float64 {
	k := sort.Search(len(l.pts), func(i int) bool { return l.pts[i].t >= t })
	switch {
	case k == 0:
		return l.pts[0].dep
	case k == len(l.pts):
		return l.pts[k-1].dep
	}
	a, b := l.pts[k-1], l.pts[k]
	return a.dep + (b.dep-a.dep)*(t-a.t)/(b.t-a.t)
}

// timeSpent returns the integral over n in [n0, n1] of the time at which
// the curve f (dep or arr) reached n, linear between the points; taken as
// the oldest point's time below it and the newest's above.
func (l *little) timeSpent(n0, n1 float64, f func(cum) float64) float64 {
	first, last := l.pts[0], l.pts[len(l.pts)-1]
	sum := 0.0
	if f(first) > n0 {
		sum += (min(n1, f(first)) - n0) * first.t
	}
	// The segments that reach past n0, up to the first that starts at n1.
	k0 := max(sort.Search(len(l.pts), func(i int) bool { return f(l.pts[i]) > n0 }), 1)
	for k := k0; k < len(l.pts); k++ {
		a, b := l.pts[k-1], l.pts[k]
		fa, fb := f(a), f(b)
		if fa >= n1 {
			break
		}
		lo, hi := max(fa, n0), min(fb, n1)
		if hi <= lo {
			continue
		}
		ta := a.t + (b.t-a.t)*(lo-fa)/(fb-fa)
		tb := a.t + (b.t-a.t)*(hi-fa)/(fb-fa)
		sum += (hi - lo) * (ta + tb) / 2
	}
	if n1 > f(last) {
		sum += (n1 - max(n0, f(last))) * last.t
	}
	return sum
}

// wait returns the mean wait of the messages that left in the window, in
// seconds: 0 when none left and none waits; not valid when messages wait
// and none left (a stuck queue), before a second snapshot, and while the
// messages that left were all waiting already when the curves began (the
// first snapshot's backlog, of unknown arrival).
func (l *little) wait() (float64, bool) {
	if len(l.pts) < 2 {
		return 0, false
	}
	now := l.pts[len(l.pts)-1]
	n0, n1 := l.depAt(now.t-l.window), now.dep
	if n1 <= n0 {
		return 0, now.arr == now.dep
	}
	if l.pts[0].dep == 0 {
		n0 = max(n0, l.pts[0].arr) // arrived before the first snapshot
	}
	if n1 <= n0 {
		return 0, false
	}
	dep := l.timeSpent(n0, n1, func(c cum) float64 { return c.dep })
	arr := l.timeSpent(n0, n1, func(c cum) float64 { return c.arr })
	return max(dep-arr, 0) / (n1 - n0), true
}
