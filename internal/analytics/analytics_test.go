package analytics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
)

var t0 = time.Unix(1795516100, 0)

// sample is one consumer's figures at a publish, at second at of the run.
type sample struct {
	at               float64
	backlog, in, out float64
	times            []float64
	session          int64
	name             string // default "C"
	period           float64
	// workers, when set, are the consumers attached (a broker's queue).
	workers *float64
	// held, when set, are the messages they hold (unacknowledged).
	held *float64
	// noCounts: the snapshot has no headcounts (a broker's queue before
	// its statistics).
	noCounts bool
}

func (s sample) snapshot() (model.Snapshot, []Consumer) {
	name := s.name
	if name == "" {
		name = "C"
	}
	period := s.period
	if period == 0 {
		period = 5
	}
	snap := model.Snapshot{
		Arrival: t0.Add(time.Duration(s.at * float64(time.Second))),
		Period:  time.Duration(period * float64(time.Second)),
		Session: max(s.session, 1),
	}
	c := model.Consumer{Name: name, Initialized: true, Backlog: model.Some(s.backlog),
		HeadcountIn: model.Some(s.in), HeadcountOut: model.Some(s.out), Times: s.times, HasTimes: true}
	if s.workers != nil {
		c.Workers = model.Some(*s.workers)
	}
	if s.held != nil {
		c.InService = model.Some(*s.held)
	}
	if s.noCounts {
		c.HeadcountIn, c.HeadcountOut = model.Opt{}, model.Opt{}
	}
	return snap, []Consumer{{Key: name, Consumer: &c}}
}

// run feeds samples to a fresh Hub and returns each update's values by
// type instance.
func run(samples []sample) []map[string]float64 {
	h := NewHub(time.Minute)
	var out []map[string]float64
	for _, s := range samples {
		snap, cs := s.snapshot()
		out = append(out, named(cs, h.Update(snap, cs, nil)))
	}
	return out
}

// named returns the valid figures of consumers cs by consumer key and
// figure, e.g. "C_wait"; percentiles in milliseconds.
func named(cs []Consumer, figs []Figures) map[string]float64 {
	m := map[string]float64{}
	for i, f := range figs {
		for _, x := range []struct {
			name  string
			v     model.Opt
			scale float64
		}{
			{"arrival_rate", f.ArrivalRate, 1}, {"service_rate", f.ServiceRate, 1}, {"wait", f.Wait, 1}, {"expected_wait", f.ExpectedWait, 1},
			{"drain_time", f.DrainTime, 1}, {"growth_rate", f.GrowthRate, 1},
			{"p50", f.P50, 1000}, {"p95", f.P95, 1000}, {"p99", f.P99, 1000}, {"utilization", f.Utilization, 1},
		} {
			if x.v.Valid {
				m[cs[i].Key+"_"+x.name] = x.scale * x.v.V
			}
		}
	}
	return m
}

// steady returns n samples every period seconds of a queue with the given
// rates whose backlog moves by (in - out) per period.
func steady(n int, period, in, out, backlog float64) []sample {
	var ss []sample
	for i := range n {
		ss = append(ss, sample{at: float64(i) * period, backlog: max(backlog, 0), in: in * period, out: out * period, period: period})
		backlog += (in - out) * period
	}
	return ss
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Abs(want) {
		t.Errorf("%s = %.4g, want %.4g within %.0f%%", what, got, want, tol*100)
	}
}

// TestSteadyState: lambda < mu with a constant backlog: W = L / lambda.
func TestSteadyState(t *testing.T) {
	res := run(steady(60, 5, 10, 10, 20))
	last := res[len(res)-1]
	within(t, "wait", last["C_wait"], 2, 0.05)
	within(t, "arrival rate", last["C_arrival_rate"], 10, 0.01)
	within(t, "service rate", last["C_service_rate"], 10, 0.01)
	if _, ok := last["C_drain_time"]; ok {
		t.Error("drain time written for a queue that does not shrink")
	}
	if _, ok := last["C_growth_rate"]; ok {
		t.Error("growth rate written for a queue that does not grow")
	}
	if len(res[0]) != 0 {
		t.Errorf("first snapshot gave rates: %v", res[0])
	}
}

