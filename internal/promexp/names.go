package promexp

import "github.com/fedora-infra/fedmsg-collectd/internal/report"

// family is a metric family: its name (a counter's without _total), help
// and type, and what its series are labelled with.
type family struct {
	name, help, typ string
	labels          scope
}

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
	famBusy
	famWorkers
	famInService
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
	famLatency
	famSkippedSockets
	numFamilies
)

// families is the one table of Prometheus names, after the naming guide:
// base units in the name, counters ending in _total.
var families = [numFamilies]family{
	famBacklog:            {"fedmsg_consumer_backlog", "Messages waiting for a worker when the hub last published.", "gauge", byConsumer},
	famIn:                 {"fedmsg_consumer_messages_in", "Messages queued for the consumer (the hub's headcount_in, summed over its publishes).", "counter", byConsumer},
	famOut:                {"fedmsg_consumer_messages_out", "Messages a worker of the consumer started (headcount_out, summed).", "counter", byConsumer},
	famExceptions:         {"fedmsg_consumer_exceptions", "Exceptions the consumer raised (summed).", "counter", byConsumer},
	famProcessing:         {"fedmsg_consumer_processing_seconds", "Processing times the hub listed, in seconds.", "histogram", byConsumer},
	famP50:                {"fedmsg_consumer_processing_p50_seconds", "Median of the processing times the hub listed in its last publish.", "gauge", byConsumer},
	famP95:                {"fedmsg_consumer_processing_p95_seconds", "95th percentile of the processing times of the last publish.", "gauge", byConsumer},
	famP99:                {"fedmsg_consumer_processing_p99_seconds", "99th percentile of the processing times of the last publish.", "gauge", byConsumer},
	famArrival:            {"fedmsg_consumer_arrival_messages_per_second", "Messages queued per second, smoothed.", "gauge", byConsumer},
	famService:            {"fedmsg_consumer_service_messages_per_second", "Messages a worker started per second, smoothed.", "gauge", byConsumer},
	famWait:               {"fedmsg_consumer_wait_seconds", "Little's law: smoothed backlog over smoothed arrival rate.", "gauge", byConsumer},
	famExpectedWait:       {"fedmsg_consumer_expected_wait_seconds", "How long a message arriving now waits for a worker: backlog times mean processing time over workers.", "gauge", byConsumer},
	famDrain:              {"fedmsg_consumer_drain_seconds", "Time until a shrinking backlog is empty, from its trend; absent unless it shrinks.", "gauge", byConsumer},
	famGrowth:             {"fedmsg_consumer_backlog_growth_messages_per_second", "How fast a growing backlog grows, from its trend; absent unless it grows.", "gauge", byConsumer},
	famBusy:               {"fedmsg_consumer_busy_workers", "Workers busy on average since the previous publish (sum of processing times over the window).", "gauge", byConsumer},
	famWorkers:            {"fedmsg_consumer_workers", "Consumers attached to a broker's queue.", "gauge", byConsumer},
	famInService:          {"fedmsg_consumer_unacked_messages", "Messages of a broker's queue delivered and not yet acknowledged.", "gauge", byConsumer},
	famProducerExceptions: {"fedmsg_producer_exceptions", "Consecutive failed polls of the producer.", "gauge", byProducer},
	famLastRan:            {"fedmsg_producer_last_ran_timestamp_seconds", "When the producer's latest poll started, Unix time.", "gauge", byProducer},
	famUp:                 {"fedmsg_hub_up", "1 while the hub's snapshots arrive, 0 once it is lost.", "gauge", byHub},
	famAge:                {"fedmsg_hub_last_snapshot_age_seconds", "Seconds since the hub's newest snapshot arrived, at the scrape.", "gauge", byHub},
	famPeriod:             {"fedmsg_hub_publish_period_seconds", "The hub's publish period, as observed.", "gauge", byHub},
	famConsumers:          {"fedmsg_hub_consumers", "Consumers the hub lists.", "gauge", byHub},
	famProducers:          {"fedmsg_hub_producers", "Producers the hub lists.", "gauge", byHub},
	famUninitialized:      {"fedmsg_hub_uninitialized", "Consumers and producers of the hub that failed to start.", "gauge", byHub},
	famSnapshots:          {"fedmsg_exporter_snapshots", "Snapshots decoded.", "counter", byHub},
	famReconnects:         {"fedmsg_exporter_reconnects", "Sessions with the hub after the first.", "counter", byHub},
	famDecodeErrors:       {"fedmsg_exporter_decode_errors", "Messages that were not a monitoring snapshot.", "counter", byHub},
	famSkippedEntries:     {"fedmsg_exporter_skipped_entries", "Malformed entries left out of snapshots.", "counter", byHub},
	famOversize:           {"fedmsg_exporter_oversize_messages", "Connections dropped for a message over the size limit.", "counter", byHub},
	famRefused:            {"fedmsg_exporter_refused_handshakes", "Connections dropped for a handshake that is not a publisher's.", "counter", byHub},
	famDropped:            {"fedmsg_exporter_dropped_snapshots", "Snapshots replaced by a newer one before they were taken in.", "counter", byHub},
	famFailedPolls:        {"fedmsg_exporter_failed_polls", "Polls of a broker that failed.", "counter", byHub},
	famLatency:            {"fedmsg_exporter_latency_p99_seconds", "Seconds from a snapshot's arrival to its values taken in, 99th percentile over the interval.", "gauge", byProcess},
	famSkippedSockets:     {"fedmsg_exporter_skipped_sockets", "Files named like monitoring sockets that discovery skips.", "gauge", byProcess},
}

// familyOf maps the kinds exposed as they come to their family.
var familyOf = map[report.Kind]int{
	report.Backlog:            famBacklog,
	report.P50:                famP50,
	report.P95:                famP95,
	report.P99:                famP99,
	report.ArrivalRate:        famArrival,
	report.ServiceRate:        famService,
	report.Wait:               famWait,
	report.ExpectedWait:       famExpectedWait,
	report.DrainTime:          famDrain,
	report.GrowthRate:         famGrowth,
	report.Utilization:        famBusy,
	report.Workers:            famWorkers,
	report.InService:          famInService,
	report.ProducerExceptions: famProducerExceptions,
	report.Consumers:          famConsumers,
	report.Producers:          famProducers,
	report.Uninitialized:      famUninitialized,
	report.Snapshots:          famSnapshots,
	report.Reconnects:         famReconnects,
	report.DecodeErrors:       famDecodeErrors,
	report.SkippedEntries:     famSkippedEntries,
	report.OversizeMessages:   famOversize,
	report.RefusedPeers:       famRefused,
	report.DroppedSnapshots:   famDropped,
	report.FailedPolls:        famFailedPolls,
	report.LatencyP99:         famLatency,
	report.SkippedSockets:     famSkippedSockets,
}
