// Package analytics derives queue figures from a hub's successive
// snapshots, per consumer: arrival and service rates, the wait estimated by
// Little's law from exponentially smoothed backlog and arrival rate, the time
// to drain a shrinking backlog (or its growth rate), processing time
// percentiles and utilisation.
//
// Everything is computed from the snapshots' own arrival times, so a
// sequence of snapshots with made-up times gives the same values every time.
// The formulas and their limits are documented in the README.
package analytics

import (
	"math"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
)

// DefaultSmoothing is the default time constant of the smoothing.
const DefaultSmoothing = 60 * time.Second

// minRate is the smoothed arrival rate, in messages per second, below which
// the wait is unknown rather than a division by almost nothing.
const minRate = 1e-3

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
	backlog, in, out float64 // smoothed backlog, arrival and service rate
	primed           bool    // the smoothed values hold at least one sample
	gen              uint64
}

// NewHub returns an empty state with the given smoothing time constant
// (DefaultSmoothing if not positive).
func NewHub(smoothing time.Duration) *Hub {
	if smoothing <= 0 {
		smoothing = DefaultSmoothing
	}
	return &Hub{smoothing: smoothing, consumers: make(map[string]*consumer)}
}

// Consumer is one initialized consumer of a snapshot with the name its
// values are written under.
type Consumer struct {
	Name string
	*hubmon.Consumer
}

// Update takes the next snapshot of the hub, whose initialized consumers
// are cs, and appends their derived values to out. State is dropped, and
// started again from this snapshot, on a new subscriber session (a hub
// restart or a lost connection), after a gap of more than three smoothing
// constants, and for a consumer absent from the previous snapshot.
//
// The values' type instances are the consumers' names, with the suffixes
// of this package.
func (h *Hub) Update(out []putval.Value, s hubmon.Snapshot, cs []Consumer) []putval.Value {
	dt := s.Arrival.Sub(h.last).Seconds()
	if !h.last.IsZero() && s.Session == h.session && dt <= 0 {
		// A duplicate or out of order: nothing to learn about rates.
		return distribution(out, cs, 0, &h.scratch)
	}
	fresh := h.last.IsZero() || s.Session != h.session || dt > resetAfter*h.smoothing.Seconds()
	h.session, h.last = s.Session, s.Arrival
	h.gen++
	if fresh {
		// The first snapshot has no interval to divide its counts by.
		clear(h.consumers)
		for _, c := range cs {
			h.consumers[c.Name] = &consumer{gen: h.gen}
		}
		return distribution(out, cs, 0, &h.scratch)
	}

	// The headcounts count since the hub's previous publish. When we
	// missed publishes, dt spans several hub periods but the counts only
	// the last one.
	window := dt
	if p := s.Period.Seconds(); p > 0 && dt > 1.5*p {
		window = dt / math.Round(dt/p)
	}
	alpha := 1 - math.Exp(-dt/h.smoothing.Seconds())

	for _, c := range cs {
		// The state held is of the previous snapshot's consumers only
		// (see below): one absent from it starts again.
		st := h.consumers[c.Name]
		if st == nil {
			// New, or back after an absence: start from its next snapshot.
			h.consumers[c.Name] = &consumer{gen: h.gen}
			continue
		}
		st.gen = h.gen
		if c.Backlog.Valid && c.HeadcountIn.Valid && c.HeadcountOut.Valid {
			out = st.update(out, c, window, alpha)
		}
	}
	if len(h.consumers) > len(cs) {
		// Some were not in this snapshot: forget them.
		for name, st := range h.consumers {
			if st.gen != h.gen {
				delete(h.consumers, name)
			}
		}
	}
	return distribution(out, cs, window, &h.scratch)
}

// update smooths one consumer's sample and appends its rate values.
func (st *consumer) update(out []putval.Value, c Consumer, window, alpha float64) []putval.Value {
	in, served, backlog := c.HeadcountIn.V/window, c.HeadcountOut.V/window, c.Backlog.V
	if !st.primed {
		st.backlog, st.in, st.out, st.primed = backlog, in, served, true
	} else {
		st.backlog += alpha * (backlog - st.backlog)
		st.in += alpha * (in - st.in)
		st.out += alpha * (served - st.out)
	}
	n := c.Name
	out = append(out,
		putval.Value{Type: RateType, TypeInstance: n, Suffix: SuffixArrivalRate, Value: st.in},
		putval.Value{Type: RateType, TypeInstance: n, Suffix: SuffixServiceRate, Value: st.out},
	)
	if st.in >= minRate {
		out = append(out, putval.Value{Type: DurationType, TypeInstance: n, Suffix: SuffixWait, Value: st.backlog / st.in})
	}
	switch net := st.out - st.in; {
	case net > 0 && backlog > 0:
		out = append(out, putval.Value{Type: DurationType, TypeInstance: n, Suffix: SuffixDrain, Value: backlog / net})
	case net < 0:
		out = append(out, putval.Value{Type: RateType, TypeInstance: n, Suffix: SuffixGrowth, Value: -net})
	}
	return out
}

// distribution appends the processing time percentiles of each consumer,
// and its utilisation when the window is known (positive).
func distribution(out []putval.Value, cs []Consumer, window float64, buf *[]float64) []putval.Value {
	for _, c := range cs {
		if len(c.Times) == 0 {
			continue
		}
		ps := percentiles(c.Times, buf)
		n := c.Name
		out = append(out,
			putval.Value{Type: TimeType, TypeInstance: n, Suffix: SuffixP50, Value: 1000 * ps[0]},
			putval.Value{Type: TimeType, TypeInstance: n, Suffix: SuffixP95, Value: 1000 * ps[1]},
			putval.Value{Type: TimeType, TypeInstance: n, Suffix: SuffixP99, Value: 1000 * ps[2]},
		)
		if window > 0 {
			sum := 0.0
			for _, t := range c.Times {
				sum += t
			}
			out = append(out, putval.Value{Type: UtilizationType, TypeInstance: n, Suffix: SuffixUtilization, Value: sum / window})
		}
	}
	return out
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
