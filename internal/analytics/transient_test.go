package analytics

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
)

// steps is an arrival Rate that changes at the given times: rates[i] holds
// from at[i] (at[0] = 0) until at[i+1].
func steps(at []float64, rates []float64) sim.Rate {
	return func(t float64) (float64, float64) {
		i := len(at) - 1
		for i > 0 && t < at[i] {
			i--
		}
		if i+1 < len(at) {
			return rates[i], at[i+1]
		}
		return rates[i], math.Inf(1)
	}
}

// transient is a scenario of the truth check.
type transient struct {
	name    string
	model   sim.Model
	horizon float64
	// drainFrom is when the input falls below capacity after an overload
	// or a burst: snapshots from then until the backlog empties are the
	// drain snapshots.
	drainFrom float64
}

var transients = []transient{
	{
		name: "overload then drain, 1 worker",
		// The real hub of the issue: 50 ms a message, one worker; 10/s,
		// then 30/s for 90 s, then 5/s.
		model:   sim.Model{Name: "C", Arrivals: steps([]float64{0, 120, 210}, []float64{10, 30, 5}), Service: sim.LogNormal(0.05, 0.2), Workers: 1},
		horizon: 400, drainFrom: 210,
	},
	{
		name: "burst on an idle consumer, 4 workers",
		// The hashing profile: idle, then 200 messages of ~2 s in 10 s.
		model:   sim.Model{Name: "C", Arrivals: steps([]float64{0, 60, 70}, []float64{0.01, 20, 0.01}), Service: sim.LogNormal(2, 0.5), Workers: 4},
		horizon: 260, drainFrom: 70,
	},
	{
		name: "overload then drain, 3 workers",
		// 0.1 s a message on 3 workers (capacity 30/s): 20/s, then 45/s
		// for 60 s, then 10/s.
		model:   sim.Model{Name: "C", Arrivals: steps([]float64{0, 100, 160}, []float64{20, 45, 10}), Service: sim.Exponential(0.1), Workers: 3},
		horizon: 320, drainFrom: 160,
	},
}

// errs collects relative errors of one figure.
type errs struct {
	evaluated, present int
	rel                []float64
}

func (e *errs) add(got, want float64, present bool) {
	e.evaluated++
	if !present {
		return
	}
	e.present++
	e.rel = append(e.rel, math.Abs(got-want)/want)
}

