package zabbix

import (
	"math"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// DefaultBuffer is how many values the sink keeps while the server cannot
// take them: at 100 values a snapshot every 5 s, about 80 minutes.
const DefaultBuffer = 100000

// lldEvery is how often the discovery values are pushed again though
// nothing changed: a server that lost them (restored, or a new one)
// learns the items again.
const lldEvery = 10 * time.Minute

// lldRetry is how often they are pushed again while the server fails
// values: a discovery that reached it before it knew the host (its
// configuration cache is a few seconds behind) made no items, and the
// items' values fail until the next.
const lldRetry = 30 * time.Second

// Sink turns the pipeline's updates into values for the items of host
// Host and keeps them, at most Buffer of them (the oldest dropped and
// counted past that), until Sender takes them. Write never blocks on the
// network.
type Sink struct {
	host   string
	buffer int

	mu       sync.Mutex
	queue    ring
	head     int64 // the number of queue[0]: values queued before it, sent or dropped
	dropped  int64
	failed   int64
	services map[string]bool
	pairs    map[[2]string]bool
	reasons  map[string]reasonSaid // what was said when each was lost or heard again
	// last is the value pushed last of each item, and when: the next
	// goes as the cadence says.
	last    map[[2]string]*lastItems
	cadence Cadence
	lldSent time.Time
	// failedAtLLD is failed as of the latest discovery pushed.
	failedAtLLD int64
	lldDirty    bool
	// lldNew is the time of the latest discovery with new rows.
	lldNew time.Time
}

// reasonSaid is a service's reason and when it was last pushed.
type reasonSaid struct {
	text string
	at   time.Time
}

// NewSink returns a sink of the values of host, keeping at most buffer
// of them (DefaultBuffer when 0), pushing them as cadence says.
func NewSink(host string, buffer int, cadence Cadence) *Sink {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Sink{host: host, buffer: buffer, queue: ring{max: buffer}, services: map[string]bool{}, pairs: map[[2]string]bool{}, reasons: map[string]reasonSaid{},
		last: map[[2]string]*lastItems{}, cadence: cadence}
}

// Write takes an update: every snapshot's values at its own time; on a
// tick, the services' liveness, the program's counters and the sink's
// own, the discovery when it changed or every lldEvery; a source lost or
// heard again, the reason. The sender takes them on its own time.
func (s *Sink) Write(u report.Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range u.Snapshots {
		s.snapshot(b)
	}
	for _, n := range u.Notices {
		if n.Kind == report.HubUp {
			s.see(n.Service, "")
			s.reasons[n.Service] = reasonSaid{n.Message, n.Time}
			s.push(value{Host: s.host, Key: reason(n.Service), Value: n.Message, Clock: n.Time.Unix(), NS: int64(n.Time.Nanosecond())})
		}
	}
	if t := u.Tick; t != nil {
		s.tick(t)
	}
	return nil
}

// snapshot adds the values of one snapshot: the service's and those of
// its consumers (a
// backlog that does not grow has a growth rate of 0, so that a trigger
// over ten minutes of it sees every snapshot).
func (s *Sink) snapshot(b report.Batch) {
	s.see(b.Service, "")
	own := s.items(b.Service, "")
	items := make([]*lastItems, b.Consumers) // each consumer's, looked up once
	growth := make([]bool, b.Consumers)
	hasBacklog := make([]bool, b.Consumers)
	for _, v := range b.Values {
		tr := &traits[v.Kind]
		if !tr.pushed {
			continue
		}
		if tr.scope == report.Hub {
			s.value(own, v.Kind, b.Service, "", v.V, b.Time)
		}
		if tr.scope != report.Entry || v.Subject < 0 || v.Subject >= b.Consumers {
			continue
		}
		consumer := b.Subjects[v.Subject]
		if items[v.Subject] == nil {
			s.see(b.Service, consumer)
			items[v.Subject] = s.items(b.Service, consumer)
		}
		s.value(items[v.Subject], v.Kind, b.Service, consumer, v.V, b.Time)
		switch v.Kind {
		case report.GrowthRate:
			growth[v.Subject] = true
		case report.Backlog:
			hasBacklog[v.Subject] = true
		}
	}
	for i := range b.Consumers {
		if hasBacklog[i] && !growth[i] {
			s.value(items[i], report.GrowthRate, b.Service, b.Subjects[i], 0, b.Time)
		}
	}
}

// tick adds the values of an interval.
func (s *Sink) tick(t *report.Tick) {
	s.forget(t.Watched)
	for _, b := range t.Liveness {
		s.see(b.Service, "")
		own := s.items(b.Service, "")
		for _, v := range b.Values {
			if pushed(v.Kind) {
				s.value(own, v.Kind, b.Service, "", v.V, t.Time)
			}
		}
		// While it is down, its reason again: the down trigger needs
		// one, and the first may have come before the server had the
		// item.
		// (Not twice at one time: the server refuses a second value of
		// an item at the same instant.)
		if r := s.reasons[b.Service]; r.text != "" && !r.at.Equal(t.Time) {
			if up, ok := b.Up(); ok && up == 0 {
				s.push(value{Host: s.host, Key: reason(b.Service), Value: r.text, Clock: t.Time.Unix(), NS: int64(t.Time.Nanosecond())})
				s.reasons[b.Service] = reasonSaid{r.text, t.Time}
			}
		}
	}
	for _, v := range t.Self.Values {
		sv := ""
		if v.Kind.Scope() == report.Endpoint {
			if v.Subject < 0 || v.Subject >= len(t.Self.Subjects) {
				continue
			}
			sv = t.Self.Subjects[v.Subject]
			s.see(sv, "") // a service not heard yet has its counters' items too
		}
		if pushed(v.Kind) {
			s.value(s.items(sv, ""), v.Kind, sv, "", v.V, t.Time)
		}
	}
	s.add(keyDropped, float64(s.dropped), t.Time)
	s.add(keyFailed, float64(s.failed), t.Time)
	failing := s.failed > s.failedAtLLD // s.mu held: Write's
	if s.lldDirty || t.Time.Sub(s.lldSent) >= lldEvery || failing && t.Time.Sub(s.lldSent) >= lldRetry {
		s.discovery(t.Time)
	}
}

// add queues one value; a value not finite is not one.
func (s *Sink) add(k string, v float64, at time.Time) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	s.push(value{Host: s.host, Key: k, Num: v, IsNum: true, Clock: at.Unix(), NS: int64(at.Nanosecond())})
}

// push queues a value; past the buffer's size the oldest is dropped, and
// counted.
func (s *Sink) push(v value) {
	if s.queue.push(v) {
		s.dropped++
		s.head++
	}
}

// request appends to b the request of up to n of the oldest values
// queued, made at clock.ns, without removing them (written where they lie,
// not copied out), and returns it with the number of values, that of the
// first and its key.
func (s *Sink) request(b []byte, n int, clock, ns int64) (_ []byte, count int, first int64, firstKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	older, newer := s.queue.segments(n)
	if len(older) == 0 {
		return b, 0, s.head, ""
	}
	return appendRequest(b, clock, ns, older, newer), len(older) + len(newer), s.head, older[0].Key
}

// done removes the n values from number first on, sent, of which the
// server failed failed; those of them dropped meanwhile are gone already.
func (s *Sink) done(first int64, n, failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := int(min(first+int64(n)-s.head, int64(s.queue.len()))); k > 0 {
		s.queue.pop(k)
		s.head += int64(k)
	}
	s.failed += int64(failed)
}

// Counts returns the values dropped from a full buffer and those the
// server failed, since the start, and how many are queued.
func (s *Sink) Counts() (dropped, failed int64, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped, s.failed, s.queue.len()
}
