package check

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Sink is the check as a sink of the pipeline run uses: it keeps the
// newest snapshot of one service, with the values the pipeline derived
// for it (the analytics from the snapshots before it), and closes Done once
// it has taken Need of them. Use NewSink.
type Sink struct {
	mu      sync.Mutex
	service string // "" until the first snapshot, when not given
	need    int
	got     int
	last    report.Batch
	bad     float64 // the service's decode errors, as of the latest tick
	done    chan struct{}
}

// NewSink returns a sink that checks service (empty: the first service
// that sends a snapshot) after need snapshots.
func NewSink(service string, need int) *Sink {
	return &Sink{service: service, need: need, done: make(chan struct{})}
}

// Done is closed when the sink has the snapshots it needs.
func (s *Sink) Done() <-chan struct{} { return s.done }

// Write takes an update: the service's snapshots, and on a tick its
// counters.
func (s *Sink) Write(u report.Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range u.Snapshots {
		if s.service == "" {
			s.service = b.Service
		}
		if b.Service != s.service || s.got >= s.need {
			continue
		}
		// The pipeline reuses a batch's storage: keep a copy.
		b.Subjects, b.Values = slices.Clone(b.Subjects), slices.Clone(b.Values)
		s.last = b
		if s.got++; s.got == s.need {
			close(s.done)
		}
	}
	if t := u.Tick; t != nil {
		for _, v := range t.Self.Values {
			if v.Kind == report.DecodeErrors && v.Subject < len(t.Self.Subjects) && t.Self.Subjects[v.Subject] == s.service {
				s.bad = v.V
			}
		}
	}
	return nil
}

// tickEvery is how often a check's pipeline looks at its source's
// counters, for a malformed message.
const tickEvery = 250 * time.Millisecond

// Run runs src through the pipeline into a Sink until it has need
// snapshots of service, and evaluates the last against spec; a message
// that is not a snapshot is UNKNOWN at once, and so is too few snapshots
// within timeout, as short says (with how many it got and why the source
// failed, if it says), and a source that fails for good, as lost says.
//
// With a history (not nil), the snapshots it kept are taken in first, the
// source takes up its counts, and what this run took is kept for the next.
func Run(ctx context.Context, src pipeline.Source, service string, need int, timeout time.Duration, spec Spec, hist *History,
	short func(got int, why string) Result, lost func(why string) Result) Result {
	// Cancelled rather than given a deadline: a dial that a deadline
	// ends would fail a moment before the context says so, and pass for
	// why the source could not be read.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := time.AfterFunc(timeout, cancel)
	defer stop.Stop()
	sink := NewSink(service, need)
	cfg := pipeline.Config{Interval: tickEvery, IdlePeriods: 3, Smoothing: analytics.DefaultSmoothing}
	var taken []model.Message // by the pipeline's goroutine, read once it ended
	if hist != nil {
		hist.Resume(src)
		cfg.Warm = hist.Messages()
		cfg.OnMessage = func(m model.Message) { taken = append(taken, m) }
		spec.HistoryNote = hist.Note
	}
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		pipeline.Run(ctx, cfg, src, sink)
	}()
	ticker := time.NewTicker(tickEvery)
	defer ticker.Stop()
	why := "" // the source's latest error
	for {
		select {
		case <-sink.Done():
			cancel()
			<-ran
			res := Evaluate(sink.last, spec)
			if hist != nil {
				if err := hist.Save(src, sink.last.Service, taken); err != nil {
					res.Lines = append(res.Lines, "history not kept: "+err.Error())
				}
			}
			return res
		case <-ctx.Done():
			<-ran
			sink.mu.Lock()
			got := sink.got
			sink.mu.Unlock()
			if e := lastError(src); e != "" {
				why = e
			}
			if why != "" {
				why = " (" + why + ")"
			}
			return short(got, why)
		case <-ticker.C:
			// While the source runs: once stopped, it may have forgotten.
			if e := lastError(src); e != "" {
				why = e
			}
			if h := hopeless(src); h != "" {
				cancel()
				<-ran
				return lost(h)
			}
			sink.mu.Lock()
			bad, sv := sink.bad, sink.service
			sink.mu.Unlock()
			if bad > 0 {
				cancel()
				<-ran
				return Fail("malformed snapshot from %s: a message that is not a monitoring snapshot", endpointOf(src, sv))
			}
		}
	}
}

// endpointOf is the address of a service's endpoint (any: the first),
// for messages.
func endpointOf(src pipeline.Source, service string) string {
	for _, w := range src.Watched() {
		if w.Endpoint.Service == service || service == "" {
			return w.Endpoint.Addr
		}
	}
	return service
}

// lastError is why src last failed, if it says.
func lastError(src pipeline.Source) string {
	for _, w := range src.Watched() {
		if w.LastError != "" {
			return w.LastError
		}
	}
	if d, ok := src.(pipeline.Diagnosed); ok {
		return d.LastError()
	}
	return ""
}

// hopeless is why src's latest try failed for good, if it did and says.
func hopeless(src pipeline.Source) string {
	if d, ok := src.(pipeline.Diagnosed); ok {
		return d.Hopeless()
	}
	return ""
}
