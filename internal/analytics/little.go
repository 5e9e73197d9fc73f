package analytics

import "sort"

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
const maxCum = 48

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
	l.pts = append(l.pts, c)
	l.trim()
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
		l.pts = append(l.pts[:1], l.pts[2:]...)
	}
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

// when returns the time at which the curve f (dep or arr) reached n,
// interpolated; the oldest point's time if it had already.
func (l *little) when(n float64, f func(cum) float64) float64 {
	k := sort.Search(len(l.pts), func(i int) bool { return f(l.pts[i]) >= n })
	switch {
	case k == 0:
		return l.pts[0].t
	case k == len(l.pts):
		return l.pts[k-1].t
	}
	a, b := l.pts[k-1], l.pts[k]
	return a.t + (b.t-a.t)*(n-f(a))/(f(b)-f(a))
}

// samples is how many departures of the window the mean wait is taken
// over, evenly spaced.
const samples = 32

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
	dep := func(c cum) float64 { return c.dep }
	arr := func(c cum) float64 { return c.arr }
	sum, known := 0.0, 0
	for i := range samples {
		n := n0 + (float64(i)+0.5)/samples*(n1-n0)
		if n <= l.pts[0].arr && l.pts[0].dep == 0 {
			continue // arrived before the first snapshot
		}
		sum += max(l.when(n, dep)-l.when(n, arr), 0)
		known++
	}
	return sum / float64(max(known, 1)), known > 0
}
