// Package rabbitmq is a polled source: the queues of a RabbitMQ broker,
// read from its management HTTP API, or from its nodes' Prometheus
// listeners (rabbitmq_prometheus; every node of a cluster, merged). Each
// queue is a consumer of the model: its ready messages the backlog, the
// deltas of its cumulative publish and deliver counters the headcounts in
// and out, its consumers the workers, its unacknowledged messages those
// in service; so the same analytics (rates, Little's wait, expected
// wait, drain time) and sinks apply. Each vhost is a service, NAME-VHOST
// (NAME defaults to fedmsg_rabbitmq).
//
// One Source, two fetchers over the same code: source.go polls and keeps
// what is watched; management*.go read the management API, prometheus*.go
// the nodes' listeners; both give an answer (answer.go) that snapshots.go
// turns into snapshots; config.go is the flags.
package rabbitmq

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/ratelog"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// Source polls one broker. Set its fields, then Run it.
type Source struct {
	// Name prefixes the services, default DefaultName.
	Name string
	// URL of the management API, http(s)://[user:password@]host:15672.
	URL string
	// Nodes, when set, are the URLs of the Prometheus listeners
	// (rabbitmq_prometheus, http(s)://host:15692) of a broker's nodes,
	// read instead of the management API: one node, or every node of a
	// cluster.
	Nodes []string
	// User and Password, when set, replace those of the URL.
	User, Password string
	// VHost, when set, limits the poll to that vhost.
	VHost string
	// Queues, when set, selects the queues by name; Exclude, when set,
	// leaves out those it matches.
	Queues, Exclude *regexp.Regexp
	// Interval between polls; Timeout of each (default Interval / 2).
	Interval, Timeout time.Duration
	// Client makes the requests (TLS roots, CA file); default a plain one.
	Client *http.Client
	// MaxBody caps an answer, default 64 MiB.
	MaxBody int64
	// MaxQueues caps the queues watched, default DefaultMaxQueues; those
	// past it in the answer are counted and left out.
	MaxQueues int
	// Logger takes the errors, at most one a minute.
	Logger *slog.Logger
	// Now reads the clock, default time.Now.
	Now func() time.Time

	mu       sync.Mutex
	broker   model.Watched             // the broker itself: whether it answers
	watched  map[string]*model.Watched // vhosts, by service
	order    []string
	vhosts   map[string]int // watched vhosts: the answered polls since each was last listed
	over     int            // queues past MaxQueues in the latest answer
	logs     ratelog.Limiter
	lastErr  string
	hopeless bool                         // the latest poll failed in a way polling again will not cure
	prev     map[string]map[string]totals // by vhost and queue, as of the last snapshot
	last     map[string]delivered         // by vhost
	reader   fetcher                      // how the broker is read
	// withheldSince is the first poll of a run of polls whose answers
	// had no statistics; saidWithheld tells it was logged.
	withheldSince      time.Time
	saidWithheld       bool
	resume             *state // given by ResumeState, taken up by Run
	failing, keepState bool   // the latest poll failed; KeepState was called
}

// fetcher reads a broker's queues once, one of two ways: its management
// API (management*.go) or its nodes' Prometheus listeners
// (prometheus*.go). Both give an answer, which snapshots.go turns into
// the snapshots, the same way.
type fetcher interface {
	// fetch returns the queues, the moment their lengths describe,
	// whether an answer was over MaxBody, or why there are none.
	fetch(ctx context.Context) (a answer, at time.Time, oversize bool, err error)
}

// totals are a queue's cumulative counters at a poll.
type totals struct {
	publish, deliver float64
	// redeliver, of the Prometheus source, counts the deliveries that
	// were redeliveries.
	redeliver float64
}

// DefaultName is a broker's NAME when none is given: the plugin name of
// its collectd identifiers, which must not be the "rabbitmq" of
// collectd's own RabbitMQ plugins.
const DefaultName = "fedmsg_rabbitmq"

// DefaultMaxBody caps an answer.
const DefaultMaxBody = 64 << 20

// DefaultMaxQueues caps the queues watched per broker: a few times what
// large deployments run, and what the plugin holds in 60 MiB.
const DefaultMaxQueues = 10000