// TestOverload: the backlog grows; the wait rises, the drain time is
// unknown and the growth rate is arrival minus service rate.
func TestOverload(t *testing.T) {
	res := run(steady(60, 5, 10, 6, 0))
	prev := 0.0
	for i, m := range res[2:] {
		if _, ok := m["C_drain_time"]; ok {
			t.Fatalf("update %d: drain time while growing", i+2)
		}
		if m["C_wait"] <= prev {
			t.Fatalf("update %d: wait %v did not rise from %v", i+2, m["C_wait"], prev)
		}
		prev = m["C_wait"]
		within(t, "growth rate", m["C_growth_rate"], 4, 0.01)
	}
}

// TestDraining: the drain time is the backlog over the net service rate.
func TestDraining(t *testing.T) {
	ss := steady(12, 5, 5, 20, 1000)
	res := run(ss)
	for i := 1; i < len(ss); i++ {
		if ss[i].backlog == 0 {
			break
		}
		within(t, "drain time", res[i]["C_drain_time"], ss[i].backlog/15, 0.10)
	}
}

// TestMissedSnapshots: a lost publish doubles the gap, not the counts; the
// rates stay right.
func TestMissedSnapshots(t *testing.T) {
	ss := steady(40, 5, 10, 10, 20)
	var kept []sample
	for i, s := range ss {
		if i%3 != 1 && i != 20 && i != 21 { // drop every third, and two in a row
			kept = append(kept, s)
		}
	}
	res := run(kept)
	for _, m := range res[1:] {
		within(t, "arrival rate", m["C_arrival_rate"], 10, 0.01)
		within(t, "wait", m["C_wait"], 2, 0.01)
	}
}

// TestIrregularSampling: whatever the sampling, once the window holds only
// messages that came after a step of the backlog from 0 to 100 at 10
// messages a second, the wait is theirs: 10 s.
func TestIrregularSampling(t *testing.T) {
	for _, gaps := range [][]float64{{5}, {10}, {2, 7, 3, 11, 1, 6}} {
		ss := []sample{{at: 0, in: 50, out: 50}, {at: 5, in: 50, out: 50}}
		at, i := 5.0, 0
		for at < 90 {
			gap := min(gaps[i%len(gaps)], 90-at)
			at += gap
			i++
			ss = append(ss, sample{at: at, backlog: 100, in: 10 * gap, out: 10 * gap, period: gap})
		}
		res := run(ss)
		within(t, "wait", res[len(res)-1]["C_wait"], 10, 0.01)
	}
}

// TestResets: a new session, a long gap, and a consumer that comes back
// start from scratch: their first snapshot gives no rates.
func TestResets(t *testing.T) {
	ss := steady(10, 5, 10, 10, 20)
	restart := ss[5:]
	for i := range restart {
		restart[i].session = 2
		restart[i].backlog = 0
	}
	res := run(ss)
	if _, ok := res[5]["C_wait"]; ok {
		t.Errorf("rates right after a restart: %v", res[5])
	}
	within(t, "wait after restart", res[6]["C_wait"]+1, 1, 0.001) // backlog 0: wait 0, not the old 2
	gap := steady(4, 5, 10, 10, 20)
	gap[2].at, gap[3].at = 500, 505
	res = run(gap)
	if _, ok := res[2]["C_wait"]; ok {
		t.Errorf("rates after a 490 s gap: %v", res[2])
	}
	away := steady(6, 5, 10, 10, 20)
	away[2].name = "Other"
	res = run(away)
	if _, ok := res[3]["C_wait"]; ok {
		t.Errorf("rates for a consumer back after an absence: %v", res[3])
	}
	if _, ok := res[4]["C_wait"]; !ok {
		t.Errorf("no rates on its second snapshot back: %v", res[4])
	}
}

// TestIdleConsumer: no arrivals on an empty queue: the wait is 0, nothing
// divides by 0.
func TestIdleConsumer(t *testing.T) {
	res := run(steady(20, 5, 0, 0, 0))
	for _, m := range res {
		for k, v := range m {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s = %v", k, v)
			}
		}
		if w, ok := m["C_wait"]; ok && w != 0 {
			t.Errorf("wait %v for an idle consumer: %v", w, m)
		}
	}
}

