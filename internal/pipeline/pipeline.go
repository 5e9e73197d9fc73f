// Package pipeline runs the program's one data flow: a Source yields raw
// messages stamped with their arrival; each is decoded into a snapshot
// (package model), derived into neutral values (packages derive,
// analytics, report) and handed to every Sink as one report.Update per
// wake-up; each sink applies its own rules and names. Between source and
// sink sit the outbox (the newest message per endpoint, so a stalled sink
// never stalls the source), hub liveness (package health) and the
// program's own counters.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/health"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Source yields messages: the moksha source (package hubmon), or any other.
type Source interface {
	// Run delivers every message until ctx ends, then returns. deliver
	// may be called from several goroutines and never blocks.
	Run(ctx context.Context, deliver func(model.Message))
	// Watched reports the endpoints watched now, with their counters.
	Watched() []model.Watched
}

// Diagnosed is a Source that says why it cannot be read, for a check's
// answer: LastError is its newest failure, Hopeless one that trying again
// will not cure (a refused connection, a 401, a missing socket); each is
// empty when there is none.
type Diagnosed interface {
	Source
	LastError() string
	Hopeless() string
}

// Sink takes what the pipeline yields: the collectd sink (package
// putval), or any other. Write is called from one goroutine, once per
// wake-up, with everything of that wake-up; each sink applies its own rules
// to it.
type Sink interface {
	Write(u report.Update) error
}

// HistogramSink is a Sink that wants each snapshot's processing-time
// buckets (kinds TimeCount, TimeSum, TimeLE0 on): the Prometheus sink.
// The others are spared them, and the memory they take.
type HistogramSink interface {
	Sink
	WantsHistograms() bool
}

// Config tunes Run.
type Config struct {
	// Interval is how often hub liveness and the program's own values are
	// written.
	Interval time.Duration
	// IdlePeriods is how many publish periods without a snapshot mark a
	// hub as lost.
	IdlePeriods int
	// Smoothing is the analytics' time constant.
	Smoothing time.Duration
	// Logger receives the rare diagnostics; nil: none.
	Logger *slog.Logger
	// Tick, if not nil, replaces the interval's ticker (tests).
	Tick <-chan time.Time
	// Now reads the clock for the latency of each snapshot, from its
	// arrival to its values written; default time.Now.
	Now func() time.Time
	// OnMessage, if set, sees every message the pipeline takes in, in
	// its order, from the pipeline's goroutine (run --capture records
	// them). A message replaced before it was taken in (a slow sink) is
	// neither derived nor seen: a replay of what it saw gives what was
	// written.
	OnMessage func(model.Message)
	// Exclude, when set, leaves out of every snapshot the consumers whose
	// name it matches (--exclude).
	Exclude *regexp.Regexp
	// Warm are messages taken into the analytics before the source's
	// first, and written nowhere: the history a check kept from its runs
	// before.
	Warm []model.Message
}

// Run runs src into sink until ctx ends (nil) or the sink fails (its
// error). Besides each snapshot as it arrives, every Interval it writes
// the hubs' liveness and the program's own values.
func Run(ctx context.Context, cfg Config, src Source, sink Sink) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	box := newOutbox()
	deliver := box.put
	done := make(chan struct{})
	go func() {
		defer close(done)
		src.Run(ctx, deliver)
	}()
	defer func() { cancel(); <-done }()

	tick := cfg.Tick
	if tick == nil {
		t := time.NewTicker(cfg.Interval)
		defer t.Stop()
		tick = t.C
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	debug := log.Enabled(ctx, slog.LevelDebug)
	hubs := NewHubs(cfg.Smoothing, log)
	hubs.Exclude = cfg.Exclude
	if h, ok := sink.(HistogramSink); ok {
		hubs.Histograms = h.WantsHistograms()
	}
	for _, m := range cfg.Warm {
		hubs.Add(m) // a message that is not a snapshot warms nothing
		hubs.Release()
	}
	live := &health.Tracker{IdlePeriods: cfg.IdlePeriods}
	lat := new(latencies)
	for {
		var (
			u        report.Update
			arrivals []time.Time // of the snapshots, for the latency
		)
		select {
		case <-ctx.Done():
			return nil
		case <-box.ready:
			for _, m := range box.take() {
				if cfg.OnMessage != nil {
					cfg.OnMessage(m)
				}
				if m.Heartbeat {
					u.Notices = append(u.Notices, live.Heard(m.Endpoint, m.Arrival, m.Period)...)
					continue
				}
				b, err := hubs.Add(m)
				if err != nil {
					continue
				}
				u.Notices = append(u.Notices, live.Heard(m.Endpoint, m.Arrival, m.Period)...)
				u.Snapshots = append(u.Snapshots, b)
				arrivals = append(arrivals, m.Arrival)
			}
		case now := <-tick:
			watched := src.Watched()
			keep := make(map[model.Endpoint]bool, len(watched))
			t := &report.Tick{Time: now, Interval: cfg.Interval, Watched: make([]string, len(watched))}
			for i, w := range watched {
				keep[w.Endpoint] = true
				t.Watched[i] = w.Endpoint.Service
			}
			t.Liveness, u.Notices = live.Check(now, watched, cfg.Interval)
			hubs.forget(keep)
			box.forget(keep)
			t.Self = selfBatch(now, cfg.Interval, src, watched, hubs, box, lat)
			u.Tick = t
		}
		if u.Empty() {
			continue
		}
		// All at once: one write per wake-up.
		err := sink.Write(u)
		hubs.Release()
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		for i, at := range arrivals {
			d := cfg.Now().Sub(at)
			lat.add(d)
			if debug {
				log.Debug("wrote snapshot", "service", u.Snapshots[i].Service, "values", len(u.Snapshots[i].Values), "latency", d)
			}
		}
	}
}
