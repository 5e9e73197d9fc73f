// Package promexp is the Prometheus sink: it keeps the latest values of
// every hub, accumulates the hubs' per-publish headcounts, exceptions and
// processing times into counters and a histogram, and serves them in the
// Prometheus text format or OpenMetrics, beside client_golang's Go and
// process collectors. Names come from one table (names.go), after the
// Prometheus naming guide: base units, labels service, consumer and
// producer.
//
// A hub's values are kept as plain numbers, never changed once published,
// and a scrape writes them as text straight to the client: client_golang
// building and encoding every series at each scrape took 500 ms and over
// 140 MiB for 100 hubs of 50 consumers (see the README). A slow or stalled
// scrape holds up nothing: it reads what was published.
package promexp

import (
	"math"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Sink takes the pipeline's batches and serves them (ServeHTTP). Use New.
type Sink struct {
	mu     sync.Mutex
	hubs   map[string]*hubState
	self   *[numFamilies][]byte
	now    func() time.Time
	gather gatherer
	build  [numFamilies][]sample // takeHub's, from Write's one goroutine
	pack   packer                // Write's too
	// The gzipped scrapes: the latest's start, and the time since the
	// one before (splice.go's packWanted).
	gzipAt    time.Time
	gzipEvery time.Duration
}

// hubState is one hub as of its latest batch; never changed once made.
type hubState struct {
	at     time.Time
	up     float64  // NaN until the first interval
	label  string   // service="...", escaped
	labels []string // service="...",consumer="..." (or producer) by entry
	names  []string // the entries' label values, made distinct
	series [numFamilies][]sample
	hists  []hist
	gz     [numFamilies]segment // the series and hists, compressed (splice.go)
	packed bool                 // gz made
	counts map[string]*counts   // by consumer label value; never changed once made
	totals report.Totals        // the Delta kinds' counters, by consumer label value
	types  []string             // ,type="..." of each entry with a queue type
}

// sample is a value of a family; l indexes hubState.labels, or is -1 for
// the hub's own label.
type sample struct {
	l int32
	v float64
}

// hist is a consumer's processing-time histogram.
type hist struct {
	l int32
	c *counts
}

// New returns an empty Sink; now reads the clock for the snapshots' age
// at a scrape (nil: time.Now).
func New(now func() time.Time) *Sink {
	if now == nil {
		now = time.Now
	}
	return &Sink{hubs: make(map[string]*hubState), now: now, gather: newGatherer()}
}

// Write takes in an update: every snapshot adds to its service's
// counters; on a tick the liveness and the program's own values are
// taken, and the services no longer watched are dropped. It never fails.
func (s *Sink) Write(u report.Update) error {
	for _, b := range u.Snapshots {
		s.update(b.Service, func(prev *hubState) *hubState {
			h := takeHub(prev, b, &s.build)
			if s.packWanted(b.Interval) {
				fw := s.gather.compressor() // the scrapes'
				s.pack.pack(h, fw)
				s.gather.giveBack(fw)
			}
			return h
		})
	}
	if t := u.Tick; t != nil {
		for _, b := range t.Liveness {
			if v, ok := b.Up(); ok {
				s.update(b.Service, func(prev *hubState) *hubState { return takeUp(prev, b.Service, v) })
			}
		}
		s.takeSelf(t.Self, t.Watched)
	}
	return nil
}

// update replaces a service's state by next(its state), computed outside
// the lock.
func (s *Sink) update(service string, next func(*hubState) *hubState) {
	s.mu.Lock()
	prev := s.hubs[service]
	s.mu.Unlock()
	st := next(prev)
	s.mu.Lock()
	s.hubs[service] = st
	s.mu.Unlock()
}

// takeSelf takes the program's own batch and the services watched now;
// hubs no longer watched are dropped here.
func (s *Sink) takeSelf(b report.Batch, watched []string) {
	var self [numFamilies][]byte
	for _, v := range b.Values {
		f, ok := familyOf[v.Kind]
		if !ok {
			continue
		}
		if families[f].labels == byProcess {
			self[f] = appendSample(self[f], families[f].name, "", "", "", v.V)
		} else if v.Kind.Scope() == report.Endpoint && v.Subject >= 0 && v.Subject < len(b.Subjects) {
			self[f] = appendSample(self[f], families[f].name, "_total", label("service", b.Subjects[v.Subject]), "", v.V)
		}
	}
	keep := make(map[string]bool, len(watched))
	for _, sv := range watched {
		keep[sv] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.self = &self
	for sv := range s.hubs {
		if !keep[sv] {
			delete(s.hubs, sv)
		}
	}
}

// WantsHistograms says the sink takes the processing-time buckets
// (pipeline.HistogramSink).
func (s *Sink) WantsHistograms() bool { return true }

// count is v as an amount to add to a counter: counters never go back, so
// a negative, infinite or NaN amount (a hub may send anything) adds 0.
func count(v float64) float64 {
	if v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	return v
}
