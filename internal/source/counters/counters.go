// Package counters is a polled source for services that count the events
// of each stage of a pipeline: a GET answers with a JSON object of
// cumulative counters in stage order, such as
//
//	{"Uploaded": 120, "Staged": 118, "Plugin": 110, "Processed": 109}
//
// Between stage i and stage i+1 is a queue, named "A_to_B": its length is
// c[i] - c[i+1], its arrivals the growth of c[i] and its services the
// growth of c[i+1] since the previous poll. So the same analytics (rates,
// Little's wait, expected wait, drain time) and sinks apply.
package counters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/ratelog"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// Source polls one service. Set its fields, then Run it.
type Source struct {
	// Service names the values, e.g. "counters-pipeline".
	Service string
	URL     string
	// Order, when set, gives the stages in order; otherwise the order of
	// the answer's keys.
	Order []string
	// Interval between polls; each times out at half of it.
	Interval time.Duration
	Client   *http.Client
	// MaxBody caps an answer, default 1 MiB.
	MaxBody int64
	Logger  *slog.Logger
	Now     func() time.Time

	once    sync.Once
	mu      sync.Mutex
	watched model.Watched
	prev    map[string]float64
	last    time.Time // of the previous snapshot
	// hopeless: the latest poll failed in a way polling again will not
	// cure (refused, 401, 403, a TLS error).
	hopeless bool
	logs     ratelog.Limiter
}

// stage is a counter of the answer.
type stage struct {
	name string
	v    float64
}

// Run polls every Interval until ctx ends.
func (s *Source) Run(ctx context.Context, deliver func(model.Message)) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if m, err := s.Poll(ctx); err == nil {
			deliver(m)
		} else if ctx.Err() == nil && s.logs.Allow(time.Now()) {
			s.Logger.Warn("cannot poll the counters", "service", s.Service, "url", httppoll.Redact(s.URL), "err", httppoll.Brief(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// init sets the defaults, once.
func (s *Source) init() {
	s.once.Do(func() {
		s.Client = httppoll.Client(s.Client)
		if s.MaxBody <= 0 {
			s.MaxBody = 1 << 20
		}
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.Now == nil {
			s.Now = time.Now
		}
		s.mu.Lock()
		s.watched = model.Watched{Endpoint: model.Endpoint{Service: s.Service, Addr: httppoll.Redact(s.URL)}, Polled: true, Sessions: 1}
		s.mu.Unlock()
	})
}

// Poll polls once: the snapshot of the queues between the stages, with
// the counts of the moment the service answered (the middle of the
// request, by Now), or why there is none, counted.
func (s *Source) Poll(ctx context.Context) (model.Message, error) {
	s.init()
	start := s.Now()
	stages, skipped, skipErr, err := s.fetch(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.mu.Lock()
			s.watched.Failed++
			s.watched.LastError, s.hopeless = httppoll.Brief(err), httppoll.Permanent(err)
			if errors.Is(err, httppoll.ErrOversize) {
				s.watched.Oversize++
			}
			s.mu.Unlock()
		}
		return model.Message{}, err
	}
	s.mu.Lock()
	s.watched.LastError, s.hopeless = "", false
	s.mu.Unlock()
	m := s.snapshot(stages, start.Add(s.Now().Sub(start)/2))
	if skipped > 0 {
		m.Snapshot.Skipped += skipped
		if m.Snapshot.SkipErr == nil {
			m.Snapshot.SkipErr = skipErr
		}
	}
	return m, nil
}

// LastError says why the latest poll failed, or is empty.
func (s *Source) LastError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watched.LastError
}

// Hopeless says why the latest poll failed when polling again will not
// cure it, or is empty.
func (s *Source) Hopeless() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hopeless {
		return ""
	}
	return s.watched.LastError
}

// Watched reports the service with its counters.
func (s *Source) Watched() []model.Watched {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watched.Endpoint.Service == "" {
		return nil
	}
	return []model.Watched{s.watched}
}

// fetch polls the service: its stages in order, and the fields left out.
func (s *Source) fetch(ctx context.Context) (stages []stage, skipped int, skipErr error, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.Interval/2)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, 0, nil, errors.New("cannot make a request of the URL")
	}
	req.Header.Set("Accept", "application/json")
	err = httppoll.Get(ctx, s.Client, req, s.MaxBody, func(r io.Reader) error {
		stages, skipped, skipErr, err = parse(r)
		return err
	})
	if err == nil {
		stages, err = s.ordered(stages)
	}
	return stages, skipped, skipErr, err
}

// parse reads a JSON object of counters, keeping the order of its keys. A
// field that is not a count (a string, an object, a negative number) is
// left out and counted in skipped, skipErr the first of them; the others
// are read.
func parse(body io.Reader) (out []stage, skipped int, skipErr error, err error) {
	dec := json.NewDecoder(body)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, 0, nil, errors.New("not a JSON object of counters")
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, 0, nil, err
		}
		name, _ := k.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, 0, nil, err
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || f < 0 || f > 1<<53 {
			if skipped++; skipErr == nil {
				skipErr = fmt.Errorf("counter %.80q is not a count: %.40s", name, raw)
			}
			continue
		}
		out = append(out, stage{name, f})
		if len(out)+skipped > 1000 {
			return nil, 0, nil, errors.New("more than 1000 counters")
		}
	}
	if len(out) < 2 {
		return nil, 0, nil, errors.New("fewer than two counters: no queue between stages")
	}
	return out, skipped, skipErr, nil
}

// ordered puts the stages in Order, when it is set.
func (s *Source) ordered(stages []stage) ([]stage, error) {
	if len(s.Order) == 0 {
		return stages, nil
	}
	by := make(map[string]float64, len(stages))
	for _, st := range stages {
		by[st.name] = st.v
	}
	out := make([]stage, len(s.Order))
	for i, name := range s.Order {
		v, ok := by[name]
		if !ok {
			return nil, fmt.Errorf("no counter %q in the answer", name)
		}
		out[i] = stage{name, v}
	}
	return out, nil
}

// snapshot makes the queues between the stages.
func (s *Source) snapshot(stages []stage, at time.Time) model.Message {
	snap := &model.Snapshot{}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.prev
	s.prev = make(map[string]float64, len(stages))
	for _, st := range stages {
		s.prev[st.name] = st.v
	}
	for i := 0; i+1 < len(stages); i++ {
		a, b := stages[i], stages[i+1]
		c := model.Consumer{Name: a.name + "_to_" + b.name, Initialized: true}
		if n := a.v - b.v; n >= 0 {
			c.Backlog = model.Some(n)
		} else {
			// A later stage counted more than an earlier one: not a
			// queue these counters describe.
			snap.Skipped++
			if snap.SkipErr == nil {
				snap.SkipErr = fmt.Errorf("%s counts more than %s", b.name, a.name)
			}
			continue
		}
		pa, okA := prev[a.name]
		pb, okB := prev[b.name]
		if okA && okB {
			c.HeadcountIn = model.Some(httppoll.Delta(a.v, pa))
			c.HeadcountOut = model.Some(httppoll.Delta(b.v, pb))
		}
		snap.Consumers = append(snap.Consumers, c)
	}
	// The counts span the time since the previous snapshot, a poll late
	// (a slow answer, a loaded host) included.
	period := s.Interval
	if !s.last.IsZero() {
		period = max(at.Sub(s.last), s.Interval)
	}
	s.last = at
	return model.Message{Endpoint: s.watched.Endpoint, Snapshot: snap, Arrival: at, Period: period, Session: 1}
}
