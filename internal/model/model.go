// Package model is what a monitoring source yields, in terms that no
// transport or sink knows of: a hub's endpoint, a raw message stamped with
// its arrival, and the decoded snapshot of a moksha hub (consumers and
// producers), with the decoders that make one from the other.
//
// A hub publishes one JSON object every few seconds; the format is
// documented on Decode and in the project README.
package model

import "time"

// Endpoint is one hub's monitoring socket and the service name its values
// are reported under.
type Endpoint struct {
	// Service names the hub in every sink, e.g. "fedmsg-hub".
	Service string
	// Addr is where it is read, e.g. ipc:///var/run/fedmsg/monitoring-fedmsg-hub.socket.
	Addr string
}

// Message is one message of an endpoint as received: the edge where time
// enters the program. Everything downstream takes its time from Arrival.
type Message struct {
	Endpoint Endpoint
	Raw      []byte
	// Snapshot, when not nil, is the message already as a snapshot: a
	// polled source (a broker's queues) gives it so, and Raw is empty.
	Snapshot *Snapshot
	// Arrival is when the last byte of the message was read.
	Arrival time.Time
	// Period is the endpoint's publish period as observed so far: zero
	// until a second message of the endpoint has been seen.
	Period time.Duration
	// Session numbers the subscriber sessions of an endpoint, from 1; a
	// new session (after a hub restart, a silence) may follow a gap in
	// which messages were lost.
	Session int64
	// Heartbeat marks a message that only says the endpoint answered at
	// Arrival (a broker polled): it has neither Raw nor Snapshot, and
	// counts for the endpoint's liveness only.
	Heartbeat bool
}

// Snapshot is one decoded monitoring message together with the time it
// arrived. Everything downstream takes its notion of time from Arrival.
type Snapshot struct {
	// Arrival is when the last byte of the message was read.
	Arrival time.Time
	// Period is the hub's publish period as observed so far: zero until a
	// second message of the endpoint has been seen. Decode leaves it zero.
	Period time.Duration
	// Session numbers the subscriber sessions of an endpoint, from 1; a
	// new session (after a hub restart, a silence) may follow a gap in
	// which messages were lost. Decode leaves it zero.
	Session int64
	// Consumers and Producers are in the order the hub listed them.
	Consumers []Consumer
	Producers []Producer
	// Skipped counts consumer and producer entries that were malformed and
	// left out; SkipErr describes the first of them.
	Skipped int
	SkipErr error
}

// Opt is a number that a hub may leave out or send as null.
type Opt struct {
	V     float64
	Valid bool
}

// Some returns a present Opt holding v.
func Some(v float64) Opt { return Opt{V: v, Valid: true} }

// Consumer is one entry of the "consumers" list.
type Consumer struct {
	Name, Module string
	// Topics holds the subscribed topic, or topics when the hub sent a list.
	Topics      []string
	Initialized bool
	// Exceptions raised since the previous publish.
	Exceptions Opt
	// Backlog is null for a consumer that is not initialized.
	Backlog Opt
	// HeadcountIn and HeadcountOut are missing on older moksha.
	HeadcountIn, HeadcountOut Opt
	// Times are durations in seconds of the messages finished since the
	// previous publish, at most MaxTimes. HasTimes is false on older
	// moksha that lacks the key.
	Times    []float64
	HasTimes bool
	// Workers and InService are a broker queue's: the consumers attached
	// and the messages delivered to them but not yet acknowledged. A
	// moksha hub sends neither.
	Workers, InService Opt
	// Type is a broker queue's type: classic, quorum or stream, or empty
	// when the broker does not say (a hub's consumers have none).
	Type string
	// Dropped counts the times past MaxTimes and topics past MaxTopics
	// left out (not kept in memory).
	Dropped int
}

// Producer is one entry of the "producers" list.
type Producer struct {
	Name, Module string
	Initialized  bool
	// Exceptions counts consecutive failed polls.
	Exceptions Opt
	// Frequency is the polling period in seconds (polling producers only).
	Frequency Opt
	// LastRan is the epoch time in seconds of the latest poll's start; it is
	// not Valid before the first poll or for producers that do not poll.
	LastRan Opt
}

// maxCount bounds counters: anything above 2^53 cannot be a real count and
// would lose precision as a float.
const maxCount = 1 << 53

// Limits on what one snapshot may hold; entries past them are skipped and
// counted like malformed ones.
const (
	// MaxEntries is the most consumers, and the most producers, kept from
	// one snapshot. A real hub has a handful.
	MaxEntries = 1000
	// MaxTimes is the most processing times kept per consumer: moksha
	// keeps at most 1024.
	MaxTimes = 1024
	// MaxTopics is the most topics kept per consumer.
	MaxTopics = 64
	// MaxNameBytes is the longest consumer or producer name accepted.
	// Python class names are short; identifiers shorten long ones further.
	MaxNameBytes = 1024
)

// Watched is what a source reports of one endpoint it watches.
type Watched struct {
	Endpoint Endpoint
	// Sessions counts the sessions (connections, handshakes) completed.
	Sessions int64
	// Oversize counts the connections dropped for a message over the size
	// limit; Refused those dropped for a handshake that is not a
	// publisher's.
	Oversize, Refused int64
	// Polled is true for an endpoint that is polled (a broker) rather
	// than subscribed to; Failed counts its polls that failed (no answer,
	// an error status, not the JSON expected).
	Polled bool
	Failed int64
	// Unchanged counts the polls whose figures were those of the last
	// snapshot, not made a snapshot (a broker refreshes its statistics
	// every 5 s).
	Unchanged int64
	// Skipped counts the entries of a polled source's answers left out
	// (not a queue, past a cap) that no snapshot counts.
	Skipped int64
	// LastError says why the latest session or poll failed; empty when
	// it did not.
	LastError string
}
