// Package promexp is the Prometheus sink: it keeps the latest values of
// every hub, accumulates the hubs' per-publish headcounts, exceptions and
// processing times into counters and a histogram, and exposes them to
// client_golang as a Collector. Names come from one table (names.go),
// after the Prometheus naming guide: base units, labels service, consumer
// and producer.
//
// Write and Collect never wait for each other for long: Write replaces a
// hub's immutable state under a short lock, and Collect copies the hubs'
// pointers and reads them without it, so a slow or stalled scrape does not
// hold up collection.
package promexp

import (
	"strings"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Sink takes the pipeline's batches. Use New.
type Sink struct {
	mu   sync.Mutex
	hubs map[string]*hubState
	self *selfState
	now  func() time.Time
}

// hubState is one hub as of its latest batch; never changed once made.
type hubState struct {
	at, ranAt time.Time
	period    time.Duration
	up        float64 // NaN until the first interval
	values    []hubValue
	consumers []*consumerState
	producers []entryValue
}

type hubValue struct {
	m metric
	v float64
}

type entryValue struct {
	name string
	m    metric
	v    float64
}

// consumerState is a consumer's latest values and its accumulated counts.
type consumerState struct {
	name            string
	gauges          []hubValue
	in, out, exc    float64
	count           uint64
	sum             float64
	buckets         [len(report.TimeBounds)]uint64
	hasTimes, hasIn bool
}

type selfState struct {
	counters []entryValue // name: the service
	gauges   []hubValue
}

// New returns an empty Sink; now reads the clock for the snapshots' age
// at a scrape (nil: time.Now).
func New(now func() time.Time) *Sink {
	if now == nil {
		now = time.Now
	}
	return &Sink{hubs: make(map[string]*hubState), now: now}
}

// Write takes in batches and notices; it never fails.
func (s *Sink) Write(batches []report.Batch, _ []report.Notice) error {
	for _, b := range batches {
		if b.Service == report.SelfService {
			s.takeSelf(b)
			continue
		}
		s.mu.Lock()
		prev := s.hubs[b.Service]
		s.mu.Unlock()
		next := takeHub(prev, b)
		s.mu.Lock()
		s.hubs[b.Service] = next
		s.mu.Unlock()
	}
	return nil
}

// takeSelf takes the program's own batch; its subjects are the services
// watched now, so hubs no longer watched are dropped here.
func (s *Sink) takeSelf(b report.Batch) {
	st := &selfState{}
	for _, v := range b.Values {
		if m, ok := selfCounters[v.Kind]; ok && v.Subject < len(b.Subjects) {
			st.counters = append(st.counters, entryValue{label(b.Subjects[v.Subject]), m, v.V})
		} else if m, ok := selfGauges[v.Kind]; ok {
			st.gauges = append(st.gauges, hubValue{m, v.V})
		}
	}
	watched := make(map[string]bool, len(b.Subjects))
	for _, sv := range b.Subjects {
		watched[sv] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.self = st
	for sv := range s.hubs {
		if !watched[sv] {
			delete(s.hubs, sv)
		}
	}
}

// label makes a name a valid label value: valid UTF-8.
func label(name string) string {
	return strings.ToValidUTF8(name, "\uFFFD")
}
