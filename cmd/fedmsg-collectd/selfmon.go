package main

import (
	"runtime/metrics"
	"slices"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/putval"
)

// selfService is the service the plugin reports on itself under:
// HOST/fedmsg-collectd/..., plugin "fedmsg", instance "collectd".
const selfService = "fedmsg-collectd"

// selfValues returns the plugin's own counters, per watched endpoint
// (type derive, so collectd graphs them as rates), and its process figures.
func selfValues(host string, now time.Time, interval time.Duration, watched map[hubmon.Endpoint]*hubmon.Stats, box *outbox, lat *latencies) putval.Batch {
	eps := make([]hubmon.Endpoint, 0, len(watched))
	for ep := range watched {
		eps = append(eps, ep)
	}
	slices.SortFunc(eps, func(a, b hubmon.Endpoint) int { return strings.Compare(a.Service, b.Service) })
	b := putval.Batch{Host: host, Service: selfService, Time: now, Interval: interval}
	for _, ep := range eps {
		st := watched[ep]
		for _, c := range []struct {
			name string
			v    int64
		}{
			{"snapshots", st.Snapshots.Load()},
			{"reconnects", max(st.Sessions.Load()-1, 0)},
			{"decode_errors", st.DecodeErrors.Load()},
			{"skipped_entries", st.Skipped.Load()},
			{"oversize_messages", st.Oversize.Load()},
			{"dropped_snapshots", box.droppedCount(ep)},
		} {
			b.Values = append(b.Values, putval.Value{Type: "derive", TypeInstance: putval.Field(ep.Service + "_" + c.name), Value: float64(c.v)})
		}
	}
	if p99, most, ok := lat.take(); ok {
		b.Values = append(b.Values,
			putval.Value{Type: "duration", TypeInstance: "latency_p99", Value: p99.Seconds()},
			putval.Value{Type: "duration", TypeInstance: "latency_max", Value: most.Seconds()},
		)
	}
	samples := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(samples)
	b.Values = append(b.Values,
		putval.Value{Type: "gauge", TypeInstance: "goroutines", Value: float64(samples[0].Value.Uint64())},
		putval.Value{Type: "memory", TypeInstance: "go_total", Value: float64(samples[1].Value.Uint64())},
	)
	return b
}

// latencies collects, between two intervals, how long snapshots took from
// the arrival of their last byte to their last line written to stdout.
type latencies struct {
	d []time.Duration
}

// maxLatencies bounds the samples kept per interval.
const maxLatencies = 4096

func (l *latencies) add(d time.Duration) {
	if len(l.d) < maxLatencies {
		l.d = append(l.d, d)
	}
}

// take returns the 99th percentile and the maximum of the latencies since
// the previous call, and forgets them.
func (l *latencies) take() (p99, most time.Duration, ok bool) {
	if len(l.d) == 0 {
		return 0, 0, false
	}
	slices.Sort(l.d)
	p99 = l.d[min(len(l.d)-1, len(l.d)*99/100)]
	most = l.d[len(l.d)-1]
	l.d = l.d[:0]
	return p99, most, true
}
