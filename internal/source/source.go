// Package source is the registry of the program's sources: each kind
// (hubmon for moksha hubs, rabbitmq for brokers, counters for services'
// stage counters) registers its own flags and builds its sources from
// them; the registry adapts them to the pipeline, so that no source needs
// to know it. Every command that reads sources, check included, builds
// them here, with the same flags, defaults and warnings.
package source

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/counters"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/hubmon"
	"github.com/fedora-infra/fedmsg-collectd/internal/source/rabbitmq"
)

// Flags is what the command line says of every kind of source.
type Flags struct {
	Hubs    hubmon.Flags
	Brokers rabbitmq.Config
	Stages  counters.Config
	// Exclude, of every kind, leaves out the consumers whose name it
	// matches: a broker's at the source (with --rabbitmq-queues-exclude),
	// the others as the pipeline takes their snapshots in.
	Exclude string
	exclude *regexp.Regexp
	merged  bool // Exclude added to Brokers.Exclude
}

// kind is a kind of source: it registers its own flags, and builds its
// sources from them (none when its flags name none).
type kind struct {
	register func(fs *flag.FlagSet)
	build    func(log *slog.Logger) ([]pipeline.Source, error)
}

// polled adapts a polled kind's configuration (its Register, and Sources
// returning its own type) to the registry.
func polled[S pipeline.Source](k interface {
	Register(*flag.FlagSet)
	Sources(*slog.Logger) ([]S, error)
}) kind {
	return kind{register: k.Register, build: func(log *slog.Logger) ([]pipeline.Source, error) {
		return pipeline.AsSources(k.Sources(log))
	}}
}

// kinds are the kinds, in the order they are built: the hubs (discovered
// in --socket-dir unless --endpoint names them, or --socket-dir is
// empty), brokers, stage counters. A new kind is one more entry.
func (f *Flags) kinds() []kind {
	hubs := kind{register: f.Hubs.Register, build: func(log *slog.Logger) ([]pipeline.Source, error) {
		if s := f.Hubs.Build(log); s != nil {
			return []pipeline.Source{s}, nil
		}
		return nil, nil
	}}
	return []kind{hubs, polled[*rabbitmq.Source](&f.Brokers), polled[*counters.Source](&f.Stages)}
}

// Register registers every kind's flags on fs, and those of them all.
func (f *Flags) Register(fs *flag.FlagSet) {
	for _, k := range f.kinds() {
		k.register(fs)
	}
	fs.StringVar(&f.Exclude, "exclude", "", "leave out the consumers whose name matches this `REGEXP`, of every source:\na hub's consumers, a broker's queues (read past, as --rabbitmq-queues-exclude),\nthe queues between a counters service's stages")
}

// Check checks the values parsed that building does not; call it after
// parsing.
func (f *Flags) Check() error {
	if f.Exclude != "" {
		var err error
		if f.exclude, err = regexp.Compile(f.Exclude); err != nil {
			return fmt.Errorf("--exclude: %w", err)
		}
	}
	return f.Hubs.Check()
}

// Excluded returns what --exclude leaves out, nil when nothing: the
// pipeline's Config.Exclude.
func (f *Flags) Excluded() *regexp.Regexp { return f.exclude }

// Build builds the sources the flags ask for, once. Its errors are the
// command line's.
func (f *Flags) Build(log *slog.Logger) (pipeline.Source, error) {
	f.excludeQueues()
	var srcs []pipeline.Source
	for _, k := range f.kinds() {
		s, err := k.build(log)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s...)
	}
	if len(srcs) == 0 {
		return nil, errors.New("nothing to watch: --socket-dir is empty, and no --endpoint, --rabbitmq, --rabbitmq-prometheus or --counters is given")
	}
	return pipeline.Sources(srcs...), nil
}

// excludeQueues adds --exclude to --rabbitmq-queues-exclude: the broker's
// source reads past what either matches.
func (f *Flags) excludeQueues() {
	if f.Exclude == "" || f.merged {
		return
	}
	f.merged = true
	if f.Brokers.Exclude == "" {
		f.Brokers.Exclude = f.Exclude
	} else {
		f.Brokers.Exclude = "(?:" + f.Brokers.Exclude + ")|(?:" + f.Exclude + ")"
	}
}

// One is the one source a one-shot reader (a check) reads, and what its
// messages call it.
type One struct {
	Source pipeline.Source
	// Service is the service read; empty: the first to send a snapshot.
	Service string
	// Endpoint is the address the messages name.
	Endpoint string
	// Polled is true of a source that polls, false of a hub.
	Polled bool
}

// One builds the one source a one-shot reader reads within timeout, with
// its defaults where the command line (given says which flags it set)
// gives none: no discovery, one vhost (/), a poll a second, each given at
// most 4 s.
func (f *Flags) One(given func(flag string) bool, timeout time.Duration, log *slog.Logger) (One, error) {
	hubs, brokers, clusters, stages := len(f.Hubs.Endpoints), len(f.Brokers.URLs), len(f.Brokers.PromURLs), len(f.Stages.URLs)
	switch {
	case hubs+brokers+clusters+stages == 0:
		return One{}, errors.New("--endpoint, --rabbitmq, --rabbitmq-prometheus or --counters is required")
	case hubs > 1 || brokers > 1 || stages > 1 || hubs > 0 && brokers+clusters+stages > 0 || brokers > 0 && clusters+stages > 0 || clusters > 0 && stages > 0:
		return One{}, errors.New("one --endpoint, one --rabbitmq, the --rabbitmq-prometheus nodes of one cluster, or one --counters")
	case timeout <= 0:
		return One{}, errors.New("--timeout must be positive")
	}
	f.Hubs.SocketDir = "" // what --endpoint names, no more
	f.excludeQueues()
	if !given("rabbitmq-vhost") {
		f.Brokers.VHost = "/" // a queue's name is unique only in its vhost
	}
	if !given("rabbitmq-interval") {
		f.Brokers.Interval = time.Second
	}
	if !given("counters-interval") {
		f.Stages.Interval = time.Second
	}
	// Polled every second, each poll given up to 4 s: a snapshot per
	// broker refresh (every 5 s), as run forms them.
	f.Brokers.Timeout = min(4*time.Second, timeout/2)
	switch {
	case hubs > 0:
		ep := f.Hubs.Endpoints[0]
		return One{Source: f.Hubs.Build(log), Service: ep.Service, Endpoint: ep.Addr}, nil
	case stages > 0:
		srcs, err := f.Stages.Sources(log)
		if err != nil {
			return One{}, err
		}
		return One{Source: srcs[0], Service: srcs[0].Service, Endpoint: httppoll.Redact(srcs[0].URL), Polled: true}, nil
	}
	srcs, err := f.Brokers.Sources(log)
	if err != nil {
		return One{}, err
	}
	return One{Source: srcs[0], Endpoint: srcs[0].Endpoint(), Polled: true}, nil
}