// TestDistribution: percentiles and utilisation from times; none for
// empty times; one huge outlier moves p99 and not the median.
func TestDistribution(t *testing.T) {
	times := make([]float64, 100)
	for i := range times {
		times[i] = 0.010 + 0.0001*float64(i) // 10.0 .. 19.9 ms
	}
	outlier := slices.Clone(times)
	outlier[37] = 600
	res := run([]sample{
		{at: 0, times: times},
		{at: 5, times: times, in: 100, out: 100},
		{at: 10, times: []float64{}, in: 0, out: 0},
		{at: 15, times: outlier, in: 100, out: 100},
	})
	within(t, "p50", res[0]["C_p50"], 14.95, 0.001)
	within(t, "p95", res[0]["C_p95"], 19.405, 0.001)
	within(t, "p99", res[0]["C_p99"], 19.801, 0.001)
	if _, ok := res[0]["C_utilization"]; ok {
		t.Error("utilisation on the first snapshot, without an interval")
	}
	within(t, "utilisation", res[1]["C_utilization"], 1.495/5, 0.001)
	for _, k := range []string{"C_p50", "C_p95", "C_p99", "C_utilization"} {
		if _, ok := res[2][k]; ok {
			t.Errorf("%s with no times", k)
		}
	}
	within(t, "p50 with an outlier", res[3]["C_p50"], 15.05, 0.01)
	if res[3]["C_p99"] < 1000 {
		t.Errorf("p99 %v ms does not show the 600 s outlier", res[3]["C_p99"])
	}
}

func TestPercentile(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{nil, 50, 0}, {[]float64{7}, 99, 7}, {[]float64{1, 2}, 50, 1.5}, {[]float64{1, 2, 3, 4}, 100, 4}, {[]float64{1, 2, 3, 4}, 0, 1},
	} {
		if got := Percentile(tt.xs, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
		}
	}
}

// TestQueueSimulation: a discrete-event model of one consumer (Poisson
// arrivals, random service times, one worker) publishes snapshots the way
// moksha does; the plugin's Little's-law wait must match the simulated mean
// wait within 10% in steady state, at several utilisations.
func TestQueueSimulation(t *testing.T) {
	for _, tt := range []struct {
		name    string
		rho     float64
		service func(mean float64) sim.Model
	}{
		{"exponential service, rho 0.3", 0.3, nil},
		{"exponential service, rho 0.6", 0.6, nil},
		{"exponential service, rho 0.85", 0.85, nil},
		{"lognormal service, rho 0.7", 0.7, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const mean, period, warmup, horizon = 0.1, 5.0, 2000.0, 150000.0
			m := sim.Model{Name: "C", Arrivals: sim.Constant(tt.rho / mean), Service: sim.Exponential(mean)}
			if tt.name[:9] == "lognormal" {
				// median chosen for the same mean: mean = median * exp(sigma^2/2)
				m.Service = sim.LogNormal(mean/math.Exp(0.5), 1)
			}
			c := sim.NewConsumer(m, 42)
			h := NewHub(DefaultSmoothing)
			var sum float64
			var n int
			for at := period; at <= horizon; at += period {
				c.Advance(at)
				p := c.Publish()
				snap, cs := sample{at: at, backlog: float64(p.Backlog), in: float64(p.In), out: float64(p.Out), times: p.Times}.snapshot()
				if w := h.Update(snap, cs, nil)[0].Wait; w.Valid && at > warmup {
					sum += w.V
					n++
				}
			}
			est, truth := sum/float64(n), c.MeanWait()
			t.Logf("rho %.2f: simulated mean wait %.4f s, Little's-law estimate %.4f s (%+.1f%%)", tt.rho, truth, est, 100*(est-truth)/truth)
			within(t, "estimated wait", est, truth, 0.10)
		})
	}
}

// TestPercentilesSelect: the quickselect percentiles equal those of the
// sorted values, on random data with ties and every small length.
func TestPercentilesSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var buf []float64
	for n := range 300 {
		for range 5 {
			ts := make([]float64, n)
			for i := range ts {
				ts[i] = float64(rng.IntN(max(n/3, 1))) + rng.Float64()*float64(rng.IntN(2))
			}
			orig := slices.Clone(ts)
			sorted := slices.Sorted(slices.Values(ts))
			got := percentiles(ts, &buf)
			for i, p := range []float64{50, 95, 99} {
				if want := Percentile(sorted, p); got[i] != want {
					t.Fatalf("n %d p%v: %v, want %v", n, p, got[i], want)
				}
			}
			if !slices.Equal(ts, orig) {
				t.Fatal("input modified")
			}
		}
	}
}

