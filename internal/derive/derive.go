// Package derive turns a decoded hub snapshot into the values written to
// collectd: the compatibility set of the old per-daemon Python script, with
// its exact identifiers and units, followed by hub-level values.
package derive

import (
	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
)

// Hub derives the values of one hub's successive snapshots. Between them
// it keeps the queue analytics' state, the names of the previous snapshot
// (a hub lists the same consumers every time, so they are made fit for
// identifiers once) and its buffers. Use one Hub per hub, from one
// goroutine.
type Hub struct {
	queues *analytics.Hub
	raw    []string // the names of the previous snapshot, as the hub sent them
	names  []string // putval.Names(raw)
	live   []analytics.Consumer
	out    []putval.Value
}

// NewHub returns a Hub computing the queue analytics with a, or only the
// compatibility set and hub-level values when a is nil.
func NewHub(a *analytics.Hub) *Hub {
	return &Hub{queues: a}
}

// Values returns the values for one snapshot, in a fixed order: per
// initialized consumer its backlog, exceptions, headcounts and response times;
// per initialized producer its exceptions and last-run age; then the hub's
// counts; then, with analytics, the queue analytics of the consumers.
// Optional fields a hub did not send produce no value. The slice, and the
// Consumers of s it refers to, are only valid until the next call.
//
// Consumers and producers share one name space (both write
// gauge-NAME_exceptions), so a producer named like a consumer, or two
// consumers with one class name, get distinct names from putval.Names.
func (h *Hub) Values(s hubmon.Snapshot) []putval.Value {
	names := h.namesOf(s)
	out := h.out[:0]
	add := func(typ, name, suffix string, o hubmon.Opt) {
		if o.Valid {
			out = append(out, putval.Value{Type: typ, TypeInstance: name, Suffix: suffix, Value: o.V})
		}
	}
	uninit := 0
	live := h.live[:0]
	for i := range s.Consumers {
		c := &s.Consumers[i]
		if !c.Initialized {
			uninit++
			continue
		}
		n := names[i]
		live = append(live, analytics.Consumer{Name: n, Consumer: c})
		add("queue_length", n, "_backlog", c.Backlog)
		add("gauge", n, "_exceptions", c.Exceptions)
		add("gauge", n, "_in", c.HeadcountIn)
		add("gauge", n, "_out", c.HeadcountOut)
		if c.HasTimes {
			lo, hi, mean := stats(c.Times)
			add("response_time", n, "_min", hubmon.Some(1000*lo))
			add("response_time", n, "_max", hubmon.Some(1000*hi))
			add("response_time", n, "_avg", hubmon.Some(1000*mean))
		}
	}
	for i, p := range s.Producers {
		if !p.Initialized {
			uninit++
			continue
		}
		n := names[len(s.Consumers)+i]
		add("gauge", n, "_exceptions", p.Exceptions)
		if p.LastRan.Valid {
			add("duration", n, "_last_ran_age", hubmon.Some(lastRanAge(s, p.LastRan.V)))
		}
	}
	add("count", "consumers", "", hubmon.Some(float64(len(s.Consumers))))
	add("count", "producers", "", hubmon.Some(float64(len(s.Producers))))
	add("count", "uninitialized", "", hubmon.Some(float64(uninit)))
	if h.queues != nil {
		out = h.queues.Update(out, s, live)
	}
	clear(live) // let go of the snapshot
	h.live, h.out = live, out
	return out
}

// namesOf returns the identifier names of the consumers and then the
// producers of s: those of the previous snapshot when the hub sent the same
// names again.
func (h *Hub) namesOf(s hubmon.Snapshot) []string {
	n := len(s.Consumers) + len(s.Producers)
	same := len(h.raw) == n
	for i := 0; same && i < len(s.Consumers); i++ {
		same = h.raw[i] == s.Consumers[i].Name
	}
	for i := 0; same && i < len(s.Producers); i++ {
		same = h.raw[len(s.Consumers)+i] == s.Producers[i].Name
	}
	if same {
		return h.names
	}
	raw := make([]string, 0, n)
	for _, c := range s.Consumers {
		raw = append(raw, c.Name)
	}
	for _, p := range s.Producers {
		raw = append(raw, p.Name)
	}
	h.raw, h.names = raw, putval.Names(raw)
	return h.names
}

// Values returns the values of a single snapshot, as a new Hub's Values
// does: with analytics a, when not nil, and a slice of its own.
func Values(s hubmon.Snapshot, a *analytics.Hub) []putval.Value {
	return NewHub(a).Values(s)
}

// lastRanAge is the seconds from a producer's last poll to the snapshot's
// arrival. A hub on another host with a clock ahead of ours would give a
// negative age; it is reported as 0.
func lastRanAge(s hubmon.Snapshot, lastRan float64) float64 {
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
