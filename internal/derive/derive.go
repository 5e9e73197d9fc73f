// Package derive turns a decoded hub snapshot into the values written to
// collectd: the compatibility set of the old per-daemon Python script, with
// its exact identifiers and units, followed by hub-level values.
package derive

import (
	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
)

// Values returns the values for one snapshot, in a fixed order: per
// initialized consumer its backlog, exceptions, headcounts and response times;
// per initialized producer its exceptions and last-run age; then the hub's
// counts; then, when a is not nil, the queue analytics of the consumers,
// which a keeps state for between the hub's snapshots. Optional fields a hub
// did not send produce no value.
//
// Consumers and producers share one name space (both write
// gauge-NAME_exceptions), so a producer named like a consumer, or two
// consumers with one class name, get distinct names from putval.Names.
func Values(s hubmon.Snapshot, a *analytics.Hub) []putval.Value {
	all := make([]string, 0, len(s.Consumers)+len(s.Producers))
	for _, c := range s.Consumers {
		all = append(all, c.Name)
	}
	for _, p := range s.Producers {
		all = append(all, p.Name)
	}
	names := putval.Names(all)

	out := make([]putval.Value, 0, 7*len(s.Consumers)+2*len(s.Producers)+3)
	add := func(typ, inst string, o hubmon.Opt) {
		if o.Valid {
			out = append(out, putval.Value{Type: typ, TypeInstance: inst, Value: o.V})
		}
	}
	uninit := 0
	var live []analytics.Consumer
	for i, c := range s.Consumers {
		if !c.Initialized {
			uninit++
			continue
		}
		n := names[i]
		live = append(live, analytics.Consumer{Name: n, Consumer: c})
		add("queue_length", n+"_backlog", c.Backlog)
		add("gauge", n+"_exceptions", c.Exceptions)
		add("gauge", n+"_in", c.HeadcountIn)
		add("gauge", n+"_out", c.HeadcountOut)
		if c.HasTimes {
			lo, hi, mean := stats(c.Times)
			add("response_time", n+"_min", hubmon.Some(1000*lo))
			add("response_time", n+"_max", hubmon.Some(1000*hi))
			add("response_time", n+"_avg", hubmon.Some(1000*mean))
		}
	}
	for i, p := range s.Producers {
		if !p.Initialized {
			uninit++
			continue
		}
		n := names[len(s.Consumers)+i]
		add("gauge", n+"_exceptions", p.Exceptions)
		if p.LastRan.Valid {
			add("duration", n+"_last_ran_age", hubmon.Some(lastRanAge(s, p.LastRan.V)))
		}
	}
	add("count", "consumers", hubmon.Some(float64(len(s.Consumers))))
	add("count", "producers", hubmon.Some(float64(len(s.Producers))))
	add("count", "uninitialized", hubmon.Some(float64(uninit)))
	if a != nil {
		out = append(out, a.Update(s, live)...)
	}
	return out
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
