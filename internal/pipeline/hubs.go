package pipeline

import (
	"log/slog"
	"regexp"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/derive"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/ratelog"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Hubs turns each endpoint's messages into batches: decode and derive.
// It keeps per endpoint the decoder's names, the
// analytics' state and the counters of the program's own values. Live and
// in replay alike; use it from one goroutine.
type Hubs struct {
	// Histograms derives the processing-time buckets too (HistogramSink).
	Histograms bool
	// Exclude, when set, leaves out of every snapshot the consumers whose
	// name it matches, before the analytics see them.
	Exclude   *regexp.Regexp
	smoothing time.Duration
	log       *slog.Logger
	hubs      map[model.Endpoint]*hub
	scratch   model.Scratch  // the decoders': one goroutine decodes them all
	derived   derive.Scratch // the batches' values since the last Release
}

// hub is what Hubs keeps of one endpoint.
type hub struct {
	dec       model.Decoder
	derive    *derive.Hub
	snapshots int64 // decoded
	errors    int64 // messages that did not decode
	skipped   int64 // malformed entries left out
	logs      ratelog.Limiter
	excluded  map[string]bool // Exclude's answer, by consumer name
	kept      []model.Consumer
}

// NewHubs returns an empty Hubs with the analytics' smoothing time
// constant; log receives the rate-limited complaints about bad messages
// (nil: none).
func NewHubs(smoothing time.Duration, log *slog.Logger) *Hubs {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hubs{smoothing: smoothing, log: log, hubs: make(map[model.Endpoint]*hub)}
}

func (hs *Hubs) get(ep model.Endpoint) *hub {
	h := hs.hubs[ep]
	if h == nil {
		h = &hub{derive: derive.NewHub(analytics.NewHub(hs.smoothing))}
		h.dec.Shared = &hs.scratch
		h.derive.Shared = &hs.derived
		h.derive.Histograms = hs.Histograms
		hs.hubs[ep] = h
	}
	return h
}

// Add decodes m and derives its values, always, so that the analytics see
// every snapshot, and returns the snapshot's batch, or the decode error.
// Which snapshots a sink writes is the sink's rule. The batch is valid
// until the next Release.
func (hs *Hubs) Add(m model.Message) (report.Batch, error) {
	h := hs.get(m.Endpoint)
	var (
		s   model.Snapshot
		err error
	)
	if m.Snapshot != nil {
		s = *m.Snapshot
		s.Arrival = m.Arrival
	} else {
		s, err = h.dec.Decode(m.Raw, m.Arrival)
	}
	if err != nil {
		h.errors++
		hs.complain(h, m.Endpoint, "skipped a message that is not a monitoring snapshot", "err", err, "decode_errors", h.errors)
		return report.Batch{}, err
	}
	if s.Skipped > 0 {
		h.skipped += int64(s.Skipped)
		hs.complain(h, m.Endpoint, "skipped malformed entries of a snapshot", "count", s.Skipped, "first", s.SkipErr)
	}
	h.snapshots++
	if hs.Exclude != nil {
		s.Consumers = hs.exclude(h, s.Consumers)
	}
	s.Period, s.Session = m.Period, m.Session
	subjects, values := h.derive.Values(s)
	return report.Batch{Service: m.Endpoint.Service, Time: m.Arrival, Interval: m.Period, Subjects: subjects,
		Consumers: len(s.Consumers), Types: types(s.Consumers), Values: values}, nil
}

// Release lets the batches of the calls to Add so far be written over:
// call it once they are written.
func (hs *Hubs) Release() { hs.derived.Reset() }

// exclude returns the consumers of cs that Exclude does not match: cs
// itself when it matches none (a polled source's snapshot is not written
// to), else a slice of h's own. Names are few and come again, so the
// answers are kept (at most 10000, then asked afresh).
func (hs *Hubs) exclude(h *hub, cs []model.Consumer) []model.Consumer {
	if h.excluded == nil || len(h.excluded) > 10000 {
		h.excluded = map[string]bool{}
	}
	var out []model.Consumer
	dropping := false
	for i, c := range cs {
		x, ok := h.excluded[c.Name]
		if !ok {
			x = hs.Exclude.MatchString(c.Name)
			h.excluded[c.Name] = x
		}
		switch {
		case x && !dropping:
			dropping = true
			out = append(h.kept[:0], cs[:i]...)
		case !x && dropping:
			out = append(out, c)
		}
	}
	if !dropping {
		return cs
	}
	h.kept = out
	return out
}

// types returns the queue types of a snapshot's consumers, or nil when
// none has one.
func types(cs []model.Consumer) []string {
	var out []string
	for i, c := range cs {
		if c.Type != "" && out == nil {
			out = make([]string, len(cs))
		}
		if out != nil {
			out[i] = c.Type
		}
	}
	return out
}

// complain logs at most once per ratelog.Every for an endpoint.
func (hs *Hubs) complain(h *hub, ep model.Endpoint, msg string, args ...any) {
	if !h.logs.Allow(time.Now()) {
		return
	}
	hs.log.Warn(msg, append([]any{"service", ep.Service, "endpoint", ep.Addr}, args...)...)
}

// forget drops the state of endpoints no longer watched.
func (hs *Hubs) forget(keep map[model.Endpoint]bool) {
	for ep := range hs.hubs {
		if !keep[ep] {
			delete(hs.hubs, ep)
		}
	}
}
