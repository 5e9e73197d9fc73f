// Package report is the neutral value model: what the pipeline yields for
// each snapshot of a hub and on each interval (the compatibility values,
// the queue analytics, hub liveness and the program's own counters), in
// base units and with no sink's names. Each sink maps a Kind to its own
// name, type and unit with one table (collectd: package putval).
package report

import (
	"sort"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Kind says what a value is, its unit, and what its Subject indexes.
type Kind uint8

// The kinds, in no particular order: what each is (its unit, scope, type
// and help) is in the catalogue (catalogue.go), not in its place here.
// Units are base units: seconds, messages, messages per second.
const (
	// Per consumer, as the hub published them (the compatibility set).
	Backlog      Kind = iota // messages waiting for a worker at publish time
	Exceptions               // exceptions since the previous publish
	HeadcountIn              // messages queued since the previous publish
	HeadcountOut             // messages a worker started since the previous publish
	TimeMin                  // seconds: shortest processing time since the previous publish (0 if none)
	TimeMax                  // seconds: longest
	TimeAvg                  // seconds: mean

	// Per producer.
	ProducerExceptions // consecutive failed polls
	LastRanAge         // seconds from the latest poll's start to the snapshot's arrival

	// Per hub.
	Consumers     // consumers listed
	Producers     // producers listed
	Uninitialized // consumers and producers that failed to start

	// Per consumer, derived (package analytics).
	ArrivalRate  // messages per second, smoothed
	ServiceRate  // messages per second, smoothed
	Wait         // seconds: mean wait of the messages that left in the last minute
	ExpectedWait // seconds a message arriving now waits for a worker
	DrainTime    // seconds until a shrinking backlog is empty
	GrowthRate   // messages per second by which a growing backlog grows
	P50          // seconds: median processing time since the previous publish
	P95          // seconds
	P99          // seconds
	Utilization  // busy workers on average since the previous publish
	OldestAge    // seconds the oldest message waiting has waited
	Stalled      // seconds messages have waited with consumers attached and none taken (a stall), 0 otherwise

	// Per hub, on every interval (package health).
	HubUp           // 1 while snapshots arrive, 0 once the hub is lost
	LastSnapshotAge // seconds since the newest snapshot

	// The program's own, per watched endpoint: counters since it started.
	Snapshots        // snapshots decoded
	Reconnects       // sessions after the first
	DecodeErrors     // messages that were not a snapshot
	SkippedEntries   // malformed entries left out of snapshots
	OversizeMessages // connections dropped for a message over the size limit
	RefusedPeers     // connections dropped for a handshake that is not a publisher's
	DroppedSnapshots // snapshots replaced before they were written
	FailedPolls      // polls of a polled source (a broker) that failed
	UnchangedPolls   // polls of a polled source whose figures were those of its last snapshot

	// The program's own, per process.
	LatencyP99     // seconds from a snapshot's arrival to its values written, 99th percentile over the interval
	LatencyMax     // seconds, the longest over the interval
	Goroutines     // goroutines running
	SkippedSockets // files named like monitoring sockets that discovery skips
	Memory         // bytes of memory mapped by the Go runtime

	// Per broker queue (a consumer of a polled source).
	Workers   // consumers attached to the queue
	InService // messages delivered and not yet acknowledged

	// Per consumer or producer, for every one listed.
	Initialized // 1 if it started, 0 if it failed to
	Frequency   // seconds between a producer's polls, as configured

	// Per consumer, only when asked for (a sink with histograms): the
	// processing times the hub listed since the previous publish.
	TimeCount // how many
	TimeSum   // seconds: their sum
	// TimeLE0+i: how many took more than TimeBounds[i-1] seconds (0 for
	// i = 0) and at most TimeBounds[i]: a bucket's own count, given only
	// when not 0; those above the last bound are in TimeCount only.
	TimeLE0

	numKinds = TimeLE0 + Kind(NumBounds)
)

// NumBounds is how many processing-time buckets there are.
const NumBounds = 79

// TimeBounds returns the upper bounds, in seconds, of the processing-time
// buckets (kinds TimeLE0 on): from 10 µs of work to ten minutes, ten a
// decade (the R10 preferred numbers), so that a quantile interpolated
// within a bucket is at most about 25 % off the one it estimates.
func TimeBounds() [NumBounds]float64 { return timeBounds }

// BucketOf returns the index of the bucket that holds a processing time of
// t seconds: NumBounds for one above the last bound.
func BucketOf(t float64) int { return sort.SearchFloat64s(timeBounds[:], t) }

var timeBounds = [NumBounds]float64{
	1e-05, 1.25e-05, 1.6e-05, 2e-05, 2.5e-05, 3.15e-05, 4e-05, 5e-05, 6.3e-05, 8e-05,
	0.0001, 0.000125, 0.00016, 0.0002, 0.00025, 0.000315, 0.0004, 0.0005, 0.00063, 0.0008,
	0.001, 0.00125, 0.0016, 0.002, 0.0025, 0.00315, 0.004, 0.005, 0.0063, 0.008,
	0.01, 0.0125, 0.016, 0.02, 0.025, 0.0315, 0.04, 0.05, 0.063, 0.08,
	0.1, 0.125, 0.16, 0.2, 0.25, 0.315, 0.4, 0.5, 0.63, 0.8,
	1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8,
	10, 12.5, 16, 20, 25, 31.5, 40, 50, 63, 80,
	100, 125, 160, 200, 250, 315, 400, 500, 600,
}

// Value is one value of a Batch.
type Value struct {
	Kind Kind
	// Subject indexes Batch.Subjects, as Kind.Scope says.
	Subject int
	V       float64
}

// SelfService is the service of the batches that report on the program
// itself.
const SelfService = model.SelfService

// Batch is everything reported for one snapshot of a hub, or on one
// interval for a hub or the program itself: the values share the service,
// the time and the interval.
type Batch struct {
	// Service names the hub, e.g. "fedmsg-hub", or is SelfService.
	Service string
	// Time is the snapshot's arrival, or the interval's tick.
	Time time.Time
	// Interval is how often values of this batch come: the hub's publish
	// period, or the reporting interval.
	Interval time.Duration
	// Subjects are the names values refer to: for a hub's snapshot, its
	// consumers then its producers, as the hub listed them (names may
	// repeat); for the program's own batch, the services of the watched
	// endpoints. A sink makes them fit its names.
	Subjects []string
	// Consumers is how many of a snapshot's Subjects are consumers: the
	// rest are producers.
	Consumers int
	// Types are the queue types of the consumers of a broker's snapshot
	// (classic, quorum, stream; empty when not told), by subject; nil
	// when none is told.
	Types  []string
	Values []Value
}

// Severity of a Notice.
type Severity uint8

// The severities.
const (
	Okay Severity = iota
	Warning
	Failure
)

// Notice is an event about the value of a kind of a service: a hub lost
// (HubUp, Failure) or heard again (HubUp, Okay).
type Notice struct {
	Kind     Kind
	Severity Severity
	Time     time.Time
	Service  string
	Message  string
}
