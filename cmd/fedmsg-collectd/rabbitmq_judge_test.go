package main

// The judging of TestRabbitMQIntegration: what the plugin wrote against
// every message's logged times.

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// judged is what the judging reads: a queue's identifiers, the phases
// of its load, and the bounds of its errors.
type judged struct {
	prefix, queue string // h/fedmsg_rabbitmq-default/, transient
	phases        []brokerPhase
	// bounds of the median relative errors, by figure or "figure phase".
	bounds map[string]float64
	// lag bounds the median age of the backlog at its time stamp.
	lag float64
	// need are the rows that must be written: the expected wait on 80 %
	// of their snapshots, the drain time on one at least.
	need []judgedRow
	// changes are when the consumers change (seconds from the start): an
	// expected wait or drain time that a change comes into is not judged,
	// for no figure of the moment can know it.
	changes []float64
	// firstApart judges the expected wait of the first snapshot after each
	// change apart, as "expected_wait (first poll)": its poll's window
	// began before the change, so it has seen at most part of a window of
	// the consumers' new speed.
	firstApart bool
}

// judgedRow is a row of the table: a figure in a phase.
type judgedRow struct{ figure, phase string }

// id returns the identifier of a figure of the queue.
func (j judged) id(typ, figure string) string {
	return j.prefix + typ + "-" + j.queue + "_" + figure
}

// transientJudged is TestRabbitMQIntegration's queue.
var transientJudged = judged{prefix: "h/fedmsg_rabbitmq-default/", queue: "transient", phases: brokerPhases, lag: 0.5,
	// The targets, loosened for a single run of a few snapshots a
	// phase (docs/analytics.md has the simulated ones). Little's wait in
	// an overload reads high by about the counters' age times (1 -
	// service/arrival) (docs/rabbitmq.md): 7 % alone, up to 52 % beside
	// the rest of a CI run, where the counters are older.
	bounds: map[string]float64{"backlog": 0.05, "expected_wait": 0.3, "wait (Little)": 0.4, "wait (Little) overload": 0.7, "drain_time": 0.5,
		"expected_wait (burst, first two)": 0.5},
	need: []judgedRow{{"expected_wait", "overload"}, {"expected_wait", "drain"}, {"drain_time", "drain"}, {"expected_wait (burst, first two)", "burst"}}}

// judgeRun judges a run's output against its log: the arrival rate, with
// the counters' age measured by lags (seconds, one a read), then every
// figure (judgeBroker). start is when the load started.
func judgeRun(t *testing.T, out string, j judged, log *messageLog, lags []float64, start time.Time) {
	t.Helper()
	slices.Sort(lags)
	if len(lags) == 0 {
		t.Fatal("the publish counter read never matched a publication")
	}
	rateErr := judgeArrivalRate(t, out, j, log, lags[len(lags)/2])
	t.Logf("arrival rate within %.1f %% of its definition (median); the broker's publish counter describes the queue %.1f s before it is read (median of %d reads; %.1f-%.1f s)",
		100*rateErr, lags[len(lags)/2], len(lags), lags[0], lags[len(lags)-1])
	judgeBroker(t, out, j, log, float64(start.UnixNano())/1e9)
}

// judgeArrivalRate compares the arrival rates written with their
// definition: the rate of each window between snapshots, exponentially
// smoothed over 60 s from the first value written, from the messages
// published in them; the windows the broker's counters describe, lag
// seconds before the snapshots. It returns the median relative error
// over the snapshots with a rate over 1/s.
func judgeArrivalRate(t *testing.T, s string, j judged, log *messageLog, lag float64) float64 {
	t.Helper()
	snaps, _ := putvals(s, j.id("queue_length", "backlog"))
	at, v := putvals(s, j.id("operations_per_second", "arrival_rate"))
	var rel []float64
	var rows []string
	smoothed := math.NaN()
	for i := range at {
		k := slices.Index(snaps, at[i])
		if k < 1 {
			t.Fatalf("an arrival rate at %v, with no snapshot before", at[i])
		}
		lo, _ := slices.BinarySearch(log.published, snaps[k-1]-lag)
		hi, _ := slices.BinarySearch(log.published, at[i]-lag)
		dt := at[i] - snaps[k-1]
		rate := float64(hi-lo) / dt
		if math.IsNaN(smoothed) {
			// The first window's count depends on how old the counter
			// was at its two ends (0.2 to 4.5 s, channel by channel): the
			// smoothing starts from the value written, and what follows
			// is judged.
			smoothed = v[i]
		} else {
			smoothed += (1 - math.Exp(-dt/60)) * (rate - smoothed)
		}
		if smoothed > 1 {
			rel = append(rel, math.Abs(v[i]-smoothed)/smoothed)
		}
		rows = append(rows, fmt.Sprintf("%.2f: written %.2f, definition %.2f (window %.2f s: %.2f/s)", at[i]-at[0], v[i], smoothed, dt, rate))
	}
	slices.Sort(rel)
	if len(rel) == 0 || rel[len(rel)/2] > 0.1 {
		t.Errorf("arrival rates: median error over 10 %%:\n%s", strings.Join(rows, "\n"))
		return math.NaN()
	}
	return rel[len(rel)/2]
}

