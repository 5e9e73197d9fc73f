// Package analytics derives queue figures from a hub's successive
// snapshots, per consumer: arrival and service rates, the mean wait by the
// time-varying form of Little's law, the expected wait of a message arriving
// now, the time to drain a shrinking backlog (or its growth rate), processing
// time percentiles and utilisation.
//
// Everything is computed from the snapshots' own arrival times, so a
// sequence of snapshots with made-up times gives the same values every time.
// The results are plain numbers in base units (Figures); the formulas and
// their limits are documented in the README.
package analytics

import (
	"math"
	"slices"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// DefaultSmoothing is the default time constant of the smoothing.
const DefaultSmoothing = 60 * time.Second

// resetAfter is how many smoothing constants of silence discard a
// consumer's state: what was smoothed before says nothing of now.
const resetAfter = 3

// Hub holds the state of one hub's consumers between snapshots. Use one Hub
// per endpoint, from one goroutine. The zero value is not ready: use NewHub.
type Hub struct {
	smoothing time.Duration
	session   int64
	last      time.Time
	// gen counts the snapshots; a consumer's state carries the gen of the
	// last snapshot it was in.
	gen       uint64
	consumers map[string]*consumer
	scratch   []float64 // reused by the percentiles
}

type consumer struct {
	in, out float64 // smoothed arrival and service rate
	primed  bool    // the smoothed values hold at least one sample
	gen     uint64
	queue   queue  // the short-horizon figures' state
	little  little // the cumulative arrivals and departures, for Wait
}

// NewHub returns an empty state with the given smoothing time constant
// (DefaultSmoothing if not positive).
func NewHub(smoothing time.Duration) *Hub {
	if smoothing <= 0 {
		smoothing = DefaultSmoothing
	}
	return &Hub{smoothing: smoothing, consumers: make(map[string]*consumer)}
}

// Consumer is one initialized consumer of a snapshot with the key its
// state is kept under between snapshots: distinct within a snapshot.
type Consumer struct {
	Key string
	*model.Consumer
}

// Figures are what the analytics derive for one consumer from one
// snapshot. A figure is not Valid when it cannot be known: the rates and
// the wait on a consumer's first snapshot, the wait while messages wait and
// none leaves, the expected wait while the capacity is not known, the drain
// time of a growing backlog and the growth rate of a shrinking one, the
// percentiles without times, the utilisation on a first snapshot.
type Figures struct {
	// ArrivalRate and ServiceRate are smoothed headcounts per second.
	ArrivalRate, ServiceRate model.Opt
	// Wait is the mean wait of the messages that left the queue over the
	// trailing smoothing constant, in seconds, by the time-varying form
	// of Little's law: the mean distance in time between the cumulative
	// arrivals and departures reaching each of those messages (see
	// little); 0 when no message waited.
	Wait model.Opt
	// ExpectedWait is how long a message arriving now waits for a worker,
	// in seconds: the backlog over the consumers' capacity (from the
	// processing times, or, without them, learned while the queue never
	// emptied); 0 when the backlog is empty.
	ExpectedWait model.Opt
	// DrainTime is the backlog over the rate at which it shrinks (the
	// capacity less the arrivals, or its trend over the last snapshots),
	// while it shrinks, in seconds; GrowthRate the rate at which it grows,
	// while it grows.
	DrainTime, GrowthRate model.Opt
	// P50, P95 and P99 are percentiles of the processing times of the
	// snapshot, in seconds.
	P50, P95, P99 model.Opt
	// Utilization is the sum of the processing times over the window: busy
	// workers on average.
	Utilization model.Opt
	// OldestAge is how long the oldest message waiting has waited, in
	// seconds, read off the cumulative arrivals and departures (first in,
	// first out); 0 when none waits.
	OldestAge model.Opt
	// Stalled is how long messages have waited with consumers attached
	// and none taken, in seconds, once that is a stall (stall.go); 0
	// otherwise.
	Stalled model.Opt
}

// Update takes the next snapshot of the hub, whose initialized consumers
// are cs, and returns their figures, one per consumer in the order of cs,
// in out's storage. State is dropped, and started again from this
// snapshot, on a new subscriber session (a hub restart or a lost
// connection), after a gap of more than three smoothing constants, and for
// a consumer absent from the previous snapshot.
func (h *Hub) Update(s model.Snapshot, cs []Consumer, out []Figures) []Figures {
	out = slices.Grow(out[:0], len(cs))[:len(cs)]
	clear(out)
	dt := s.Arrival.Sub(h.last).Seconds()
	if !h.last.IsZero() && s.Session == h.session && dt <= 0 {
		// A duplicate or out of order: nothing to learn about rates.
		h.distribution(out, cs, 0)
		return out
	}
	fresh := h.last.IsZero() || s.Session != h.session || dt > resetAfter*h.smoothing.Seconds()
	at := float64(s.Arrival.Unix()) + float64(s.Arrival.Nanosecond())/1e9
	h.session, h.last = s.Session, s.Arrival
	h.gen++
	if fresh {
		// The first snapshot has no interval to divide its counts by.
		clear(h.consumers)
		for _, c := range cs {
			h.consumers[c.Key] = h.newConsumer(c, at)
		}
		h.distribution(out, cs, 0)
		return out
	}

	// The headcounts count since the hub's previous publish. When we
	// missed publishes, dt spans several hub periods but the counts only
	// the last one.
	window := dt
	if p := s.Period.Seconds(); p > 0 && dt > 1.5*p {
		window = dt / math.Round(dt/p)
	}
	alpha := 1 - math.Exp(-dt/h.smoothing.Seconds())

	for i, c := range cs {
		// The state held is of the previous snapshot's consumers only
		// (see below): one absent from it starts again.
		st := h.consumers[c.Key]
		if st == nil {
			// New, or back after an absence: start from its next snapshot.
			h.consumers[c.Key] = h.newConsumer(c, at)
			continue
		}
		st.gen = h.gen
		if c.Backlog.Valid && c.HeadcountIn.Valid && c.HeadcountOut.Valid {
			st.update(&out[i], c, window, alpha)
			// The headcounts are of the last hub period: scaled to the
			// time since the previous snapshot.
			st.little.add(at, c.Backlog.V, c.HeadcountOut.V*dt/window)
			if w, ok := st.little.wait(); ok {
				out[i].Wait = model.Some(w)
			}
			if a, ok := st.little.oldest(); ok {
				out[i].OldestAge = model.Some(a)
			}
		} else if c.Backlog.Valid {
			// No counts since the previous snapshot (a broker's queue just
			// made, before its statistics): the curves cannot go on over
			// the gap; they begin again here.
			st.little.restart(at, c.Backlog.V)
		}
		if c.Backlog.Valid {
			st.queue.observe(observation(at, c), window)
			st.short(&out[i], c.Backlog.V, opt(c.Workers), c.HeadcountOut)
		}
	}
	if len(h.consumers) > len(cs) {
		// Some were not in this snapshot: forget them.
		for key, st := range h.consumers {
			if st.gen != h.gen {
				delete(h.consumers, key)
			}
		}
	}
	h.distribution(out, cs, window)
	return out
}

// update smooths one consumer's rates and sets them.
func (st *consumer) update(f *Figures, c Consumer, window, alpha float64) {
	in, served := c.HeadcountIn.V/window, c.HeadcountOut.V/window
	if !st.primed {
		st.in, st.out, st.primed = in, served, true
	} else {
		st.in += alpha * (in - st.in)
		st.out += alpha * (served - st.out)
	}
	f.ArrivalRate, f.ServiceRate = model.Some(st.in), model.Some(st.out)
}

// newConsumer returns the state of a consumer first seen in the snapshot
// of time at (seconds).
func (h *Hub) newConsumer(c Consumer, at float64) *consumer {
	st := &consumer{gen: h.gen, little: little{window: h.smoothing.Seconds()}}
	if c.Backlog.Valid {
		st.queue.observe(observation(at, c), 0)
		st.little.add(at, c.Backlog.V, 0)
	}
	return st
}

// observation is what the snapshot of time at (seconds) says of c's
// queue.
func observation(at float64, c Consumer) obs {
	return obs{t: at, backlog: c.Backlog.V, in: opt(c.HeadcountIn), out: opt(c.HeadcountOut), workers: opt(c.Workers), held: opt(c.InService), times: c.Times}
}

// opt is o's value, NaN when not valid.
func opt(o model.Opt) float64 {
	if !o.Valid {
		return math.NaN()
	}
	return o.V
}

// short sets the short-horizon figures: the expected wait, and the drain
// time or the growth rate.
func (st *consumer) short(f *Figures, backlog, workers float64, departures model.Opt) {
	if departures.Valid {
		stalled, _ := st.queue.stall(workers)
		f.Stalled = model.Some(stalled)
	}
	if w, ok := st.queue.expectedWait(backlog, workers); ok {
		f.ExpectedWait = model.Some(w)
	}
	drain, growth, isDrain, isGrowth := st.queue.drainOrGrowth(backlog, workers)
	if isDrain {
		f.DrainTime = model.Some(drain)
	}
	if isGrowth {
		f.GrowthRate = model.Some(growth)
	}
}

// distribution sets the processing time percentiles of each consumer, and
// its utilisation when the window is known (positive).
func (h *Hub) distribution(out []Figures, cs []Consumer, window float64) {
	for i, c := range cs {
		if len(c.Times) == 0 {
			continue
		}
		ps := percentiles(c.Times, &h.scratch)
		f := &out[i]
		f.P50, f.P95, f.P99 = model.Some(ps[0]), model.Some(ps[1]), model.Some(ps[2])
		if window > 0 {
			sum := 0.0
			for _, t := range c.Times {
				sum += t
			}
			f.Utilization = model.Some(sum / window)
		}
	}
}

// Percentile returns the p-th percentile (0 to 100) of sorted, by linear
// interpolation between the closest ranks; 0 for an empty slice.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	r := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(r))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (r-float64(lo))*(sorted[hi]-sorted[lo])
}
