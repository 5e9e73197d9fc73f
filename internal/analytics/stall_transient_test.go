package analytics

import (
	"math"
	"slices"
	"strings"

	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
)

// hang is a stall of some consumers of a polled scenario: from from, a
// worker of workers (all when nil) that takes a message is held until to.
type hang struct {
	from, to float64
	workers  []int
}

// holds is sim.Model.Hold for hangs.
func holds(hangs []hang) func(now float64, worker int) float64 {
	return func(now float64, worker int) float64 {
		for _, h := range hangs {
			if now >= h.from && now < h.to && (h.workers == nil || slices.Contains(h.workers, worker)) {
				return h.to
			}
		}
		return now
	}
}

// hangsBetween says whether a hang starts or ends in (from, to].
func hangsBetween(hangs []hang, from, to float64) bool {
	for _, h := range hangs {
		if h.from > from && h.from <= to || h.to > from && h.to <= to {
			return true
		}
	}
	return false
}

// The stall scenarios: 3 consumers at 0.1 s a message (30/s); 15/s
// arriving, all hang for 120 s; 18/s arriving, one of them hangs for
// 120 s, or holds its message for 10 minutes while the others serve,
// which is no stall of the queue.
func init() {
	base := sim.Model{Name: "q", Workers: 3, Service: skewed, Arrivals: sim.Constant(15)}
	busy := base
	busy.Arrivals = sim.Constant(18) // 90 % of what two consumers serve
	phases := func(to float64) []phase {
		return []phase{{0, "steady", false}, {100, "hung", false}, {to, "recovering", false}}
	}
	polledScenarios = append(polledScenarios,
		polled{name: "broker, 3 consumers, all hang for 120 s", model: base, workers: true,
			hangs: []hang{{100, 220, nil}}, phases: phases(220), horizon: 450},
		polled{name: "broker, 3 consumers, one hangs for 120 s", model: busy, workers: true,
			hangs: []hang{{100, 222.5, []int{0}}}, phases: phases(222.5), horizon: 400},
		polled{name: "broker, 3 consumers, one holds a message for 10 min", model: busy, workers: true,
			hangs: []hang{{100, 702.5, []int{0}}}, phases: phases(702.5), horizon: 800},
	)
}

// judgeStall judges the stall figures of snapshot s, prev the one before,
// against the truth: a stall is messages waiting at both and none taken
// between them. During one, the time stalled (since the last message
// taken) is reported within a window, and the expected wait is present
// and at least that; outside one, none is reported. It says whether s
// is in a stall.
func judgeStall(j judged, name string, s, prev snap, waits []sim.Wait) bool {
	const period = 5.0
	k, _ := slices.BinarySearchFunc(waits, prev.at, func(w sim.Wait, at float64) int { return cmpFloat(w.Started, at) })
	for k < len(waits) && waits[k].Started <= prev.at {
		k++
	}
	stalled := s.backlog > 0 && prev.backlog > 0 && (k == len(waits) || waits[k].Started > s.at)
	if !stalled {
		j.add(name+"|stalled 0 outside a stall", boolf(!s.f.Stalled.Valid || s.f.Stalled.V == 0), 1, true)
		return false
	}
	since := prev.at
	if k > 0 {
		since = waits[k-1].Started
	}
	truth := s.at - since
	got := s.f.Stalled.V
	j.add(name+"|stalled within a window", boolf(s.f.Stalled.Valid && got > 0 && got <= truth && got >= truth-period), 1, true)
	j.add(name+"|expected_wait at least the time stalled", boolf(s.f.ExpectedWait.Valid && s.f.ExpectedWait.V >= got && got > 0), 1, true)
	if s.f.DrainTime.Valid {
		j.add(name+"|no drain time in a stall", 0, 1, true)
	}
	return true
}

// judgeOldest judges the oldest message's age at s: the first message
// not yet taken at s.at has waited since its arrival. The error is
// relative to the truth or to one poll, whichever is larger: the counts
// tell nothing finer than a poll. In the first two snapshots of a burst,
// when in the poll the messages came is not known: within one poll.
func judgeOldest(j judged, name string, s snap, waits []sim.Wait) {
	const period = 5.0
	if s.backlog == 0 {
		j.add(name+"|oldest_age 0 on an empty queue", boolf(s.f.OldestAge.Valid && s.f.OldestAge.V == 0), 1, true)
		return
	}
	k, _ := slices.BinarySearchFunc(waits, s.at, func(w sim.Wait, at float64) int { return cmpFloat(w.Started, at) })
	for k < len(waits) && waits[k].Started <= s.at {
		k++
	}
	if k == len(waits) {
		return // not taken before the end of the run: its wait is not known
	}
	truth, got := s.at-waits[k].Arrived, s.f.OldestAge.V
	if strings.HasSuffix(name, "first two snapshots") {
		j.add(name+"|oldest_age within a poll", boolf(s.f.OldestAge.Valid && math.Abs(got-truth) <= period), 1, true)
		return
	}
	e := j[name+"|oldest_age"]
	if e == nil {
		e = &errs{}
		j[name+"|oldest_age"] = e
	}
	e.evaluated++
	if s.f.OldestAge.Valid {
		e.present++
		e.rel = append(e.rel, math.Abs(got-truth)/max(truth, period))
	}
}