// written returns the values written for a figure of the queue, by time.
func written(s, id string) map[float64]float64 {
	at, v := putvals(s, id)
	m := map[float64]float64{}
	for i := range at {
		m[at[i]] = v[i]
	}
	return m
}

// judgeBroker compares what the plugin wrote with the logged truth, each
// value at its own time stamp, asserts bounds per phase and logs the
// table of errors.
func judgeBroker(t *testing.T, s string, j judged, log *messageLog, start float64) {
	t.Helper()
	bat, bv := putvals(s, j.id("queue_length", "backlog"))
	expected, wait, drain, growth := written(s, j.id("duration", "expected_wait")), written(s, j.id("duration", "wait")),
		written(s, j.id("duration", "drain_time")), written(s, j.id("operations_per_second", "growth_rate"))
	pubs := log.published
	dels := slices.Sorted(slices.Values(log.delivered))
	backlogAt := func(at float64) float64 {
		n, _ := slices.BinarySearch(pubs, at)
		m, _ := slices.BinarySearch(dels, at)
		return float64(n - m)
	}
	// When the queue next emptied after at.
	emptiedAfter := func(at float64) float64 {
		for _, d := range dels {
			if d > at && backlogAt(d+1e-6) == 0 {
				return d
			}
		}
		return math.NaN()
	}
	// The wait of a message published at at: FIFO, it is delivered just
	// after the last one published before it.
	waitFrom := func(at float64) float64 {
		k, _ := slices.BinarySearch(pubs, at)
		if k == 0 {
			return 0
		}
		return max(0, log.delivered[k-1]-at)
	}
	// The mean wait of the messages delivered in the smoothing window (60 s).
	departedMean := func(at float64) (float64, bool) {
		sum, n := 0.0, 0
		for k, d := range log.delivered {
			if d > at-60 && d <= at {
				sum += d - pubs[k]
				n++
			}
		}
		return sum / float64(max(n, 1)), n > 0
	}

	type row = judgedRow
	all := map[row]*errs{}
	seen := map[row][]string{} // each snapshot judged, for a row that fails
	add := func(r row, got, want float64, present bool, at float64) {
		if all[r] == nil {
			all[r] = &errs{}
		}
		all[r].add(got, want, present)
		seen[r] = append(seen[r], fmt.Sprintf("%.1f s: written %.3g (%v), truth %.3g", at-start, got, present, want))
	}
	var lags []float64
	burstSeen := 0
	// Snapshots of an empty queue: how many read 0, how many have an
	// expected wait (0).
	empties, zeros, emptyWaits := 0, 0, 0
	for i, at := range bat {
		if at < start {
			continue // before the load
		}
		k := len(j.phases) - 1
		for at-start < j.phases[k].from {
			k--
		}
		ph := j.phases[k].name
		// The moment the backlog written was true, nearest its time stamp.
		if bv[i] > 10 {
			when, best := at, math.Inf(1)
			for x := at - 10; x <= at+1; x += 0.01 {
				if d := math.Abs(backlogAt(x) - bv[i]); d < best || d == best && math.Abs(x-at) < math.Abs(when-at) {
					when, best = x, d
				}
			}
			lags = append(lags, at-when)
		}
		if truth := backlogAt(at); truth > 10 {
			add(row{"backlog", ph}, bv[i], truth, true, at)
		} else if truth == 0 {
			empties++
			if bv[i] == 0 {
				zeros++
			}
			if _, ok := expected[at]; ok {
				emptyWaits++
			}
		}
		if g, ok := growth[at]; ok && i > 0 && bv[i] < bv[i-1] && g > 0 {
			t.Errorf("at %.1f s the backlog written shrank %g -> %g, growth rate %g written", at-start, bv[i-1], bv[i], g)
		}
		// Whether the consumers change in (at, until].
		changed := func(until float64) bool {
			return slices.ContainsFunc(j.changes, func(c float64) bool { return start+c > at && start+c <= until })
		}
		if bv[i] > 10 && !changed(at+waitFrom(at)) {
			w, ok := expected[at]
			fig := "expected_wait"
			if ph == "burst" && burstSeen < 2 {
				fig, burstSeen = "expected_wait (burst, first two)", burstSeen+1
			}
			if j.firstApart && i > 0 && slices.ContainsFunc(j.changes, func(c float64) bool { return start+c > bat[i-1] && start+c <= at }) {
				fig = "expected_wait (first poll)"
			}
			add(row{fig, ph}, w, waitFrom(at), ok, at)
		}
		if i > 0 && bv[i] < bv[i-1] && bv[i] > 10 && !changed(emptiedAfter(at)) {
			d, ok := drain[at]
			add(row{"drain_time", ph}, d, emptiedAfter(at)-at, ok, at)
		}
		if mean, ok := departedMean(at); ok && mean > 0.5 {
			w, ok := wait[at]
			add(row{"wait (Little)", ph}, w, mean, ok, at)
		}
	}
	bounds := j.bounds
	var table strings.Builder
	fmt.Fprintf(&table, "| phase | figure | snapshots | present | median error | largest |\n|---|---|---|---|---|---|\n")
	for _, ph := range j.phases {
		for _, fig := range []string{"backlog", "expected_wait (first poll)", "expected_wait", "expected_wait (burst, first two)", "wait (Little)", "drain_time"} {
			e := all[row{fig, ph.name}]
			if e == nil {
				continue
			}
			fmt.Fprintf(&table, "| %s | %s | %d | %.0f %% | %.1f %% | %.1f %% |\n", ph.name, fig, e.evaluated,
				100*float64(e.present)/float64(e.evaluated), 100*e.quantile(0.5), 100*e.quantile(1))
			bound := bounds[fig]
			if b, ok := bounds[fig+" "+ph.name]; ok {
				bound = b
			}
			if e.present > 0 && e.quantile(0.5) > bound {
				t.Errorf("%s: %s median error %.1f %%, over %.0f %%; its snapshots:\n%s", ph.name, fig, 100*e.quantile(0.5), 100*bound,
					strings.Join(seen[row{fig, ph.name}], "\n"))
			}
		}
	}
	for _, r := range j.need {
		if !slices.ContainsFunc(j.phases, func(p brokerPhase) bool { return p.name == r.phase }) {
			continue
		}
		e := all[r]
		if first := all[row{r.figure + " (first poll)", r.phase}]; first != nil {
			// Its first poll is the phase's too.
			both := &errs{}
			for _, x := range []*errs{e, first} {
				if x != nil {
					both.evaluated += x.evaluated
					both.present += x.present
				}
			}
			e = both
		}
		switch {
		case e == nil || e.present == 0:
			t.Errorf("%s: no %s written", r.phase, r.figure)
		case r.figure != "drain_time" && e.present*5 < e.evaluated*4:
			// From the first snapshot of each phase: the capacity from the
			// messages the consumers hold before they are seen saturated.
			t.Errorf("%s: %s written on %d of %d snapshots, want 80 %%", r.phase, r.figure, e.present, e.evaluated)
		}
	}
	for _, ph := range j.phases {
		if e := all[row{"expected_wait (first poll)", ph.name}]; e != nil && e.present*5 < e.evaluated*4 {
			t.Errorf("%s: expected_wait written on %d of %d first polls, want 80 %%", ph.name, e.present, e.evaluated)
		}
	}
	slices.Sort(lags)
	if len(lags) == 0 || math.Abs(lags[len(lags)/2]) > j.lag {
		t.Errorf("the backlog written is the true one %v s before its time stamp: want within %g s", lags, j.lag)
		return
	}
	t.Logf("an empty queue (nothing published and not yet delivered at the time stamp) read 0 on %d of %d snapshots, with an expected wait on %d",
		zeros, empties, emptyWaits)
	if zeros < empties*9/10 && !math.IsInf(j.bounds["backlog"], 1) {
		t.Errorf("an empty queue read 0 on %d of %d snapshots: want 90 %%", zeros, empties)
	}
	t.Logf("the backlog written was true %.2f s before its time stamp (median of %d; %.2f to %.2f s); errors at each value's time stamp:\n%s",
		lags[len(lags)/2], len(lags), lags[0], lags[len(lags)-1], table.String())
}

// errs collects relative errors of one figure.
type errs struct {
	evaluated, present int
	rel                []float64
}

func (e *errs) add(got, want float64, present bool) {
	e.evaluated++
	if present && want > 0 && !math.IsNaN(want) {
		e.present++
		e.rel = append(e.rel, math.Abs(got-want)/want)
	}
}

// quantile returns the q-quantile of the errors, nearest rank.
func (e *errs) quantile(q float64) float64 {
	if len(e.rel) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(e.rel))
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
