package promexp

import "github.com/fedora-infra/fedmsg-collectd/internal/report"

// family is a metric family: its name (a counter's without _total), help
// and type, and what its series are labelled with.
type family struct {
	name, help, typ string
	labels          scope
	kind            report.Kind // the kind it exposes; see noKind
}

// noKind marks a family no kind fills as it comes: the publish period,
// the snapshot age at a scrape.
const noKind = report.Kind(255)

type scope uint8

const (
	byConsumer scope = iota // service, consumer
	byProducer              // service, producer
	byHub                   // service
	byProcess               // none
)

// The families, in the order they are exposed.
const (
	famBacklog = iota
	famIn
	famOut
	famExceptions
	famProcessing
	famP50
	famP95
	famP99
	famArrival
	famService
	famWait
	famExpectedWait
	famDrain
	famGrowth
	famOldest
	famStalled
	famBusy
	famWorkers
	famInService
	famQueueInfo
	famProducerExceptions
	famLastRan
	famUp
	famAge
	famPeriod
	famConsumers
	famProducers
	famUninitialized
	famSnapshots
	famReconnects
	famDecodeErrors
	famSkippedEntries
	famOversize
	famRefused
	famDropped
	famFailedPolls
	famUnchangedPolls
	famLatency
	famSkippedSockets
	numFamilies
)

// families is the one table of Prometheus names, after the naming guide:
// base units in the name, counters ending in _total.
var families = [numFamilies]family{
	famBacklog:            {"fedmsg_consumer_backlog", "Messages waiting for a worker when the hub last published.", "gauge", byConsumer, report.Backlog},
	famIn:                 {"fedmsg_consumer_messages_in", "Messages queued for the consumer (the hub's headcount_in, summed over its publishes).", "counter", byConsumer, report.HeadcountIn},
	famOut:                {"fedmsg_consumer_messages_out", "Messages a worker of the consumer started (headcount_out, summed).", "counter", byConsumer, report.HeadcountOut},
	famExceptions:         {"fedmsg_consumer_exceptions", "Exceptions the consumer raised (summed).", "counter", byConsumer, report.Exceptions},
	famProcessing:         {"fedmsg_consumer_processing_seconds", "Processing times the hub listed, in seconds.", "histogram", byConsumer, report.TimeCount},
	famP50:                {"fedmsg_consumer_processing_p50_seconds", "Median of the processing times the hub listed in its last publish.", "gauge", byConsumer, report.P50},
	famP95:                {"fedmsg_consumer_processing_p95_seconds", "95th percentile of the processing times of the last publish.", "gauge", byConsumer, report.P95},
	famP99:                {"fedmsg_consumer_processing_p99_seconds", "99th percentile of the processing times of the last publish.", "gauge", byConsumer, report.P99},
	famArrival:            {"fedmsg_consumer_arrival_messages_per_second", "Messages queued per second, smoothed.", "gauge", byConsumer, report.ArrivalRate},
	famService:            {"fedmsg_consumer_service_messages_per_second", "Messages a worker started per second, smoothed.", "gauge", byConsumer, report.ServiceRate},
	famWait:               {"fedmsg_consumer_wait_seconds", "Mean wait of the messages that left in the last minute (Little's law, time-varying form).", "gauge", byConsumer, report.Wait},
	famExpectedWait:       {"fedmsg_consumer_expected_wait_seconds", "How long a message arriving now waits for a worker: backlog over the consumers' capacity.", "gauge", byConsumer, report.ExpectedWait},
	famDrain:              {"fedmsg_consumer_drain_seconds", "Time until a shrinking backlog is empty (its trend, or the capacity less the arrivals); absent unless it shrinks.", "gauge", byConsumer, report.DrainTime},
	famGrowth:             {"fedmsg_consumer_backlog_growth_messages_per_second", "How fast a growing backlog grows, from its trend; absent unless it grows.", "gauge", byConsumer, report.GrowthRate},
	famOldest:             {"fedmsg_consumer_oldest_age_seconds", "How long the oldest message waiting has waited (first in, first out, from the counts); 0 when none waits.", "gauge", byConsumer, report.OldestAge},
	famStalled:            {"fedmsg_consumer_stalled_seconds", "How long messages have waited with consumers attached and none taken, once that is a stall; 0 otherwise.", "gauge", byConsumer, report.Stalled},
	famBusy:               {"fedmsg_consumer_busy_workers", "Workers busy on average since the previous publish (sum of processing times over the window).", "gauge", byConsumer, report.Utilization},
	famWorkers:            {"fedmsg_consumer_workers", "Consumers attached to a broker's queue.", "gauge", byConsumer, report.Workers},
	famInService:          {"fedmsg_consumer_unacked_messages", "Messages of a broker's queue delivered and not yet acknowledged.", "gauge", byConsumer, report.InService},
	famQueueInfo:          {"fedmsg_consumer_queue_info", "1 for each queue of a broker that tells its type, labelled type: classic, quorum or stream.", "gauge", byConsumer, noKind},
	famProducerExceptions: {"fedmsg_producer_exceptions", "Consecutive failed polls of the producer.", "gauge", byProducer, report.ProducerExceptions},
	famLastRan:            {"fedmsg_producer_last_ran_timestamp_seconds", "When the producer's latest poll started, Unix time.", "gauge", byProducer, report.LastRanAge},
	famUp:                 {"fedmsg_hub_up", "1 while the hub's snapshots arrive, 0 once it is lost.", "gauge", byHub, report.HubUp},
	famAge:                {"fedmsg_hub_last_snapshot_age_seconds", "Seconds since the hub's newest snapshot arrived, at the scrape.", "gauge", byHub, noKind},
	famPeriod:             {"fedmsg_hub_publish_period_seconds", "The hub's publish period, as observed.", "gauge", byHub, noKind},
	famConsumers:          {"fedmsg_hub_consumers", "Consumers the hub lists.", "gauge", byHub, report.Consumers},
	famProducers:          {"fedmsg_hub_producers", "Producers the hub lists.", "gauge", byHub, report.Producers},
	famUninitialized:      {"fedmsg_hub_uninitialized", "Consumers and producers of the hub that failed to start.", "gauge", byHub, report.Uninitialized},
	famSnapshots:          {"fedmsg_exporter_snapshots", "Snapshots decoded.", "counter", byHub, report.Snapshots},
	famReconnects:         {"fedmsg_exporter_reconnects", "Sessions with the hub after the first.", "counter", byHub, report.Reconnects},
	famDecodeErrors:       {"fedmsg_exporter_decode_errors", "Messages that were not a monitoring snapshot.", "counter", byHub, report.DecodeErrors},
	famSkippedEntries:     {"fedmsg_exporter_skipped_entries", "Malformed entries left out of snapshots.", "counter", byHub, report.SkippedEntries},
	famOversize:           {"fedmsg_exporter_oversize_messages", "Connections dropped for a message over the size limit.", "counter", byHub, report.OversizeMessages},
	famRefused:            {"fedmsg_exporter_refused_handshakes", "Connections dropped for a handshake that is not a publisher's.", "counter", byHub, report.RefusedPeers},
	famDropped:            {"fedmsg_exporter_dropped_snapshots", "Snapshots pushed out by three newer ones before they were taken in.", "counter", byHub, report.DroppedSnapshots},
	famFailedPolls:        {"fedmsg_exporter_failed_polls", "Polls of a broker that failed.", "counter", byHub, report.FailedPolls},
	famUnchangedPolls:     {"fedmsg_exporter_unchanged_polls", "Polls of a broker whose figures were still those of its last snapshot: not made a snapshot.", "counter", byHub, report.UnchangedPolls},
	famLatency:            {"fedmsg_exporter_latency_p99_seconds", "Seconds from a snapshot's arrival to its values taken in, 99th percentile over the interval.", "gauge", byProcess, report.LatencyP99},
	famSkippedSockets:     {"fedmsg_exporter_skipped_sockets", "Files named like monitoring sockets that discovery skips.", "gauge", byProcess, report.SkippedSockets},
}

