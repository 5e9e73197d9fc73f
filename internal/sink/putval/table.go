package putval

import "github.com/fedora-infra/fedmsg-collectd/internal/report"

// ident is how a kind of value is written: its collectd type (from the
// stock types.db), its type instance (for values of a consumer or producer
// the suffix after its name; of an endpoint, the suffix after its service
// and "_"), and the factor from the value's base unit to the unit written.
type ident struct {
	typ, instance string
	scale         float64
}

// identOf is the one table of collectd names: every identifier the plugin
// writes is HOST/SERVICE/TYPE-INSTANCE with TYPE and INSTANCE from here.
// The first rows are the old Python script's, byte for byte. None of the
// others can collide with them: where the type is shared, the suffixes end
// differently; no consumer or producer value uses the bool type, and
// producer durations all end in "_last_ran_age".
// Kinds whose type is "" are not written to collectd: the histogram's
// (collectd has the percentiles). A test checks that every kind of the
// catalogue is either written or in notWritten.
func identOf(k report.Kind) ident {
	switch k {
	case report.Backlog:
		return ident{"queue_length", "_backlog", 1}
	case report.Exceptions, report.ProducerExceptions:
		return ident{"gauge", "_exceptions", 1}
	case report.HeadcountIn:
		return ident{"gauge", "_in", 1}
	case report.HeadcountOut:
		return ident{"gauge", "_out", 1}
	case report.TimeMin:
		return ident{"response_time", "_min", 1000} // milliseconds
	case report.TimeMax:
		return ident{"response_time", "_max", 1000}
	case report.TimeAvg:
		return ident{"response_time", "_avg", 1000}
	case report.LastRanAge:
		return ident{"duration", "_last_ran_age", 1}
	case report.Consumers:
		return ident{"count", "consumers", 1}
	case report.Producers:
		return ident{"count", "producers", 1}
	case report.Uninitialized:
		return ident{"count", "uninitialized", 1}
	case report.ArrivalRate:
		return ident{"operations_per_second", "_arrival_rate", 1}
	case report.ServiceRate:
		return ident{"operations_per_second", "_service_rate", 1}
	case report.Wait:
		return ident{"duration", "_wait", 1}
	case report.ExpectedWait:
		return ident{"duration", "_expected_wait", 1}
	case report.DrainTime:
		return ident{"duration", "_drain_time", 1}
	case report.OldestAge:
		return ident{"duration", "_oldest_age", 1}
	case report.Stalled:
		return ident{"duration", "_stalled", 1}
	case report.GrowthRate:
		return ident{"operations_per_second", "_growth_rate", 1}
	case report.P50:
		return ident{"response_time", "_p50", 1000}
	case report.P95:
		return ident{"response_time", "_p95", 1000}
	case report.P99:
		return ident{"response_time", "_p99", 1000}
	case report.Utilization:
		return ident{"gauge", "_utilization", 1}
	case report.HubUp:
		return ident{"bool", "hub_up", 1}
	case report.LastSnapshotAge:
		return ident{"duration", "last_snapshot_age", 1}
	case report.Snapshots:
		return ident{"derive", "snapshots", 1}
	case report.Reconnects:
		return ident{"derive", "reconnects", 1}
	case report.DecodeErrors:
		return ident{"derive", "decode_errors", 1}
	case report.SkippedEntries:
		return ident{"derive", "skipped_entries", 1}
	case report.OversizeMessages:
		return ident{"derive", "oversize_messages", 1}
	case report.RefusedPeers:
		return ident{"derive", "refused_handshakes", 1}
	case report.DroppedSnapshots:
		return ident{"derive", "dropped_snapshots", 1}
	case report.UnchangedPolls:
		return ident{"derive", "unchanged_polls", 1}
	case report.FailedPolls:
		return ident{"derive", "failed_polls", 1}
	case report.LatencyP99:
		return ident{"duration", "latency_p99", 1}
	case report.LatencyMax:
		return ident{"duration", "latency_max", 1}
	case report.SkippedSockets:
		return ident{"gauge", "skipped_sockets", 1}
	case report.Goroutines:
		return ident{"gauge", "goroutines", 1}
	case report.Memory:
		return ident{"memory", "go_total", 1}
	case report.Workers:
		return ident{"count", "_consumers", 1}
	case report.InService:
		return ident{"queue_length", "_unacked", 1}
	}
	return ident{}
}

// notWritten are the kinds collectd is not given, on purpose: the
// histogram's (collectd has the percentiles), and whether an entry started
// and a producer's frequency, which the old script did not write (the hub's
// count-uninitialized says how many failed to start).
func notWritten(k report.Kind) bool {
	return k.Info().Type == report.Bucket || k == report.Initialized || k == report.Frequency
}

// severity is collectd's word for a notice's severity.
func severity(s report.Severity) string {
	switch s {
	case report.Failure:
		return Failure
	case report.Warning:
		return Warning
	}
	return Okay
}