// TestPercentilesShapes: the percentiles are right on the inputs that
// make selection algorithms slow or wrong: all equal, sorted, reversed,
// few distinct values, long lists. (Before selectRank gave up on bad
// pivots, the descending and organ-pipe lists of 200000 took seconds;
// BenchmarkPercentiles measures the usual case.)
func TestPercentilesShapes(t *testing.T) {
	var buf []float64
	shapes := map[string]func(i, n int) float64{
		"equal":    func(i, n int) float64 { return 0.25 },
		"sorted":   func(i, n int) float64 { return float64(i) },
		"reversed": func(i, n int) float64 { return float64(n - i) },
		"two":      func(i, n int) float64 { return float64(i % 2) },
		"organ":    func(i, n int) float64 { return float64(min(i, n-i)) },
		"zeros":    func(i, n int) float64 { return float64(i/(n-n/50)) * 3 },
	}
	for name, f := range shapes {
		for _, n := range []int{1, 2, 17, 64, 1024, 4099, 200000} {
			ts := make([]float64, n)
			for i := range ts {
				ts[i] = f(i, n)
			}
			sorted := slices.Sorted(slices.Values(ts))
			got := percentiles(ts, &buf)
			for i, p := range []float64{50, 95, 99} {
				if want := Percentile(sorted, p); got[i] != want {
					t.Errorf("%s, n %d, p%v: %v, want %v", name, n, p, got[i], want)
				}
			}
		}
	}
}

// TestAbsentConsumer: a consumer missing from one snapshot starts again
// when it returns (no rate for that snapshot, rates from the next one),
// the others carry on, and the state of consumers gone is forgotten.
func TestAbsentConsumer(t *testing.T) {
	h := NewHub(time.Minute)
	mk := func(name string) Consumer {
		return Consumer{Key: name, Consumer: &model.Consumer{Name: name, Initialized: true,
			Backlog: model.Some(10), HeadcountIn: model.Some(50), HeadcountOut: model.Some(50)}}
	}
	steps := []struct {
		names []string
		rated []string // consumers with an arrival rate in this snapshot
	}{
		{[]string{"A", "B"}, nil},
		{[]string{"A", "B"}, []string{"A", "B"}},
		{[]string{"A"}, []string{"A"}},
		{[]string{"A", "B"}, []string{"A"}},
		{[]string{"A", "B"}, []string{"A", "B"}},
		{[]string{"B", "C"}, []string{"B"}},
		{[]string{"B", "C"}, []string{"B", "C"}},
	}
	for i, st := range steps {
		snap := model.Snapshot{Arrival: t0.Add(time.Duration(i) * 5 * time.Second), Period: 5 * time.Second, Session: 1}
		var cs []Consumer
		for _, n := range st.names {
			cs = append(cs, mk(n))
		}
		var rated []string
		for j, f := range h.Update(snap, cs, nil) {
			if f.ArrivalRate.Valid {
				rated = append(rated, cs[j].Key)
				if f.ArrivalRate.V != 10 {
					t.Errorf("step %d: %s arrival rate %g, want 10", i, cs[j].Key, f.ArrivalRate.V)
				}
			}
		}
		if !slices.Equal(rated, st.rated) {
			t.Errorf("step %d: rates for %v, want %v", i, rated, st.rated)
		}
		if len(h.consumers) != len(st.names) {
			t.Errorf("step %d: state for %d consumers, want %d", i, len(h.consumers), len(st.names))
		}
	}
}

// TestWaitAfterDrain: after a drain the wait is what the last messages to
// leave waited; once the queue has been empty and idle for a window it is
// 0, and a lone message taken at once keeps it 0.
func TestWaitAfterDrain(t *testing.T) {
	ss := steady(10, 5, 10, 20, 400) // draining from 400
	at := ss[len(ss)-1].at
	for i := 1; i <= 14; i++ {
		ss = append(ss, sample{at: at + 5*float64(i)})
	}
	ss = append(ss, sample{at: at + 75, in: 1, out: 1})
	res := run(ss)
	if w, ok := res[len(ss)-14]["C_wait"]; !ok || w <= 1 {
		t.Fatalf("just drained: wait %v, %v; want the drain's wait", w, ok)
	}
	for _, m := range res[len(res)-2:] {
		if w, ok := m["C_wait"]; !ok || w != 0 {
			t.Errorf("empty queue a window later: wait %v, %v, want 0 (%v)", w, ok, m)
		}
	}
}
