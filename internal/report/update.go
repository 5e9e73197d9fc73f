package report

import "time"

// Update is what the pipeline hands every sink at one wake-up: the
// snapshots taken in since the previous one, every one of them; on an
// interval, the tick with the sources' liveness and the program's own
// values; and the notices. A sink applies its own rules to it (which
// snapshots it writes, what it adds up); it never finds control in the
// data.
type Update struct {
	// Snapshots are the batches of the snapshots decoded since the
	// previous update, in the order they arrived. Batch.Interval is the
	// source's period as measured so far: 0 for a source's very first
	// snapshot.
	Snapshots []Batch
	// Tick is set on an interval, nil between them.
	Tick *Tick
	// Notices are the events since the previous update: sources lost and
	// heard again.
	Notices []Notice
}

// Tick is what an interval brings.
type Tick struct {
	// Time is the tick's time; Interval the reporting interval.
	Time     time.Time
	Interval time.Duration
	// Watched are the services watched now, in the sources' order: a
	// sink forgets the others.
	Watched []string
	// Liveness holds per watched service, once it has been heard or has
	// been silent past its grace time, its HubUp and LastSnapshotAge.
	Liveness []Batch
	// Self is the program's own values (service SelfService): per watched
	// service (Subjects are Watched) its counters, then the process'.
	Self Batch
}

// Empty reports whether u carries nothing.
func (u Update) Empty() bool {
	return len(u.Snapshots) == 0 && u.Tick == nil && len(u.Notices) == 0
}

// Up returns the HubUp value of a liveness batch, if it has one.
func (b Batch) Up() (float64, bool) {
	for _, v := range b.Values {
		if v.Kind == HubUp {
			return v.V, true
		}
	}
	return 0, false
}