func (e *errs) quantile(q float64) float64 {
	if len(e.rel) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(e.rel))
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// TestTransients runs each scenario's consumer in the discrete-event
// simulation, publishing every 5 s as moksha does, feeds the snapshots to
// the analytics and compares, per snapshot, with what the simulated
// messages' true waits say. It prints the error table that the README
// quotes (go test -v -run Transients ./internal/analytics).
func TestTransients(t *testing.T) {
	const period = 5.0
	smoothing := DefaultSmoothing.Seconds()
	var table strings.Builder
	fmt.Fprintf(&table, "| scenario | figure | snapshots | present | median error | 90th percentile | worst |\n|---|---|---|---|---|---|---|\n")
	for _, sc := range transients {
		c := sim.NewConsumer(sc.model, 7)
		snaps := simulate(c, sc.horizon, func(at float64, p sim.Stats) sample {
			return sample{at: at, backlog: float64(p.Backlog), in: float64(p.In), out: float64(p.Out), times: p.Times}
		}, nil)
		waits, emptied := c.Waits(), c.Emptied()
		var drain, expected, idle, wait errs
		oldest := judged{}
		grewWhileShrinking := 0
		for i, s := range snaps {
			if i == 0 {
				continue // no window yet
			}
			if s.backlog < snaps[i-1].backlog && s.f.GrowthRate.Valid {
				grewWhileShrinking++
				t.Errorf("%s: at %gs the backlog shrank %g -> %g, growth rate %g written", sc.name, s.at, snaps[i-1].backlog, s.backlog, s.f.GrowthRate.V)
			}
			// The true time until the backlog empties.
			if s.at >= sc.drainFrom && s.backlog > 10 {
				if k, found := slices.BinarySearch(emptied, s.at); found || k < len(emptied) {
					drain.add(s.f.DrainTime.V, emptied[k]-s.at, s.f.DrainTime.Valid)
				}
			}
			// The true wait of a message arriving now: it is taken after
			// the last one that arrived before it (FIFO), give or take
			// one message's service.
			k, _ := slices.BinarySearchFunc(waits, s.at, func(w sim.Wait, at float64) int {
				return cmpFloat(w.Arrived, at)
			})
			if k > 0 && k <= len(waits) {
				next := max(waits[k-1].Started-s.at, 0)
				switch {
				case s.backlog > 10:
					expected.add(s.f.ExpectedWait.V, next, s.f.ExpectedWait.Valid)
				case s.backlog == 0:
					idle.evaluated++
					if s.f.ExpectedWait.Valid && s.f.ExpectedWait.V < 1 {
						idle.present++
					}
				}
			}
			judgeOldest(oldest, "all", s, waits)
			// The true mean wait of the messages that left in the
			// trailing smoothing window.
			if mean, ok := departedMean(waits, s.at, smoothing); ok && mean > 0.5 {
				wait.add(s.f.Wait.V, mean, s.f.Wait.Valid)
			}
		}
		row := func(figure string, e errs) {
			fmt.Fprintf(&table, "| %s | %s | %d | %.0f %% | %.1f %% | %.1f %% | %.1f %% |\n", sc.name, figure, e.evaluated,
				100*float64(e.present)/float64(max(e.evaluated, 1)), 100*e.quantile(0.5), 100*e.quantile(0.9), 100*e.quantile(1))
		}
		row("drain_time (backlog > 10, draining)", drain)
		row("expected_wait (backlog > 10)", expected)
		row("wait, Little's law, against the mean of the last 60 s' departures", wait)
		if o := oldest["all|oldest_age"]; o != nil {
			row("oldest_age (error against the truth or a poll, the larger)", *o)
			if float64(o.present) < 0.8*float64(o.evaluated) || o.quantile(0.5) > 0.10 || o.quantile(0.9) > 0.25 {
				t.Errorf("%s: oldest age present on %d of %d snapshots, median error %.1f %%, 90th percentile %.1f %%; want >= 80 %%, <= 10 %%, <= 25 %%",
					sc.name, o.present, o.evaluated, 100*o.quantile(0.5), 100*o.quantile(0.9))
			}
		}
		if o := oldest["all|oldest_age 0 on an empty queue"]; o != nil && o.quantile(1) != 0 {
			t.Errorf("%s: oldest age not 0 on an empty queue", sc.name)
		}
		fmt.Fprintf(&table, "| %s | expected_wait < 1 s on an empty backlog | %d | %.0f %% | | | |\n", sc.name, idle.evaluated, 100*float64(idle.present)/float64(max(idle.evaluated, 1)))

		if drain.evaluated < 3 || float64(drain.present) < 0.7*float64(drain.evaluated) || drain.quantile(0.5) > 0.20 {
			t.Errorf("%s: drain time present on %d of %d drain snapshots, median error %.1f %%; want >= 70 %% and <= 20 %%",
				sc.name, drain.present, drain.evaluated, 100*drain.quantile(0.5))
		}
		if expected.evaluated < 3 || expected.present != expected.evaluated || expected.quantile(0.5) > 0.25 {
			t.Errorf("%s: expected wait present on %d of %d snapshots with a backlog, median error %.1f %%; want all, <= 25 %%",
				sc.name, expected.present, expected.evaluated, 100*expected.quantile(0.5))
		}
		if idle.present != idle.evaluated {
			t.Errorf("%s: expected wait under 1 s on %d of %d snapshots with an empty backlog", sc.name, idle.present, idle.evaluated)
		}
		if wait.quantile(0.5) > 0.10 {
			t.Errorf("%s: Little's-law wait median error %.1f %% against the departures' mean, want <= 10 %%", sc.name, 100*wait.quantile(0.5))
		}
	}
	t.Logf("error table:\n%s", table.String())
}

// snap is what the analytics said at one snapshot of a simulated run.
type snap struct {
	at, backlog float64
	f           Figures
}

// simulate publishes c every 5 s up to horizon, recording every message,
// each publish made a sample by mk, and returns the analytics' figures
// at each; after, if not nil, runs once the simulation reached a publish.
func simulate(c *sim.Consumer, horizon float64, mk func(at float64, p sim.Stats) sample, after func(at float64)) []snap {
	const period = 5.0
	c.Record()
	h := NewHub(DefaultSmoothing)
	var snaps []snap
	for at := period; at <= horizon; at += period {
		c.Advance(at)
		if after != nil {
			after(at)
		}
		p := c.Publish()
		s, cs := mk(at, p).snapshot()
		snaps = append(snaps, snap{at, float64(p.Backlog), h.Update(s, cs, nil)[0]})
	}
	return snaps
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
