// Package derive turns a decoded hub snapshot into the neutral values of
// package report: the compatibility set of the old per-daemon Python script
// (backlog, exceptions, headcounts, processing times), the hub's counts and
// the queue analytics, in a fixed order. Names are the sinks' business: the
// values refer to the consumers and producers by their index.
package derive

import (
	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Hub derives the values of one hub's successive snapshots. Between them
// it keeps the queue analytics' state, the names of the previous snapshot
// (a hub lists the same consumers every time) and its buffers. Use one Hub
// per hub, from one goroutine.
type Hub struct {
	// Histograms adds each consumer's processing times in buckets (kinds
	// TimeCount, TimeSum and TimeLE0 on), for the sinks that want them.
	Histograms bool

	// Shared, when set, is the storage this Hub shares with the others
	// derived from the same goroutine (see Scratch); unset, the Hub keeps
	// its own and Values' slices are valid until its next call.
	Shared *Scratch

	queues *analytics.Hub
	names  []string // the consumers' then the producers' names of the previous snapshot
	keys   []string // the consumers' analytics keys: names made distinct
	own    Scratch
}

// Scratch is the storage of Values: a hub's values are written and read
// in turn, so 100 hubs need one buffer, not 100 (5 MB at 50 consumers
// each). The values of every call since the last Reset stay valid: each
// is appended after the others.
type Scratch struct {
	live  []analytics.Consumer
	index []int // of live in the snapshot's consumers
	figs  []analytics.Figures
	out   []report.Value
}

// maxArena bounds the values kept between Resets: past it a call starts
// new storage (the values already handed out stay valid, held by their
// readers), so a caller that never resets does not grow it without end.
const maxArena = 1 << 18

// Reset lets the values of the calls so far be written over; the caller
// no longer reads them.
func (sc *Scratch) Reset() {
	sc.out = sc.out[:0]
	if cap(sc.out) > maxArena {
		sc.out = nil
	}
}

// NewHub returns a Hub computing the queue analytics with a, or only the
// compatibility set and hub-level values when a is nil.
func NewHub(a *analytics.Hub) *Hub {
	return &Hub{queues: a}
}

// Values returns the values for one snapshot, in a fixed order: per
// consumer whether it started, and per initialized one its backlog,
// exceptions, headcounts, processing times and, with Histograms, their
// buckets; per producer whether it started, and per initialized one its
// frequency, exceptions and last-run age; then the hub's counts; then,
// with analytics, the consumers' rates, waits and drain or growth, then
// their percentiles and utilisation. Optional fields a hub did not send
// produce no value. subjects are the names the values' Subject indexes:
// the consumers' then the producers'. Both slices are only valid until
// the next call, or with Shared until its next Reset.
func (h *Hub) Values(s model.Snapshot) (subjects []string, values []report.Value) {
	subjects = h.namesOf(s)
	sc := h.Shared
	if sc == nil {
		sc = &h.own
		sc.Reset()
	}
	if len(sc.out) > maxArena {
		sc.out = nil
	}
	start := len(sc.out)
	out := sc.out
	add := func(k report.Kind, subject int, o model.Opt) {
		if o.Valid {
			out = append(out, report.Value{Kind: k, Subject: subject, V: o.V})
		}
	}
	uninit := 0
	live, index := sc.live[:0], sc.index[:0]
	for i := range s.Consumers {
		c := &s.Consumers[i]
		if !c.Initialized {
			uninit++
			out = append(out, report.Value{Kind: report.Initialized, Subject: i, V: 0})
			continue
		}
		out = append(out, report.Value{Kind: report.Initialized, Subject: i, V: 1})
		live = append(live, analytics.Consumer{Key: h.keys[i], Consumer: c})
		index = append(index, i)
		add(report.Backlog, i, c.Backlog)
		add(report.Exceptions, i, c.Exceptions)
		add(report.HeadcountIn, i, c.HeadcountIn)
		add(report.HeadcountOut, i, c.HeadcountOut)
		add(report.Workers, i, c.Workers)
		add(report.InService, i, c.InService)
		if c.HasTimes {
			lo, hi, mean := stats(c.Times)
			add(report.TimeMin, i, model.Some(lo))
			add(report.TimeMax, i, model.Some(hi))
			add(report.TimeAvg, i, model.Some(mean))
			if h.Histograms {
				out = appendBuckets(out, i, c.Times)
			}
		}
	}
	for i, p := range s.Producers {
		n := len(s.Consumers) + i
		if !p.Initialized {
			uninit++
			out = append(out, report.Value{Kind: report.Initialized, Subject: n, V: 0})
			continue
		}
		out = append(out, report.Value{Kind: report.Initialized, Subject: n, V: 1})
		add(report.Frequency, n, p.Frequency)
		add(report.ProducerExceptions, n, p.Exceptions)
		if p.LastRan.Valid {
			add(report.LastRanAge, n, model.Some(lastRanAge(s, p.LastRan.V)))
		}
	}
	add(report.Consumers, 0, model.Some(float64(len(s.Consumers))))
	add(report.Producers, 0, model.Some(float64(len(s.Producers))))
	add(report.Uninitialized, 0, model.Some(float64(uninit)))
	if h.queues != nil {
		sc.figs = h.queues.Update(s, live, sc.figs)
		for j, f := range sc.figs {
			i := index[j]
			add(report.ArrivalRate, i, f.ArrivalRate)
			add(report.ServiceRate, i, f.ServiceRate)
			add(report.Wait, i, f.Wait)
			add(report.ExpectedWait, i, f.ExpectedWait)
			add(report.DrainTime, i, f.DrainTime)
			add(report.GrowthRate, i, f.GrowthRate)
			add(report.OldestAge, i, f.OldestAge)
			add(report.Stalled, i, f.Stalled)
		}
		for j, f := range sc.figs {
			i := index[j]
			add(report.P50, i, f.P50)
			add(report.P95, i, f.P95)
			add(report.P99, i, f.P99)
			add(report.Utilization, i, f.Utilization)
		}
	}
	clear(live) // let go of the snapshot
	sc.live, sc.index, sc.out = live, index, out
	return subjects, out[start:len(out):len(out)]
}

// namesOf returns the names of the consumers and then the producers of s:
// the slice of the previous snapshot when the hub sent the same names
// again. It also keeps the consumers' analytics keys: their names made
// distinct by report.Distinct.
func (h *Hub) namesOf(s model.Snapshot) []string {
	n := len(s.Consumers) + len(s.Producers)
	same := len(h.names) == n
	for i := 0; same && i < len(s.Consumers); i++ {
		same = h.names[i] == s.Consumers[i].Name
	}
	for i := 0; same && i < len(s.Producers); i++ {
		same = h.names[len(s.Consumers)+i] == s.Producers[i].Name
	}
	if same {
		return h.names
	}
	names := make([]string, 0, n)
	for _, c := range s.Consumers {
		names = append(names, c.Name)
	}
	keys := report.Distinct(names, func(s string) string { return s }, nil)
	for _, p := range s.Producers {
		names = append(names, p.Name)
	}
	h.names, h.keys = names, keys
	return names
}

// lastRanAge is the seconds from a producer's last poll to the snapshot's
// arrival. A hub on another host with a clock ahead of ours would give a
// negative age; it is reported as 0.
func lastRanAge(s model.Snapshot, lastRan float64) float64 {
	// Whole seconds first: an epoch in nanoseconds does not fit a float64.
	age := float64(s.Arrival.Unix()) - lastRan + float64(s.Arrival.Nanosecond())/1e9
	if age > 0 {
		return age
	}
	return 0
}

// stats returns the minimum, maximum and mean of ts, all 0 when ts is empty,
// as the old script reported an idle consumer.
func stats(ts []float64) (lo, hi, mean float64) {
	if len(ts) == 0 {
		return 0, 0, 0
	}
	lo, hi = ts[0], ts[0]
	sum := 0.0
	for _, t := range ts {
		lo = min(lo, t)
		hi = max(hi, t)
		sum += t
	}
	return lo, hi, sum / float64(len(ts))
}

// appendBuckets appends the count, the sum and the counts of the buckets
// that hold any of the processing times ts of subject i.
func appendBuckets(out []report.Value, i int, ts []float64) []report.Value {
	var n [report.NumBounds]float64
	sum := 0.0
	for _, t := range ts {
		sum += t
		if b := report.BucketOf(t); b < len(n) {
			n[b]++
		}
	}
	out = append(out, report.Value{Kind: report.TimeCount, Subject: i, V: float64(len(ts))},
		report.Value{Kind: report.TimeSum, Subject: i, V: sum})
	for b := range n {
		if n[b] > 0 {
			out = append(out, report.Value{Kind: report.TimeLE0 + report.Kind(b), Subject: i, V: n[b]})
		}
	}
	return out
}
