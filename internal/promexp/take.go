package promexp

import (
	"math"
	"strconv"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// takeHub returns the state of a hub after batch b, from its state prev
// (nil for a hub not seen before): a liveness batch updates whether it is
// up; a snapshot's batch replaces its values and adds to its counters.
func takeHub(prev *hubState, b report.Batch) *hubState {
	snapshot := false
	up := math.NaN()
	if prev != nil {
		up = prev.up
	}
	for _, v := range b.Values {
		switch v.Kind {
		case report.HubUp:
			up = v.V
		case report.Backlog:
			snapshot = true
		}
	}
	if !snapshot {
		next := &hubState{up: up}
		if prev != nil {
			c := *prev
			c.up = up
			next = &c
		}
		return next
	}
	next := &hubState{at: b.Time, period: b.Interval, up: up}
	names := distinct(b.Subjects)
	old := map[string]*consumerState{}
	if prev != nil {
		for _, c := range prev.consumers {
			old[c.name] = c
		}
	}
	byIndex := map[int]*consumerState{}
	consumer := func(i int) *consumerState {
		c := byIndex[i]
		if c == nil {
			c = &consumerState{name: names[i]}
			if o := old[c.name]; o != nil {
				// Carry the counts: a copy, the old state stays as it was.
				c.in, c.out, c.exc = o.in, o.out, o.exc
				c.count, c.sum, c.buckets = o.count, o.sum, o.buckets
			}
			byIndex[i] = c
			next.consumers = append(next.consumers, c)
		}
		return c
	}
	for _, v := range b.Values {
		if v.Kind.Scope() != report.Entry || v.Subject < 0 || v.Subject >= len(names) {
			if m, ok := gauges[v.Kind]; ok && v.Kind.Scope() == report.Hub {
				next.values = append(next.values, hubValue{m, v.V})
			}
			continue
		}
		switch k := v.Kind; {
		case k == report.ProducerExceptions:
			next.producers = append(next.producers, entryValue{names[v.Subject], gauges[k], v.V})
		case k == report.LastRanAge:
			ran := b.Time.Add(-time.Duration(v.V * float64(time.Second)))
			next.producers = append(next.producers, entryValue{names[v.Subject], lastRan, float64(ran.UnixNano()) / 1e9})
		case k == report.HeadcountIn:
			consumer(v.Subject).in += count(v.V)
		case k == report.HeadcountOut:
			consumer(v.Subject).out += count(v.V)
		case k == report.Exceptions:
			consumer(v.Subject).exc += count(v.V)
		case k == report.TimeCount:
			c := consumer(v.Subject)
			c.count += uint64(count(v.V))
			c.hasTimes = true
		case k == report.TimeSum:
			consumer(v.Subject).sum += count(v.V)
		case k >= report.TimeLE0:
			consumer(v.Subject).buckets[k-report.TimeLE0] += uint64(count(v.V))
		default:
			if m, ok := gauges[k]; ok {
				c := consumer(v.Subject)
				c.gauges = append(c.gauges, hubValue{m, v.V})
			}
		}
	}
	return next
}

// count is v as an amount to add to a counter: counters never go back, so
// a negative, infinite or NaN amount (a hub may send anything) adds 0.
func count(v float64) float64 {
	if v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	return v
}

// distinct returns the label values of the subjects: valid UTF-8, and a
// name listed again gets "#2", "#3", ..., so no two series collide.
func distinct(subjects []string) []string {
	out := make([]string, len(subjects))
	used := make(map[string]bool, len(subjects))
	for i, n := range subjects {
		base := label(n)
		n = base
		for k := 2; used[n]; k++ {
			n = base + "#" + strconv.Itoa(k)
		}
		used[n] = true
		out[i] = n
	}
	return out
}
