// Package rabbitmq is a polled source: the queues of a RabbitMQ broker,
// read from its management HTTP API. Each queue is a consumer of the
// model: its ready messages the backlog, the deltas of its cumulative
// publish and deliver counters the headcounts in and out, its consumers
// the workers, its unacknowledged messages those in service; so the same
// analytics (rates, Little's wait, expected wait, drain time) and sinks
// apply. Each vhost is a service, NAME-VHOST (NAME defaults to rabbitmq).
package rabbitmq

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/ratelog"
)

// Source polls one broker. Set its fields, then Run it.
type Source struct {
	// Name prefixes the services, default "rabbitmq".
	Name string
	// URL of the management API, http(s)://[user:password@]host:15672.
	URL string
	// User and Password, when set, replace those of the URL.
	User, Password string
	// VHost, when set, limits the poll to that vhost.
	VHost string
	// Queues, when set, selects the queues by name.
	Queues *regexp.Regexp
	// Interval between polls; Timeout of each (default Interval / 2).
	Interval, Timeout time.Duration
	// Client makes the requests (TLS roots, CA file); default a plain one.
	Client *http.Client
	// MaxBody caps an answer, default 64 MiB.
	MaxBody int64
	// Logger takes the errors, at most one a minute.
	Logger *slog.Logger
	// Now reads the clock, default time.Now.
	Now func() time.Time

	mu      sync.Mutex
	watched map[string]*model.Watched // by service
	order   []string
	failed  int64 // polls failed before any vhost was seen
	logs    ratelog.Limiter
	lastErr string
	prev    map[string]map[string]totals // by vhost and queue, as of the last snapshot
	last    map[string]delivered         // by vhost
}

// totals are a queue's cumulative counters at a poll.
type totals struct {
	publish, deliver float64
}

// DefaultMaxBody caps an answer.
const DefaultMaxBody = 64 << 20

// Endpoint returns the address shown for the broker: its URL without
// credentials.
func (s *Source) Endpoint() string {
	u, err := url.Parse(s.URL)
	if err != nil {
		return "rabbitmq"
	}
	u.User = nil
	return u.String()
}

// Run polls every Interval until ctx ends.
func (s *Source) Run(ctx context.Context, deliver func(model.Message)) {
	s.init()
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		s.pollOnce(ctx, deliver)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Source) init() {
	if s.Name == "" {
		s.Name = "rabbitmq"
	}
	if s.Timeout <= 0 || s.Timeout >= s.Interval {
		s.Timeout = s.Interval / 2
	}
	if s.Client == nil {
		s.Client = &http.Client{}
	}
	if s.MaxBody <= 0 {
		s.MaxBody = DefaultMaxBody
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.mu.Lock()
	s.watched = map[string]*model.Watched{}
	s.prev = map[string]map[string]totals{}
	s.last = map[string]delivered{}
	s.mu.Unlock()
}

// pollOnce polls and delivers a snapshot per vhost, or counts and logs
// why it could not.
func (s *Source) pollOnce(ctx context.Context, deliver func(model.Message)) {
	qs, oversize, err := s.fetch(ctx)
	at := s.Now()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.lastErr = err.Error()
		s.failed++
		for _, w := range s.watched {
			w.Failed++
			if oversize {
				w.Oversize++
			}
		}
		s.mu.Unlock()
		s.complain("cannot poll the broker", "err", err)
		return
	}
	for _, snap := range s.snapshots(qs, at) {
		deliver(snap)
	}
}

// complain logs at most once per ratelog.Every.
func (s *Source) complain(msg string, args ...any) {
	if !s.logs.Allow(time.Now()) {
		return
	}
	s.Logger.Warn(msg, append([]any{"broker", s.Endpoint()}, args...)...)
}

// LastError says why the latest poll failed, or is empty.
func (s *Source) LastError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Watched reports the services seen so far, with their counters.
func (s *Source) Watched() []model.Watched {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]model.Watched, 0, len(s.order))
	for _, sv := range s.order {
		w := *s.watched[sv]
		w.LastError = s.lastErr
		out = append(out, w)
	}
	return out
}

// service names the service of a vhost: NAME-VHOST, the vhost without its
// leading "/" and other characters than letters, digits and "_" as "_";
// "/" itself is "default".
func (s *Source) service(vhost string) string {
	v := strings.TrimPrefix(vhost, "/")
	if v == "" {
		v = "default"
	}
	return model.ServiceWord(s.Name+"-", v, false)
}
