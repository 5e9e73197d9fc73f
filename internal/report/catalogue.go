package report

// Scope is what a value's Subject indexes.
type Scope uint8

// The scopes.
const (
	// Hub: values of the batch's service as a whole; Subject is unused.
	Hub Scope = iota
	// Entry: a consumer or producer, by its index in Batch.Subjects.
	Entry
	// Endpoint: a watched endpoint, by the index of its service in
	// Batch.Subjects (the program's own counters).
	Endpoint
	// Process: the program as a whole; Subject is unused.
	Process
)

// Type is how a kind's values add up over time.
type Type uint8

// The types.
const (
	// Gauge: a level, as of the value's time.
	Gauge Type = iota
	// Delta: a count since the previous snapshot of the same service; a
	// sink that wants a counter adds them up with Totals.
	Delta
	// Counter: a count since the program started.
	Counter
	// Bucket: a part of the processing-time histogram, a Delta too.
	Bucket
)

// Info is what the catalogue says of a kind: a sink derives its names,
// units and types from it.
type Info struct {
	// Name is the kind's word, lower case with '_': sinks build their
	// names from it.
	Name string
	// Unit is the base unit of the values: "seconds", "messages",
	// "messages/s", "bytes", "workers", "boolean", or "" for a plain count.
	Unit  string
	Scope Scope
	Type  Type
	// Help says what a value is, in a sentence.
	Help string
}

