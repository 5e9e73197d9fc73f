package promexp

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// metric is how a kind of value is exposed.
type metric struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

// The label sets.
var (
	consumerLabels = []string{"service", "consumer"}
	producerLabels = []string{"service", "producer"}
	hubLabels      = []string{"service"}
)

func gauge(name, help string, labels []string) metric {
	return metric{prometheus.NewDesc(name, help, labels, nil), prometheus.GaugeValue}
}

func counter(name, help string, labels []string) metric {
	return metric{prometheus.NewDesc(name, help, labels, nil), prometheus.CounterValue}
}

// gauges is the one table of Prometheus names of the values exposed as a
// hub last sent them. The counters and the histogram, which the exporter
// accumulates, follow it.
var gauges = map[report.Kind]metric{
	report.Backlog:      gauge("fedmsg_consumer_backlog", "Messages waiting for a worker when the hub last published.", consumerLabels),
	report.ArrivalRate:  gauge("fedmsg_consumer_arrival_messages_per_second", "Messages queued per second, smoothed.", consumerLabels),
	report.ServiceRate:  gauge("fedmsg_consumer_service_messages_per_second", "Messages a worker started per second, smoothed.", consumerLabels),
	report.Wait:         gauge("fedmsg_consumer_wait_seconds", "Little's law: smoothed backlog over smoothed arrival rate.", consumerLabels),
	report.ExpectedWait: gauge("fedmsg_consumer_expected_wait_seconds", "How long a message arriving now waits for a worker: backlog times mean processing time over workers.", consumerLabels),
	report.DrainTime:    gauge("fedmsg_consumer_drain_seconds", "Time until a shrinking backlog is empty, from its trend; absent unless it shrinks.", consumerLabels),
	report.GrowthRate:   gauge("fedmsg_consumer_backlog_growth_messages_per_second", "How fast a growing backlog grows, from its trend; absent unless it grows.", consumerLabels),
	report.P50:          gauge("fedmsg_consumer_processing_p50_seconds", "Median of the processing times the hub listed in its last publish.", consumerLabels),
	report.P95:          gauge("fedmsg_consumer_processing_p95_seconds", "95th percentile of the processing times of the last publish.", consumerLabels),
	report.P99:          gauge("fedmsg_consumer_processing_p99_seconds", "99th percentile of the processing times of the last publish.", consumerLabels),
	report.Utilization:  gauge("fedmsg_consumer_busy_workers", "Workers busy on average since the previous publish (sum of processing times over the window).", consumerLabels),

	report.ProducerExceptions: gauge("fedmsg_producer_exceptions", "Consecutive failed polls of the producer.", producerLabels),

	report.Consumers:     gauge("fedmsg_hub_consumers", "Consumers the hub lists.", hubLabels),
	report.Producers:     gauge("fedmsg_hub_producers", "Producers the hub lists.", hubLabels),
	report.Uninitialized: gauge("fedmsg_hub_uninitialized", "Consumers and producers of the hub that failed to start.", hubLabels),
}

// The accumulated and derived metrics.
var (
	messagesIn  = counter("fedmsg_consumer_messages_in_total", "Messages queued for the consumer (the hub's headcount_in, summed over its publishes).", consumerLabels)
	messagesOut = counter("fedmsg_consumer_messages_out_total", "Messages a worker of the consumer started (headcount_out, summed).", consumerLabels)
	exceptions  = counter("fedmsg_consumer_exceptions_total", "Exceptions the consumer raised (summed).", consumerLabels)
	processing  = prometheus.NewDesc("fedmsg_consumer_processing_seconds", "Processing times the hub listed, in seconds.", consumerLabels, nil)
	lastRan     = gauge("fedmsg_producer_last_ran_timestamp_seconds", "When the producer's latest poll started, Unix time.", producerLabels)
	hubUp       = gauge("fedmsg_hub_up", "1 while the hub's snapshots arrive, 0 once it is lost.", hubLabels)
	snapAge     = gauge("fedmsg_hub_last_snapshot_age_seconds", "Seconds since the hub's newest snapshot arrived, at the scrape.", hubLabels)
	period      = gauge("fedmsg_hub_publish_period_seconds", "The hub's publish period, as observed.", hubLabels)
)

// selfCounters are the exporter's own counters per watched hub.
var selfCounters = map[report.Kind]metric{
	report.Snapshots:        counter("fedmsg_exporter_snapshots_total", "Snapshots decoded.", hubLabels),
	report.Reconnects:       counter("fedmsg_exporter_reconnects_total", "Sessions with the hub after the first.", hubLabels),
	report.DecodeErrors:     counter("fedmsg_exporter_decode_errors_total", "Messages that were not a monitoring snapshot.", hubLabels),
	report.SkippedEntries:   counter("fedmsg_exporter_skipped_entries_total", "Malformed entries left out of snapshots.", hubLabels),
	report.OversizeMessages: counter("fedmsg_exporter_oversize_messages_total", "Connections dropped for a message over the size limit.", hubLabels),
	report.RefusedPeers:     counter("fedmsg_exporter_refused_handshakes_total", "Connections dropped for a handshake that is not a publisher's.", hubLabels),
	report.DroppedSnapshots: counter("fedmsg_exporter_dropped_snapshots_total", "Snapshots replaced by a newer one before they were taken in.", hubLabels),
}

// selfGauges are the exporter's own values of the process.
var selfGauges = map[report.Kind]metric{
	report.LatencyP99:     gauge("fedmsg_exporter_latency_p99_seconds", "Seconds from a snapshot's arrival to its values taken in, 99th percentile over the interval.", nil),
	report.SkippedSockets: gauge("fedmsg_exporter_skipped_sockets", "Files named like monitoring sockets that discovery skips.", nil),
}