// familyOf maps the kinds exposed as they come to their family: those of
// gauges, and the program's own counters (the hubs' counters and the
// histogram are added up by the sink: see takeHub).
var familyOf = func() map[report.Kind]int {
	m := map[report.Kind]int{}
	for f, fam := range families {
		if fam.kind != noKind && fam.kind.Info().Type != report.Delta && fam.kind.Info().Type != report.Bucket && fam.kind != report.LastRanAge && fam.kind != report.HubUp {
			m[fam.kind] = f
		}
	}
	return m
}()

// counterFamilies are the families of the Delta kinds, exposed as
// counters: their report.Totals.
var counterFamilies = func() []int {
	var fs []int
	for f, fam := range families {
		if fam.kind != noKind && fam.kind.Info().Type == report.Delta {
			fs = append(fs, f)
		}
	}
	return fs
}()

// exposedOf reports whether a kind is exposed: in a family of its own, or
// added into one (the histogram's sum and buckets, with its count).
func exposedOf(k report.Kind) bool {
	for _, fam := range families {
		if fam.kind == k || fam.kind == report.TimeCount && k.Info().Type == report.Bucket {
			return true
		}
	}
	return false
}

// notExposed are the kinds left out on purpose: client_golang's Go and
// process collectors give the goroutines and memory; the old script's
// minimum, maximum and mean processing times are in the histogram; the
// longest latency is in the 99th percentile's family.
var notExposed = map[report.Kind]bool{
	report.Goroutines: true, report.Memory: true, report.LatencyMax: true,
	report.TimeMin: true, report.TimeMax: true, report.TimeAvg: true,
	report.LastSnapshotAge: true, // computed at the scrape from the snapshot's time
	// Entries that failed to start are counted by fedmsg_hub_uninitialized;
	// the frequency is check's (a producer's age against it).
	report.Initialized: true, report.Frequency: true,
}