// catalogue is the one table of what each kind is.
var catalogue = [...]Info{
	Backlog:      {"backlog", "messages", Entry, Gauge, "Messages waiting for a worker (a broker's ready messages)."},
	Exceptions:   {"exceptions", "", Entry, Delta, "Exceptions the consumer raised since the previous snapshot."},
	HeadcountIn:  {"messages_in", "messages", Entry, Delta, "Messages queued for the consumer since the previous snapshot."},
	HeadcountOut: {"messages_out", "messages", Entry, Delta, "Messages a worker started since the previous snapshot."},
	TimeMin:      {"processing_min", "seconds", Entry, Gauge, "Shortest processing time since the previous snapshot (0 if none)."},
	TimeMax:      {"processing_max", "seconds", Entry, Gauge, "Longest processing time since the previous snapshot (0 if none)."},
	TimeAvg:      {"processing_avg", "seconds", Entry, Gauge, "Mean processing time since the previous snapshot (0 if none)."},

	ProducerExceptions: {"producer_exceptions", "", Entry, Gauge, "Consecutive failed polls of the producer."},
	LastRanAge:         {"last_ran_age", "seconds", Entry, Gauge, "Seconds from the producer's latest poll to the snapshot."},

	Consumers:     {"consumers", "", Hub, Gauge, "Consumers the service lists."},
	Producers:     {"producers", "", Hub, Gauge, "Producers the service lists."},
	Uninitialized: {"uninitialized", "", Hub, Gauge, "Consumers and producers of the service that failed to start."},

	ArrivalRate:  {"arrival_rate", "messages/s", Entry, Gauge, "Messages queued per second, smoothed."},
	ServiceRate:  {"service_rate", "messages/s", Entry, Gauge, "Messages a worker started per second, smoothed."},
	Wait:         {"wait", "seconds", Entry, Gauge, "Mean wait of the messages that left in the last minute (Little's law, time-varying form)."},
	ExpectedWait: {"expected_wait", "seconds", Entry, Gauge, "How long a message arriving now waits for a worker."},
	DrainTime:    {"drain_time", "seconds", Entry, Gauge, "Time until a shrinking backlog is empty (its trend, or the capacity less the arrivals); absent unless it shrinks."},
	GrowthRate:   {"growth_rate", "messages/s", Entry, Gauge, "How fast a growing backlog grows, from its trend; absent unless it grows."},
	P50:          {"processing_p50", "seconds", Entry, Gauge, "Median processing time since the previous snapshot."},
	P95:          {"processing_p95", "seconds", Entry, Gauge, "95th percentile of the processing times since the previous snapshot."},
	P99:          {"processing_p99", "seconds", Entry, Gauge, "99th percentile of the processing times since the previous snapshot."},
	Utilization:  {"busy_workers", "workers", Entry, Gauge, "Workers busy on average since the previous snapshot."},
	OldestAge:    {"oldest_age", "seconds", Entry, Gauge, "How long the oldest message waiting has waited (first in, first out, from the counts); 0 when none waits."},
	Stalled:      {"stalled", "seconds", Entry, Gauge, "How long messages have waited with consumers attached and none taken, once that is a stall; 0 otherwise."},

	HubUp:           {"up", "boolean", Hub, Gauge, "1 while the source's snapshots arrive, 0 once it is lost."},
	LastSnapshotAge: {"last_snapshot_age", "seconds", Hub, Gauge, "Seconds since the source's newest snapshot."},

	Snapshots:        {"snapshots", "", Endpoint, Counter, "Snapshots decoded."},
	Reconnects:       {"reconnects", "", Endpoint, Counter, "Sessions with the hub after the first."},
	DecodeErrors:     {"decode_errors", "", Endpoint, Counter, "Messages that were not a snapshot."},
	SkippedEntries:   {"skipped_entries", "", Endpoint, Counter, "Malformed entries left out of snapshots."},
	OversizeMessages: {"oversize_messages", "", Endpoint, Counter, "Connections dropped for a message over the size limit."},
	RefusedPeers:     {"refused_handshakes", "", Endpoint, Counter, "Connections dropped for a handshake that is not a publisher's."},
	DroppedSnapshots: {"dropped_snapshots", "", Endpoint, Counter, "Snapshots pushed out by three newer ones before they were taken in."},
	FailedPolls:      {"failed_polls", "", Endpoint, Counter, "Polls of a polled source (a broker, a counters service) that failed."},
	UnchangedPolls:   {"unchanged_polls", "", Endpoint, Counter, "Polls of a broker whose figures were still those of its last snapshot, seconds before: not made a snapshot."},

	LatencyP99:     {"latency_p99", "seconds", Process, Gauge, "Seconds from a snapshot's arrival to its values written, 99th percentile over the interval."},
	LatencyMax:     {"latency_max", "seconds", Process, Gauge, "Seconds from a snapshot's arrival to its values written, the longest over the interval."},
	Goroutines:     {"goroutines", "", Process, Gauge, "Goroutines running."},
	SkippedSockets: {"skipped_sockets", "", Process, Gauge, "Files named like monitoring sockets that discovery skips."},
	Memory:         {"memory", "bytes", Process, Gauge, "Memory mapped by the Go runtime."},

	Workers:   {"workers", "", Entry, Gauge, "Consumers attached to a broker's queue."},
	InService: {"unacked", "messages", Entry, Gauge, "Messages delivered and not yet acknowledged."},

	Initialized: {"initialized", "boolean", Entry, Gauge, "1 if the consumer or producer started, 0 if it failed to."},
	Frequency:   {"frequency", "seconds", Entry, Gauge, "Seconds between the producer's polls, as configured."},

	TimeCount: {"processing_count", "", Entry, Bucket, "Processing times listed since the previous snapshot."},
	TimeSum:   {"processing_sum", "seconds", Entry, Bucket, "Sum of the processing times listed since the previous snapshot."},
	TimeLE0:   {"processing_bucket", "", Entry, Bucket, "Processing times since the previous snapshot within a bucket of TimeBounds (above the previous bound, at most its own)."},
}

// Info returns what the catalogue says of k. The kinds of the
// processing-time buckets share the entry of TimeLE0.
func (k Kind) Info() Info {
	if k >= TimeLE0 {
		k = TimeLE0
	}
	return catalogue[k]
}

// Scope returns what the Subject of a value of kind k indexes.
func (k Kind) Scope() Scope { return k.Info().Scope }

// String returns the kind's name.
func (k Kind) String() string { return k.Info().Name }

// Kinds returns every kind, in the order of their constants, the buckets
// last.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}
