package main

import (
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/counters"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/rabbitmq"
)

// brokers is what the --rabbitmq and --counters flags ask for: the polled
// sources.
type brokers struct {
	counters      namesFlag
	countersOrder string
	countersEvery time.Duration
	urls          namesFlag
	authFile      string
	vhost         string
	queues        string
	caFile        string
	interval      time.Duration
}

// flags registers the --rabbitmq and --counters flags.
func (b *brokers) flags(fs *flag.FlagSet) {
	fs.Var(&b.urls, "rabbitmq", "poll a RabbitMQ broker's management API, `[NAME=]URL` such as\nhttp://127.0.0.1:15672, repeatable; each vhost is service NAME-VHOST\n(NAME defaults to rabbitmq)")
	fs.StringVar(&b.authFile, "rabbitmq-auth-file", "", "`FILE` whose first line is USER:PASSWORD for the management API\n(rather than in the URL, which ps and collectd's configuration show)")
	fs.StringVar(&b.vhost, "rabbitmq-vhost", "", "poll only this `VHOST`")
	fs.StringVar(&b.queues, "rabbitmq-queues", "", "poll only the queues whose name matches this `REGEXP`")
	fs.StringVar(&b.caFile, "rabbitmq-ca-file", "", "trust the CA certificates in `FILE` for https (default: the system's)")
	fs.DurationVar(&b.interval, "rabbitmq-interval", 10*time.Second, "how often to poll each broker")
	fs.Var(&b.counters, "counters", "poll a service's cumulative stage counters, `[SERVICE=]URL` answering\na JSON object such as {\"Uploaded\": 120, \"Staged\": 118}; the queues\nbetween stages are service SERVICE (default counters-HOST_PORT); repeatable")
	fs.StringVar(&b.countersOrder, "counters-order", "", "the stages in order, `A,B,...` (default: the order of the answer's keys)")
	fs.DurationVar(&b.countersEvery, "counters-interval", 10*time.Second, "how often to poll the counters")
}

// sources returns the broker pollers the flags ask for.
func (b *brokers) sources(log *slog.Logger) ([]*rabbitmq.Source, error) {
	return rabbitmq.Config{URLs: b.urls, AuthFile: b.authFile, CAFile: b.caFile, VHost: b.vhost,
		Queues: b.queues, Interval: b.interval}.Sources(log)
}

// counterSources returns the counters pollers the flags ask for, whose
// services must make collectd identifiers.
func (b *brokers) counterSources(log *slog.Logger) ([]*counters.Source, error) {
	srcs, err := counters.Config{URLs: b.counters, Order: b.countersOrder, Interval: b.countersEvery}.Sources(log)
	for _, s := range srcs {
		if err := model.CheckService(s.Service); err != nil {
			return nil, fmt.Errorf("--counters %s: %w", s.URL, err)
		}
	}
	return srcs, err
}
