package pipeline

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// selfBatch returns the program's own values: per watched endpoint its
// counters (which collectd graphs as rates), then the latency of the
// interval's snapshots and the process' figures.
func selfBatch(now time.Time, interval time.Duration, src Source, watched []model.Watched, hubs *Hubs, box *outbox, lat *latencies) report.Batch {
	b := report.Batch{Service: report.SelfService, Time: now, Interval: interval, Subjects: make([]string, len(watched))}
	for i, w := range watched {
		b.Subjects[i] = w.Endpoint.Service
		h := hubs.hubs[w.Endpoint]
		if h == nil {
			h = new(hub)
		}
		for _, c := range []struct {
			k report.Kind
			v int64
		}{
			{report.Snapshots, h.snapshots},
			{report.Reconnects, max(w.Sessions-1, 0)},
			{report.DecodeErrors, h.errors},
			{report.SkippedEntries, h.skipped + w.Skipped},
			{report.OversizeMessages, w.Oversize},
			{report.RefusedPeers, w.Refused},
			{report.FailedPolls, w.Failed},
			{report.UnchangedPolls, w.Unchanged},
			{report.DroppedSnapshots, box.droppedCount(w.Endpoint)},
		} {
			if w.Polled && (c.k == report.Reconnects || c.k == report.RefusedPeers) ||
				!w.Polled && (c.k == report.FailedPolls || c.k == report.UnchangedPolls) {
				continue // not what such an endpoint has
			}
			b.Values = append(b.Values, report.Value{Kind: c.k, Subject: i, V: float64(c.v)})
		}
	}
	if p99, most, ok := lat.take(); ok {
		b.Values = append(b.Values,
			report.Value{Kind: report.LatencyP99, V: p99.Seconds()},
			report.Value{Kind: report.LatencyMax, V: most.Seconds()},
		)
	}
	if d, ok := src.(interface{ SkippedFiles() int }); ok {
		b.Values = append(b.Values, report.Value{Kind: report.SkippedSockets, V: float64(d.SkippedFiles())})
	}
	samples := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(samples)
	b.Values = append(b.Values,
		report.Value{Kind: report.Goroutines, V: float64(samples[0].Value.Uint64())},
		report.Value{Kind: report.Memory, V: float64(samples[1].Value.Uint64())},
	)
	return b
}

// releaseAbove is how much free heap (memory the runtime holds but does not
// use) beyond the heap's goal is given back to the system at once, on an
// interval tick, rather than over the minutes the runtime's scavenger
// takes: after a hub sent a large message, RSS returns to its usual size
// within one interval.
const releaseAbove = 4 << 20

// bigHeap is the live heap past which a collection comes once the heap
// has grown by half rather than doubled (GOGC 50, unless GOGC is set): at
// 100 hubs of 50 consumers (14 MB live) RSS is 44 MiB rather than 51,
// for no CPU a minute's measure tells apart. Under it, the runtime's
// default: a small heap collected twice as often costs CPU for little
// memory.
const bigHeap = 12 << 20

// ReleaseMemory gives free heap back to the system every interval until
// ctx ends, when there is more than releaseAbove of it beyond the heap's
// goal. It costs a garbage collection, only then (never in 45 s of 10 hubs
// of 50 consumers; measured). A command runs it beside its pipeline.
func ReleaseMemory(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() { releaseMemory() })
}

// TuneGC, every interval until ctx ends, sets the heap's growth between
// collections for the live heap (gcPercent), unless GOGC is set. It sets
// the whole process' collector: the program's main runs it, not a
// command, which may run beside others in one process (the tests).
func TuneGC(ctx context.Context, interval time.Duration) {
	if os.Getenv("GOGC") != "" {
		return
	}
	percent := 100
	every(ctx, interval, func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		if p := gcPercent(s[0].Value.Uint64()); p != percent {
			debug.SetGCPercent(p)
			percent = p
		}
	})
}

// every calls f every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// gcPercent returns the heap's growth between collections (GOGC) for a
// live heap of live bytes.
func gcPercent(live uint64) int {
	if live > bigHeap {
		return 50
	}
	return 100
}

// releaseMemory gives the spare free heap back.
func releaseMemory() {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() != metrics.KindUint64 {
			return
		}
	}
	if spare(s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()) {
		debug.FreeOSMemory()
	}
}

// spare says whether a heap of objects bytes, and free ones, holds more
// than releaseAbove beyond its goal: the heap grows back to the goal
// before its next collection, so the free memory under it is no waste.
// Given back, it would be faulted in again within seconds (a process
// whose heap was over 4 MiB did so at every tick: at 100 hubs, 20,000
// page faults a minute and 40 % of its CPU).
func spare(free, objects, goal uint64) bool {
	return objects+free > goal+releaseAbove
}

// latencies collects, between two intervals, how long snapshots took from
// the arrival of their last byte to their values written.
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