// Endpoint returns the address shown for the broker: its URL without
// credentials or query.
func (s *Source) Endpoint() string {
	switch {
	case len(s.Nodes) == 1:
		return httppoll.Redact(s.Nodes[0])
	case len(s.Nodes) == 2:
		return httppoll.Redact(s.Nodes[0]) + " (and 1 more node)"
	case len(s.Nodes) > 2:
		return fmt.Sprintf("%s (and %d more nodes)", httppoll.Redact(s.Nodes[0]), len(s.Nodes)-1)
	}
	return httppoll.Redact(s.URL)
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
		s.Name = DefaultName
	}
	if s.Timeout <= 0 {
		s.Timeout = s.Interval / 2
	}
	s.Client = httppoll.Client(s.Client)
	if s.MaxBody <= 0 {
		s.MaxBody = DefaultMaxBody
	}
	if s.MaxQueues <= 0 {
		s.MaxQueues = DefaultMaxQueues
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.mu.Lock()
	s.broker = model.Watched{Endpoint: s.BrokerEndpoint(), Polled: true}
	s.watched = map[string]*model.Watched{}
	s.vhosts = map[string]int{}
	s.prev = map[string]map[string]totals{}
	s.last = map[string]delivered{}
	s.reader = newManagement(s)
	if len(s.Nodes) > 0 {
		s.reader = newPrometheus(s)
	}
	s.resumed()
	s.mu.Unlock()
}

// BrokerEndpoint is the broker itself, watched from the start: its
// service is NAME, up while the broker answers.
func (s *Source) BrokerEndpoint() model.Endpoint {
	name := s.Name
	if name == "" {
		name = DefaultName
	}
	return model.Endpoint{Service: name, Addr: s.Endpoint()}
}

// pollOnce polls and delivers a snapshot per vhost and the broker's
// heartbeat, or counts and logs why it could not.
func (s *Source) pollOnce(ctx context.Context, deliver func(model.Message)) {
	a, at, oversize, err := s.reader.fetch(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.lastErr = httppoll.Brief(err)
		s.hopeless = httppoll.Permanent(err)
		s.broker.Failed++
		for _, w := range s.watched {
			w.Failed++
		}
		if oversize {
			s.broker.Oversize++
		}
		s.failing = true
		s.mu.Unlock()
		s.complain("cannot poll the broker", "err", s.lastErr)
		return
	}
	s.mu.Lock()
	if s.failing {
		// After failed answers (huge or endless ones: tens of MiB), their
		// memory goes back to the system at once; not at each failure,
		// which would take the CPU other sources need under a hostile one.
		s.failing = false
		defer debug.FreeOSMemory()
	}
	s.lastErr, s.hopeless = "", false
	s.broker.Sessions = 1
	s.broker.Skipped += int64(a.over + a.bad)
	over := a.over > 0 && s.over == 0
	s.over = a.over
	s.mu.Unlock()
	if over {
		s.Logger.Warn("the broker lists more queues than --rabbitmq-max-queues: the first ones in its answer are watched, the rest left out and counted as skipped entries (narrow with --rabbitmq-vhost or --rabbitmq-queues, or raise the cap)",
			"broker", s.Endpoint(), "max", s.MaxQueues, "left_out", a.over)
	}
	if a.bad > 0 {
		s.complain("entries of the list of queues are not queues: left out", "count", a.bad, "first", httppoll.Brief(a.badErr))
	}
	if s.withheldFor(a.withheld(), at) >= withheldAfter && !s.saidWithheld {
		s.saidWithheld = true
		s.Logger.Warn("the broker withholds its statistics (management_agent.disable_metrics_collector): "+
			"its queues' lengths are reported, but not their consumers, messages in and out, rates, waits or drain times, "+
			"nor streams; --rabbitmq-prometheus reads them from the broker's Prometheus plugin",
			"broker", s.Endpoint())
	}
	for _, snap := range s.snapshots(a, at) {
		deliver(snap)
	}
	deliver(model.Message{Endpoint: s.broker.Endpoint, Heartbeat: true, Arrival: at, Period: s.Interval, Session: 1})
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

// Hopeless says why the latest poll failed when polling again will not
// cure it (refused, 401, 403, a TLS error, a redirect elsewhere), or is
// empty.
func (s *Source) Hopeless() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hopeless {
		return ""
	}
	return s.lastErr
}

// Watched reports the services seen so far, with their counters.
func (s *Source) Watched() []model.Watched {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watched == nil {
		return nil // not running yet
	}
	b := s.broker
	b.LastError = s.lastErr
	out := make([]model.Watched, 0, 1+len(s.order))
	out = append(out, b)
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
